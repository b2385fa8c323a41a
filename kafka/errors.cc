#include "brook/kafka/errors.h"

#include <optional>

#include "absl/strings/cord.h"

namespace brook {
namespace {

constexpr absl::string_view kPayloadUrl = "type.brook.dev/kafka.error_class";
constexpr absl::string_view kCodeUrl = "type.brook.dev/kafka.error_code";

absl::string_view ClassName(KafkaErrorClass c) {
  switch (c) {
    case KafkaErrorClass::kRetriable:
      return "retriable";
    case KafkaErrorClass::kAbortable:
      return "abortable";
    case KafkaErrorClass::kFatal:
      return "fatal";
    case KafkaErrorClass::kNone:
      break;
  }
  return "";
}

}  // namespace

absl::Status KafkaError(KafkaErrorClass error_class,
                        absl::string_view message) {
  absl::StatusCode code = absl::StatusCode::kUnknown;
  switch (error_class) {
    case KafkaErrorClass::kRetriable:
      code = absl::StatusCode::kUnavailable;
      break;
    case KafkaErrorClass::kAbortable:
    case KafkaErrorClass::kFatal:
      code = absl::StatusCode::kAborted;
      break;
    case KafkaErrorClass::kNone:
      return absl::Status(absl::StatusCode::kUnknown, message);
  }
  absl::Status status(code, message);
  status.SetPayload(kPayloadUrl, absl::Cord(ClassName(error_class)));
  return status;
}

KafkaErrorClass GetKafkaErrorClass(const absl::Status& status) {
  if (status.ok()) return KafkaErrorClass::kNone;
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return KafkaErrorClass::kNone;
  for (KafkaErrorClass c :
       {KafkaErrorClass::kRetriable, KafkaErrorClass::kAbortable,
        KafkaErrorClass::kFatal}) {
    if (*payload == ClassName(c)) return c;
  }
  return KafkaErrorClass::kNone;
}

std::string KafkaErrorCode(const absl::Status& status) {
  auto payload = status.GetPayload(kCodeUrl);
  return payload.has_value() ? std::string(*payload) : std::string();
}

absl::Status WithKafkaErrorCode(absl::Status status, absl::string_view code) {
  if (!status.ok()) status.SetPayload(kCodeUrl, absl::Cord(code));
  return status;
}

bool IsGroupMembershipLost(const absl::Status& status) {
  const std::string code = KafkaErrorCode(status);
  return code == "ILLEGAL_GENERATION" || code == "UNKNOWN_MEMBER_ID" ||
         code == "FENCED_INSTANCE_ID";
}

}  // namespace brook
