// WorkerPool: a fixed set of threads running submitted jobs in submission
// order (first come, first served). The DSL's MapValuesAsync shares one pool
// between every task's instance of its node, so an instance with T tasks runs
// N threads, not T x N.
//
// A job must own, or share through a std::shared_ptr, everything it touches:
// the task that submitted it may close while the job waits or runs.
//
// Threading model: thread-safe. The destructor stops taking jobs, drops the
// jobs that have not started and joins the threads (waiting for running
// jobs). REQUIRES: not destroyed from one of its own jobs.
#ifndef BROOK_RUNTIME_INTERNAL_WORKER_POOL_H_
#define BROOK_RUNTIME_INTERNAL_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace brook::internal {

class WorkerPool {
 public:
  // Starts `threads` threads (REQUIRES: threads >= 1).
  explicit WorkerPool(int threads);
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> job);

  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void Run();

  std::vector<std::thread> threads_;

  absl::Mutex mu_;
  // Guarded by mu_.
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_WORKER_POOL_H_
