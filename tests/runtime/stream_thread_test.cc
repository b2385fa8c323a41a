// StreamThread driven step by step over the Kafka fakes: scheduling, back
// pressure, the exactly-once commit protocol and its error handling,
// rebalances, co-partitioning, at-least-once; and KafkaStreams' life cycle
// over the same fakes. Tasks with real stores: task_lifecycle_test.cc.
#include "brook/runtime/internal/stream_thread.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/kafka/errors.h"
#include "brook/runtime/kafka_streams.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/stores.h"
#include "brook/runtime/topology.h"
#include "brook/state/state_directory.h"
#include "tests/runtime/stream_thread_fixture.h"
#include "tests/testing/fake_kafka.h"

namespace brook::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using S = std::string;

// A processor whose behaviour each test chooses; by default it forwards.
using ProcessHook =
    std::function<absl::Status(ProcessorContext<S, S>&, const Record<S, S>&)>;

class HookProcessor final : public Processor<S, S, S, S> {
 public:
  HookProcessor(ProcessHook process, std::function<void(const TaskId&)> close)
      : process_(std::move(process)), close_(std::move(close)) {}
  absl::Status Init(ProcessorContext<S, S>& context) override {
    context_ = &context;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<S, S>& record) override {
    if (process_) return process_(*context_, record);
    return context_->Forward(record);
  }
  void Close() override {
    if (close_) close_(context_->task_id());
  }

 private:
  const ProcessHook process_;
  const std::function<void(const TaskId&)> close_;
  ProcessorContext<S, S>* context_ = nullptr;
};

// in -> proc -> out.
Topology Chain(ProcessHook process = nullptr,
               std::function<void(const TaskId&)> close = nullptr) {
  Topology t;
  t.AddSource<S, S>("in", {"in"}, Serdes::String(), Serdes::String())
      .AddProcessor<S, S, S, S>("proc",
                                [process, close] {
                                  return std::make_unique<HookProcessor>(
                                      process, close);
                                },
                                {"in"})
      .AddSink<S, S>("out", "out", Serdes::String(), Serdes::String(),
                     {"proc"});
  return t;
}

TEST_F(StreamThreadTest, ConfiguresAReadCommittedConsumerAndATransactionalId) {
  ASSERT_TRUE(Start(Chain()));
  EXPECT_EQ(consumer_config_.at("group.id"), "app");
  EXPECT_EQ(consumer_config_.at("isolation.level"), "read_committed");
  ASSERT_EQ(producer_configs_.size(), 1u);
  EXPECT_EQ(producer_configs_[0].at("transactional.id"),
            "app-0123456789abcdef-0");
  EXPECT_EQ(thread_->transactional_id(), "app-0123456789abcdef-0");
  EXPECT_THAT(consumer_->Subscribed(), ElementsAre("in"));
  EXPECT_THAT(producer()->call_log(), ElementsAre("init"));
}

TEST_F(StreamThreadTest, ReportsItsStatesInLifeCycleOrder) {
  ASSERT_TRUE(Start(Chain()));
  Append(kIn0, {"a"});
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunOnce());
  thread_->Shutdown(absl::OkStatus());
  EXPECT_THAT(states_, ElementsAre("STARTING", "PARTITIONS_ASSIGNED", "RUNNING",
                                   "PENDING_SHUTDOWN", "DEAD"));
  EXPECT_EQ(thread_->state(), StreamThread::State::kDead);
}

TEST_F(StreamThreadTest, ACleanShutdownCommitsThenClosesTheConsumer) {
  ASSERT_TRUE(Start(Chain()));
  Append(kIn0, {"a", "b"});
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunOnce());
  EXPECT_THAT(Output(), IsEmpty());  // the 5 s interval has not passed
  thread_->Shutdown(absl::OkStatus());
  EXPECT_THAT(Output(), ElementsAre("a", "b"));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 2);
  EXPECT_TRUE(consumer_->closed());
  EXPECT_EQ(thread_->num_tasks(), 0u);
}

TEST_F(StreamThreadTest, AHotPartitionDoesNotStarveColdOnes) {
  config_.max_poll_records = 20000;  // buffer everything in one poll
  config_.buffered_records_per_partition = 20000;
  config_.max_records_per_task_per_iteration = 100;
  std::map<int32_t, int> processed;
  ASSERT_TRUE(
      Start(Chain([&processed](ProcessorContext<S, S>& c, const Record<S, S>&) {
        ++processed[c.record_metadata()->partition];
        return absl::OkStatus();
      })));
  Append(kIn0, Numbered("hot", 0, 10000));
  for (int32_t p = 1; p < 4; ++p) Append({"in", p}, Numbered("cold", 0, 50));
  ASSERT_TRUE(Assign({kIn0, kIn1, {"in", 2}, {"in", 3}}));
  EXPECT_EQ(thread_->num_tasks(), 4u);
  ASSERT_TRUE(RunOnce());
  ASSERT_TRUE(RunOnce());
  ASSERT_TRUE(RunOnce());
  // Every cold record is done; the hot task got exactly its share of 100 per
  // iteration, though 9,700 of its records were waiting.
  EXPECT_EQ(processed[1], 50);
  EXPECT_EQ(processed[2], 50);
  EXPECT_EQ(processed[3], 50);
  EXPECT_EQ(processed[0], 300);
  EXPECT_EQ(thread_->stats().records_processed.load(), 450);
}

TEST_F(StreamThreadTest, PartitionQueuesKeepAHotPartitionFromStarvingNoPause) {
  config_.partition_queues = true;
  config_.partition_read_ahead_records = 200;
  config_.max_records_per_task_per_iteration = 100;
  std::map<int32_t, int> processed;
  ASSERT_TRUE(
      Start(Chain([&processed](ProcessorContext<S, S>& c, const Record<S, S>&) {
        ++processed[c.record_metadata()->partition];
        return absl::OkStatus();
      })));
  Append(kIn0, Numbered("hot", 0, 10000));
  for (int32_t p = 1; p < 4; ++p) Append({"in", p}, Numbered("cold", 0, 50));
  ASSERT_TRUE(Assign({kIn0, kIn1, {"in", 2}, {"in", 3}}));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(RunOnce());
    // The hot partition is read only up to its read-ahead, never paused.
    EXPECT_LE(consumer_->Position(kIn0) - processed[0], 200) << i;
    EXPECT_THAT(consumer_->PausedPartitions(), IsEmpty());
  }
  EXPECT_EQ(processed[1], 50);
  EXPECT_EQ(processed[2], 50);
  EXPECT_EQ(processed[3], 50);
  EXPECT_EQ(processed[0], 300);
  // The rest follows, in order, none lost or repeated.
  ASSERT_TRUE(RunUntil([&] { return processed[0] == 10000; }));
  EXPECT_EQ(consumer_->ResumeOfUnpausedCount(), 0);
}

TEST_F(StreamThreadTest, PartitionQueuesWaitOnlyWhenNothingIsBuffered) {
  config_.partition_queues = true;
  ASSERT_TRUE(Start(Chain()));
  ASSERT_TRUE(Assign({kIn0}));
  const int waits = consumer_->WaitCount();
  ASSERT_TRUE(RunOnce());
  EXPECT_EQ(consumer_->WaitCount(), waits + 1) << "idle but did not wait";
  Append(kIn0, {"a", "b"});
  ASSERT_TRUE(RunOnce());
  EXPECT_EQ(consumer_->WaitCount(), waits + 1) << "waited with input ready";
  thread_->Shutdown(absl::OkStatus());
  EXPECT_THAT(Output(), ElementsAre("a", "b"));
}

TEST_F(StreamThreadTest, TheProcessWideInputBufferCapPausesEveryPartition) {
  config_.partition_queues = false;  // pause/resume back-pressure
  // Far below the per-partition limit, but 40 records of ~100 bytes exceed
  // the byte cap: input.buffer.max.bytes must bound the memory whatever the
  // partition count.
  config_.buffered_records_per_partition = 100000;
  config_.input_buffer_max_bytes = 4000;
  config_.max_poll_records = 1000;
  config_.max_records_per_task_per_iteration = 5;
  int64_t processed = 0;
  ASSERT_TRUE(Start(
      Chain([&processed](ProcessorContext<S, S>& c, const Record<S, S>& r) {
        ++processed;
        return c.Forward(r);
      })));
  for (const TopicPartition& tp : {kIn0, kIn1}) {
    for (int i = 0; i < 100; ++i) {
      kafka_.Append(tp.topic, tp.partition, "key", std::string(100, 'x'),
                    1000 + i);
    }
  }
  ASSERT_TRUE(Assign({kIn0, kIn1}));
  bool both_paused = false;
  for (int i = 0; i < 500 && processed < 200; ++i) {
    ASSERT_TRUE(RunOnce());
    const int64_t buffered =
        consumer_->Position(kIn0) + consumer_->Position(kIn1) - processed;
    // Each record counts about 200 bytes: the cap allows ~20, and each
    // partition pauses on the first record it receives past the cap.
    EXPECT_LE(buffered, 22) << "iteration " << i;
    if (consumer_->PausedPartitions().size() == 2) both_paused = true;
  }
  EXPECT_TRUE(both_paused);
  EXPECT_EQ(processed, 200) << "a partition paused by the cap never resumed";
  EXPECT_THAT(consumer_->PausedPartitions(), IsEmpty());
}

TEST_F(StreamThreadTest, PausesAFullPartitionAndResumesItOnceDrained) {
  config_.partition_queues = false;  // pause/resume back-pressure
  config_.buffered_records_per_partition = 10;
  config_.max_poll_records = 100;
  config_.max_records_per_task_per_iteration = 3;
  std::map<int32_t, int64_t> processed;
  ASSERT_TRUE(Start(
      Chain([&processed](ProcessorContext<S, S>& c, const Record<S, S>& r) {
        ++processed[c.record_metadata()->partition];
        return c.Forward(r);
      })));
  Append(kIn0, Numbered("v", 0, 50));
  Append(kIn1, Numbered("w", 0, 2));
  ASSERT_TRUE(Assign({kIn0, kIn1}));
  int pauses = 0;
  int resumes = 0;
  bool paused = false;
  for (int i = 0; i < 100 && processed[0] + processed[1] < 52; ++i) {
    ASSERT_TRUE(RunOnce());
    const std::vector<TopicPartition> now = consumer_->PausedPartitions();
    // Only the full partition is ever paused.
    for (const TopicPartition& tp : now) EXPECT_EQ(tp, kIn0);
    // Fetched but unprocessed records of in-0.
    const int64_t buffered = consumer_->Position(kIn0) - processed[0];
    EXPECT_LE(buffered, 10) << "iteration " << i;
    const bool paused_now = !now.empty();
    if (paused_now && !paused) ++pauses;
    if (!paused_now && paused) {
      ++resumes;
      // Resumed only once drained below half the limit, so that the fetch
      // restarts while the task still has records to work on.
      EXPECT_LT(buffered, 5) << "iteration " << i;
    }
    paused = paused_now;
  }
  EXPECT_EQ(processed[0], 50);
  EXPECT_EQ(processed[1], 2);
  EXPECT_FALSE(paused);
  EXPECT_GE(pauses, 3);
  EXPECT_EQ(resumes, pauses);
  EXPECT_EQ(consumer_->ResumeOfUnpausedCount(), 0);
}

TEST_F(StreamThreadTest, CommitsOutputAndOffsetsInOneTransaction) {
  config_.commit_interval = absl::Milliseconds(1);
  ASSERT_TRUE(Start(Chain()));
  Append(kIn0, Numbered("v", 0, 5));
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunUntil([this] { return producer()->commits() == 1; }));
  EXPECT_THAT(producer()->call_log(),
              ElementsAre("init", "begin", "send", "send", "send", "send",
                          "send", "send_offsets", "commit"));
  EXPECT_THAT(Output(), ElementsAreArray(Numbered("v", 0, 5)));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 5);
  EXPECT_EQ(consumer_->CommitSyncCount(), 0);  // never under exactly-once
  EXPECT_EQ(thread_->stats().commits.load(), 1);
  // Nothing left to commit: no empty transactions.
  ASSERT_TRUE(RunOnce());
  absl::SleepFor(absl::Milliseconds(2));
  ASSERT_TRUE(RunOnce());
  EXPECT_EQ(producer()->begins(), 1);
}

TEST_F(StreamThreadTest, CommitMaxRecordsCommitsBeforeTheInterval) {
  config_.commit_max_records = 4;
  config_.max_records_per_task_per_iteration = 2;
  ASSERT_TRUE(Start(Chain()));
  Append(kIn0, Numbered("v", 0, 10));
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunOnce());  // 2 records
  EXPECT_EQ(producer()->commits(), 0);
  EXPECT_EQ(producer()->pending_records().size(), 2u);
  EXPECT_THAT(Output(), IsEmpty());
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
  ASSERT_TRUE(RunOnce());  // 4 records
  EXPECT_EQ(producer()->commits(), 1);
  EXPECT_THAT(Output(), ElementsAreArray(Numbered("v", 0, 4)));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 4);
  ASSERT_TRUE(RunOnce());
  ASSERT_TRUE(RunOnce());
  EXPECT_EQ(producer()->commits(), 2);
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 8);
}

TEST_F(StreamThreadTest, RetriesARetriableCommitError) {
  config_.commit_interval = absl::Milliseconds(1);
  ASSERT_TRUE(Start(Chain()));
  Append(kIn0, {"a"});
  ASSERT_TRUE(Assign({kIn0}));
  producer()->FailNext(FakeProducer::Call::kCommit,
                       KafkaError(KafkaErrorClass::kRetriable, "timed out"));
  ASSERT_TRUE(RunUntil([this] { return producer()->commits() == 1; }));
  EXPECT_THAT(
      producer()->call_log(),
      ElementsAre("init", "begin", "send", "send_offsets", "commit", "commit"));
  EXPECT_THAT(Output(), ElementsAre("a"));
  EXPECT_EQ(producer()->aborts(), 0);
}

TEST_F(StreamThreadTest, AnAbortableCommitErrorRewindsToTheCommittedOffsets) {
  config_.commit_interval = absl::Milliseconds(1);
  ASSERT_TRUE(Start(Chain()));
  Append(kIn0, Numbered("v", 0, 5));
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunUntil([this] { return producer()->commits() == 1; }));
  ASSERT_EQ(kafka_.CommittedOffset(kIn0), 5);

  Append(kIn0, Numbered("v", 5, 10));
  producer()->FailNext(
      FakeProducer::Call::kCommit,
      KafkaError(KafkaErrorClass::kAbortable, "injected abortable error"));
  ASSERT_TRUE(RunUntil([this] { return producer()->aborts() == 1; }));
  // The failed transaction is aborted: none of its output is visible and its
  // offsets are not committed.
  EXPECT_THAT(Output(), ElementsAreArray(Numbered("v", 0, 5)));
  EXPECT_THAT(Aborted(), ElementsAreArray(Numbered("v", 5, 10)));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 5);
  EXPECT_EQ(thread_->num_tasks(), 1u);  // the tasks were revived, not dropped
  EXPECT_EQ(thread_->stats().aborts.load(), 1);

  // The task restarts at offset 5 and commits every record exactly once.
  ASSERT_TRUE(RunUntil([this] { return producer()->commits() == 2; }));
  EXPECT_THAT(Output(), ElementsAreArray(Numbered("v", 0, 10)));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 10);
  EXPECT_EQ(producers_.size(), 1u);  // an abortable error keeps the producer
}

TEST_F(StreamThreadTest, LosingMembershipAtCommitDropsTheTasksAndRejoins) {
  bool lost = false;
  ASSERT_TRUE(Start(
      Chain([this, &lost](ProcessorContext<S, S>& c, const Record<S, S>& r) {
        if (r.value == "lose" && !lost) {
          // The group moves on while this record is processed (a session
          // timeout): the commit that follows carries a stale generation.
          lost = true;
          kafka_.LoseAssignment(consumer_);
          c.RequestCommit();
        }
        return c.Forward(r);
      })));
  Append(kIn0, {"v0", "v1", "lose", "v3"});
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunOnce());
  ASSERT_TRUE(lost);
  EXPECT_THAT(producer()->call_log(),
              ElementsAre("init", "begin", "send", "send", "send", "send",
                          "send_offsets", "abort"));
  EXPECT_EQ(thread_->num_tasks(), 0u);
  EXPECT_EQ(consumer_->UnsubscribeCount(), 1);
  EXPECT_THAT(consumer_->Subscribed(), ElementsAre("in"));  // rejoined
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
  EXPECT_THAT(Output(), IsEmpty());
  EXPECT_THAT(Aborted(), ElementsAre("v0", "v1", "lose", "v3"));
  EXPECT_EQ(thread_->stats().task_migrations.load(), 1);

  // The group assigns the partition again; the records are processed again
  // from the committed offset (none) and committed once.
  ASSERT_TRUE(Assign({kIn0}));
  EXPECT_EQ(thread_->num_tasks(), 1u);
  ASSERT_TRUE(RunOnce());
  thread_->Shutdown(absl::OkStatus());
  EXPECT_THAT(Output(), ElementsAre("v0", "v1", "lose", "v3"));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 4);
  EXPECT_EQ(producers_.size(), 1u);
}

TEST_F(StreamThreadTest, AFencedProducerIsReplacedAndTheThreadRejoins) {
  bool fenced = false;
  ASSERT_TRUE(Start(
      Chain([this, &fenced](ProcessorContext<S, S>& c, const Record<S, S>& r) {
        absl::Status forwarded = c.Forward(r);
        if (r.value == "fence" && !fenced) {
          // A zombie-fencing producer with our transactional.id appears; the
          // commit requested next finds out.
          fenced = true;
          producers_.back()->Fence();
          c.RequestCommit();
        }
        return forwarded;
      })));
  Append(kIn0, {"v0", "v1", "fence"});
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunOnce());
  ASSERT_TRUE(fenced);
  // A new producer came from the factory and was initialized, fencing the
  // zombie in turn; the tasks are gone and the consumer rejoins.
  ASSERT_EQ(producers_.size(), 2u);
  EXPECT_THAT(producer()->call_log(), ElementsAre("init"));
  EXPECT_EQ(thread_->num_tasks(), 0u);
  EXPECT_EQ(consumer_->UnsubscribeCount(), 1);
  EXPECT_THAT(consumer_->Subscribed(), ElementsAre("in"));
  EXPECT_THAT(Output(), IsEmpty());
  EXPECT_THAT(Aborted(), ElementsAre("v0", "v1", "fence"));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
  EXPECT_EQ(thread_->stats().producer_resets.load(), 1);

  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunOnce());
  thread_->Shutdown(absl::OkStatus());
  EXPECT_THAT(Output(), ElementsAre("v0", "v1", "fence"));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 3);
  EXPECT_EQ(producer()->commits(), 1);
}

// Two holders of one transactional.id fence each other on every
// InitTransactions retry; the second reset in a row waits before the
// producer is recreated, so that the other side's retry can finish.
TEST_F(StreamThreadTest, ASecondResetInARowWaitsBeforeRecreatingTheProducer) {
  int fencings = 0;
  ASSERT_TRUE(Start(Chain(
      [this, &fencings](ProcessorContext<S, S>& c, const Record<S, S>& r) {
        absl::Status forwarded = c.Forward(r);
        if (r.value == "fence") {
          ++fencings;
          producers_.back()->Fence();
          c.RequestCommit();
        }
        return forwarded;
      })));
  Append(kIn0, {"fence"});
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunOnce());
  ASSERT_EQ(fencings, 1);
  ASSERT_EQ(producers_.size(), 2u);
  // Reassigned from the committed offset (none): the record comes again and
  // the new producer is fenced in turn.
  ASSERT_TRUE(Assign({kIn0}));
  const absl::Time before = absl::Now();
  ASSERT_TRUE(RunOnce());
  ASSERT_EQ(fencings, 2);
  EXPECT_EQ(producers_.size(), 3u);
  EXPECT_GE(absl::Now() - before, absl::Seconds(1))
      << "the second reset in a row recreated the producer at once";
  EXPECT_EQ(thread_->stats().producer_fencings.load(), 2);
}

TEST_F(StreamThreadTest, AFatalCommitErrorReplacesTheProducer) {
  config_.commit_interval = absl::Milliseconds(1);
  ASSERT_TRUE(Start(Chain()));
  Append(kIn0, {"a", "b"});
  ASSERT_TRUE(Assign({kIn0}));
  producer()->FailNext(FakeProducer::Call::kCommit,
                       KafkaError(KafkaErrorClass::kFatal, "injected fatal"));
  ASSERT_TRUE(RunUntil([this] { return producers_.size() == 2; }));
  EXPECT_THAT(producer()->call_log(), ElementsAre("init"));
  EXPECT_EQ(thread_->num_tasks(), 0u);
  EXPECT_THAT(Output(), IsEmpty());
  EXPECT_THAT(Aborted(), ElementsAre("a", "b"));
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunUntil([this] { return producer()->commits() == 1; }));
  EXPECT_THAT(Output(), ElementsAre("a", "b"));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 2);
}

TEST_F(StreamThreadTest, RevocationCommitsBeforeClosingTheTasks) {
  std::map<int32_t, int64_t> committed_at_close;
  ASSERT_TRUE(
      Start(Chain(nullptr, [this, &committed_at_close](const TaskId& id) {
        committed_at_close[id.partition] =
            kafka_.CommittedOffset({"in", id.partition});
      })));
  Append(kIn0, {"a0", "a1", "a2"});
  Append(kIn1, {"b0", "b1"});
  ASSERT_TRUE(Assign({kIn0, kIn1}));
  ASSERT_TRUE(RunOnce());
  ASSERT_THAT(Output(), IsEmpty());
  ASSERT_TRUE(Assign({kIn1}));  // in-0 moves to another member
  EXPECT_EQ(committed_at_close[0], 3);
  EXPECT_EQ(committed_at_close[1], 2);
  EXPECT_EQ(producer()->commits(), 1);
  EXPECT_EQ(producer()->aborts(), 0);
  EXPECT_EQ(Output().size(), 5u);
  EXPECT_EQ(thread_->num_tasks(), 1u);  // the task of in-1, made anew
  // The close hook writes to committed_at_close: stop before it goes.
  thread_->Shutdown(absl::OkStatus());
}

// The commit made inside the revocation callback fails (abortable): the
// revoked and the kept tasks are dropped without commit, the transaction is
// aborted, and the thread goes on with its new assignment from the committed
// offsets; the error does not escape the callback.
TEST_F(StreamThreadTest, ARevocationWhoseCommitFailsDropsTheTasksUncommitted) {
  ASSERT_TRUE(Start(Chain()));
  Append(kIn0, {"a0", "a1", "a2"});
  Append(kIn1, {"b0", "b1"});
  ASSERT_TRUE(Assign({kIn0, kIn1}));
  ASSERT_TRUE(RunOnce());
  ASSERT_EQ(producer()->commits(), 0);
  producer()->FailNext(
      FakeProducer::Call::kCommit,
      KafkaError(KafkaErrorClass::kAbortable, "injected at revocation"));
  ASSERT_TRUE(Assign({kIn1}));  // in-0 moves to another member
  EXPECT_EQ(producer()->commits(), 0);
  EXPECT_EQ(producer()->aborts(), 1);
  EXPECT_THAT(Output(), IsEmpty());
  EXPECT_EQ(Aborted().size(), 5u);
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
  EXPECT_EQ(kafka_.CommittedOffset(kIn1), kOffsetInvalid);
  EXPECT_EQ(thread_->num_tasks(), 1u);  // the task of in-1, made anew
  EXPECT_EQ(producers_.size(), 1u);     // the abort worked: no reset

  // in-1 is processed again from its committed offset (none), once.
  ASSERT_TRUE(RunOnce());
  thread_->Shutdown(absl::OkStatus());
  EXPECT_THAT(Output(), ElementsAre("b0", "b1"));
  EXPECT_EQ(kafka_.CommittedOffset(kIn1), 2);
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
}

// A send that fails during processing (abortable, as librdkafka reports a
// record it could not produce inside a transaction) is handled as an
// abortable commit error would be: abort, rewind, process again.
TEST_F(StreamThreadTest, AnAbortableSendErrorDuringProcessingAbortsAndRewinds) {
  config_.commit_interval = absl::Milliseconds(1);
  ASSERT_TRUE(Start(Chain()));
  Append(kIn0, Numbered("v", 0, 6));
  ASSERT_TRUE(Assign({kIn0}));
  producer()->FailNext(
      FakeProducer::Call::kSend,
      KafkaError(KafkaErrorClass::kAbortable, "injected send failure"));
  ASSERT_TRUE(RunUntil([this] { return producer()->aborts() == 1; }));
  EXPECT_EQ(producer()->commits(), 0);
  EXPECT_EQ(thread_->num_tasks(), 1u);  // revived, not dropped
  EXPECT_EQ(thread_->stats().aborts.load(), 1);
  ASSERT_TRUE(RunUntil([this] { return kafka_.CommittedOffset(kIn0) == 6; }));
  EXPECT_THAT(Output(), ElementsAreArray(Numbered("v", 0, 6)));
  EXPECT_EQ(producers_.size(), 1u);
}

// A consumer error from Poll() (here a fatal one) is not retried or
// swallowed: the iteration ends with it, before anything is processed or
// committed, and the thread's owner (KafkaStreams) decides what follows.
TEST_F(StreamThreadTest, AFailedPollEndsTheIterationWithTheConsumersError) {
  ASSERT_TRUE(Start(Chain()));
  Append(kIn0, {"a0"});
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunOnce());
  Append(kIn0, {"a1"});
  consumer_->FailNextPoll(
      KafkaError(KafkaErrorClass::kFatal, "injected consumer failure"));
  const int64_t processed = thread_->stats().records_processed.load();
  absl::Status s = thread_->RunOnce();
  EXPECT_TRUE(IsFatal(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("injected consumer failure"));
  EXPECT_EQ(thread_->stats().records_processed.load(), processed);
  EXPECT_EQ(producer()->commits(), 0);
  EXPECT_THAT(Output(), IsEmpty());
}

TEST_F(StreamThreadTest, ALostAssignmentAbortsAndCommitsNothing) {
  int closes = 0;
  ASSERT_TRUE(Start(Chain(nullptr, [&closes](const TaskId&) { ++closes; })));
  Append(kIn0, {"a0", "a1"});
  Append(kIn1, {"b0"});
  ASSERT_TRUE(Assign({kIn0, kIn1}));
  ASSERT_TRUE(RunOnce());
  kafka_.LoseAssignment(consumer_);
  ASSERT_TRUE(RunOnce());
  EXPECT_EQ(closes, 2);
  EXPECT_EQ(thread_->num_tasks(), 0u);
  EXPECT_EQ(producer()->aborts(), 1);
  EXPECT_EQ(producer()->commits(), 0);
  EXPECT_THAT(Output(), IsEmpty());
  EXPECT_EQ(Aborted().size(), 3u);
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
  EXPECT_EQ(kafka_.CommittedOffset(kIn1), kOffsetInvalid);

  ASSERT_TRUE(Assign({kIn0, kIn1}));
  ASSERT_TRUE(RunOnce());
  thread_->Shutdown(absl::OkStatus());
  std::vector<std::string> out = Output();
  std::sort(out.begin(), out.end());
  EXPECT_THAT(out, ElementsAre("a0", "a1", "b0"));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 2);
  EXPECT_EQ(kafka_.CommittedOffset(kIn1), 1);
}

TEST_F(StreamThreadTest, AnAssignmentBreakingCoPartitioningFailsNamingTheTask) {
  kafka_.CreateTopic("A", 2);
  kafka_.CreateTopic("B", 2);
  Topology t;
  t.AddSource<S, S>("a", {"A"}, Serdes::String(), Serdes::String())
      .AddSource<S, S>("b", {"B"}, Serdes::String(), Serdes::String())
      .AddProcessor<S, S, S, S>(
          "join",
          [] { return std::make_unique<HookProcessor>(nullptr, nullptr); },
          {"a", "b"})
      .AddSink<S, S>("out", "out", Serdes::String(), Serdes::String(),
                     {"join"});
  ASSERT_TRUE(Start(t));
  EXPECT_THAT(consumer_->Subscribed(), ElementsAre("A", "B"));
  kafka_.Rebalance(consumer_, {{"A", 0}, {"B", 1}, {"A", 1}});
  absl::Status s = thread_->RunOnce();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("task 0_0"));
  EXPECT_THAT(s.message(), HasSubstr("not B-0"));
  thread_->Shutdown(s);
  EXPECT_EQ(thread_->state(), StreamThread::State::kDead);
}

TEST_F(StreamThreadTest, AtLeastOnceFlushesThenCommitsThroughTheConsumer) {
  config_.processing_guarantee = ProcessingGuarantee::kAtLeastOnce;
  config_.commit_interval = absl::Milliseconds(1);
  ASSERT_TRUE(Start(Chain()));
  EXPECT_FALSE(producer_configs_[0].contains("transactional.id"));
  EXPECT_EQ(consumer_config_.at("isolation.level"), "read_uncommitted");
  Append(kIn0, {"a", "b", "c"});
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunUntil([this] { return consumer_->CommitSyncCount() == 1; }));
  EXPECT_THAT(producer()->call_log(),
              ElementsAre("send", "send", "send", "flush"));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 3);
  EXPECT_THAT(Output(), ElementsAre("a", "b", "c"));
}

TEST_F(StreamThreadTest, AtLeastOnceCommitsNoOffsetsWhenTheFlushFails) {
  config_.processing_guarantee = ProcessingGuarantee::kAtLeastOnce;
  config_.commit_interval = absl::Milliseconds(1);
  ASSERT_TRUE(Start(Chain()));
  Append(kIn0, {"a"});
  ASSERT_TRUE(Assign({kIn0}));
  producer()->FailNext(FakeProducer::Call::kFlush,
                       absl::DeadlineExceededError("flush timed out"));
  absl::Status s;
  for (int i = 0; i < 100 && s.ok(); ++i) {
    s = thread_->RunOnce();
    absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(consumer_->CommitSyncCount(), 0);
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
  thread_->Shutdown(s);
}
TEST_F(StreamThreadTest, AnAbortRewindsPartitionsWithoutOffsetsAsConfigured) {
  config_.consumer_config["auto.offset.reset"] = "latest";
  config_.commit_interval = absl::Milliseconds(1);
  int processed = 0;
  ASSERT_TRUE(Start(
      Chain([&processed](ProcessorContext<S, S>& c, const Record<S, S>& r) {
        ++processed;
        return c.Forward(r);
      })));
  // The first commit fails abortably, before any offset of "in"-0 was ever
  // committed: the rewind must go where auto.offset.reset says (the end),
  // not to the beginning.
  producer()->FailNext(FakeProducer::Call::kCommit,
                       KafkaError(KafkaErrorClass::kAbortable, "injected"));
  Append(kIn0, {"a", "b"});
  ASSERT_TRUE(Assign({kIn0}));
  ASSERT_TRUE(RunUntil([&] { return thread_->stats().aborts.load() == 1; }));
  Append(kIn0, {"c"});
  ASSERT_TRUE(RunUntil([&] { return !Output().empty(); }));
  EXPECT_THAT(Output(), ElementsAre("c"));
  EXPECT_EQ(processed, 3) << "a and b were processed again from the beginning";
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 3);
}

// ---------------------------------------------------------------------------
// KafkaStreams over the fakes. Its stream threads run on threads of their
// own, and the fakes are thread-compatible only, so these tests keep every
// use of FakeKafka on one thread at a time: the test thread before Start()
// and after Close() (which joins the stream thread), the single stream
// thread in between. The consumer factory, which runs on the stream thread,
// schedules the group's assignment itself.

class FakeAdmin final : public Admin {
 public:
  // The first `*leaderless_calls` PartitionCount calls fail as the real
  // client does for a topic whose partitions have no leader yet.
  explicit FakeAdmin(std::map<std::string, int32_t> partitions,
                     std::shared_ptr<int> leaderless_calls = nullptr)
      : partitions_(std::move(partitions)),
        leaderless_calls_(std::move(leaderless_calls)) {}
  absl::Status CreateTopic(const NewTopic&, absl::Duration) override {
    return absl::UnimplementedError("FakeAdmin::CreateTopic");
  }
  absl::Status DeleteTopic(const std::string&, absl::Duration) override {
    return absl::UnimplementedError("FakeAdmin::DeleteTopic");
  }
  absl::Status DeleteRecords(absl::Span<const TopicPartitionOffset>,
                             absl::Duration) override {
    return absl::UnimplementedError("FakeAdmin::DeleteRecords");
  }
  absl::StatusOr<int32_t> PartitionCount(const std::string& topic,
                                         absl::Duration) override {
    if (leaderless_calls_ != nullptr && *leaderless_calls_ > 0) {
      --*leaderless_calls_;
      return WithKafkaErrorCode(
          KafkaError(KafkaErrorClass::kRetriable,
                     absl::StrCat("describe topic '", topic,
                                  "': LEADER_NOT_AVAILABLE")),
          "LEADER_NOT_AVAILABLE");
    }
    auto it = partitions_.find(topic);
    if (it == partitions_.end()) {
      return absl::NotFoundError(
          absl::StrCat("topic '", topic, "' is missing"));
    }
    return it->second;
  }
  absl::StatusOr<std::map<std::string, std::string>> DescribeTopicConfigs(
      const std::string& topic, absl::Duration timeout) override {
    BROOK_RETURN_IF_ERROR(PartitionCount(topic, timeout).status());
    return std::map<std::string, std::string>{};
  }
  // The operator tool's calls; the runtime makes none of them.
  absl::StatusOr<std::vector<std::string>> ListTopics(absl::Duration) override {
    return absl::UnimplementedError("FakeAdmin::ListTopics");
  }
  absl::StatusOr<std::vector<TopicPartitionOffset>> ListGroupOffsets(
      const std::string&, absl::Duration) override {
    return absl::UnimplementedError("FakeAdmin::ListGroupOffsets");
  }
  absl::StatusOr<GroupDescription> DescribeGroup(const std::string&,
                                                 absl::Duration) override {
    return absl::UnimplementedError("FakeAdmin::DescribeGroup");
  }
  absl::Status AlterGroupOffsets(const std::string&,
                                 absl::Span<const TopicPartitionOffset>,
                                 absl::Duration) override {
    return absl::UnimplementedError("FakeAdmin::AlterGroupOffsets");
  }
  absl::StatusOr<WatermarkOffsets> QueryWatermarks(const TopicPartition&,
                                                   absl::Duration) override {
    return absl::UnimplementedError("FakeAdmin::QueryWatermarks");
  }
  absl::StatusOr<std::vector<TopicPartitionOffset>> OffsetsForTime(
      absl::Span<const TopicPartition>, absl::Time, absl::Duration) override {
    return absl::UnimplementedError("FakeAdmin::OffsetsForTime");
  }

 private:
  const std::map<std::string, int32_t> partitions_;
  const std::shared_ptr<int> leaderless_calls_;
};

// The instance's state changes, in order, as "OLD->NEW".
class StateLog {
 public:
  void Add(KafkaStreams::State new_state, KafkaStreams::State old_state) {
    absl::MutexLock lock(&mu_);
    log_.push_back(absl::StrCat(KafkaStreams::StateName(old_state), "->",
                                KafkaStreams::StateName(new_state)));
    seen_.push_back(new_state);
  }
  // Waits until the instance has been in `state`.
  bool WaitFor(KafkaStreams::State state, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    target_ = state;
    return mu_.AwaitWithTimeout(absl::Condition(this, &StateLog::Reached),
                                timeout);
  }
  std::vector<std::string> log() const {
    absl::MutexLock lock(&mu_);
    return log_;
  }

 private:
  bool Reached() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return std::find(seen_.begin(), seen_.end(), target_) != seen_.end();
  }

  mutable absl::Mutex mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  std::vector<KafkaStreams::State> seen_ ABSL_GUARDED_BY(mu_);
  KafkaStreams::State target_ ABSL_GUARDED_BY(mu_) =
      KafkaStreams::State::kCreated;
};

class KafkaStreamsOverFakesTest : public ::testing::Test {
 protected:
  KafkaStreamsOverFakesTest() {
    config_.application_id = "fake-app";
    config_.bootstrap_servers = "fake:9092";
    // Unique per test and process: ctest runs tests in parallel, and the
    // state directory is locked by its instance.
    config_.state_dir = absl::StrCat(
        ::testing::TempDir(), "/brook-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), "-",
        getpid());
    std::filesystem::remove_all(config_.state_dir);
  }
  ~KafkaStreamsOverFakesTest() override {
    std::filesystem::remove_all(config_.state_dir);
  }

  // Clients over kafka_; the consumer is assigned `assignment` when made.
  KafkaClientFactory Factory(std::vector<TopicPartition> assignment) {
    KafkaClientFactory factory;
    factory.consumer = [this, assignment](const ClientConfig&,
                                          RebalanceListener* listener)
        -> absl::StatusOr<std::unique_ptr<Consumer>> {
      auto consumer = std::make_unique<FakeConsumer>(&kafka_, listener);
      kafka_.Rebalance(consumer.get(), assignment);
      return std::unique_ptr<Consumer>(std::move(consumer));
    };
    factory.producer = [this](const ClientConfig& config)
        -> absl::StatusOr<std::unique_ptr<Producer>> {
      return std::unique_ptr<Producer>(std::make_unique<FakeProducer>(
          &kafka_, config.contains("transactional.id")));
    };
    std::map<std::string, int32_t> partitions;
    for (const char* topic : {"in", "out", "A", "B"}) {
      if (int32_t n = kafka_.PartitionCount(topic); n > 0) {
        partitions[topic] = n;
      }
    }
    factory.admin =
        [partitions, leaderless = leaderless_calls_](
            const ClientConfig&) -> absl::StatusOr<std::unique_ptr<Admin>> {
      return std::unique_ptr<Admin>(
          std::make_unique<FakeAdmin>(partitions, leaderless));
    };
    return factory;
  }

  FakeKafka kafka_;
  StreamsConfig config_;
  StateLog states_;
  // Admin calls that fail with LEADER_NOT_AVAILABLE before the others work.
  std::shared_ptr<int> leaderless_calls_ = std::make_shared<int>(0);
};

TEST_F(KafkaStreamsOverFakesTest, GoesThroughItsStatesAndCommitsOnClose) {
  kafka_.CreateTopic("in", 1);
  kafka_.CreateTopic("out", 1);
  for (int i = 0; i < 20; ++i) {
    kafka_.Append("in", 0, "k", absl::StrCat("v", i), 1000 + i);
  }
  std::atomic<int> processed{0};
  absl::Notification all_processed;
  Topology topology =
      Chain([&](ProcessorContext<S, S>& c, const Record<S, S>& r) {
        if (processed.fetch_add(1) + 1 == 20) all_processed.Notify();
        return c.Forward(r);
      });
  absl::StatusOr<std::unique_ptr<KafkaStreams>> app =
      KafkaStreams::Create(topology, config_, Factory({{"in", 0}}));
  ASSERT_TRUE(app.ok()) << app.status();
  (*app)->SetStateListener(
      [this](KafkaStreams::State s, KafkaStreams::State old) {
        states_.Add(s, old);
      });
  ASSERT_TRUE((*app)->Start().ok());
  ASSERT_TRUE(
      states_.WaitFor(KafkaStreams::State::kRunning, absl::Seconds(30)));
  ASSERT_TRUE(all_processed.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE((*app)->Close(absl::Seconds(30)).ok());
  EXPECT_EQ((*app)->state(), KafkaStreams::State::kNotRunning);
  EXPECT_THAT(states_.log(),
              ElementsAre("CREATED->REBALANCING", "REBALANCING->RUNNING",
                          "RUNNING->PENDING_SHUTDOWN",
                          "PENDING_SHUTDOWN->NOT_RUNNING"));
  // Close() committed what the thread had processed; the thread is joined,
  // so the fakes are this thread's again.
  EXPECT_THAT(Values(kafka_.Output("out")),
              ElementsAreArray(Numbered("v", 0, 20)));
  EXPECT_EQ(kafka_.CommittedOffset({"in", 0}), 20);
}

TEST_F(KafkaStreamsOverFakesTest,
       ABrokenCoPartitioningMovesTheInstanceToError) {
  kafka_.CreateTopic("A", 2);
  kafka_.CreateTopic("B", 2);
  kafka_.CreateTopic("out", 1);
  Topology t;
  t.AddSource<S, S>("a", {"A"}, Serdes::String(), Serdes::String())
      .AddSource<S, S>("b", {"B"}, Serdes::String(), Serdes::String())
      .AddSink<S, S>("out", "out", Serdes::String(), Serdes::String(),
                     {"a", "b"});
  absl::StatusOr<std::unique_ptr<KafkaStreams>> app =
      KafkaStreams::Create(t, config_, Factory({{"A", 0}}));
  ASSERT_TRUE(app.ok()) << app.status();
  (*app)->SetStateListener(
      [this](KafkaStreams::State s, KafkaStreams::State old) {
        states_.Add(s, old);
      });
  ASSERT_TRUE((*app)->Start().ok());
  ASSERT_TRUE(states_.WaitFor(KafkaStreams::State::kError, absl::Seconds(30)));
  EXPECT_THAT((*app)->error().message(), HasSubstr("task 0_0"));
  EXPECT_THAT((*app)->error().message(), HasSubstr("B-0"));
  ASSERT_TRUE((*app)->Close(absl::Seconds(30)).ok());
  EXPECT_EQ((*app)->state(), KafkaStreams::State::kError);
  EXPECT_THAT(states_.log(),
              ElementsAre("CREATED->REBALANCING", "REBALANCING->ERROR"));
}

// The instance's cleaner deletes the directory of a task it no longer owns
// once state.cleanup.delay.ms has passed, and never the directory of a task
// a thread holds.
TEST_F(KafkaStreamsOverFakesTest, CleanerDeletesOnlyTaskDirectoriesNotOwned) {
  kafka_.CreateTopic("in", 1);
  kafka_.CreateTopic("out", 1);
  config_.state_cleanup_delay = absl::Milliseconds(500);
  const std::string app_dir =
      absl::StrCat(config_.state_dir, "/", config_.application_id);
  // What an earlier owner of task 0_7 left behind.
  std::filesystem::create_directories(app_dir + "/0_7/store");
  std::ofstream(app_dir + "/0_7/store/data") << "old state";
  // A store (not logged: the fakes have no changelog to restore) makes the
  // thread hold its task's directory.
  Topology topology = Chain();
  topology.AddStateStore(Stores::KeyValueStoreBuilder<S, S>(
                             "kept", Serdes::String(), Serdes::String(),
                             StoreOptions{.logging_enabled = false}),
                         {"proc"});
  absl::StatusOr<std::unique_ptr<KafkaStreams>> app =
      KafkaStreams::Create(topology, config_, Factory({{"in", 0}}));
  ASSERT_TRUE(app.ok()) << app.status();
  (*app)->SetStateListener(
      [this](KafkaStreams::State s, KafkaStreams::State old) {
        states_.Add(s, old);
      });
  ASSERT_TRUE((*app)->Start().ok());
  ASSERT_TRUE(
      states_.WaitFor(KafkaStreams::State::kRunning, absl::Seconds(30)));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (std::filesystem::exists(app_dir + "/0_7") && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_FALSE(std::filesystem::exists(app_dir + "/0_7"))
      << "the cleaner left a task directory nobody owns";
  // Task 0_0 is held by the running thread: several cleaner rounds later it
  // is still there.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_TRUE(std::filesystem::exists(app_dir + "/0_0"));
  ASSERT_TRUE((*app)->Close(absl::Seconds(30)).ok());
}

// A topic created just before may have no leader yet: the start waits
// that out instead of failing (a 600-partition benchmark run once ended at
// start, cause unconfirmed; bench/README.md).
TEST_F(KafkaStreamsOverFakesTest, StartWaitsOutATopicWithNoLeaderYet) {
  kafka_.CreateTopic("in", 1);
  kafka_.CreateTopic("out", 1);
  *leaderless_calls_ = 3;
  absl::StatusOr<std::unique_ptr<KafkaStreams>> app =
      KafkaStreams::Create(Chain(), config_, Factory({{"in", 0}}));
  ASSERT_TRUE(app.ok()) << app.status();
  (*app)->SetStateListener(
      [this](KafkaStreams::State s, KafkaStreams::State old) {
        states_.Add(s, old);
      });
  absl::Status started = (*app)->Start();
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_EQ(*leaderless_calls_, 0);
  EXPECT_TRUE(
      states_.WaitFor(KafkaStreams::State::kRunning, absl::Seconds(30)));
  EXPECT_TRUE((*app)->Close(absl::Seconds(30)).ok());
}

TEST_F(KafkaStreamsOverFakesTest, StartFailsNamingAMissingTopic) {
  kafka_.CreateTopic("in", 1);  // no "out"
  absl::StatusOr<std::unique_ptr<KafkaStreams>> app =
      KafkaStreams::Create(Chain(), config_, Factory({{"in", 0}}));
  ASSERT_TRUE(app.ok()) << app.status();
  absl::Status s = (*app)->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("sink topic"));
  EXPECT_THAT(s.message(), HasSubstr("'out'"));
  EXPECT_EQ((*app)->state(), KafkaStreams::State::kCreated);
}

}  // namespace
}  // namespace brook::internal
