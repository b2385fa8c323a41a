// Consumer: a Kafka group consumer, or an assign-only consumer without a
// group (restore, tools, tests).
//
// Threading model: owned by one thread. Every call, Poll() included, must come
// from that thread; the RebalanceListener runs inside Poll() on it. There is
// exactly one poll loop per consumer (librdkafka 2.0.2 resets
// max.poll.interval.ms on any queue poll, so a second poller would hide a
// stalled processing thread).
//
// What the implementation guarantees beyond librdkafka:
//  - Records below the next expected offset of their partition are dropped
//    (librdkafka 2.0.2 can rewind a fetch after pause/resume, #4636).
//  - Resume() only resumes partitions that Pause() paused.
//  - Every assignment starts unpaused: a revocation and Assign() resume
//    what Pause() paused first (librdkafka 2.0.2 keeps the application's
//    pause flag across unassign/assign, which stalled a partition handed
//    back to the same member).
//  - Only eager assignors (range, roundrobin) are accepted: tasks need range's
//    co-partitioning, and cooperative-sticky is buggy in 2.0.2.
#ifndef BROOK_KAFKA_CONSUMER_H_
#define BROOK_KAFKA_CONSUMER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

#include "brook/kafka/client_config.h"
#include "brook/kafka/consumer_record.h"
#include "brook/kafka/topic_partition.h"

namespace brook {

// Opaque consumer group metadata (group id, generation, member id, instance
// id) for Producer::SendOffsetsToTransaction. Take a fresh one for every
// commit: the generation changes with every rebalance, and stale metadata
// makes the broker reject the offsets (which is what fences zombies).
class GroupMetadata {
 public:
  virtual ~GroupMetadata() = default;
};

enum class RevocationKind {
  kRevoked,  // an orderly rebalance: the owner may still commit
  kLost,     // the membership is gone (session timeout, fencing): whatever
             // is uncommitted must be aborted, not committed
};

// Rebalance callbacks. Both run inside Consumer::Poll() on the owning thread.
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Called before `partitions` are given up. Commit (or abort when kLost)
  // here: after it returns the partitions belong to someone else.
  virtual void OnPartitionsRevoked(absl::Span<const TopicPartition> partitions,
                                   RevocationKind kind) = 0;
  // Called after `partitions` are assigned; consumption starts at their
  // committed offsets unless the listener seeks.
  virtual void OnPartitionsAssigned(
      absl::Span<const TopicPartition> partitions) = 0;
};

class Consumer {
 public:
  // REQUIRES: config has bootstrap.servers. `listener` may be null and must
  // outlive the consumer. With a group.id the consumer can Subscribe();
  // without one it can only Assign(). enable.auto.commit is forced off:
  // Brook commits offsets itself. partition.assignment.strategy defaults to
  // "range"; a cooperative strategy is rejected with kInvalidArgument.
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(
      const ClientConfig& config, RebalanceListener* listener);

  virtual ~Consumer() = default;

  // Subscribes to `topics`; an entry starting with '^' is a regex (POSIX
  // extended) matching topic names, as librdkafka defines it.
  virtual absl::Status Subscribe(const std::vector<std::string>& topics) = 0;

  // Leaves the group's subscription; the revocation callback runs in a
  // later Poll(). Subscribe() again to rejoin with a new generation.
  virtual absl::Status Unsubscribe() = 0;

  // Assigns partitions without a group; consumption starts at each offset
  // (a logical one such as kOffsetBeginning is allowed). Replaces the
  // previous Assign(), but only the difference reaches librdkafka: a
  // partition listed again at its current position keeps fetching and keeps
  // its queue. Unassigning a partition again within a second of its last
  // unassignment sleeps out that second (librdkafka 2.0.2 aborts on a
  // partition stopped twice in a row). kFailedPrecondition after
  // Subscribe().
  virtual absl::Status Assign(
      absl::Span<const TopicPartitionOffset> partitions) = 0;

  // Returns the next record, or nullopt when none arrived within `timeout`.
  // Serves rebalances. Errors: kNotFound for a subscribed topic that does not
  // exist; kOutOfRange when a position is outside its partition's log and
  // auto.offset.reset is "error"; a fatal consumer error (IsFatal()).
  virtual absl::StatusOr<std::optional<ConsumerRecord>> Poll(
      absl::Duration timeout) = 0;

  virtual std::vector<TopicPartition> Assignment() = 0;

  virtual absl::Status Pause(absl::Span<const TopicPartition> partitions) = 0;
  // Resumes those of `partitions` that Pause() paused; others are ignored.
  virtual absl::Status Resume(absl::Span<const TopicPartition> partitions) = 0;

  // Moves the fetch position. Subsequent records start at each offset.
  virtual absl::Status Seek(
      absl::Span<const TopicPartitionOffset> positions) = 0;

  // The group's committed offsets (read_committed consumers see only stable
  // ones). A partition without a committed offset has kOffsetInvalid.
  virtual absl::StatusOr<std::vector<TopicPartitionOffset>> Committed(
      absl::Span<const TopicPartition> partitions, absl::Duration timeout) = 0;

  // Offset of the next record this consumer will hand out for `partition`,
  // or kOffsetInvalid before the first one.
  virtual int64_t Position(const TopicPartition& partition) = 0;

  // How many records of `partition` lie beyond what this consumer has
  // handed out, from client-side state only (no broker round trip): the
  // high watermark of the last fetch response for the partition minus the
  // position. nullopt while unknown: no fetch response for the partition
  // yet, or the position is not known (no record handed out, and neither
  // the committed offset nor an explicit start offset resolved it). Under
  // read_committed the figure still counts records of open transactions
  // (librdkafka 2.0.2 keeps the last stable offset but exposes only the
  // high watermark), so it may say "data to come" until such a transaction
  // ends. Used by max.task.idle.ms (Kafka Streams' Consumer.currentLag()).
  virtual std::optional<int64_t> CachedLag(const TopicPartition& partition) = 0;

  // Low and high watermarks; under read_committed the high one is the last
  // stable offset.
  virtual absl::StatusOr<std::pair<int64_t, int64_t>> QueryWatermarks(
      const TopicPartition& partition, absl::Duration timeout) = 0;

  // --- Per-partition queues (back-pressure without Pause()) ---
  //
  // After EnablePartitionQueues(), each partition assigned from then on (by
  // a rebalance or Assign()) is read from its own queue: its records no
  // longer come out of Poll() but out of PollPartition(), and a partition
  // that is not read simply stops being fetched once its queue holds
  // queued.min.messages records or queued.max.messages.kbytes, keeping what
  // was prefetched (a Pause() drops it in librdkafka 2.0.2, and the resume
  // fetches it again). Rebalances and errors still come through Poll(),
  // which must still be called every loop iteration; so may a record
  // fetched before its partition's queue was split off.
  // Giving a partition up (revocation, Assign()) drops its queue and
  // whatever it held; a partition assigned again gets a new one, and
  // records fetched before a Seek() or a reassignment are never returned.
  // The re-delivery filter (records below the next expected offset are
  // dropped) applies to both paths.
  //
  // REQUIRES: called before the first assignment (before Subscribe()).
  virtual absl::Status EnablePartitionQueues() = 0;

  // Appends up to `max` records of `partition`, in offset order, to `out`
  // without blocking, and returns how many it appended. Errors as Poll();
  // kFailedPrecondition when `partition` has no queue (not assigned, or
  // partition queues are not enabled).
  virtual absl::StatusOr<size_t> PollPartition(
      const TopicPartition& partition, size_t max,
      std::vector<ConsumerRecord>* out) = 0;

  // Records (and errors) waiting in `partition`'s queue; 0 without one.
  virtual size_t PartitionQueueLength(const TopicPartition& partition) = 0;

  // Blocks until the consumer's own queue or any partition queue receives
  // something, or `timeout` passes. A queue that already held something
  // and has not been read since may not wake it: read what is there first.
  // Without partition queues, returns at once.
  virtual void WaitForData(absl::Duration timeout) = 0;

  // Commits offsets through the group (at-least-once only; under
  // exactly-once offsets go through the producer's transaction).
  virtual absl::Status CommitSync(
      absl::Span<const TopicPartitionOffset> offsets) = 0;

  virtual absl::StatusOr<std::unique_ptr<GroupMetadata>> GetGroupMetadata() = 0;

  // Leaves the group (revocation callbacks run) and closes the client.
  // Idempotent; the destructor calls it.
  virtual absl::Status Close() = 0;
};

}  // namespace brook

#endif  // BROOK_KAFKA_CONSUMER_H_
