// Per-partition queues (Consumer::EnablePartitionQueues) against the real
// broker: a partition that is not read keeps a bounded prefetch and loses
// nothing, stale records never come back after a seek or a reassignment,
// and an idle consumer blocks instead of spinning.
#include <sys/resource.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/kafka/consumer.h"
#include "brook/kafka/producer.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CreateTopic;
using ::brook::testing::UniqueName;

// Writes `count` records "p<partition>-<i>" to one partition.
void ProduceTo(const std::string& topic, int32_t partition, int count) {
  auto producer = Producer::Create(BaseConfig());
  ASSERT_TRUE(producer.ok()) << producer.status();
  for (int i = 0; i < count; ++i) {
    ASSERT_TRUE((*producer)
                    ->Send({.topic = topic,
                            .partition = partition,
                            .value = absl::StrCat("p", partition, "-", i)})
                    .ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
}

std::unique_ptr<Consumer> QueueConsumer(ClientConfig extra = {}) {
  ClientConfig config = BaseConfig();
  config["enable.partition.eof"] = "false";
  for (const auto& [k, v] : extra) config[k] = v;
  auto consumer = Consumer::Create(config, nullptr);
  EXPECT_TRUE(consumer.ok()) << consumer.status();
  absl::Status s = (*consumer)->EnablePartitionQueues();
  EXPECT_TRUE(s.ok()) << s;
  return *std::move(consumer);
}

// Reads `tp` until `count` records came or 60 s passed; Poll() is served in
// between, as the stream thread does.
std::vector<ConsumerRecord> ReadAll(Consumer& consumer,
                                    const TopicPartition& tp, size_t count) {
  std::vector<ConsumerRecord> out;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (out.size() < count && absl::Now() < deadline) {
    auto polled = consumer.Poll(absl::ZeroDuration());
    EXPECT_TRUE(polled.ok()) << polled.status();
    EXPECT_FALSE(polled.ok() && polled->has_value())
        << "a record came through the consumer queue";
    auto n = consumer.PollPartition(tp, 500, &out);
    EXPECT_TRUE(n.ok()) << n.status();
    if (n.ok() && *n == 0) consumer.WaitForData(absl::Milliseconds(100));
  }
  return out;
}

void ExpectOffsets(const std::vector<ConsumerRecord>& records, int64_t first,
                   int64_t count) {
  ASSERT_EQ(static_cast<int64_t>(records.size()), count);
  for (int64_t i = 0; i < count; ++i) {
    ASSERT_EQ(records[i].offset, first + i) << "record " << i;
  }
}

TEST(PartitionQueueTest, UnreadPartitionKeepsABoundedPrefetchAndLosesNothing) {
  const std::string topic = UniqueName("pq-bounded");
  CreateTopic(topic, 2);
  constexpr int kBacklog = 100000;
  ProduceTo(topic, 0, 1000);
  ProduceTo(topic, 1, kBacklog);
  constexpr size_t kQueueRecords = 2000;
  auto consumer =
      QueueConsumer({{"queued.min.messages", absl::StrCat(kQueueRecords)},
                     {"queued.max.messages.kbytes", "256"},
                     {"max.partition.fetch.bytes", "65536"}});
  const TopicPartition p0{topic, 0}, p1{topic, 1};
  ASSERT_TRUE(consumer->Assign({{p0, 0}, {p1, 0}}).ok());

  // Partition 0 flows while partition 1 is never read.
  ExpectOffsets(ReadAll(*consumer, p0, 1000), 0, 1000);
  // Partition 1 was prefetched, and its fetch stopped at the queue's bound
  // plus at most one fetch response. A response holds whole record batches
  // even past max.partition.fetch.bytes, and the producer wrote batches of
  // up to 10,000 records (batch.num.messages): it did not pull the whole
  // backlog of 100,000, and it stays there.
  size_t queued = 0;
  for (int i = 0; i < 10; ++i) {
    queued = std::max(queued, consumer->PartitionQueueLength(p1));
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_GE(queued, kQueueRecords);
  EXPECT_LE(queued, kQueueRecords + 10000);
  // Reading it later gives every record once, in order, none re-fetched
  // into a duplicate or lost.
  ExpectOffsets(ReadAll(*consumer, p1, kBacklog), 0, kBacklog);
  std::vector<ConsumerRecord> extra;
  auto n = consumer->PollPartition(p1, 10, &extra);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

// max.task.idle.ms asks the lag of an empty input partition: read through
// its own queue, and polled empty any number of times, it is known (0) once
// a fetch has answered. As in a stream thread, the group assigns the
// partitions and nothing is committed, so librdkafka knows no position
// before the first record. (Polling the queue once made the lag unknown for
// ever, and a join task reading an empty repartition partition never
// processed.)
TEST(PartitionQueueTest, AnEmptyPartitionPolledThroughItsQueueHasLagZero) {
  const std::string topic = UniqueName("pq-lag");
  CreateTopic(topic, 2);
  ProduceTo(topic, 0, 3);
  auto consumer = QueueConsumer({{"group.id", UniqueName("pq-lag-group")},
                                 {"auto.offset.reset", "earliest"}});
  ASSERT_TRUE(consumer->Subscribe({topic}).ok());
  const TopicPartition p0{topic, 0}, p1{topic, 1};
  std::vector<ConsumerRecord> read, none;
  int polled_empty = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline &&
         (read.size() < 3 || consumer->CachedLag(p1) != 0)) {
    auto polled = consumer->Poll(absl::ZeroDuration());  // the rebalance
    ASSERT_TRUE(polled.ok()) << polled.status();
    // Before the assignment the partitions have no queue: not an error here.
    (void)consumer->PollPartition(p0, 10, &read);
    if (consumer->PollPartition(p1, 10, &none).ok()) ++polled_empty;
    consumer->WaitForData(absl::Milliseconds(50));
  }
  ExpectOffsets(read, 0, 3);
  EXPECT_TRUE(none.empty());
  EXPECT_GT(polled_empty, 0) << "partition 1 never had a queue";
  EXPECT_EQ(consumer->CachedLag(p1), 0);
  EXPECT_EQ(consumer->CachedLag(p0), 0);
  ASSERT_TRUE(consumer->Close().ok());
}

TEST(PartitionQueueTest, SeekAndReassignmentNeverReturnStaleRecords) {
  const std::string topic = UniqueName("pq-stale");
  CreateTopic(topic, 1);
  ProduceTo(topic, 0, 5000);
  auto consumer = QueueConsumer();
  const TopicPartition tp{topic, 0};
  ASSERT_TRUE(consumer->Assign({{tp, 0}}).ok());
  std::vector<ConsumerRecord> first = ReadAll(*consumer, tp, 100);
  ASSERT_GE(first.size(), 100u);
  // The queue holds records beyond 100 by now; a seek back to 10 must
  // restart exactly there, with nothing of the old fetch in between.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (consumer->PartitionQueueLength(tp) == 0 && absl::Now() < deadline) {
    consumer->WaitForData(absl::Milliseconds(100));
  }
  ASSERT_GT(consumer->PartitionQueueLength(tp), 0u);
  ASSERT_TRUE(consumer->Seek({{tp, 10}}).ok());
  ExpectOffsets(ReadAll(*consumer, tp, 4990), 10, 4990);

  // Unassigned: the queue is gone. Assigned again at 20: a new queue that
  // starts there.
  ASSERT_TRUE(consumer->Assign({}).ok());
  std::vector<ConsumerRecord> none;
  EXPECT_EQ(consumer->PollPartition(tp, 10, &none).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(consumer->Assign({{tp, 20}}).ok());
  ExpectOffsets(ReadAll(*consumer, tp, 4980), 20, 4980);
}

int64_t ThreadCpuMicros() {
  rusage usage;
  getrusage(RUSAGE_THREAD, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1'000'000 +
         usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

TEST(PartitionQueueTest, IdleConsumerBlocksAndWakesWhenARecordArrives) {
  const std::string topic = UniqueName("pq-idle");
  CreateTopic(topic, 1);
  auto consumer = QueueConsumer();
  const TopicPartition tp{topic, 0};
  ASSERT_TRUE(consumer->Assign({{tp, 0}}).ok());
  // Let the assignment settle (offset lookup, first empty fetches).
  std::vector<ConsumerRecord> out;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(consumer->Poll(absl::ZeroDuration()).ok());
    ASSERT_TRUE(consumer->PollPartition(tp, 10, &out).ok());
    consumer->WaitForData(absl::Milliseconds(100));
  }
  ASSERT_TRUE(out.empty());

  // Idle: 2 s of the stream thread's loop (serve, read, wait) cost almost
  // no CPU on this thread and only a few wake-ups.
  const int64_t cpu_before = ThreadCpuMicros();
  const absl::Time start = absl::Now();
  int loops = 0;
  while (absl::Now() - start < absl::Seconds(2)) {
    ASSERT_TRUE(consumer->Poll(absl::ZeroDuration()).ok());
    ASSERT_TRUE(consumer->PollPartition(tp, 10, &out).ok());
    consumer->WaitForData(absl::Milliseconds(500));
    ++loops;
  }
  const int64_t cpu = ThreadCpuMicros() - cpu_before;
  EXPECT_LE(loops, 20) << "the wait did not block";
  EXPECT_LT(cpu, 100'000) << "idle loop used " << cpu << " us of CPU in 2 s";

  // A record produced while the thread waits wakes it long before the
  // timeout.
  std::thread producer([&] {
    absl::SleepFor(absl::Milliseconds(300));
    ProduceTo(topic, 0, 1);
  });
  const absl::Time wait_start = absl::Now();
  while (out.empty() && absl::Now() - wait_start < absl::Seconds(30)) {
    consumer->WaitForData(absl::Seconds(20));
    ASSERT_TRUE(consumer->Poll(absl::ZeroDuration()).ok());
    ASSERT_TRUE(consumer->PollPartition(tp, 10, &out).ok());
  }
  const absl::Duration waited = absl::Now() - wait_start;
  producer.join();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_LT(waited, absl::Seconds(10));
}

}  // namespace
}  // namespace brook
