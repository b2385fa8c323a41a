// Admin over librdkafka's Admin API (C API).
// Threading model: thread-safe; each call waits on its own result queue.
#ifndef BROOK_KAFKA_INTERNAL_RDKAFKA_ADMIN_H_
#define BROOK_KAFKA_INTERNAL_RDKAFKA_ADMIN_H_

#include <memory>

#include "brook/kafka/admin.h"
#include "brook/kafka/internal/rdkafka_handle.h"

namespace brook::internal {

class RdKafkaAdmin final : public Admin {
 public:
  static absl::StatusOr<std::unique_ptr<Admin>> Create(
      const ClientConfig& config);

  absl::Status CreateTopic(const NewTopic& topic,
                           absl::Duration timeout) override;
  absl::Status DeleteTopic(const std::string& name,
                           absl::Duration timeout) override;
  absl::Status DeleteRecords(
      absl::Span<const TopicPartitionOffset> before_offsets,
      absl::Duration timeout) override;
  absl::StatusOr<int32_t> PartitionCount(const std::string& topic,
                                         absl::Duration timeout) override;
  absl::StatusOr<std::map<std::string, std::string>> DescribeTopicConfigs(
      const std::string& topic, absl::Duration timeout) override;
  absl::StatusOr<std::vector<std::string>> ListTopics(
      absl::Duration timeout) override;
  absl::StatusOr<std::vector<TopicPartitionOffset>> ListGroupOffsets(
      const std::string& group, absl::Duration timeout) override;
  absl::StatusOr<GroupDescription> DescribeGroup(
      const std::string& group, absl::Duration timeout) override;
  absl::Status AlterGroupOffsets(const std::string& group,
                                 absl::Span<const TopicPartitionOffset> offsets,
                                 absl::Duration timeout) override;
  absl::StatusOr<WatermarkOffsets> QueryWatermarks(
      const TopicPartition& tp, absl::Duration timeout) override;
  absl::StatusOr<std::vector<TopicPartitionOffset>> OffsetsForTime(
      absl::Span<const TopicPartition> partitions, absl::Time time,
      absl::Duration timeout) override;

 private:
  RdKafkaAdmin() = default;
  // Waits for the result event of an admin request on `queue`.
  absl::StatusOr<RdPtr<rd_kafka_event_t>> AwaitResult(rd_kafka_queue_t* queue,
                                                      absl::Duration timeout,
                                                      absl::string_view what);
  // Admin options for `op` with both timeouts set to `timeout`.
  rd_kafka_AdminOptions_t* NewOptions(rd_kafka_admin_op_t op,
                                      absl::Duration timeout);
  // The offsets of the single group result in a ListConsumerGroupOffsets or
  // AlterConsumerGroupOffsets answer; errors name the partition.
  absl::StatusOr<std::vector<TopicPartitionOffset>> GroupResultOffsets(
      const rd_kafka_group_result_t** groups, size_t count,
      absl::string_view what);

  RdPtr<rd_kafka_t> rk_;
};

}  // namespace brook::internal

#endif  // BROOK_KAFKA_INTERNAL_RDKAFKA_ADMIN_H_
