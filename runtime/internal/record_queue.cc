#include "brook/runtime/internal/record_queue.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace brook::internal {

absl::Status RecordQueue::Add(ConsumerRecord&& record) {
  absl::StatusOr<int64_t> ts = extractor_(record, partition_time_);
  if (!ts.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("timestamp of ", record.topic, "-", record.partition, "@",
                     record.offset, ": ", ts.status().message()));
  }
  partition_time_ = std::max(partition_time_, *ts);
  StampedRecord& slot = records_.push_back_slot();
  slot.record = std::move(record);
  slot.timestamp_ms = *ts;
  slot.queue_index = 0;
  return absl::OkStatus();
}

void RecordQueue::Pop(StampedRecord* out) {
  StampedRecord& head = records_.front();
  out->record = std::move(head.record);
  out->timestamp_ms = head.timestamp_ms;
  records_.drop_front();
}

StampedRecord RecordQueue::Pop() {
  StampedRecord r;
  Pop(&r);
  return r;
}

}  // namespace brook::internal
