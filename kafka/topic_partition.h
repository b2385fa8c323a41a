// TopicPartition and TopicPartitionOffset: small value types naming a
// partition and a position in it.
// Thread-safety: plain values; safe to copy between threads.
#ifndef BROOK_KAFKA_TOPIC_PARTITION_H_
#define BROOK_KAFKA_TOPIC_PARTITION_H_

#include <cstdint>
#include <string>
#include <utility>

namespace brook {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  friend bool operator==(const TopicPartition&,
                         const TopicPartition&) = default;
  friend auto operator<=>(const TopicPartition&,
                          const TopicPartition&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const TopicPartition& tp) {
    return H::combine(std::move(h), tp.topic, tp.partition);
  }
  // "topic-3", as Kafka's tools print it.
  std::string ToString() const;
};

// Offsets here are Kafka's: the offset of the next record to consume, as
// committed offsets are ("last processed + 1").
struct TopicPartitionOffset {
  TopicPartition tp;
  int64_t offset = -1;

  friend bool operator==(const TopicPartitionOffset&,
                         const TopicPartitionOffset&) = default;
  std::string ToString() const;
};

// librdkafka's logical offsets, for the few places that accept them.
inline constexpr int64_t kOffsetBeginning = -2;
inline constexpr int64_t kOffsetEnd = -1;
inline constexpr int64_t kOffsetInvalid = -1001;

}  // namespace brook

#endif  // BROOK_KAFKA_TOPIC_PARTITION_H_
