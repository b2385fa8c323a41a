// PartitionGroup: the record queues of one task's input partitions. The next
// record is the head with the lowest timestamp across queues, so a task that
// reads several co-partitioned topics processes them in event-time order as
// far as the buffered data allows.
//
// ReadyToProcess() is Kafka Streams' max.task.idle.ms rule (PartitionGroup.
// readyToProcess in 3.x): a group with several queues may process only
// while every queue holds a record, or while each empty queue's partition
// is known to have nothing to fetch (lag 0) and has stayed so for
// max_idle_ms ("enforced processing": records may then be processed out of
// order with the late partition's). A partition with unknown lag or lag > 0
// holds the group back without a deadline: its data is on its way.
// max_idle_ms < 0 never holds the group back.
//
// Threading model: owned by one task.
#ifndef BROOK_RUNTIME_INTERNAL_PARTITION_GROUP_H_
#define BROOK_RUNTIME_INTERNAL_PARTITION_GROUP_H_

#include <functional>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "brook/runtime/internal/record_queue.h"

namespace brook::internal {

class PartitionGroup {
 public:
  // Records of a partition beyond what has been buffered: the consumer's
  // cached lag (Consumer::CachedLag), nullopt while unknown.
  using LagFn = std::function<std::optional<int64_t>(const TopicPartition&)>;

  // One queue per partition, each with its source's extractor.
  explicit PartitionGroup(std::vector<RecordQueue> queues)
      : queues_(std::move(queues)), idle_deadline_ms_(queues_.size(), -1) {}

  // True if the record Next() returns may be processed now under
  // max.task.idle.ms = `max_idle_ms` (see the file comment); `now_ms` is
  // read only when a queue is empty. With every queue non-empty it costs
  // one test per queue. Counts enforced processing.
  bool ReadyToProcess(int64_t max_idle_ms, const LagFn& lag,
                      const std::function<int64_t()>& now_ms) {
    if (max_idle_ms < 0 || queues_.size() == 1) return true;
    for (const RecordQueue& q : queues_) {
      if (q.empty()) return ReadyWithEmptyQueues(max_idle_ms, lag, now_ms);
    }
    return true;
  }
  // Times ReadyToProcess() let records through past an idle deadline.
  int64_t enforced_processing() const { return enforced_processing_; }

  // kNotFound if the record's partition is not one of the group's.
  absl::Status Add(ConsumerRecord&& record);

  // Moves the record with the lowest head timestamp (ties: the queue listed
  // first) into *out and removes it; false if every queue is empty. *out is
  // the caller's to reuse, so that a record moves twice on its way through
  // the task: into its queue and out of it.
  bool Next(StampedRecord* out);

  size_t num_queues() const { return queues_.size(); }
  // The partition of queue `index` (StampedRecord::queue_index).
  const TopicPartition& partition(size_t index) const {
    return queues_[index].partition();
  }

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
  bool ReadyWithEmptyQueues(int64_t max_idle_ms, const LagFn& lag,
                            const std::function<int64_t()>& now_ms);

  std::vector<RecordQueue> queues_;
  // Per queue: when its idle wait ends (-1: not idling).
  std::vector<int64_t> idle_deadline_ms_;
  int64_t enforced_processing_ = 0;
  int64_t stream_time_ = -1;
  int64_t buffered_bytes_ = 0;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_PARTITION_GROUP_H_
