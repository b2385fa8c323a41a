// In-memory fakes of the kafka/ interfaces for the runtime's unit tests: a
// FakeKafka "cluster" (topics, one consumer group, committed output), a
// FakeConsumer and a FakeProducer that read and write it. They run without a
// broker, never sleep, and are strict where the real clients are strict, so
// that a runtime bug (a call out of order, a commit with stale group
// metadata, resuming a partition that was never paused) fails the test.
//
//   FakeKafka kafka;
//   kafka.CreateTopic("in", 2);
//   kafka.CreateTopic("out", 2);
//   kafka.Append("in", 0, "k", "v", /*timestamp_ms=*/1000);
//   FakeConsumer consumer(&kafka, &listener);
//   FakeProducer producer(&kafka, /*transactional=*/true);
//   kafka.Rebalance(&consumer, {{"in", 0}, {"in", 1}});  // next Poll()
//   ... run the code under test ...
//   EXPECT_EQ(kafka.Output("out").size(), 1);
//   EXPECT_EQ(kafka.CommittedOffset({"in", 0}), 1);
//
// Logs look as a read_committed reader of a real broker sees them: a
// transactional producer's records enter the log when it commits, followed
// by one commit marker per partition; an aborted transaction's records enter
// the log too, followed by an abort marker, and no consumer ever returns
// them. Markers and aborted records take offsets (offsets are not dense) and
// move a consumer's position past them, as in librdkafka 2.0.2. A log start
// offset (DeleteRecords) makes offsets below it out of range: a consumer
// with auto.offset.reset=error then fails its Poll() with kOutOfRange, else
// it jumps to the log start (earliest) or end (latest). Partitions revoked
// or assigned again start unpaused: Brook's Consumer wrapper resumes what it
// paused before every change of assignment (librdkafka itself keeps the
// application's pause flag; tests/kafka/consumer_rebalance_test.cc).
//
// What the fakes do not model: records of open transactions interleaved in
// the log before the commit (a transaction's records are written at commit,
// so the last stable offset always equals the end offset; the LSO cases are
// covered against the broker in tests/runtime/changelog_reader_test.cc),
// read_uncommitted consumers, timeouts (every `timeout` argument is
// ignored), delivery reports, more than one consumer group, and wall-clock
// timestamps (a record keeps the timestamp it was written with, 0
// included). Nor max.poll.interval.ms, the broker timing a transaction out,
// or an InitTransactions that waits for an older transaction of the same
// transactional.id to be aborted: tests/runtime/eos_app_test.cc covers those
// against the broker (the stall past both timeouts, a producer fenced from
// outside).
#ifndef BROOK_TESTS_TESTING_FAKE_KAFKA_H_
#define BROOK_TESTS_TESTING_FAKE_KAFKA_H_

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

#include "brook/kafka/consumer.h"
#include "brook/kafka/consumer_record.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/producer_record.h"
#include "brook/kafka/topic_partition.h"

namespace brook::testing {

class FakeConsumer;
class FakeProducer;

// The shared state of one test's cluster: topic logs, the group's committed
// offsets and generation, and the output of producers.
//
// Misuse by the test itself (a topic created twice, a rebalance onto a
// partition that does not exist) CHECK-fails; misuse by the code under test
// is reported by the fake clients as a Status.
//
// Threading model: thread-compatible. Tests are single-threaded; the fakes
// and the test must not call into one FakeKafka from two threads at once. It
// must outlive every FakeConsumer and FakeProducer created on it.
class FakeKafka {
 public:
  FakeKafka() = default;
  FakeKafka(const FakeKafka&) = delete;
  FakeKafka& operator=(const FakeKafka&) = delete;

  // Topics. REQUIRES: `name` does not exist yet; partitions > 0.
  void CreateTopic(absl::string_view name, int32_t partitions);
  // Partitions of `topic`, or 0 when it does not exist.
  int32_t PartitionCount(absl::string_view topic) const;

  // Appends an input record, as a non-transactional producer outside the
  // code under test would, and returns its offset (0, 1, 2, ... per
  // partition). REQUIRES: the partition exists.
  int64_t Append(absl::string_view topic, int32_t partition,
                 std::optional<std::string> key,
                 std::optional<std::string> value, int64_t timestamp_ms = 0);
  // Offset the next record of `tp` will get. REQUIRES: the partition exists.
  int64_t EndOffset(const TopicPartition& tp) const;
  // The log start offset: 0 until DeleteRecords() moves it.
  int64_t StartOffset(const TopicPartition& tp) const;
  // Deletes the records below `offset` (as the Admin API's DeleteRecords).
  // REQUIRES: the partition exists; offset <= EndOffset(tp).
  void DeleteRecords(const TopicPartition& tp, int64_t offset);

  // The group's committed offsets (next offset to consume); kOffsetInvalid
  // for a partition without one. Set by CommitTransaction() of a fake
  // producer, by FakeConsumer::CommitSync(), or by the test.
  int64_t CommittedOffset(const TopicPartition& tp) const;
  void SetCommittedOffset(const TopicPartition& tp, int64_t offset);

  // Records that became visible to read_committed readers: those of
  // committed transactions and of non-transactional Send()s, in that order,
  // with the partition the partitioner chose. They are also appended to the
  // topic's log, so a consumer can read them (repartition and changelog
  // topics). AbortedOutput() holds the records of aborted (or fenced, or
  // abandoned) transactions, which no consumer ever sees.
  std::vector<ProducerRecord> Output(absl::string_view topic) const;
  std::vector<ProducerRecord> AbortedOutput(absl::string_view topic) const;

  // The group's generation: 0 at first, +1 for each Rebalance() or
  // LoseAssignment(). SendOffsetsToTransaction() rejects metadata of an
  // older generation (KIP-447 fencing).
  int generation() const { return generation_; }

  // Schedules an eager rebalance for `consumer`, delivered inside its next
  // Poll(): OnPartitionsRevoked(old assignment, kRevoked) unless that is
  // empty, then OnPartitionsAssigned(new_assignment), each partition
  // starting at the group's committed offset (0 when it has none). The
  // generation is bumped now. Events queue up: each Poll() delivers one.
  // REQUIRES: the partitions exist.
  void Rebalance(FakeConsumer* consumer,
                 std::vector<TopicPartition> new_assignment);

  // Takes the membership from `consumer` (a session timeout): the generation
  // is bumped now, the consumer's group metadata stays at the old generation
  // (so it is a zombie whose offsets are rejected) until a later Rebalance()
  // is delivered to it, and its next Poll() calls OnPartitionsRevoked(old
  // assignment, kLost) and leaves it with an empty assignment.
  void LoseAssignment(FakeConsumer* consumer);

 private:
  friend class FakeConsumer;
  friend class FakeProducer;

  using Log = std::vector<ConsumerRecord>;

  // Null when the partition does not exist.
  const Log* FindLog(const TopicPartition& tp) const;
  absl::Status CheckPartitionExists(const TopicPartition& tp) const;
  // The record's partition, or the partitioner's choice when it is < 0:
  // FNV-1a of the key modulo the partition count, 0 for a null key.
  // kNotFound when the topic or the partition does not exist.
  absl::StatusOr<int32_t> ChoosePartition(const ProducerRecord& record) const;
  // Sets the record's offset. REQUIRES: its partition exists.
  int64_t AppendToLog(ConsumerRecord record);
  // REQUIRES: record.partition was chosen by ChoosePartition().
  int64_t Publish(ProducerRecord record);
  // Writes the aborted record to the log, invisible to consumers.
  void Discard(ProducerRecord record);
  // Appends a transaction marker (invisible) to `tp`.
  void AppendMarker(const TopicPartition& tp);
  // True for markers and aborted records.
  bool Invisible(const TopicPartition& tp, int64_t offset) const;

  std::map<std::string, std::vector<Log>, std::less<>> logs_;
  std::map<TopicPartition, int64_t> committed_;
  std::map<TopicPartition, std::set<int64_t>> invisible_;
  std::map<TopicPartition, int64_t> start_offsets_;
  std::map<std::string, std::vector<ProducerRecord>, std::less<>> output_;
  std::map<std::string, std::vector<ProducerRecord>, std::less<>> aborted_;
  int generation_ = 0;
};

// Group metadata of a FakeConsumer: the generation it was taken at.
// Threading model: immutable after construction.
class FakeGroupMetadata final : public GroupMetadata {
 public:
  explicit FakeGroupMetadata(int generation) : generation_(generation) {}
  int generation() const { return generation_; }

 private:
  const int generation_;
};

// A group consumer over FakeKafka. Assignments come from the test through
// FakeKafka::Rebalance()/LoseAssignment() or from Assign(); Subscribe() only
// records the topics (Poll() then reports a missing one as kNotFound), and a
// rejoin after Unsubscribe() gets its partitions from the test's next
// Rebalance().
//
// Logical offsets (Assign, Seek) resolve as librdkafka's do: kOffsetBeginning
// is 0, kOffsetEnd the partition's end offset, and any other negative offset
// (kOffsetInvalid) the group's committed offset, or 0 when there is none.
//
// Threading model: owned by one thread, like brook::Consumer; the listener
// runs inside Poll() and Close() on it and may call back into the consumer.
class FakeConsumer final : public Consumer {
 public:
  // `kafka` and `listener` (which may be null) must outlive the consumer.
  FakeConsumer(FakeKafka* kafka, RebalanceListener* listener);
  // Calls Close(), so the listener hears the final revocation.
  ~FakeConsumer() override;

  FakeConsumer(const FakeConsumer&) = delete;
  FakeConsumer& operator=(const FakeConsumer&) = delete;

  // brook::Consumer. Every call but Assignment() and Position() fails with
  // kFailedPrecondition after Close().
  absl::Status Subscribe(const std::vector<std::string>& topics) override;
  // Forgets the subscription and queues a revocation: a later Poll() calls
  // OnPartitionsRevoked(assignment, kRevoked) (kLost for a zombie) unless
  // the assignment is empty by then, and empties it.
  absl::Status Unsubscribe() override;
  // Replaces the assignment without listener callbacks and unpauses
  // everything. kNotFound for a partition that does not exist.
  absl::Status Assign(
      absl::Span<const TopicPartitionOffset> partitions) override;
  // In order: delivers one pending rebalance event and returns nullopt;
  // else returns the next FailNextPoll() status; else kNotFound for a
  // subscribed topic that does not exist; else the next record of the
  // assigned, unpaused partitions, one per call, taking the partitions
  // round-robin in assignment order; else nullopt. Never waits.
  absl::StatusOr<std::optional<ConsumerRecord>> Poll(
      absl::Duration timeout) override;
  std::vector<TopicPartition> Assignment() override;
  absl::Status Pause(absl::Span<const TopicPartition> partitions) override;
  // Resumes the paused ones of `partitions`. Each one that is not paused is
  // ignored and counted in ResumeOfUnpausedCount(): the real client would
  // restart its fetch from a stale offset (librdkafka #4636).
  absl::Status Resume(absl::Span<const TopicPartition> partitions) override;
  // kFailedPrecondition for a partition that is not assigned.
  absl::Status Seek(absl::Span<const TopicPartitionOffset> positions) override;
  absl::StatusOr<std::vector<TopicPartitionOffset>> Committed(
      absl::Span<const TopicPartition> partitions,
      absl::Duration timeout) override;
  // The next offset Poll() hands out, or kOffsetInvalid when not assigned.
  int64_t Position(const TopicPartition& partition) override;
  // As librdkafka: the log end (high watermark, counting invisible records
  // and markers) minus the position; the position passes markers and
  // aborted records only when a poll reaches them. nullopt when not
  // assigned or after SetLagUnknown(partition, true) (librdkafka before
  // its first fetch response for the partition).
  std::optional<int64_t> CachedLag(const TopicPartition& partition) override;
  void SetLagUnknown(const TopicPartition& partition, bool unknown) {
    if (unknown) {
      lag_unknown_.insert(partition);
    } else {
      lag_unknown_.erase(partition);
    }
  }
  // {0, end offset}; kNotFound for a partition that does not exist.
  absl::StatusOr<std::pair<int64_t, int64_t>> QueryWatermarks(
      const TopicPartition& partition, absl::Duration timeout) override;
  // Stores the offsets as the group's. A zombie (see LoseAssignment) gets
  // an abortable ILLEGAL_GENERATION error instead.
  absl::Status CommitSync(
      absl::Span<const TopicPartitionOffset> offsets) override;
  // Partition queues: once enabled, Poll() returns no records (every
  // assigned partition has its own queue from the start, which is what the
  // real client does when the queue is split off in the assignment
  // callback), and PollPartition() returns the visible records of one
  // assigned partition from its position; a paused partition returns none.
  absl::Status EnablePartitionQueues() override;
  absl::StatusOr<size_t> PollPartition(
      const TopicPartition& partition, size_t max,
      std::vector<ConsumerRecord>* out) override;
  // Visible records from the position to the end of the log.
  size_t PartitionQueueLength(const TopicPartition& partition) override;
  // Never blocks (tests are single-threaded); counts the calls.
  void WaitForData(absl::Duration timeout) override;
  // A FakeGroupMetadata with the group's current generation, or for a
  // zombie the generation it had when it lost its assignment.
  absl::StatusOr<std::unique_ptr<GroupMetadata>> GetGroupMetadata() override;
  // Calls OnPartitionsRevoked(assignment, kRevoked) (kLost for a zombie)
  // unless the assignment is empty, empties it and drops pending events.
  // Idempotent.
  absl::Status Close() override;

  // Test controls and observations.
  // Queues `status` for a later Poll() (see Poll() for the order).
  void FailNextPoll(absl::Status status);
  const std::vector<std::string>& Subscribed() const { return subscribed_; }
  std::vector<TopicPartition> PausedPartitions() const;
  int ResumeOfUnpausedCount() const { return resume_of_unpaused_; }
  int CommitSyncCount() const { return commit_sync_calls_; }
  // auto.offset.reset: what Poll() does at a position below the log start
  // ("earliest", "latest" or "error"). The default is "earliest".
  void set_auto_offset_reset(std::string policy) {
    auto_offset_reset_ = std::move(policy);
  }
  int UnsubscribeCount() const { return unsubscribe_calls_; }
  // PollPartition() calls per partition, and WaitForData() calls.
  int PartitionPollCount(const TopicPartition& tp) const {
    auto it = partition_polls_.find(tp);
    return it == partition_polls_.end() ? 0 : it->second;
  }
  int WaitCount() const { return waits_; }
  bool closed() const { return state_ == State::kClosed; }

 private:
  friend class FakeKafka;

  struct Event {
    enum class Kind { kRebalance, kLose, kLeave };
    Kind kind;
    std::vector<TopicPartition> partitions;  // kRebalance's new assignment
  };
  enum class State { kOpen, kClosing, kClosed };

  // Called by FakeKafka.
  void Schedule(Event event, int old_generation);

  absl::Status CheckOpen(absl::string_view call) const;
  void Deliver(const Event& event);
  // Calls the listener (unless `assignment_` is empty) and drops it.
  void RevokeAll(RevocationKind kind);
  void TakeAssignment(absl::Span<const TopicPartitionOffset> partitions);
  int64_t ResolveOffset(const TopicPartition& tp, int64_t offset) const;
  absl::Status CheckSubscribedTopicsExist() const;
  absl::StatusOr<std::optional<ConsumerRecord>> NextRecord();
  // The next visible record of `tp` (advancing its position), or null.
  absl::StatusOr<const ConsumerRecord*> NextOf(const TopicPartition& tp);

  FakeKafka* const kafka_;
  RebalanceListener* const listener_;
  State state_ = State::kOpen;
  std::vector<std::string> subscribed_;
  std::vector<TopicPartition> assignment_;  // in assignment order
  std::map<TopicPartition, int64_t> positions_;
  std::set<TopicPartition> lag_unknown_;
  std::set<TopicPartition> paused_;
  size_t next_index_ = 0;  // where the round-robin scan of assignment_ starts
  std::deque<Event> pending_;
  std::deque<absl::Status> poll_failures_;
  // Set while this consumer is a zombie: the generation it lost its
  // assignment in.
  std::optional<int> zombie_generation_;
  int resume_of_unpaused_ = 0;
  int commit_sync_calls_ = 0;
  int unsubscribe_calls_ = 0;
  std::string auto_offset_reset_ = "earliest";
  bool partition_queues_ = false;
  std::map<TopicPartition, int> partition_polls_;
  int waits_ = 0;
};

// A producer over FakeKafka, transactional or not. A transactional one
// enforces librdkafka's state machine strictly; a call out of order returns
// kFailedPrecondition naming the call:
//
//   kUninitialized
//         | InitTransactions
//         v
//      kReady <-----------------------+--------------------+
//         | BeginTransaction          |                    |
//         v                           | Commit/Abort       |
//   kInTransaction -------------------+                    |
//         | an abortable error                             |
//         v                                                |
//   kAbortableError ---------- AbortTransaction -----------+
//
//   any state --Fence() or a fatal error--> kFatal (every call fails)
//
// In kAbortableError, Send, SendOffsetsToTransaction and CommitTransaction
// return an abortable error until AbortTransaction(), as librdkafka does, so
// a runtime that ignores an abortable error cannot commit half a transaction.
// Errors the fakes raise themselves carry Kafka's error code
// (KafkaErrorCode(): "ILLEGAL_GENERATION", "PRODUCER_FENCED"), and the
// errors of kAbortableError and kFatal carry the code of the error that
// caused them, as librdkafka's do.
//
// Threading model: owned by one thread, like brook::Producer.
class FakeProducer final : public Producer {
 public:
  enum class Call {
    kInit,
    kBegin,
    kSend,
    kSendOffsets,
    kCommit,
    kAbort,
    kFlush
  };

  // `kafka` must outlive the producer.
  FakeProducer(FakeKafka* kafka, bool transactional);
  // An open transaction is aborted: its records go to AbortedOutput().
  ~FakeProducer() override;

  FakeProducer(const FakeProducer&) = delete;
  FakeProducer& operator=(const FakeProducer&) = delete;

  // brook::Producer. Timeouts are ignored.
  // Transactional: buffers the record in the open transaction. Otherwise
  // the record goes straight to the committed output. kNotFound for a topic
  // or partition that does not exist.
  absl::Status Send(const ProducerRecord& record) override;
  absl::Status Flush(absl::Duration timeout) override;
  // kNotFound for a topic the fake cluster does not have.
  absl::StatusOr<int32_t> PartitionCount(const std::string& topic,
                                         absl::Duration timeout) override;
  absl::Status InitTransactions(absl::Duration timeout) override;
  absl::Status BeginTransaction() override;
  // Adds `offsets` to the transaction (a later offset for a partition
  // replaces an earlier one). `group` must be a FakeGroupMetadata; one
  // older than the group's generation gets an abortable ILLEGAL_GENERATION
  // error. An empty `offsets` is a no-op, as in librdkafka.
  absl::Status SendOffsetsToTransaction(
      absl::Span<const TopicPartitionOffset> offsets,
      const GroupMetadata& group, absl::Duration timeout) override;
  // Publishes the transaction's records and commits its offsets, together.
  absl::Status CommitTransaction(absl::Duration timeout) override;
  // Discards the transaction's records (to AbortedOutput()) and offsets.
  absl::Status AbortTransaction(absl::Duration timeout) override;
  // Offsets of records published (committed, or sent without a
  // transaction) since the last call.
  absl::flat_hash_map<TopicPartition, int64_t> TakeDeliveredOffsets() override;

  // Error injection: the next `times` calls of kind `call` return `status`
  // without touching any data. Injections queue up per call kind. An
  // abortable status moves an open transaction to kAbortableError, and a
  // fatal one moves the producer to kFatal, as the real errors would.
  // REQUIRES: !status.ok(), times > 0.
  void FailNext(Call call, absl::Status status, int times = 1);
  // Another producer took our transactional.id: from now on every call
  // returns a fatal PRODUCER_FENCED error; the open transaction is aborted.
  void Fence();

  // Successful calls.
  int begins() const { return begins_; }
  int commits() const { return commits_; }
  int aborts() const { return aborts_; }
  // Every call made, failed ones included, as "init", "begin", "send",
  // "send_offsets", "commit", "abort" or "flush".
  const std::vector<std::string>& call_log() const { return call_log_; }
  bool in_transaction() const;
  // Records buffered in the open transaction.
  const std::vector<ProducerRecord>& pending_records() const {
    return pending_records_;
  }

 private:
  enum class State {
    kUninitialized,
    kReady,
    kInTransaction,
    kAbortableError,
    kFatal
  };
  static constexpr int kCallKinds = 7;

  // Logs the call and returns the error it must fail with, if any.
  absl::Status Enter(Call call);
  absl::Status CheckState(Call call) const;
  absl::Status CheckTransactionalState(Call call) const;
  // Applies the state change an error implies and returns it.
  absl::Status Fail(absl::Status status);
  void EnterFatal(absl::Status status);
  void DiscardTransaction();

  FakeKafka* const kafka_;
  const bool transactional_;
  State state_;
  absl::Status fatal_error_;      // set in kFatal
  absl::Status abortable_error_;  // set in kAbortableError
  std::vector<ProducerRecord> pending_records_;
  std::map<TopicPartition, int64_t> pending_offsets_;
  absl::flat_hash_map<TopicPartition, int64_t> delivered_;
  std::array<std::deque<absl::Status>, kCallKinds> injected_;
  std::vector<std::string> call_log_;
  int begins_ = 0;
  int commits_ = 0;
  int aborts_ = 0;
};

}  // namespace brook::testing

#endif  // BROOK_TESTS_TESTING_FAKE_KAFKA_H_
