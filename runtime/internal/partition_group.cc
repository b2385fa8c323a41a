#include "brook/runtime/internal/partition_group.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace brook::internal {
namespace {

int64_t RecordBytes(const ConsumerRecord& r) {
  constexpr int64_t kOverhead = 96;  // the record, its strings, the deque
  int64_t n = kOverhead + static_cast<int64_t>(r.topic.size());
  if (r.key) n += static_cast<int64_t>(r.key->size());
  if (r.value) n += static_cast<int64_t>(r.value->size());
  for (const auto& h : r.headers)
    n += static_cast<int64_t>(h.first.size() + h.second.size());
  return n;
}

}  // namespace

RecordQueue* PartitionGroup::Find(absl::string_view topic, int32_t partition) {
  for (RecordQueue& q : queues_) {
    if (q.partition().partition == partition && q.partition().topic == topic) {
      return &q;
    }
  }
  return nullptr;
}

absl::Status PartitionGroup::Add(ConsumerRecord&& record) {
  RecordQueue* q = Find(record.topic, record.partition);
  if (q == nullptr) {
    return absl::NotFoundError(absl::StrCat("partition ", record.topic, "-",
                                            record.partition,
                                            " is not in this task"));
  }
  const int64_t bytes = RecordBytes(record);
  // Data arrived: a later idle wait of this partition starts over.
  idle_deadline_ms_[static_cast<size_t>(q - queues_.data())] = -1;
  absl::Status s = q->Add(std::move(record));
  if (s.ok()) buffered_bytes_ += bytes;
  return s;
}

bool PartitionGroup::ReadyWithEmptyQueues(
    int64_t max_idle_ms, const LagFn& lag,
    const std::function<int64_t()>& now_ms) {
  bool any_buffered = false;
  bool enforced = false;
  std::optional<int64_t> now;
  for (size_t i = 0; i < queues_.size(); ++i) {
    if (!queues_[i].empty()) {
      idle_deadline_ms_[i] = -1;
      any_buffered = true;
      continue;
    }
    const std::optional<int64_t> behind =
        lag ? lag(queues_[i].partition()) : std::optional<int64_t>(0);
    if (!behind.has_value() || *behind > 0) {
      // Unknown lag: wait for the consumer to learn it. Lag > 0: wait for
      // the records that are known to be there.
      idle_deadline_ms_[i] = -1;
      return false;
    }
    if (!now.has_value()) now = now_ms();
    if (idle_deadline_ms_[i] < 0) idle_deadline_ms_[i] = *now + max_idle_ms;
    if (*now < idle_deadline_ms_[i]) return false;
    enforced = true;
  }
  if (!any_buffered) return false;
  if (enforced) ++enforced_processing_;
  return true;
}

bool PartitionGroup::Next(StampedRecord* out) {
  RecordQueue* best = nullptr;
  for (RecordQueue& q : queues_) {
    if (q.empty()) continue;
    if (best == nullptr || q.head_timestamp() < best->head_timestamp())
      best = &q;
  }
  if (best == nullptr) return false;
  best->Pop(out);
  out->queue_index = static_cast<size_t>(best - queues_.data());
  buffered_bytes_ -= RecordBytes(out->record);
  stream_time_ = std::max(stream_time_, out->timestamp_ms);
  return true;
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
  std::fill(idle_deadline_ms_.begin(), idle_deadline_ms_.end(), -1);
  buffered_bytes_ = 0;
}

}  // namespace brook::internal
