#include "brook/runtime/processing_guarantee.h"

namespace brook {

absl::string_view ProcessingGuaranteeName(ProcessingGuarantee g) {
  switch (g) {
    case ProcessingGuarantee::kExactlyOnceV2:
      return "exactly_once_v2";
    case ProcessingGuarantee::kAtLeastOnce:
      return "at_least_once";
  }
  return "?";
}

std::optional<ProcessingGuarantee> ParseProcessingGuarantee(
    absl::string_view s) {
  if (s == "exactly_once_v2") return ProcessingGuarantee::kExactlyOnceV2;
  if (s == "at_least_once") return ProcessingGuarantee::kAtLeastOnce;
  return std::nullopt;
}

}  // namespace brook
