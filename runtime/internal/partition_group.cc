#include "runtime/internal/partition_group.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace brook::internal {

RecordQueue* PartitionGroup::Find(const TopicPartition& tp) {
  for (RecordQueue& q : queues_) {
    if (q.partition() == tp) return &q;
  }
  return nullptr;
}

absl::Status PartitionGroup::Add(ConsumerRecord record) {
  RecordQueue* q = Find({record.topic, record.partition});
  if (q == nullptr) {
    return absl::NotFoundError(absl::StrCat("partition ", record.topic, "-",
                                            record.partition,
                                            " is not in this task"));
  }
  return q->Add(std::move(record));
}

std::optional<StampedRecord> PartitionGroup::Next() {
  RecordQueue* best = nullptr;
  for (RecordQueue& q : queues_) {
    if (q.empty()) continue;
    if (best == nullptr || q.head_timestamp() < best->head_timestamp())
      best = &q;
  }
  if (best == nullptr) return std::nullopt;
  StampedRecord r = best->Pop();
  stream_time_ = std::max(stream_time_, r.timestamp_ms);
  return r;
}

size_t PartitionGroup::buffered() const {
  size_t n = 0;
  for (const RecordQueue& q : queues_) n += q.size();
  return n;
}

size_t PartitionGroup::buffered(const TopicPartition& tp) const {
  for (const RecordQueue& q : queues_) {
    if (q.partition() == tp) return q.size();
  }
  return 0;
}

void PartitionGroup::Clear() {
  for (RecordQueue& q : queues_) q.Clear();
}

}  // namespace brook::internal
