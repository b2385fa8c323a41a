// The contract of the Kafka fakes that the runtime's unit tests rely on.
#include "tests/testing/fake_kafka.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/base/logging.h"
#include "brook/kafka/errors.h"

namespace brook::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::Duration kTimeout = absl::Seconds(1);

const TopicPartition kIn0{"in", 0};
const TopicPartition kIn1{"in", 1};

// Records the listener's calls as strings, with each assigned partition's
// position as seen inside the callback.
class RecordingListener : public RebalanceListener {
 public:
  void OnPartitionsRevoked(absl::Span<const TopicPartition> partitions,
                           RevocationKind kind) override {
    events.push_back(
        absl::StrCat(kind == RevocationKind::kLost ? "lost " : "revoked ",
                     absl::StrJoin(partitions, ",", TpFormatter())));
    if (on_revoked) on_revoked();
  }
  void OnPartitionsAssigned(
      absl::Span<const TopicPartition> partitions) override {
    std::vector<std::string> parts;
    for (const TopicPartition& tp : partitions) {
      parts.push_back(absl::StrCat(tp.ToString(), "@", consumer->Position(tp)));
    }
    events.push_back(absl::StrCat("assigned ", absl::StrJoin(parts, ",")));
  }

  struct TpFormatter {
    void operator()(std::string* out, const TopicPartition& tp) const {
      out->append(tp.ToString());
    }
  };

  Consumer* consumer = nullptr;
  std::function<void()> on_revoked;
  std::vector<std::string> events;
};

// Polls until nullopt and returns "topic-partition@offset" of each record.
std::vector<std::string> Drain(FakeConsumer& consumer) {
  std::vector<std::string> out;
  while (true) {
    auto record = consumer.Poll(absl::ZeroDuration());
    EXPECT_TRUE(record.ok()) << record.status();
    if (!record.ok() || !record->has_value()) return out;
    const ConsumerRecord& r = **record;
    out.push_back(absl::StrCat(r.topic, "-", r.partition, "@", r.offset));
  }
}

ProducerRecord Out(int32_t partition, std::string value) {
  ProducerRecord record;
  record.topic = "out";
  record.partition = partition;
  record.value = std::move(value);
  return record;
}

class FakeKafkaFixture : public ::testing::Test {
 protected:
  FakeKafkaFixture() {
    kafka_.CreateTopic("in", 2);
    kafka_.CreateTopic("out", 2);
    listener_.consumer = &consumer_;
  }

  void AppendInput(const TopicPartition& tp, int count) {
    for (int i = 0; i < count; ++i) {
      kafka_.Append(tp.topic, tp.partition, "k", absl::StrCat("v", i), 1000);
    }
  }

  // Delivers a rebalance onto `partitions` through one Poll().
  void AssignByRebalance(std::vector<TopicPartition> partitions) {
    kafka_.Rebalance(&consumer_, std::move(partitions));
    auto polled = consumer_.Poll(absl::ZeroDuration());
    ASSERT_TRUE(polled.ok()) << polled.status();
    ASSERT_FALSE(polled->has_value());
  }

  std::unique_ptr<GroupMetadata> Metadata() {
    auto metadata = consumer_.GetGroupMetadata();
    CHECK(metadata.ok()) << metadata.status();
    return *std::move(metadata);
  }

  FakeKafka kafka_;
  RecordingListener listener_;
  FakeConsumer consumer_{&kafka_, &listener_};
};

// ---------------------------------------------------------------------------
// FakeKafka

using FakeKafkaTest = FakeKafkaFixture;

TEST_F(FakeKafkaTest, AppendGivesDenseOffsetsPerPartition) {
  EXPECT_EQ(kafka_.Append("in", 0, "a", "1"), 0);
  EXPECT_EQ(kafka_.Append("in", 0, std::nullopt, std::nullopt), 1);
  EXPECT_EQ(kafka_.Append("in", 1, "b", "2"), 0);
  EXPECT_EQ(kafka_.EndOffset(kIn0), 2);
  EXPECT_EQ(kafka_.EndOffset(kIn1), 1);
  EXPECT_EQ(kafka_.PartitionCount("in"), 2);
  EXPECT_EQ(kafka_.PartitionCount("missing"), 0);
}

TEST_F(FakeKafkaTest, CommittedOffsetIsInvalidUntilOneIsSet) {
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
  kafka_.SetCommittedOffset(kIn0, 7);
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 7);
}

TEST_F(FakeKafkaTest, RebalanceAndLossBumpTheGenerationWhenScheduled) {
  EXPECT_EQ(kafka_.generation(), 0);
  kafka_.Rebalance(&consumer_, {kIn0});
  EXPECT_EQ(kafka_.generation(), 1);
  kafka_.LoseAssignment(&consumer_);
  EXPECT_EQ(kafka_.generation(), 2);
  EXPECT_THAT(listener_.events, IsEmpty());  // nothing until Poll()
}

// ---------------------------------------------------------------------------
// FakeConsumer

using FakeConsumerTest = FakeKafkaFixture;

TEST_F(FakeConsumerTest, PollTakesPartitionsRoundRobinOneRecordAtATime) {
  AppendInput(kIn0, 3);
  AppendInput(kIn1, 2);
  AssignByRebalance({kIn0, kIn1});
  EXPECT_THAT(Drain(consumer_),
              ElementsAre("in-0@0", "in-1@0", "in-0@1", "in-1@1", "in-0@2"));
  EXPECT_EQ(consumer_.Position(kIn0), 3);
  EXPECT_EQ(consumer_.Position(kIn1), 2);
}

TEST_F(FakeConsumerTest, PollReturnsTheRecordAsAppended) {
  kafka_.Append("in", 1, "key", "value", 1234);
  AssignByRebalance({kIn1});
  auto record = consumer_.Poll(kTimeout);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->topic, "in");
  EXPECT_EQ((*record)->partition, 1);
  EXPECT_EQ((*record)->offset, 0);
  EXPECT_EQ((*record)->key, "key");
  EXPECT_EQ((*record)->value, "value");
  EXPECT_EQ((*record)->timestamp_ms, 1234);
}

TEST_F(FakeConsumerTest, PollReturnsNulloptWhenNothingIsAvailable) {
  auto unassigned = consumer_.Poll(kTimeout);
  ASSERT_TRUE(unassigned.ok());
  EXPECT_FALSE(unassigned->has_value());
  AssignByRebalance({kIn0});
  EXPECT_THAT(Drain(consumer_), IsEmpty());
  AppendInput(kIn0, 1);  // records appended later become visible
  EXPECT_THAT(Drain(consumer_), ElementsAre("in-0@0"));
}

TEST_F(FakeConsumerTest, AssignResolvesLogicalOffsets) {
  AppendInput(kIn0, 4);
  AppendInput(kIn1, 4);
  kafka_.SetCommittedOffset(kIn1, 3);
  ASSERT_TRUE(
      consumer_.Assign({{kIn0, kOffsetBeginning}, {kIn1, kOffsetInvalid}})
          .ok());
  EXPECT_EQ(consumer_.Position(kIn0), 0);
  EXPECT_EQ(consumer_.Position(kIn1), 3);  // the committed offset
  ASSERT_TRUE(consumer_.Assign({{kIn0, kOffsetEnd}, {kIn1, 2}}).ok());
  EXPECT_EQ(consumer_.Position(kIn0), 4);
  EXPECT_EQ(consumer_.Position(kIn1), 2);
  ASSERT_TRUE(consumer_.Assign({{kIn0, kOffsetInvalid}}).ok());
  EXPECT_EQ(consumer_.Position(kIn0), 0);               // nothing committed
  EXPECT_EQ(consumer_.Position(kIn1), kOffsetInvalid);  // no longer assigned
  EXPECT_THAT(consumer_.Assignment(), ElementsAre(kIn0));
  EXPECT_THAT(listener_.events, IsEmpty());  // Assign() has no callbacks
}

TEST_F(FakeConsumerTest, AssignRejectsAPartitionThatDoesNotExist) {
  absl::Status status = consumer_.Assign({{{"in", 5}, 0}});
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
}

TEST_F(FakeConsumerTest, PausedPartitionsAreSkippedUntilResumed) {
  AppendInput(kIn0, 2);
  AppendInput(kIn1, 2);
  AssignByRebalance({kIn0, kIn1});
  ASSERT_TRUE(consumer_.Pause({kIn0}).ok());
  EXPECT_THAT(consumer_.PausedPartitions(), ElementsAre(kIn0));
  EXPECT_THAT(Drain(consumer_), ElementsAre("in-1@0", "in-1@1"));
  ASSERT_TRUE(consumer_.Resume({kIn0}).ok());
  EXPECT_THAT(consumer_.PausedPartitions(), IsEmpty());
  EXPECT_THAT(Drain(consumer_), ElementsAre("in-0@0", "in-0@1"));
  EXPECT_EQ(consumer_.ResumeOfUnpausedCount(), 0);
}

TEST_F(FakeConsumerTest, ResumingAnUnpausedPartitionIsCountedAndIgnored) {
  AssignByRebalance({kIn0, kIn1});
  ASSERT_TRUE(consumer_.Pause({kIn0}).ok());
  ASSERT_TRUE(consumer_.Resume({kIn0, kIn1}).ok());
  EXPECT_EQ(consumer_.ResumeOfUnpausedCount(), 1);
  ASSERT_TRUE(consumer_.Resume({kIn1}).ok());
  EXPECT_EQ(consumer_.ResumeOfUnpausedCount(), 2);
  EXPECT_THAT(consumer_.PausedPartitions(), IsEmpty());
}

TEST_F(FakeConsumerTest, RebalanceRevokesThenAssignsAtCommittedOffsets) {
  kafka_.SetCommittedOffset(kIn0, 5);
  kafka_.Rebalance(&consumer_, {kIn0});
  EXPECT_THAT(listener_.events, IsEmpty());
  auto polled = consumer_.Poll(kTimeout);
  ASSERT_TRUE(polled.ok());
  EXPECT_FALSE(polled->has_value());  // the rebalance took this Poll()
  // The first assignment has nothing to revoke.
  EXPECT_THAT(listener_.events, ElementsAre("assigned in-0@5"));

  // A commit inside the revocation callback sets the next start position.
  listener_.on_revoked = [&] { kafka_.SetCommittedOffset(kIn0, 8); };
  AssignByRebalance({kIn0, kIn1});
  EXPECT_THAT(listener_.events, ElementsAre("assigned in-0@5", "revoked in-0",
                                            "assigned in-0@8,in-1@0"));
  EXPECT_THAT(consumer_.Assignment(), ElementsAre(kIn0, kIn1));
}

TEST_F(FakeConsumerTest, RebalanceUnpausesTheNewAssignment) {
  AssignByRebalance({kIn0});
  ASSERT_TRUE(consumer_.Pause({kIn0}).ok());
  AssignByRebalance({kIn0});
  EXPECT_THAT(consumer_.PausedPartitions(), IsEmpty());
}

TEST_F(FakeConsumerTest, LostAssignmentIsRevokedAsLostAndEmptied) {
  AppendInput(kIn0, 1);
  AssignByRebalance({kIn0});
  kafka_.LoseAssignment(&consumer_);
  auto polled = consumer_.Poll(kTimeout);
  ASSERT_TRUE(polled.ok());
  EXPECT_FALSE(polled->has_value());
  EXPECT_THAT(listener_.events, ElementsAre("assigned in-0@0", "lost in-0"));
  EXPECT_THAT(consumer_.Assignment(), IsEmpty());
  EXPECT_EQ(consumer_.Position(kIn0), kOffsetInvalid);
  EXPECT_THAT(Drain(consumer_), IsEmpty());
}

TEST_F(FakeConsumerTest, QueuedEventsAreDeliveredOnePerPoll) {
  kafka_.Rebalance(&consumer_, {kIn0});
  kafka_.Rebalance(&consumer_, {kIn1});
  ASSERT_TRUE(consumer_.Poll(kTimeout).ok());
  EXPECT_THAT(listener_.events, ElementsAre("assigned in-0@0"));
  ASSERT_TRUE(consumer_.Poll(kTimeout).ok());
  EXPECT_THAT(listener_.events, ElementsAre("assigned in-0@0", "revoked in-0",
                                            "assigned in-1@0"));
}

TEST_F(FakeConsumerTest, SeekMovesThePositionOfAssignedPartitionsOnly) {
  AppendInput(kIn0, 3);
  AssignByRebalance({kIn0});
  ASSERT_TRUE(consumer_.Seek({{kIn0, 2}}).ok());
  EXPECT_THAT(Drain(consumer_), ElementsAre("in-0@2"));
  ASSERT_TRUE(consumer_.Seek({{kIn0, kOffsetBeginning}}).ok());
  EXPECT_EQ(consumer_.Position(kIn0), 0);
  absl::Status status = consumer_.Seek({{kIn1, 0}});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("in-1"));
}

TEST_F(FakeConsumerTest, CommitSyncStoresTheGroupsOffsetsAndCountsCalls) {
  AssignByRebalance({kIn0, kIn1});
  ASSERT_TRUE(consumer_.CommitSync({{kIn0, 4}}).ok());
  ASSERT_TRUE(consumer_.CommitSync({}).ok());
  EXPECT_EQ(consumer_.CommitSyncCount(), 2);
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 4);
  auto committed = consumer_.Committed({kIn0, kIn1}, kTimeout);
  ASSERT_TRUE(committed.ok());
  EXPECT_THAT(*committed,
              ElementsAre(TopicPartitionOffset{kIn0, 4},
                          TopicPartitionOffset{kIn1, kOffsetInvalid}));
}

TEST_F(FakeConsumerTest, CommitSyncOfAZombieFailsAsAbortable) {
  AssignByRebalance({kIn0});
  kafka_.LoseAssignment(&consumer_);
  absl::Status status = consumer_.CommitSync({{kIn0, 1}});
  EXPECT_TRUE(IsTransactionAbortable(status)) << status;
  EXPECT_TRUE(IsGroupMembershipLost(status)) << status;
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
}

TEST_F(FakeConsumerTest, FailNextPollReturnsTheScriptedErrorOnce) {
  AppendInput(kIn0, 1);
  AssignByRebalance({kIn0});
  consumer_.FailNextPoll(KafkaError(KafkaErrorClass::kFatal, "boom"));
  auto failed = consumer_.Poll(kTimeout);
  EXPECT_TRUE(IsFatal(failed.status())) << failed.status();
  EXPECT_THAT(Drain(consumer_), ElementsAre("in-0@0"));
}

TEST_F(FakeConsumerTest, PendingRebalanceIsDeliveredBeforeAScriptedError) {
  consumer_.FailNextPoll(absl::InternalError("scripted"));
  kafka_.Rebalance(&consumer_, {kIn0});
  EXPECT_TRUE(consumer_.Poll(kTimeout).ok());
  EXPECT_EQ(consumer_.Poll(kTimeout).status().code(),
            absl::StatusCode::kInternal);
}

TEST_F(FakeConsumerTest, PollReportsAMissingSubscribedTopicAsNotFound) {
  ASSERT_TRUE(consumer_.Subscribe({"in", "nope"}).ok());
  EXPECT_THAT(consumer_.Subscribed(), ElementsAre("in", "nope"));
  auto polled = consumer_.Poll(kTimeout);
  EXPECT_EQ(polled.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(polled.status().message()), HasSubstr("nope"));
}

TEST_F(FakeConsumerTest, UnsubscribeRevokesTheAssignmentInALaterPoll) {
  ASSERT_TRUE(consumer_.Subscribe({"in"}).ok());
  AssignByRebalance({kIn0});
  ASSERT_TRUE(consumer_.Unsubscribe().ok());
  EXPECT_THAT(consumer_.Subscribed(), IsEmpty());
  EXPECT_EQ(consumer_.UnsubscribeCount(), 1);
  EXPECT_THAT(listener_.events, ElementsAre("assigned in-0@0"));
  ASSERT_TRUE(consumer_.Poll(kTimeout).ok());
  EXPECT_THAT(listener_.events, ElementsAre("assigned in-0@0", "revoked in-0"));
  EXPECT_THAT(consumer_.Assignment(), IsEmpty());
}

TEST_F(FakeConsumerTest, SubscribeIgnoresRegexEntriesThatMatchNothing) {
  ASSERT_TRUE(consumer_.Subscribe({"^nothing-.*"}).ok());
  EXPECT_TRUE(consumer_.Poll(kTimeout).ok());
}

TEST_F(FakeConsumerTest, WatermarksAreZeroAndTheEndOffset) {
  AppendInput(kIn1, 3);
  auto marks = consumer_.QueryWatermarks(kIn1, kTimeout);
  ASSERT_TRUE(marks.ok());
  EXPECT_EQ(*marks, std::make_pair(int64_t{0}, int64_t{3}));
  EXPECT_EQ(consumer_.QueryWatermarks({"in", 9}, kTimeout).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(FakeConsumerTest, GroupMetadataCarriesTheGenerationOfTheCall) {
  kafka_.Rebalance(&consumer_, {kIn0});
  auto metadata = Metadata();
  EXPECT_EQ(dynamic_cast<FakeGroupMetadata&>(*metadata).generation(), 1);
}

TEST_F(FakeConsumerTest, ZombieMetadataKeepsItsGenerationUntilItRejoins) {
  AssignByRebalance({kIn0});          // generation 1
  kafka_.LoseAssignment(&consumer_);  // generation 2
  EXPECT_EQ(dynamic_cast<FakeGroupMetadata&>(*Metadata()).generation(), 1);
  ASSERT_TRUE(consumer_.Poll(kTimeout).ok());  // delivers the loss
  EXPECT_EQ(dynamic_cast<FakeGroupMetadata&>(*Metadata()).generation(), 1);
  AssignByRebalance({kIn0});  // rejoins at generation 3
  EXPECT_EQ(dynamic_cast<FakeGroupMetadata&>(*Metadata()).generation(), 3);
}

TEST_F(FakeConsumerTest, CloseRevokesTheAssignmentOnceAndIsIdempotent) {
  AssignByRebalance({kIn0});
  kafka_.Rebalance(&consumer_, {kIn1});  // dropped by Close()
  ASSERT_TRUE(consumer_.Close().ok());
  ASSERT_TRUE(consumer_.Close().ok());
  EXPECT_THAT(listener_.events, ElementsAre("assigned in-0@0", "revoked in-0"));
  EXPECT_TRUE(consumer_.closed());
  EXPECT_THAT(consumer_.Assignment(), IsEmpty());
  EXPECT_EQ(consumer_.Poll(kTimeout).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------
// FakeProducer

class FakeProducerTest : public FakeKafkaFixture {
 protected:
  FakeProducerTest() {
    AppendInput(kIn0, 3);
    AssignByRebalance({kIn0});
    CHECK(producer_.InitTransactions(kTimeout).ok());
  }
  // consumer_ outlives producer_: its final revocation must not call in.
  ~FakeProducerTest() override { listener_.on_revoked = nullptr; }

  // Begin, send `values` to out-0, send offsets in-0 -> `offset`.
  void FillTransaction(std::vector<std::string> values, int64_t offset) {
    ASSERT_TRUE(producer_.BeginTransaction().ok());
    for (std::string& value : values) {
      ASSERT_TRUE(producer_.Send(Out(0, std::move(value))).ok());
    }
    ASSERT_TRUE(
        producer_
            .SendOffsetsToTransaction({{kIn0, offset}}, *Metadata(), kTimeout)
            .ok());
  }

  std::vector<std::string> Values(const std::vector<ProducerRecord>& records) {
    std::vector<std::string> values;
    for (const ProducerRecord& r : records) values.push_back(r.value.value());
    return values;
  }

  FakeProducer producer_{&kafka_, /*transactional=*/true};
};

TEST_F(FakeProducerTest, CommitPublishesRecordsAndOffsetsTogether) {
  FillTransaction({"a", "b"}, 2);
  EXPECT_THAT(kafka_.Output("out"), IsEmpty());  // not before the commit
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
  ASSERT_TRUE(producer_.CommitTransaction(kTimeout).ok());
  EXPECT_THAT(Values(kafka_.Output("out")), ElementsAre("a", "b"));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 2);
  EXPECT_EQ(producer_.commits(), 1);
  EXPECT_FALSE(producer_.in_transaction());
}

TEST_F(FakeProducerTest, AbortDiscardsRecordsAndOffsets) {
  FillTransaction({"a"}, 1);
  ASSERT_TRUE(producer_.AbortTransaction(kTimeout).ok());
  EXPECT_THAT(kafka_.Output("out"), IsEmpty());
  EXPECT_THAT(Values(kafka_.AbortedOutput("out")), ElementsAre("a"));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
  // As on a broker: the record and an abort marker take offsets, and no
  // consumer ever returns the record.
  EXPECT_EQ(kafka_.EndOffset({"out", 0}), 2);
  FakeConsumer reader(&kafka_, nullptr);
  ASSERT_TRUE(reader.Assign({{{"out", 0}, kOffsetBeginning}}).ok());
  auto r = reader.Poll(kTimeout);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(reader.Position({"out", 0}), 2);
  EXPECT_EQ(producer_.aborts(), 1);
}

TEST_F(FakeProducerTest, CommittedTransactionsEndWithAMarker) {
  FillTransaction({"a", "b"}, 2);
  ASSERT_TRUE(producer_.CommitTransaction(kTimeout).ok());
  EXPECT_EQ(kafka_.EndOffset({"out", 0}), 3);  // a, b, marker
  FakeConsumer reader(&kafka_, nullptr);
  ASSERT_TRUE(reader.Assign({{{"out", 0}, kOffsetBeginning}}).ok());
  std::vector<std::string> read;
  for (int i = 0; i < 4; ++i) {
    auto r = reader.Poll(kTimeout);
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->has_value()) read.push_back((*r)->value.value_or(""));
  }
  EXPECT_THAT(read, ElementsAre("a", "b"));
  EXPECT_EQ(reader.Position({"out", 0}), 3);
}

TEST(FakeKafkaLogStartTest,
     DeletedRecordsAreOutOfRangeForAnErrorPolicyConsumer) {
  FakeKafka kafka;
  kafka.CreateTopic("t", 1);
  for (int i = 0; i < 5; ++i) kafka.Append("t", 0, "k", "v");
  kafka.DeleteRecords({"t", 0}, 3);
  FakeConsumer strict(&kafka, nullptr);
  strict.set_auto_offset_reset("error");
  ASSERT_TRUE(strict.Assign({{{"t", 0}, 1}}).ok());
  auto failed = strict.Poll(absl::ZeroDuration());
  EXPECT_TRUE(absl::IsOutOfRange(failed.status())) << failed.status();
  FakeConsumer lenient(&kafka, nullptr);
  ASSERT_TRUE(lenient.Assign({{{"t", 0}, 1}}).ok());
  auto r = lenient.Poll(absl::ZeroDuration());
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->offset, 3);
  auto marks = lenient.QueryWatermarks({"t", 0}, absl::ZeroDuration());
  ASSERT_TRUE(marks.ok());
  EXPECT_EQ(marks->first, 3);
  EXPECT_EQ(marks->second, 5);
}

TEST_F(FakeProducerTest, CallLogShowsTheCallsInOrder) {
  FillTransaction({"a", "b"}, 2);
  ASSERT_TRUE(producer_.CommitTransaction(kTimeout).ok());
  EXPECT_THAT(producer_.call_log(), ElementsAre("init", "begin", "send", "send",
                                                "send_offsets", "commit"));
  EXPECT_EQ(producer_.begins(), 1);
}

TEST_F(FakeProducerTest, CommittedOutputIsReadableByAConsumer) {
  FillTransaction({"a"}, 1);
  ASSERT_TRUE(producer_.CommitTransaction(kTimeout).ok());
  FakeConsumer reader(&kafka_, nullptr);
  ASSERT_TRUE(reader.Assign({{{"out", 0}, kOffsetBeginning}}).ok());
  auto record = reader.Poll(kTimeout);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->value, "a");
}

TEST_F(FakeProducerTest, KeyedRecordsGoToOneStablePartition) {
  ASSERT_TRUE(producer_.BeginTransaction().ok());
  for (int i = 0; i < 3; ++i) {
    ProducerRecord record = Out(-1, absl::StrCat(i));
    record.key = "same key";
    ASSERT_TRUE(producer_.Send(record).ok());
  }
  ASSERT_TRUE(producer_.CommitTransaction(kTimeout).ok());
  std::vector<ProducerRecord> output = kafka_.Output("out");
  ASSERT_EQ(output.size(), 3u);
  EXPECT_GE(output[0].partition, 0);
  EXPECT_EQ(output[1].partition, output[0].partition);
  EXPECT_EQ(output[2].partition, output[0].partition);
}

TEST_F(FakeProducerTest, SendToAMissingTopicIsNotFound) {
  ASSERT_TRUE(producer_.BeginTransaction().ok());
  ProducerRecord record = Out(0, "x");
  record.topic = "nope";
  EXPECT_EQ(producer_.Send(record).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(producer_.Send(Out(7, "x")).code(), absl::StatusCode::kNotFound);
}

TEST_F(FakeProducerTest, StaleGenerationFailsSendOffsetsAsAbortable) {
  std::unique_ptr<GroupMetadata> stale = Metadata();
  kafka_.Rebalance(&consumer_, {kIn0});
  ASSERT_TRUE(producer_.BeginTransaction().ok());
  ASSERT_TRUE(producer_.Send(Out(0, "a")).ok());
  absl::Status status =
      producer_.SendOffsetsToTransaction({{kIn0, 1}}, *stale, kTimeout);
  EXPECT_TRUE(IsTransactionAbortable(status)) << status;
  EXPECT_TRUE(IsGroupMembershipLost(status)) << status;
  EXPECT_EQ(KafkaErrorCode(status), "ILLEGAL_GENERATION");
  // The transaction can only be aborted now, and the error says why.
  absl::Status commit = producer_.CommitTransaction(kTimeout);
  EXPECT_TRUE(IsTransactionAbortable(commit)) << commit;
  EXPECT_TRUE(IsGroupMembershipLost(commit)) << commit;
  ASSERT_TRUE(producer_.AbortTransaction(kTimeout).ok());
  EXPECT_THAT(kafka_.Output("out"), IsEmpty());
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
}

TEST_F(FakeProducerTest, FreshMetadataCommitsInsideTheRevocationCallback) {
  ASSERT_TRUE(producer_.BeginTransaction().ok());
  ASSERT_TRUE(producer_.Send(Out(0, "a")).ok());
  absl::Status in_callback;
  listener_.on_revoked = [&] {
    in_callback =
        producer_.SendOffsetsToTransaction({{kIn0, 1}}, *Metadata(), kTimeout);
    if (in_callback.ok()) in_callback = producer_.CommitTransaction(kTimeout);
  };
  kafka_.Rebalance(&consumer_, {kIn0});
  ASSERT_TRUE(consumer_.Poll(kTimeout).ok());
  EXPECT_TRUE(in_callback.ok()) << in_callback;
  EXPECT_THAT(Values(kafka_.Output("out")), ElementsAre("a"));
  EXPECT_THAT(listener_.events, ElementsAre("assigned in-0@0", "revoked in-0",
                                            "assigned in-0@1"));
}

TEST_F(FakeProducerTest, ZombieOffsetsAreRejectedEvenWithFreshMetadata) {
  kafka_.LoseAssignment(&consumer_);
  ASSERT_TRUE(producer_.BeginTransaction().ok());
  absl::Status status =
      producer_.SendOffsetsToTransaction({{kIn0, 1}}, *Metadata(), kTimeout);
  EXPECT_TRUE(IsTransactionAbortable(status)) << status;
}

TEST_F(FakeProducerTest, ZombieThatRejoinsCommitsAgain) {
  ASSERT_TRUE(consumer_.Subscribe({"in"}).ok());
  kafka_.LoseAssignment(&consumer_);
  ASSERT_TRUE(producer_.BeginTransaction().ok());
  absl::Status lost =
      producer_.SendOffsetsToTransaction({{kIn0, 1}}, *Metadata(), kTimeout);
  ASSERT_TRUE(IsGroupMembershipLost(lost)) << lost;
  ASSERT_TRUE(producer_.AbortTransaction(kTimeout).ok());
  // The runtime's rejoin: leave, subscribe again, take the new assignment.
  ASSERT_TRUE(consumer_.Unsubscribe().ok());
  ASSERT_TRUE(consumer_.Subscribe({"in"}).ok());
  ASSERT_TRUE(consumer_.Poll(kTimeout).ok());  // the loss
  ASSERT_TRUE(consumer_.Poll(kTimeout).ok());  // the leave: nothing to revoke
  AssignByRebalance({kIn0});
  EXPECT_THAT(listener_.events,
              ElementsAre("assigned in-0@0", "lost in-0", "assigned in-0@0"));
  FillTransaction({"a"}, 1);
  ASSERT_TRUE(producer_.CommitTransaction(kTimeout).ok());
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), 1);
}

TEST_F(FakeProducerTest, InjectedRetriableFailuresHaveNoSideEffects) {
  FillTransaction({"a"}, 1);
  producer_.FailNext(FakeProducer::Call::kCommit,
                     KafkaError(KafkaErrorClass::kRetriable, "timed out"),
                     /*times=*/2);
  EXPECT_TRUE(IsRetriable(producer_.CommitTransaction(kTimeout)));
  EXPECT_TRUE(IsRetriable(producer_.CommitTransaction(kTimeout)));
  EXPECT_THAT(kafka_.Output("out"), IsEmpty());
  EXPECT_TRUE(producer_.in_transaction());
  ASSERT_TRUE(producer_.CommitTransaction(kTimeout).ok());
  EXPECT_THAT(Values(kafka_.Output("out")), ElementsAre("a"));
  EXPECT_EQ(producer_.commits(), 1);
}

TEST_F(FakeProducerTest, InjectedSendFailureBuffersNothing) {
  ASSERT_TRUE(producer_.BeginTransaction().ok());
  producer_.FailNext(FakeProducer::Call::kSend,
                     KafkaError(KafkaErrorClass::kRetriable, "queue full"));
  EXPECT_TRUE(IsRetriable(producer_.Send(Out(0, "lost"))));
  ASSERT_TRUE(producer_.Send(Out(0, "kept")).ok());
  ASSERT_TRUE(producer_.CommitTransaction(kTimeout).ok());
  EXPECT_THAT(Values(kafka_.Output("out")), ElementsAre("kept"));
}

TEST_F(FakeProducerTest, InjectedAbortableErrorRequiresAnAbort) {
  FillTransaction({"a"}, 1);
  producer_.FailNext(FakeProducer::Call::kCommit,
                     KafkaError(KafkaErrorClass::kAbortable, "txn timed out"));
  EXPECT_TRUE(IsTransactionAbortable(producer_.CommitTransaction(kTimeout)));
  EXPECT_TRUE(IsTransactionAbortable(producer_.CommitTransaction(kTimeout)));
  EXPECT_TRUE(IsTransactionAbortable(producer_.Send(Out(0, "b"))));
  ASSERT_TRUE(producer_.AbortTransaction(kTimeout).ok());
  EXPECT_THAT(kafka_.Output("out"), IsEmpty());
  ASSERT_TRUE(producer_.BeginTransaction().ok());  // usable again
}

TEST_F(FakeProducerTest, InjectedFatalErrorIsPermanent) {
  FillTransaction({"a"}, 1);
  producer_.FailNext(FakeProducer::Call::kSendOffsets,
                     KafkaError(KafkaErrorClass::kFatal, "broken"));
  EXPECT_TRUE(IsFatal(
      producer_.SendOffsetsToTransaction({{kIn0, 2}}, *Metadata(), kTimeout)));
  EXPECT_TRUE(IsFatal(producer_.AbortTransaction(kTimeout)));
  EXPECT_TRUE(IsFatal(producer_.BeginTransaction()));
  EXPECT_THAT(Values(kafka_.AbortedOutput("out")), ElementsAre("a"));
}

TEST_F(FakeProducerTest, FencedProducerFailsEveryCallAsFatal) {
  FillTransaction({"a"}, 1);
  producer_.Fence();
  absl::Status commit = producer_.CommitTransaction(kTimeout);
  EXPECT_TRUE(IsFatal(commit)) << commit;
  EXPECT_THAT(std::string(commit.message()), HasSubstr("PRODUCER_FENCED"));
  EXPECT_EQ(KafkaErrorCode(commit), "PRODUCER_FENCED");
  EXPECT_TRUE(IsFatal(producer_.AbortTransaction(kTimeout)));
  EXPECT_TRUE(IsFatal(producer_.Send(Out(0, "b"))));
  EXPECT_TRUE(IsFatal(producer_.Flush(kTimeout)));
  EXPECT_THAT(kafka_.Output("out"), IsEmpty());
  EXPECT_THAT(Values(kafka_.AbortedOutput("out")), ElementsAre("a"));
  EXPECT_EQ(kafka_.CommittedOffset(kIn0), kOffsetInvalid);
}

TEST_F(FakeProducerTest, DestroyingAProducerAbortsItsOpenTransaction) {
  {
    FakeProducer other(&kafka_, /*transactional=*/true);
    ASSERT_TRUE(other.InitTransactions(kTimeout).ok());
    ASSERT_TRUE(other.BeginTransaction().ok());
    ASSERT_TRUE(other.Send(Out(1, "orphan")).ok());
  }
  EXPECT_THAT(kafka_.Output("out"), IsEmpty());
  EXPECT_THAT(Values(kafka_.AbortedOutput("out")), ElementsAre("orphan"));
}

TEST(FakeProducerStateMachineTest, RejectsCallsOutOfOrderNamingTheCall) {
  FakeKafka kafka;
  kafka.CreateTopic("out", 1);
  FakeProducer producer(&kafka, /*transactional=*/true);
  FakeGroupMetadata metadata(kafka.generation());
  auto expect_precondition = [](const absl::Status& s, const char* call) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(call));
  };
  expect_precondition(producer.BeginTransaction(), "BeginTransaction()");
  expect_precondition(producer.Send(Out(0, "x")), "Send()");
  ASSERT_TRUE(producer.InitTransactions(kTimeout).ok());
  expect_precondition(producer.InitTransactions(kTimeout),
                      "InitTransactions()");
  expect_precondition(producer.Send(Out(0, "x")), "Send()");
  expect_precondition(
      producer.SendOffsetsToTransaction({{{"in", 0}, 1}}, metadata, kTimeout),
      "SendOffsetsToTransaction()");
  expect_precondition(producer.CommitTransaction(kTimeout),
                      "CommitTransaction()");
  expect_precondition(producer.AbortTransaction(kTimeout),
                      "AbortTransaction()");
  ASSERT_TRUE(producer.BeginTransaction().ok());
  expect_precondition(producer.BeginTransaction(), "BeginTransaction()");
  EXPECT_TRUE(producer.Flush(kTimeout).ok());
  EXPECT_EQ(producer.begins(), 1);
  EXPECT_EQ(producer.commits(), 0);
}

TEST(FakeProducerStateMachineTest, NonTransactionalSendGoesStraightToOutput) {
  FakeKafka kafka;
  kafka.CreateTopic("out", 2);
  FakeProducer producer(&kafka, /*transactional=*/false);
  ASSERT_TRUE(producer.Send(Out(1, "now")).ok());
  EXPECT_EQ(kafka.Output("out").size(), 1u);
  EXPECT_EQ(kafka.EndOffset({"out", 1}), 1);
  EXPECT_TRUE(producer.Flush(kTimeout).ok());
  EXPECT_EQ(producer.InitTransactions(kTimeout).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(producer.BeginTransaction().code(),
            absl::StatusCode::kFailedPrecondition);
  producer.FailNext(FakeProducer::Call::kFlush,
                    KafkaError(KafkaErrorClass::kRetriable, "slow"));
  EXPECT_TRUE(IsRetriable(producer.Flush(kTimeout)));
  EXPECT_TRUE(producer.Flush(kTimeout).ok());
}

}  // namespace
}  // namespace brook::testing
