// `brook state verify`: checks each local key-value store of an application
// against its changelog. For every store of every task it reads the
// changelog partition (read_committed) below the store's stored changelog
// offset, folds it to the latest value per key (a tombstone deletes), and
// compares that with the store's committed contents (opened read-only).
//
// Window and session stores keep their data under segment-prefixed keys
// that the changelog does not carry; they are recognised by their stored
// stream time and skipped.
// Threading model: functions only.
#ifndef BROOK_TOOLS_BROOK_STATE_VERIFY_H_
#define BROOK_TOOLS_BROOK_STATE_VERIFY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "brook/kafka/client_config.h"
#include "tools/brook/internal/command.h"

namespace brook::tool {

struct Mismatch {
  std::string store_path;
  std::string key;
  std::optional<std::string> local;      // nullopt: absent locally
  std::optional<std::string> changelog;  // nullopt: absent (or deleted)
};

struct VerifyReport {
  int64_t stores_checked = 0;
  int64_t keys_checked = 0;
  std::vector<std::string> skipped;  // "<path>: why"
  std::vector<std::string> errors;   // stores that could not be read
  std::vector<Mismatch> mismatches;
};

// Verifies the application's state under `state_dir` (as `brook state
// inspect` finds it). Errors of one store are collected in the report; the
// call fails only if the directory holds no state (kNotFound) or the
// cluster cannot be reached.
absl::StatusOr<VerifyReport> VerifyState(const std::string& state_dir,
                                         const std::string& application_id,
                                         const ClientConfig& kafka,
                                         absl::Duration timeout);

std::string VerifyText(const VerifyReport& report);

Command StateVerifyCommand();

}  // namespace brook::tool

#endif  // BROOK_TOOLS_BROOK_STATE_VERIFY_H_
