// Record<K, V>: what processors receive and forward, and RecordMetadata: where
// the record being processed came from.
// Threading model: plain values.
#ifndef BROOK_RUNTIME_RECORD_H_
#define BROOK_RUNTIME_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "brook/kafka/header.h"

namespace brook {

// A typed record. Kafka allows null keys and null values (a tombstone), so
// both are optional; serdes never see nulls, Brook maps them to nullopt.
template <typename K, typename V>
struct Record {
  std::optional<K> key;
  std::optional<V> value;
  // Event time in milliseconds since the epoch, as the timestamp extractor
  // gave it; sinks write it as the output record's timestamp.
  int64_t timestamp_ms = 0;
  std::vector<Header> headers;

  // A copy with another key and value and the same timestamp and headers.
  template <typename K2, typename V2>
  Record<K2, V2> WithKeyValue(std::optional<K2> k, std::optional<V2> v) const {
    return Record<K2, V2>{std::move(k), std::move(v), timestamp_ms, headers};
  }
};

// The input record a processor is working on. Absent inside a punctuation,
// where no input record is being processed.
struct RecordMetadata {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// Output type of a processor that forwards nothing.
struct NoOutput {
  friend bool operator==(NoOutput, NoOutput) { return true; }
};

}  // namespace brook

#endif  // BROOK_RUNTIME_RECORD_H_
