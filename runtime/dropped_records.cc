#include "runtime/dropped_records.h"

namespace brook {

absl::string_view DroppedRecordReasonName(DroppedRecordReason reason) {
  switch (reason) {
    case DroppedRecordReason::kNullKey:
      return "null-key";
    case DroppedRecordReason::kNullValue:
      return "null-value";
    case DroppedRecordReason::kWindowClosed:
      return "window-closed";
  }
  return "unknown";
}

}  // namespace brook
