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
// locked while a stream thread owns the task, so two threads never open the
// same store: an in-process table (threads of this instance, and the
// cleaner) and flock (other processes). Directories of tasks nobody owned
// for a while, judged from when they were last released, are deleted by
// CleanObsoleteTaskDirectories(), never one that a thread holds or is
// taking.
//
// Threading model: thread-safe; the directory lock is held until
// destruction, which must come after every TaskDirectory's.
#ifndef BROOK_STATE_STATE_DIRECTORY_H_
#define BROOK_STATE_STATE_DIRECTORY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace brook {

// A locked task directory. Releases the lock when destroyed, and stamps the
// release time on it: the cleaner judges a directory's age from it.
// Threading model: owned by one task.
class TaskDirectory {
 public:
  TaskDirectory(std::string path, int lock_fd, std::function<void()> release)
      : path_(std::move(path)),
        lock_fd_(lock_fd),
        release_(std::move(release)) {}
  TaskDirectory(const TaskDirectory&) = delete;
  TaskDirectory& operator=(const TaskDirectory&) = delete;
  ~TaskDirectory();
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  const int lock_fd_;
  const std::function<void()> release_;
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

  // Creates (if needed) and locks <path>/<task>/. kUnavailable if another
  // thread, the cleaner or another process holds it: a transient condition
  // while a sibling thread has not yet seen that it lost the task.
  absl::StatusOr<std::unique_ptr<TaskDirectory>> LockTaskDirectory(
      const std::string& task) const;

  // Deletes the task directories that no one holds and that were released
  // more than `delay` ago. Returns the names of those deleted. A thread
  // asking for a directory meanwhile gets kUnavailable, and retries.
  std::vector<std::string> CleanObsoleteTaskDirectories(
      absl::Duration delay) const;
  // 32 lowercase hex digits, stable for the life of the directory.
  const std::string& process_id() const { return process_id_; }

 private:
  StateDirectory(std::string path, std::string process_id, int lock_fd)
      : path_(std::move(path)),
        process_id_(std::move(process_id)),
        lock_fd_(lock_fd) {}

  // Marks `task` in use by this process; false if it already is.
  bool Claim(const std::string& task) const;
  void Unclaim(const std::string& task) const;

  const std::string path_;
  const std::string process_id_;
  const int lock_fd_;
  mutable absl::Mutex mu_;
  // Task directories held or being taken by a thread, or being deleted.
  mutable absl::flat_hash_set<std::string> claimed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace brook

#endif  // BROOK_STATE_STATE_DIRECTORY_H_
