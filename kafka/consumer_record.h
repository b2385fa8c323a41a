// ConsumerRecord: a record as it leaves Kafka.
// Thread-safety: plain values.
#ifndef BROOK_KAFKA_CONSUMER_RECORD_H_
#define BROOK_KAFKA_CONSUMER_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "brook/kafka/header.h"

namespace brook {

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

}  // namespace brook

#endif  // BROOK_KAFKA_CONSUMER_RECORD_H_
