// `brook state inspect`: what a Brook state directory holds, read without
// changing it (RocksDB stores are opened read-only, locks are only looked
// at, never taken), so it is safe while the application runs.
// Threading model: functions only.
#ifndef BROOK_TOOLS_BROOK_STATE_INSPECT_H_
#define BROOK_TOOLS_BROOK_STATE_INSPECT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "tools/brook/internal/command.h"

namespace brook::tool {

struct StoreInfo {
  std::string name;
  std::string path;
  int64_t bytes = 0;  // size on disk
  // The stored changelog offset (first offset not yet in the store);
  // nullopt if nothing was committed, or if `error` is set.
  std::optional<int64_t> changelog_offset;
  int64_t estimated_keys = 0;
  // Why the store could not be read (names the file); empty if it could.
  std::string error;
};

struct TaskInfo {
  std::string id;  // the directory's name, e.g. "0_1"
  std::string path;
  std::string lock;  // "unlocked" or "locked by pid N"
  std::vector<StoreInfo> stores;
};

struct AppStateInfo {
  std::string application_id;  // the directory's name
  std::string path;
  std::string lock;  // "unlocked" or "locked by pid N"
  std::vector<TaskInfo> tasks;
};

// Inspects `dir`: either one application's directory (it holds
// brook.metadata) or a state.dir holding such directories, of which
// `application_id` (if not empty) picks one. A store that cannot be read
// is reported in its StoreInfo::error, and the others are still read.
// kNotFound, naming the directory, if there is no application state there.
absl::StatusOr<std::vector<AppStateInfo>> InspectStateDir(
    const std::string& dir, const std::string& application_id);

// Who holds the flock on `lock_file`, from /proc/locks: "unlocked",
// "locked by pid N", or "no lock file".
std::string LockHolder(const std::string& lock_file);

std::string StateReport(const std::vector<AppStateInfo>& apps);

Command StateInspectCommand();

}  // namespace brook::tool

#endif  // BROOK_TOOLS_BROOK_STATE_INSPECT_H_
