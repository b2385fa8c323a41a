// Assignment changes of a consumer without a group, back to back, against
// the real broker. The restore consumer changes its assignment once per task
// whose restore begins, ends or is given up, so a revocation of six
// restoring tasks makes six changes with no poll in between.
//
// librdkafka 2.0.2 stops a started partition's fetcher on every assign()
// that replaces it, and counts the partition as stopped only when the
// stop's reply has come back to its main thread. A second assign() that
// replaces the partition before then stops it again, and the second reply
// aborts the process (rdkafka_assignment.c:872, assertion
// `rktp->rktp_started`). That is how the chaos run's instance died. These
// tests make the changes that crashed it.
//
// Each test waits out Assign()'s one-second settle several times, so they
// take seconds, not milliseconds.
#include <set>

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

constexpr int kPartitions = 6;
constexpr int kRecordsPerPartition = 2000;

void Fill(const std::string& topic) {
  auto producer = Producer::Create(BaseConfig());
  ASSERT_TRUE(producer.ok()) << producer.status();
  for (int p = 0; p < kPartitions; ++p) {
    for (int i = 0; i < kRecordsPerPartition; ++i) {
      ASSERT_TRUE((*producer)
                      ->Send({.topic = topic,
                              .partition = p,
                              .value = absl::StrCat("p", p, "-", i)})
                      .ok());
    }
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
}

std::unique_ptr<Consumer> AssignOnlyConsumer() {
  ClientConfig config = BaseConfig();
  config["enable.partition.eof"] = "false";
  // Small fetches, so that every partition stays mid-fetch while the test
  // changes the assignment.
  config["max.partition.fetch.bytes"] = "256";
  auto consumer = Consumer::Create(config, nullptr);
  EXPECT_TRUE(consumer.ok()) << consumer.status();
  return *std::move(consumer);
}

std::vector<TopicPartitionOffset> FirstPartitions(const std::string& topic,
                                                  int count, int64_t offset) {
  std::vector<TopicPartitionOffset> out;
  for (int p = 0; p < count; ++p) out.push_back({{topic, p}, offset});
  return out;
}

// Polls until a record of each of the first `count` partitions came (their
// fetchers are started then), or 30 s passed.
std::set<int32_t> PollUntilEachStarted(Consumer& consumer, int count) {
  std::set<int32_t> seen;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (static_cast<int>(seen.size()) < count && absl::Now() < deadline) {
    auto polled = consumer.Poll(absl::Milliseconds(100));
    EXPECT_TRUE(polled.ok()) << polled.status();
    if (polled.ok() && polled->has_value()) seen.insert((*polled)->partition);
  }
  return seen;
}

TEST(AssignmentChangeTest, ShrinkingTheAssignmentInARowKeepsTheProcessAlive) {
  const std::string topic = UniqueName("assign-shrink");
  CreateTopic(topic, kPartitions);
  Fill(topic);
  auto consumer = AssignOnlyConsumer();
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(
        consumer->Assign(FirstPartitions(topic, kPartitions, round * 10)).ok());
    ASSERT_EQ(PollUntilEachStarted(*consumer, kPartitions).size(),
              static_cast<size_t>(kPartitions))
        << "round " << round;
    // Six tasks given up one after another, as a revocation does.
    for (int keep = kPartitions - 1; keep >= 0; --keep) {
      ASSERT_TRUE(
          consumer->Assign(FirstPartitions(topic, keep, round * 10)).ok())
          << "round " << round << ", keeping " << keep;
    }
  }
  // What is assigned last is read from its offset, and nothing else is.
  ASSERT_TRUE(consumer->Assign({{{topic, 2}, 700}}).ok());
  int64_t expected = 700;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (expected < 750 && absl::Now() < deadline) {
    auto polled = consumer->Poll(absl::Milliseconds(100));
    ASSERT_TRUE(polled.ok()) << polled.status();
    if (!polled->has_value()) continue;
    ASSERT_EQ((*polled)->partition, 2);
    ASSERT_EQ((*polled)->offset, expected);
    ++expected;
  }
  EXPECT_EQ(expected, 750);
}

TEST(AssignmentChangeTest, GivingUpAndTakingBackAPartitionInARowIsSafe) {
  const std::string topic = UniqueName("assign-flap");
  CreateTopic(topic, kPartitions);
  Fill(topic);
  auto consumer = AssignOnlyConsumer();
  ASSERT_TRUE(consumer->Assign(FirstPartitions(topic, kPartitions, 0)).ok());
  ASSERT_EQ(PollUntilEachStarted(*consumer, kPartitions).size(),
            static_cast<size_t>(kPartitions));
  // A task revoked and assigned back before anything was polled: its
  // partition leaves and returns, then leaves again, and the others move.
  // Assign() waits before stopping a partition a second time within a
  // second. Without that wait this loop did not crash here in 400 tries
  // (the stop's reply usually wins the race), so this test checks the
  // positions after the flapping, not the wait itself.
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(
        consumer->Assign(FirstPartitions(topic, kPartitions - 1, 0)).ok());
    ASSERT_TRUE(
        consumer->Assign(FirstPartitions(topic, kPartitions, 100 + i)).ok());
  }
  ASSERT_TRUE(consumer->Assign({{{topic, kPartitions - 1}, 1500}}).ok());
  int64_t expected = 1500;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (expected < 1550 && absl::Now() < deadline) {
    auto polled = consumer->Poll(absl::Milliseconds(100));
    ASSERT_TRUE(polled.ok()) << polled.status();
    if (!polled->has_value()) continue;
    ASSERT_EQ((*polled)->partition, kPartitions - 1);
    ASSERT_EQ((*polled)->offset, expected);
    ++expected;
  }
  EXPECT_EQ(expected, 1550);
}

}  // namespace
}  // namespace brook
