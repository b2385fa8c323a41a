#ifndef BROOK_RUNTIME_PROCESSING_GUARANTEE_H_
#define BROOK_RUNTIME_PROCESSING_GUARANTEE_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace brook {

// processing.guarantee, with Kafka Streams' names.
enum class ProcessingGuarantee {
  // Outputs and consumed offsets commit atomically in one Kafka transaction
  // (KIP-447, one transactional producer per thread). Nothing a failure
  // leaves half-done is visible to read_committed consumers.
  kExactlyOnceV2,
  // Outputs are flushed, then offsets committed through the group. A crash
  // between the two replays records: duplicates, never loss.
  kAtLeastOnce,
};

// "exactly_once_v2" / "at_least_once".
absl::string_view ProcessingGuaranteeName(ProcessingGuarantee g);
std::optional<ProcessingGuarantee> ParseProcessingGuarantee(
    absl::string_view s);

}  // namespace brook

#endif  // BROOK_RUNTIME_PROCESSING_GUARANTEE_H_
