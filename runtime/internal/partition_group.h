// PartitionGroup: the record queues of one task's input partitions. The next
// record is the head with the lowest timestamp across queues, so a task that
// reads several co-partitioned topics processes them in event-time order as
// far as the buffered data allows.
// Threading model: owned by one task.
#ifndef BROOK_RUNTIME_INTERNAL_PARTITION_GROUP_H_
#define BROOK_RUNTIME_INTERNAL_PARTITION_GROUP_H_

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "runtime/internal/record_queue.h"

namespace brook::internal {

class PartitionGroup {
 public:
  // One queue per partition, each with its source's extractor.
  explicit PartitionGroup(std::vector<RecordQueue> queues)
      : queues_(std::move(queues)) {}

  // kNotFound if the record's partition is not one of the group's.
  absl::Status Add(ConsumerRecord record);

  // Pops the record with the lowest head timestamp (ties: the queue listed
  // first). nullopt if every queue is empty.
  std::optional<StampedRecord> Next();

  size_t buffered() const;
  // Approximate memory held by the buffered records (keys, values, headers
  // and a fixed overhead per record).
  int64_t buffered_bytes() const { return buffered_bytes_; }
  // Buffered records of one partition; 0 for an unknown partition.
  size_t buffered(const TopicPartition& tp) const;
  // Highest timestamp of any record returned by Next(), -1 before the first.
  int64_t stream_time() const { return stream_time_; }
  void Clear();

 private:
  // By topic and partition, without building a TopicPartition (this runs
  // per record).
  RecordQueue* Find(absl::string_view topic, int32_t partition);

  std::vector<RecordQueue> queues_;
  int64_t stream_time_ = -1;
  int64_t buffered_bytes_ = 0;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_PARTITION_GROUP_H_
