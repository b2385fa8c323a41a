// Admin: topic management for internal topics and for validation at start.
// Threading model: thread-safe (each call waits on its own result queue).
#ifndef BROOK_KAFKA_ADMIN_H_
#define BROOK_KAFKA_ADMIN_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

#include "kafka/client_config.h"
#include "kafka/topic_partition.h"

namespace brook {

struct NewTopic {
  std::string name;
  int32_t partitions = 1;
  int16_t replication_factor = 1;
  // Topic configs, e.g. {"cleanup.policy", "compact"} for a changelog.
  std::map<std::string, std::string> configs;
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
};

}  // namespace brook

#endif  // BROOK_KAFKA_ADMIN_H_
