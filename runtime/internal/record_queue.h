// RecordQueue: the buffered records of one input partition of a task, in
// offset order, each stamped with its extracted event time.
// Threading model: owned by one task.
#ifndef BROOK_RUNTIME_INTERNAL_RECORD_QUEUE_H_
#define BROOK_RUNTIME_INTERNAL_RECORD_QUEUE_H_

#include <cstdint>

#include "absl/status/status.h"

#include "brook/base/ring_buffer.h"
#include "brook/kafka/consumer_record.h"
#include "brook/kafka/topic_partition.h"
#include "brook/runtime/timestamp_extractor.h"

namespace brook::internal {

struct StampedRecord {
  ConsumerRecord record;
  int64_t timestamp_ms = 0;
  // Set by PartitionGroup::Next(): the index of the queue it came from, so
  // that per-partition bookkeeping needs no lookup by topic name.
  size_t queue_index = 0;
};

class RecordQueue {
 public:
  RecordQueue(TopicPartition partition, TimestampExtractor extractor)
      : partition_(std::move(partition)), extractor_(std::move(extractor)) {}

  // Extracts the timestamp and appends. A record whose timestamp cannot be
  // extracted is an error naming its topic, partition and offset; the queue
  // is unchanged.
  absl::Status Add(ConsumerRecord&& record);

  bool empty() const { return records_.empty(); }
  size_t size() const { return records_.size(); }
  // REQUIRES: !empty().
  int64_t head_timestamp() const { return records_.front().timestamp_ms; }
  // Moves the first record into *out (whose queue_index it leaves as is)
  // and removes it. REQUIRES: !empty().
  void Pop(StampedRecord* out);
  StampedRecord Pop();
  void Clear() { records_.clear(); }

  const TopicPartition& partition() const { return partition_; }
  // Highest timestamp extracted on this partition, -1 before the first.
  int64_t partition_time() const { return partition_time_; }

 private:
  const TopicPartition partition_;
  const TimestampExtractor extractor_;
  // A ring, not a deque: a deque allocated a node every two records.
  RingBuffer<StampedRecord> records_;
  int64_t partition_time_ = -1;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_RECORD_QUEUE_H_
