// Admin: topic management for internal topics and for validation at start.
// Threading model: thread-safe (each call waits on its own result queue).
#ifndef BROOK_KAFKA_ADMIN_H_
#define BROOK_KAFKA_ADMIN_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

#include "brook/kafka/client_config.h"
#include "brook/kafka/topic_partition.h"

namespace brook {

struct NewTopic {
  std::string name;
  int32_t partitions = 1;
  int16_t replication_factor = 1;
  // Topic configs, e.g. {"cleanup.policy", "compact"} for a changelog.
  std::map<std::string, std::string> configs;
};

// One member of a consumer group, as DescribeConsumerGroups reports it.
struct GroupMember {
  std::string member_id;  // the coordinator's id for this member
  std::string client_id;  // client.id of its consumer
  std::string host;       // as the broker saw it, e.g. "/127.0.0.1"
  std::vector<TopicPartition> assignment;
};

struct GroupDescription {
  std::string group_id;
  // Kafka's state name: "Stable", "PreparingRebalance",
  // "CompletingRebalance", "Empty", "Dead" or "Unknown".
  std::string state;
  std::vector<GroupMember> members;
};

// The offsets a partition's log spans: `low` is the first offset still
// stored, `high` the offset the next record will get (the log end).
struct WatermarkOffsets {
  int64_t low = 0;
  int64_t high = 0;
};

class Admin {
 public:
  // REQUIRES: config has bootstrap.servers.
  static absl::StatusOr<std::unique_ptr<Admin>> Create(
      const ClientConfig& config);

  virtual ~Admin() = default;

  // Creates the topic and waits until its metadata shows every partition.
  // kAlreadyExists if it exists (callers validate it with PartitionCount()).
  virtual absl::Status CreateTopic(const NewTopic& topic,
                                   absl::Duration timeout) = 0;

  virtual absl::Status DeleteTopic(const std::string& name,
                                   absl::Duration timeout) = 0;

  // kNotFound, naming the topic, if it does not exist.
  virtual absl::StatusOr<int32_t> PartitionCount(const std::string& topic,
                                                 absl::Duration timeout) = 0;

  // The topic's configuration as the broker resolves it (its own settings
  // and the broker defaults it inherits), e.g. "max.message.bytes".
  // kNotFound, naming the topic, if it does not exist.
  virtual absl::StatusOr<std::map<std::string, std::string>>
  DescribeTopicConfigs(const std::string& topic, absl::Duration timeout) = 0;

  // Deletes every record below each offset (moves the log start offset up),
  // as Kafka Streams purges consumed repartition records. An error names
  // the partition.
  virtual absl::Status DeleteRecords(
      absl::Span<const TopicPartitionOffset> before_offsets,
      absl::Duration timeout) = 0;

  // Every topic name in the cluster (internal ones such as
  // "__consumer_offsets" included), sorted.
  virtual absl::StatusOr<std::vector<std::string>> ListTopics(
      absl::Duration timeout) = 0;

  // The committed offset of each partition of `group` that has one, sorted
  // by partition. An unknown group has none (empty result, not an error).
  virtual absl::StatusOr<std::vector<TopicPartitionOffset>> ListGroupOffsets(
      const std::string& group, absl::Duration timeout) = 0;

  // The group's state and its members with their assignments. An unknown
  // group reads as state "Dead" with no members.
  virtual absl::StatusOr<GroupDescription> DescribeGroup(
      const std::string& group, absl::Duration timeout) = 0;

  // Sets the group's committed offsets. The broker refuses (an error
  // naming the group) while the group has active members.
  virtual absl::Status AlterGroupOffsets(
      const std::string& group, absl::Span<const TopicPartitionOffset> offsets,
      absl::Duration timeout) = 0;

  // The partition's log start and log end offsets.
  virtual absl::StatusOr<WatermarkOffsets> QueryWatermarks(
      const TopicPartition& tp, absl::Duration timeout) = 0;

  // For each partition, the earliest offset whose record timestamp is at or
  // after `time`; the log end offset if there is none.
  virtual absl::StatusOr<std::vector<TopicPartitionOffset>> OffsetsForTime(
      absl::Span<const TopicPartition> partitions, absl::Time time,
      absl::Duration timeout) = 0;
};

}  // namespace brook

#endif  // BROOK_KAFKA_ADMIN_H_
