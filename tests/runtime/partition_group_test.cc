// RecordQueue and PartitionGroup (which record a task processes next) and
// PunctuationQueue (when scheduled punctuations fire).
#include "brook/runtime/internal/partition_group.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/runtime/internal/punctuation_queue.h"
#include "brook/runtime/timestamp_extractor.h"

namespace brook::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

ConsumerRecord Rec(const std::string& topic, int32_t partition, int64_t offset,
                   int64_t timestamp_ms) {
  ConsumerRecord r;
  r.topic = topic;
  r.partition = partition;
  r.offset = offset;
  r.timestamp_ms = timestamp_ms;
  r.value = absl::StrCat(topic, "-", partition, "@", offset);
  return r;
}

// A group over a-0 and b-0 with the default extractor.
PartitionGroup TwoPartitions() {
  std::vector<RecordQueue> queues;
  queues.emplace_back(TopicPartition{"a", 0}, RecordTimestampExtractor());
  queues.emplace_back(TopicPartition{"b", 0}, RecordTimestampExtractor());
  return PartitionGroup(std::move(queues));
}

// "topic-partition@offset" of each record Next() returns, until empty.
std::vector<std::string> Drain(PartitionGroup& group) {
  std::vector<std::string> out;
  StampedRecord r;
  while (group.Next(&r)) out.push_back(*r.record.value);
  return out;
}

TEST(PartitionGroupTest, ReturnsTheLowestHeadTimestampFirstAcrossPartitions) {
  PartitionGroup group = TwoPartitions();
  ASSERT_TRUE(group.Add(Rec("a", 0, 0, 10)).ok());
  ASSERT_TRUE(group.Add(Rec("a", 0, 1, 30)).ok());
  ASSERT_TRUE(group.Add(Rec("a", 0, 2, 31)).ok());
  ASSERT_TRUE(group.Add(Rec("b", 0, 0, 20)).ok());
  ASSERT_TRUE(group.Add(Rec("b", 0, 1, 40)).ok());
  EXPECT_EQ(group.buffered(), 5u);
  EXPECT_EQ(group.buffered({"a", 0}), 3u);
  EXPECT_EQ(group.buffered({"b", 0}), 2u);
  EXPECT_THAT(Drain(group),
              ElementsAre("a-0@0", "b-0@0", "a-0@1", "a-0@2", "b-0@1"));
  EXPECT_EQ(group.buffered(), 0u);
}

TEST(PartitionGroupTest, RefillingWhileDrainingKeepsEveryRecordWhole) {
  // As a stream thread does: top up, take some, top up again, through many
  // wraps of the queues' rings and into one reused StampedRecord. Records
  // alternate key and headers with none, so that a field left over from
  // the record a slot or the reused out held before would show.
  PartitionGroup group = TwoPartitions();
  StampedRecord out;
  int64_t added[2] = {0, 0};
  int64_t taken[2] = {0, 0};
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 7; ++i) {
      const int q = (round + i) % 2;
      const int64_t offset = added[q]++;
      ConsumerRecord r = Rec(q == 0 ? "a" : "b", 0, offset, offset);
      if (offset % 2 == 0) {
        r.key = absl::StrCat("a-key-long-enough-for-the-heap-", offset);
        r.headers.emplace_back("h", absl::StrCat(offset));
      }
      ASSERT_TRUE(group.Add(std::move(r)).ok());
    }
    for (int i = 0; i < (round < 150 ? 5 : 9) && group.Next(&out); ++i) {
      const int q = static_cast<int>(out.queue_index);
      ASSERT_EQ(out.record.topic, q == 0 ? "a" : "b");
      ASSERT_EQ(out.record.offset, taken[q]++);
      ASSERT_EQ(out.timestamp_ms, out.record.offset);
      ASSERT_EQ(*out.record.value,
                absl::StrCat(out.record.topic, "-0@", out.record.offset));
      if (out.record.offset % 2 == 0) {
        ASSERT_EQ(
            out.record.key,
            absl::StrCat("a-key-long-enough-for-the-heap-", out.record.offset));
        ASSERT_EQ(out.record.headers.size(), 1u);
      } else {
        ASSERT_FALSE(out.record.key.has_value());
        ASSERT_TRUE(out.record.headers.empty());
      }
    }
  }
  while (group.Next(&out)) ++taken[out.queue_index];
  EXPECT_EQ(taken[0], added[0]);
  EXPECT_EQ(taken[1], added[1]);
  EXPECT_EQ(group.buffered_bytes(), 0);
}

TEST(PartitionGroupTest, KeepsOffsetOrderWithinAPartition) {
  PartitionGroup group = TwoPartitions();
  // a-0 is out of order in time; its records still leave in offset order,
  // and b-0's record, older than a-0's head, goes first.
  ASSERT_TRUE(group.Add(Rec("a", 0, 0, 50)).ok());
  ASSERT_TRUE(group.Add(Rec("a", 0, 1, 5)).ok());
  ASSERT_TRUE(group.Add(Rec("b", 0, 0, 40)).ok());
  EXPECT_THAT(Drain(group), ElementsAre("b-0@0", "a-0@0", "a-0@1"));
}

TEST(PartitionGroupTest, BreaksTimestampTiesByQueueOrder) {
  PartitionGroup group = TwoPartitions();
  ASSERT_TRUE(group.Add(Rec("b", 0, 0, 7)).ok());
  ASSERT_TRUE(group.Add(Rec("a", 0, 0, 7)).ok());
  EXPECT_THAT(Drain(group), ElementsAre("a-0@0", "b-0@0"));
}

TEST(PartitionGroupTest, StreamTimeIsTheHighestTimestampReturned) {
  PartitionGroup group = TwoPartitions();
  EXPECT_EQ(group.stream_time(), -1);
  ASSERT_TRUE(group.Add(Rec("a", 0, 0, 50)).ok());
  ASSERT_TRUE(group.Add(Rec("a", 0, 1, 20)).ok());
  ASSERT_TRUE(group.Add(Rec("b", 0, 0, 60)).ok());
  EXPECT_EQ(group.stream_time(), -1);  // buffering does not advance it
  StampedRecord r;
  ASSERT_TRUE(group.Next(&r));
  EXPECT_EQ(group.stream_time(), 50);
  ASSERT_TRUE(group.Next(&r));  // a-0@1 at 20: time does not go back
  EXPECT_EQ(group.stream_time(), 50);
  ASSERT_TRUE(group.Next(&r));
  EXPECT_EQ(group.stream_time(), 60);
  EXPECT_FALSE(group.Next(&r));
  EXPECT_EQ(group.stream_time(), 60);
}

TEST(PartitionGroupTest, AFailedTimestampExtractionNamesTopicPartitionOffset) {
  PartitionGroup group = TwoPartitions();
  ASSERT_TRUE(group.Add(Rec("b", 0, 6, 100)).ok());
  absl::Status s = group.Add(Rec("b", 0, 7, -1));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("b-0@7"));
  EXPECT_THAT(s.message(), HasSubstr("no valid timestamp"));
  EXPECT_EQ(group.buffered({"b", 0}), 1u);  // the bad record was not queued
}

TEST(PartitionGroupTest, ARecordOfAnotherPartitionIsNotFound) {
  PartitionGroup group = TwoPartitions();
  absl::Status s = group.Add(Rec("a", 1, 0, 10));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("a-1"));
  EXPECT_EQ(group.buffered(), 0u);
}

TEST(PartitionGroupTest, ClearDropsEveryBufferedRecord) {
  PartitionGroup group = TwoPartitions();
  ASSERT_TRUE(group.Add(Rec("a", 0, 0, 1)).ok());
  ASSERT_TRUE(group.Add(Rec("b", 0, 0, 2)).ok());
  group.Clear();
  EXPECT_EQ(group.buffered(), 0u);
  StampedRecord r;
  EXPECT_FALSE(group.Next(&r));
}

TEST(RecordQueueTest, PartitionTimeFillsInMissingTimestampsWhenAsked) {
  RecordQueue queue({"a", 0}, PartitionTimeOnInvalidTimestampExtractor());
  EXPECT_FALSE(queue.Add(Rec("a", 0, 0, -1)).ok());  // no partition time yet
  ASSERT_TRUE(queue.Add(Rec("a", 0, 1, 30)).ok());
  ASSERT_TRUE(queue.Add(Rec("a", 0, 2, -1)).ok());
  EXPECT_EQ(queue.partition_time(), 30);
  EXPECT_EQ(queue.Pop().timestamp_ms, 30);
  StampedRecord filled = queue.Pop();
  EXPECT_EQ(filled.record.offset, 2);
  EXPECT_EQ(filled.timestamp_ms, 30);
}

// Runs `queue`'s due punctuations at `now` and returns the times passed to
// the punctuators that ran.
class PunctuationQueueTest : public ::testing::Test {
 protected:
  Punctuator Recording(std::string name) {
    return [this, name](int64_t ts) {
      fired_.push_back(absl::StrCat(name, "@", ts));
      return absl::OkStatus();
    };
  }

  std::vector<std::string> RunAt(int64_t now) {
    fired_.clear();
    absl::Status s = queue_.MayPunctuate(
        now,
        [](ProcessorNode*, const Punctuator& p, int64_t ts) { return p(ts); });
    EXPECT_TRUE(s.ok()) << s;
    return fired_;
  }

  PunctuationQueue queue_;
  std::vector<std::string> fired_;
};

TEST_F(PunctuationQueueTest, FiresOncePerDueTimeAtTheRightTimes) {
  queue_.Schedule(nullptr, /*now_ms=*/0, /*interval_ms=*/10, Recording("p"));
  EXPECT_THAT(RunAt(9), IsEmpty());
  EXPECT_THAT(RunAt(10), ElementsAre("p@10"));
  EXPECT_THAT(RunAt(10), IsEmpty());  // once per due time
  EXPECT_THAT(RunAt(19), IsEmpty());
  EXPECT_THAT(RunAt(21), ElementsAre("p@21"));
  EXPECT_THAT(RunAt(29), IsEmpty());  // the schedule stays on the 10s grid
  EXPECT_THAT(RunAt(30), ElementsAre("p@30"));
}

TEST_F(PunctuationQueueTest, FiresOnceWhenSeveralIntervalsPassedAtOnce) {
  queue_.Schedule(nullptr, 0, 10, Recording("p"));
  EXPECT_THAT(RunAt(35), ElementsAre("p@35"));
  EXPECT_THAT(RunAt(39), IsEmpty());
  EXPECT_THAT(RunAt(40), ElementsAre("p@40"));
}

TEST_F(PunctuationQueueTest, RunsEachDuePunctuationInScheduleOrder) {
  queue_.Schedule(nullptr, 0, 10, Recording("ten"));
  queue_.Schedule(nullptr, 0, 25, Recording("twenty-five"));
  EXPECT_THAT(RunAt(10), ElementsAre("ten@10"));
  EXPECT_THAT(RunAt(25), ElementsAre("ten@25", "twenty-five@25"));
}

TEST_F(PunctuationQueueTest, SkipsCancelledPunctuations) {
  Cancellable cancelled = queue_.Schedule(nullptr, 0, 10, Recording("gone"));
  queue_.Schedule(nullptr, 0, 10, Recording("kept"));
  EXPECT_THAT(RunAt(10), ElementsAre("gone@10", "kept@10"));
  cancelled.Cancel();
  EXPECT_THAT(RunAt(20), ElementsAre("kept@20"));
  EXPECT_THAT(RunAt(30), ElementsAre("kept@30"));
}

TEST_F(PunctuationQueueTest, APunctuationCancelledBeforeItsFirstRunNeverRuns) {
  Cancellable c = queue_.Schedule(nullptr, 0, 10, Recording("gone"));
  c.Cancel();
  EXPECT_THAT(RunAt(100), IsEmpty());
  EXPECT_TRUE(queue_.empty());
}

TEST_F(PunctuationQueueTest, AnchorsAScheduleMadeBeforeAnyTimeAtTheFirstTime) {
  // A stream-time schedule made in Init(), before the first record (-1).
  queue_.Schedule(nullptr, -1, 10, Recording("p"));
  EXPECT_THAT(RunAt(-1), IsEmpty());   // no time yet: nothing runs
  EXPECT_THAT(RunAt(100), IsEmpty());  // the first time anchors it: due 110
  EXPECT_THAT(RunAt(109), IsEmpty());
  EXPECT_THAT(RunAt(110), ElementsAre("p@110"));
}

TEST_F(PunctuationQueueTest, APunctuatorErrorIsReturned) {
  queue_.Schedule(nullptr, 0, 10, [](int64_t) {
    return absl::InternalError("punctuator broke");
  });
  absl::Status s = queue_.MayPunctuate(
      10,
      [](ProcessorNode*, const Punctuator& p, int64_t ts) { return p(ts); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("punctuator broke"));
}

// max.task.idle.ms: a group with an empty queue waits while that
// partition's lag is unknown or positive, and at most max_idle_ms once it
// is known to be 0.
class ReadyToProcessTest : public ::testing::Test {
 protected:
  bool Ready(int64_t max_idle_ms) {
    return group_.ReadyToProcess(
        max_idle_ms,
        [this](const TopicPartition& tp) -> std::optional<int64_t> {
          auto it = lag_.find(tp.topic);
          if (it == lag_.end()) return std::nullopt;
          return it->second;
        },
        [this] { return now_ms_; });
  }
  PartitionGroup group_ = TwoPartitions();
  std::map<std::string, int64_t> lag_;
  int64_t now_ms_ = 1000;
};

TEST_F(ReadyToProcessTest, WaitsWithoutDeadlineForAnEmptyPartitionWithLag) {
  ASSERT_TRUE(group_.Add(Rec("a", 0, 0, 10)).ok());
  EXPECT_FALSE(Ready(100));  // b's lag unknown
  lag_["b"] = 3;
  EXPECT_FALSE(Ready(100));
  now_ms_ += 1'000'000;
  EXPECT_FALSE(Ready(100));  // lag > 0: no deadline
  EXPECT_FALSE(Ready(0));
  ASSERT_TRUE(group_.Add(Rec("b", 0, 0, 20)).ok());
  EXPECT_TRUE(Ready(100));
  EXPECT_EQ(group_.enforced_processing(), 0);
}

TEST_F(ReadyToProcessTest, WaitsMaxIdleForACaughtUpPartitionThenEnforces) {
  ASSERT_TRUE(group_.Add(Rec("a", 0, 0, 10)).ok());
  lag_["b"] = 0;
  EXPECT_FALSE(Ready(100));  // the wait starts now: deadline 1100
  now_ms_ = 1099;
  EXPECT_FALSE(Ready(100));
  now_ms_ = 1100;
  EXPECT_TRUE(Ready(100));
  EXPECT_EQ(group_.enforced_processing(), 1);
  // b gets data: the next time it runs empty, the wait starts over.
  ASSERT_TRUE(group_.Add(Rec("b", 0, 0, 20)).ok());
  EXPECT_TRUE(Ready(100));
  EXPECT_THAT(Drain(group_), ElementsAre("a-0@0", "b-0@0"));
  ASSERT_TRUE(group_.Add(Rec("a", 0, 1, 30)).ok());
  EXPECT_FALSE(Ready(100));
  now_ms_ = 1200;
  EXPECT_TRUE(Ready(100));
  EXPECT_EQ(group_.enforced_processing(), 2);
}

TEST_F(ReadyToProcessTest, ZeroWaitsOnlyForDataKnownToBeFetchable) {
  ASSERT_TRUE(group_.Add(Rec("a", 0, 0, 10)).ok());
  lag_["b"] = 1;
  EXPECT_FALSE(Ready(0));
  lag_["b"] = 0;
  EXPECT_TRUE(Ready(0));
}

TEST_F(ReadyToProcessTest, MinusOneNeverWaits) {
  ASSERT_TRUE(group_.Add(Rec("a", 0, 0, 10)).ok());
  EXPECT_TRUE(Ready(-1));  // b's lag unknown
  lag_["b"] = 5;
  EXPECT_TRUE(Ready(-1));
  EXPECT_EQ(group_.enforced_processing(), 0);
}

TEST_F(ReadyToProcessTest, AllQueuesEmptyIsNotReady) {
  lag_["a"] = 0;
  lag_["b"] = 0;
  now_ms_ = 1'000'000;
  EXPECT_FALSE(Ready(0));
  EXPECT_EQ(group_.enforced_processing(), 0);
}

}  // namespace
}  // namespace brook::internal
