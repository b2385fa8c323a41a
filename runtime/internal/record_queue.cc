#include "brook/runtime/internal/record_queue.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace brook::internal {

absl::Status RecordQueue::Add(ConsumerRecord record) {
  absl::StatusOr<int64_t> ts = extractor_(record, partition_time_);
  if (!ts.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("timestamp of ", record.topic, "-", record.partition, "@",
                     record.offset, ": ", ts.status().message()));
  }
  partition_time_ = std::max(partition_time_, *ts);
  records_.push_back({std::move(record), *ts});
  return absl::OkStatus();
}

StampedRecord RecordQueue::Pop() {
  StampedRecord r = std::move(records_.front());
  records_.pop_front();
  return r;
}

}  // namespace brook::internal
