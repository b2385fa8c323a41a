#include "brook/runtime/timestamp_extractor.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace brook {

TimestampExtractor RecordTimestampExtractor() {
  return [](const ConsumerRecord& r, int64_t) -> absl::StatusOr<int64_t> {
    if (r.timestamp_ms < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "record has no valid timestamp (", r.timestamp_ms,
          "); set 'default.timestamp.extractor' to tolerate such records"));
    }
    return r.timestamp_ms;
  };
}

TimestampExtractor PartitionTimeOnInvalidTimestampExtractor() {
  return [](const ConsumerRecord& r,
            int64_t partition_time) -> absl::StatusOr<int64_t> {
    if (r.timestamp_ms >= 0) return r.timestamp_ms;
    if (partition_time >= 0) return partition_time;
    return absl::InvalidArgumentError(
        "record has no valid timestamp and its partition has no time yet");
  };
}

TimestampExtractor WallClockTimestampExtractor() {
  return [](const ConsumerRecord&, int64_t) -> absl::StatusOr<int64_t> {
    return absl::ToUnixMillis(absl::Now());
  };
}

}  // namespace brook
