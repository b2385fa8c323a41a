// Consumer over librdkafka's high-level consumer (C API).
// Threading model: owned by one thread (see kafka/consumer.h).
#ifndef BROOK_KAFKA_INTERNAL_RDKAFKA_CONSUMER_H_
#define BROOK_KAFKA_INTERNAL_RDKAFKA_CONSUMER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"

#include "kafka/consumer.h"
#include "kafka/internal/rdkafka_handle.h"

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
  absl::StatusOr<std::pair<int64_t, int64_t>> QueryWatermarks(
      const TopicPartition& partition, absl::Duration timeout) override;
  absl::Status CommitSync(
      absl::Span<const TopicPartitionOffset> offsets) override;
  absl::StatusOr<std::unique_ptr<GroupMetadata>> GetGroupMetadata() override;
  absl::Status Close() override;

 private:
  RdKafkaConsumer(RebalanceListener* listener, bool has_group)
      : listener_(listener), has_group_(has_group) {}

  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions,
                                void* opaque);
  void OnRebalance(rd_kafka_resp_err_t err,
                   rd_kafka_topic_partition_list_t* partitions);
  void Forget(const TopicPartition& tp);
  // Resumes every partition Pause() paused (before the assignment changes).
  void ResumeAllPaused(absl::string_view why);

  RebalanceListener* const listener_;
  const bool has_group_;
  RdPtr<rd_kafka_t> rk_;
  bool closed_ = false;
  // First error raised inside a rebalance callback; returned by Poll().
  absl::Status rebalance_error_;
  // Next offset expected per partition; records below it are stale
  // re-deliveries and are dropped.
  // Node-based, so that last_position_ stays valid while others are added.
  absl::node_hash_map<TopicPartition, int64_t> next_offset_;
  // The entry of next_offset_ the last record updated: consecutive records
  // mostly share a partition, and comparing saves building a TopicPartition
  // and hashing the topic name per record. Reset whenever an entry goes.
  std::pair<const TopicPartition, int64_t>* last_position_ = nullptr;
  // Partitions paused through Pause() and not resumed since.
  absl::flat_hash_set<TopicPartition> paused_;
};

}  // namespace brook::internal

#endif  // BROOK_KAFKA_INTERNAL_RDKAFKA_CONSUMER_H_
