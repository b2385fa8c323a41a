#include "brook/runtime/dropped_records.h"

namespace brook {

absl::string_view DroppedRecordReasonName(DroppedRecordReason reason) {
  switch (reason) {
    case DroppedRecordReason::kNullKey:
      return "null-key";
    case DroppedRecordReason::kNullValue:
      return "null-value";
    case DroppedRecordReason::kWindowClosed:
      return "window-closed";
    case DroppedRecordReason::kDeserializationError:
      return "deserialization-error";
    case DroppedRecordReason::kProcessingError:
      return "processing-error";
    case DroppedRecordReason::kProductionError:
      return "production-error";
  }
  return "unknown";
}

}  // namespace brook
