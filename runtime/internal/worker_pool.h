// WorkerPool: a fixed set of threads running submitted jobs in submission
// order (first come, first served). The DSL's MapValuesAsync shares one pool
// between every task's instance of its node, so an instance with T tasks runs
// N threads, not T x N.
//
// A job must own, or share through a std::shared_ptr, everything it touches:
// the task that submitted it may close while the job waits or runs, and a
// job still running when the pool is destroyed is abandoned, not waited for.
//
// Threading model: thread-safe. The destructor stops taking jobs, drops the
// jobs that have not started, and waits up to `abandon_after` for running
// jobs; threads still running a job then are detached (they exit when their
// job returns). REQUIRES: not destroyed from one of its own jobs.
#ifndef BROOK_RUNTIME_INTERNAL_WORKER_POOL_H_
#define BROOK_RUNTIME_INTERNAL_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace brook::internal {

class WorkerPool {
 public:
  // Starts `threads` threads (REQUIRES: threads >= 1).
  explicit WorkerPool(int threads,
                      absl::Duration abandon_after = absl::Seconds(5));
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> job);

  int size() const { return static_cast<int>(threads_.size()); }
  // Jobs running now.
  int running() const;

 private:
  // What the threads share with the pool; a detached thread keeps it alive.
  struct Shared {
    mutable absl::Mutex mu;
    std::deque<std::function<void()>> jobs ABSL_GUARDED_BY(mu);
    bool stopping ABSL_GUARDED_BY(mu) = false;
    int running ABSL_GUARDED_BY(mu) = 0;
  };
  static void Run(std::shared_ptr<Shared> shared);

  const absl::Duration abandon_after_;
  const std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  std::vector<std::thread> threads_;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_WORKER_POOL_H_
