// StateDirectory: an application's directory of local state,
// <state.dir>/<application.id>/.
//
// Opening it takes an exclusive lock (flock on `.lock`), so two instances
// never share one state directory, and reads the directory's metadata file,
// creating it on first use. The metadata carries the process id: a random id
// chosen once and kept, from which each stream thread derives a
// transactional.id that stays the same across restarts. A restarted instance
// therefore fences its own crashed predecessor.
//
// Each task keeps its stores in <state.dir>/<application.id>/<task id>/,
// locked (flock) while a stream thread owns the task, so two threads never
// open the same store. Directories of tasks nobody owned for a while are
// deleted by CleanObsoleteTaskDirectories().
//
// Threading model: thread-safe; immutable after Open(); the directory lock
// is held until destruction.
#ifndef BROOK_STATE_STATE_DIRECTORY_H_
#define BROOK_STATE_STATE_DIRECTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace brook {

// A locked task directory. Releases the lock when destroyed.
// Threading model: owned by one task.
class TaskDirectory {
 public:
  TaskDirectory(std::string path, int lock_fd)
      : path_(std::move(path)), lock_fd_(lock_fd) {}
  TaskDirectory(const TaskDirectory&) = delete;
  TaskDirectory& operator=(const TaskDirectory&) = delete;
  ~TaskDirectory();
  const std::string& path() const { return path_; }

  // Creates (if needed) and locks <path>/<task>/. kFailedPrecondition if
  // another thread or process holds it.
  absl::StatusOr<std::unique_ptr<TaskDirectory>> LockTaskDirectory(
      const std::string& task) const;

  // Deletes the task directories that no one holds and that were last
  // locked more than `delay` ago. Returns the names of those deleted.
  std::vector<std::string> CleanObsoleteTaskDirectories(
      absl::Duration delay) const;

 private:
  const std::string path_;
  const int lock_fd_;
};

class StateDirectory {
 public:
  // Opens <root>/<application_id>, creating both if needed.
  // Errors: kFailedPrecondition if another process holds the lock;
  // kDataLoss if the metadata file is unreadable or belongs to another
  // application (the message names the file and what to do);
  // kInvalidArgument for an empty root or application id.
  static absl::StatusOr<std::unique_ptr<StateDirectory>> Open(
      const std::string& root, const std::string& application_id);

  StateDirectory(const StateDirectory&) = delete;
  StateDirectory& operator=(const StateDirectory&) = delete;
  ~StateDirectory();

  const std::string& path() const { return path_; }

  // Creates (if needed) and locks <path>/<task>/. kFailedPrecondition if
  // another thread or process holds it.
  absl::StatusOr<std::unique_ptr<TaskDirectory>> LockTaskDirectory(
      const std::string& task) const;

  // Deletes the task directories that no one holds and that were last
  // locked more than `delay` ago. Returns the names of those deleted.
  std::vector<std::string> CleanObsoleteTaskDirectories(
      absl::Duration delay) const;
  // 32 lowercase hex digits, stable for the life of the directory.
  const std::string& process_id() const { return process_id_; }

 private:
  StateDirectory(std::string path, std::string process_id, int lock_fd)
      : path_(std::move(path)),
        process_id_(std::move(process_id)),
        lock_fd_(lock_fd) {}

  const std::string path_;
  const std::string process_id_;
  const int lock_fd_;
};

}  // namespace brook

#endif  // BROOK_STATE_STATE_DIRECTORY_H_
