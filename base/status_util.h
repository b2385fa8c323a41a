// Helpers for adding context to an absl::Status without losing what it
// carries: the code and the payloads (Kafka's error class and code, which
// the runtime's error handling reads).
#ifndef BROOK_BASE_STATUS_UTIL_H_
#define BROOK_BASE_STATUS_UTIL_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace brook {

// `status` with "<prefix>: " before its message; code and payloads kept.
inline absl::Status Annotate(const absl::Status& status,
                             absl::string_view prefix) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(prefix, ": ", status.message()));
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) {
        out.SetPayload(url, payload);
      });
  return out;
}

}  // namespace brook

#endif  // BROOK_BASE_STATUS_UTIL_H_
