#include "brook/runtime/error_handlers.h"

namespace brook {

absl::string_view RecordErrorKindName(RecordErrorKind kind) {
  switch (kind) {
    case RecordErrorKind::kDeserialization:
      return "deserialization-error";
    case RecordErrorKind::kProcessing:
      return "processing-error";
    case RecordErrorKind::kProduction:
      return "production-error";
  }
  return "unknown";
}

RecordErrorHandler LogAndFailHandler() {
  return [](const RecordErrorContext&) { return ErrorHandlerResponse::kFail; };
}

RecordErrorHandler LogAndContinueHandler() {
  return
      [](const RecordErrorContext&) { return ErrorHandlerResponse::kContinue; };
}

RecordErrorHandler DeadLetterHandler() {
  return [](const RecordErrorContext&) {
    return ErrorHandlerResponse::kDeadLetter;
  };
}

}  // namespace brook
