// Records as they leave and enter Kafka.
// Thread-safety: plain values.
#ifndef BROOK_KAFKA_RECORD_H_
#define BROOK_KAFKA_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace brook {

using Header = std::pair<std::string, std::string>;

// A record read from a partition. Owns its bytes.
struct ConsumerRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  // Milliseconds since the epoch, as the producer or the broker set it; -1
  // when the record carries none.
  int64_t timestamp_ms = -1;
  std::optional<std::string> key;    // nullopt for a null key
  std::optional<std::string> value;  // nullopt for a tombstone
  std::vector<Header> headers;
};

// A record to write. `partition` < 0 lets the partitioner pick one from the
// key (librdkafka's consistent_random: the same key, the same partition).
struct ProducerRecord {
  std::string topic;
  int32_t partition = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp_ms = 0;  // 0: the producer's clock
  std::vector<Header> headers;
};

}  // namespace brook

#endif  // BROOK_KAFKA_RECORD_H_
