#include "runtime/internal/worker_pool.h"

#include <utility>

#include "base/logging.h"

namespace brook::internal {

WorkerPool::WorkerPool(int threads) {
  CHECK(threads >= 1) << "a worker pool needs at least one thread";
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() {
  std::deque<std::function<void()>> dropped;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    dropped.swap(jobs_);
  }
  for (std::thread& t : threads_) t.join();
  // `dropped` is destroyed here, outside the lock: a job's captures may be
  // the last owners of what its task shared with it.
}

void WorkerPool::Submit(std::function<void()> job) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  jobs_.push_back(std::move(job));
}

void WorkerPool::Run() {
  for (;;) {
    std::function<void()> job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkerPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
            return p->stopping_ || !p->jobs_.empty();
          },
          this));
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace brook::internal
