// Consumer over librdkafka's high-level consumer (C API).
// Threading model: owned by one thread (see kafka/consumer.h).
// Implemented in rdkafka_consumer.cc, and in rdkafka_consumer_queues.cc for
// the per-partition queues (EnablePartitionQueues() and what follows it).
#ifndef BROOK_KAFKA_INTERNAL_RDKAFKA_CONSUMER_H_
#define BROOK_KAFKA_INTERNAL_RDKAFKA_CONSUMER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/time/time.h"

#include "brook/kafka/consumer.h"
#include "brook/kafka/internal/fetch_waker.h"
#include "brook/kafka/internal/rdkafka_handle.h"

namespace brook::internal {

class RdGroupMetadata final : public GroupMetadata {
 public:
  explicit RdGroupMetadata(rd_kafka_consumer_group_metadata_t* m) : m_(m) {}
  const rd_kafka_consumer_group_metadata_t* get() const { return m_.get(); }

 private:
  RdPtr<rd_kafka_consumer_group_metadata_t> m_;
};

class RdKafkaConsumer final : public Consumer {
 public:
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(
      const ClientConfig& config, RebalanceListener* listener);
  ~RdKafkaConsumer() override;

  absl::Status Subscribe(const std::vector<std::string>& topics) override;
  absl::Status Unsubscribe() override;
  absl::Status Assign(
      absl::Span<const TopicPartitionOffset> partitions) override;
  absl::StatusOr<std::optional<ConsumerRecord>> Poll(
      absl::Duration timeout) override;
  std::vector<TopicPartition> Assignment() override;
  absl::Status Pause(absl::Span<const TopicPartition> partitions) override;
  absl::Status Resume(absl::Span<const TopicPartition> partitions) override;
  absl::Status Seek(absl::Span<const TopicPartitionOffset> positions) override;
  absl::StatusOr<std::vector<TopicPartitionOffset>> Committed(
      absl::Span<const TopicPartition> partitions,
      absl::Duration timeout) override;
  int64_t Position(const TopicPartition& partition) override;
  std::optional<int64_t> CachedLag(const TopicPartition& partition) override;
  absl::StatusOr<std::pair<int64_t, int64_t>> QueryWatermarks(
      const TopicPartition& partition, absl::Duration timeout) override;
  absl::Status EnablePartitionQueues() override;
  absl::StatusOr<size_t> PollPartition(
      const TopicPartition& partition, size_t max,
      std::vector<ConsumerRecord>* out) override;
  size_t PartitionQueueLength(const TopicPartition& partition) override;
  void WaitForData(absl::Duration timeout) override;
  absl::Status CommitSync(
      absl::Span<const TopicPartitionOffset> offsets) override;
  absl::StatusOr<std::unique_ptr<GroupMetadata>> GetGroupMetadata() override;
  absl::Status Close() override;

  // For tests only: the librdkafka handle underneath, so that a test can make
  // librdkafka re-deliver records (a backwards rd_kafka_seek behind the
  // wrapper's back) and check that Poll() drops them. Nothing else may use
  // it: calls on it bypass this wrapper's bookkeeping.
  rd_kafka_t* raw_handle_for_testing() { return rk_.get(); }
  // Records Poll() dropped as re-deliveries so far.
  int64_t redeliveries_dropped() const { return redeliveries_dropped_; }

 private:
  RdKafkaConsumer(RebalanceListener* listener, bool has_group)
      : listener_(listener), has_group_(has_group) {}

  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions,
                                void* opaque);
  void OnRebalance(rd_kafka_resp_err_t err,
                   rd_kafka_topic_partition_list_t* partitions);
  void Forget(const TopicPartition& tp);
  // Sleeps until none of `partitions` was unassigned less than a second ago
  // (see Assign()).
  void WaitForFetchStops(absl::Span<const TopicPartition> partitions);
  // Fills start_offset_ with the committed offsets of `assigned` (asked
  // lazily by CachedLag()).
  void FetchStartOffsets(const rd_kafka_topic_partition_list_t* assigned);
  // librdkafka 2.0.2 re-considers a partition whose queue reached its
  // prefetch limit only when its broker thread wakes up: a fetch response
  // of another partition, or its 1 s idle timeout. Nothing wakes it when the
  // application drains the queue, so once every partition of a broker is
  // full, fetching stalls for up to a second. A ListOffsets request to the
  // partitions' leaders wakes their broker threads (any request queued on a
  // broker does), which then fetch again. The requests go out from
  // FetchWaker's thread, so the caller never waits for them.
  void WakeFetchers();
  // With partition queues: gives each of `partitions` its own queue, taken
  // off the consumer queue and wired to wakeup_fd_.
  void SplitQueues(absl::Span<const TopicPartition> partitions);
  // A non-record message (err set) as Poll() reports it: nullopt for what
  // librdkafka retries itself.
  absl::Status MessageError(const rd_kafka_message_t& msg);
  // False for a re-delivery of `msg` below `next`, which is dropped;
  // otherwise advances `next` past it.
  bool AcceptOffset(const rd_kafka_message_t& msg, const TopicPartition& tp,
                    int64_t& next);
  // Fills *record from `msg`, overwriting every field.
  static void FillRecord(const rd_kafka_message_t& msg,
                         const TopicPartition& tp, ConsumerRecord* record);
  // Resumes every partition Pause() paused (before the assignment changes).
  void ResumeAllPaused(absl::string_view why);

  RebalanceListener* const listener_;
  const bool has_group_;
  RdPtr<rd_kafka_t> rk_;
  bool closed_ = false;
  bool subscribed_ = false;
  // Assign()'s partitions and the offset each was assigned at (a consumer
  // that never subscribed).
  absl::flat_hash_map<TopicPartition, int64_t> assigned_;
  // When Assign() last unassigned each partition, within the last second.
  absl::flat_hash_map<TopicPartition, absl::Time> unassigned_at_;
  // First error raised inside a rebalance callback; returned by Poll().
  absl::Status rebalance_error_;
  // Next offset expected per partition; records below it are stale
  // re-deliveries and are dropped.
  // Node-based, so that last_position_ stays valid while others are added.
  absl::node_hash_map<TopicPartition, int64_t> next_offset_;
  // Where consumption of each assigned partition starts (an offset,
  // kOffsetBeginning or kOffsetEnd), for CachedLag() before the first
  // record: the committed offset, fetched on CachedLag()'s first question
  // about the partition, or the offset Assign() was given.
  absl::flat_hash_map<TopicPartition, int64_t> start_offset_;
  // Partitions whose committed offset was asked for since their assignment
  // (asked once, even if the answer was an error).
  absl::flat_hash_set<TopicPartition> start_offset_fetched_;
  // auto.offset.reset is latest/largest/end (librdkafka's default).
  bool reset_to_end_ = true;
  // The entry of next_offset_ the last record updated: consecutive records
  // mostly share a partition, and comparing saves building a TopicPartition
  // and hashing the topic name per record. Reset whenever an entry goes.
  std::pair<const TopicPartition, int64_t>* last_position_ = nullptr;
  int64_t redeliveries_dropped_ = 0;
  // Partitions paused through Pause() and not resumed since.
  absl::flat_hash_set<TopicPartition> paused_;
  // Partition queues (EnablePartitionQueues()): one per assigned partition.
  bool partition_queues_ = false;
  struct PartitionQueue {
    RdPtr<rd_kafka_queue_t> queue;
    // The queue reached librdkafka's prefetch limit since it was last
    // drained: its fetch has stopped (see WakeFetchers()).
    bool full = false;
  };
  absl::flat_hash_map<TopicPartition, PartitionQueue> queues_;
  // librdkafka's per-partition prefetch limits, from the configuration.
  int64_t queue_max_records_ = 100000;
  int64_t queue_max_bytes_ = int64_t{65536} * 1024;
  // Average bytes (key + value) of the records read from partition queues,
  // to tell when a queue reached its byte limit (librdkafka does not say).
  double avg_record_bytes_ = 0;
  // Partitions drained after they were full, whose fetch must be restarted.
  std::vector<TopicPartition> to_wake_;
  std::unique_ptr<FetchWaker> fetch_waker_;  // made at the first wake-up
  // The consumer queue, kept for its wake-up registration.
  RdPtr<rd_kafka_queue_t> consumer_queue_;
  // An eventfd every queue writes to when it receives something while
  // nobody reads it (rd_kafka_queue_io_event_enable); WaitForData() polls it.
  int wakeup_fd_ = -1;
};

}  // namespace brook::internal

#endif  // BROOK_KAFKA_INTERNAL_RDKAFKA_CONSUMER_H_
