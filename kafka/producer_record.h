// ProducerRecord: a record as it enters Kafka.
// Thread-safety: plain values.
#ifndef BROOK_KAFKA_PRODUCER_RECORD_H_
#define BROOK_KAFKA_PRODUCER_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "brook/kafka/header.h"

namespace brook {

// A record to write. `partition` < 0 lets the producer's partitioner pick
// one: murmur2 of the key bytes, as Kafka's Java producer and Kafka Streams
// do (librdkafka's murmur2_random, Producer::Create()'s default; records
// without a key go to a random partition), unless the producer's config
// sets another `partitioner`.
struct ProducerRecord {
  std::string topic;
  int32_t partition = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp_ms = 0;  // 0: the producer's clock
  std::vector<Header> headers;
};

}  // namespace brook

#endif  // BROOK_KAFKA_PRODUCER_RECORD_H_
