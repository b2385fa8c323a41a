#include "brook/runtime/internal/worker_pool.h"

#include <utility>

#include "brook/base/logging.h"

namespace brook::internal {

WorkerPool::WorkerPool(int threads, absl::Duration abandon_after)
    : abandon_after_(abandon_after) {
  CHECK(threads >= 1) << "a worker pool needs at least one thread";
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back(Run, shared_);
}

WorkerPool::~WorkerPool() {
  std::deque<std::function<void()>> dropped;
  bool idle = false;
  {
    absl::MutexLock lock(&shared_->mu);
    shared_->stopping = true;
    dropped.swap(shared_->jobs);
    Shared* s = shared_.get();
    idle = shared_->mu.AwaitWithTimeout(
        absl::Condition(
            +[](Shared* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu) {
              return p->running == 0;
            },
            s),
        abandon_after_);
    if (!idle) {
      LOG(WARNING) << "worker pool: " << shared_->running
                   << " jobs still running after " << abandon_after_
                   << "; their threads are left to finish on their own";
    }
  }
  for (std::thread& t : threads_) {
    if (idle) {
      t.join();
    } else {
      t.detach();
    }
  }
  // `dropped` is destroyed here, outside the lock: a job's captures may be
  // the last owners of what its task shared with it.
}

int WorkerPool::running() const {
  absl::MutexLock lock(&shared_->mu);
  return shared_->running;
}

void WorkerPool::Submit(std::function<void()> job) {
  absl::MutexLock lock(&shared_->mu);
  if (shared_->stopping) return;
  shared_->jobs.push_back(std::move(job));
}

void WorkerPool::Run(std::shared_ptr<Shared> shared) {
  Shared* s = shared.get();
  for (;;) {
    std::function<void()> job;
    {
      absl::MutexLock lock(&s->mu);
      s->mu.Await(absl::Condition(
          +[](Shared* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu) {
            return p->stopping || !p->jobs.empty();
          },
          s));
      if (s->stopping) return;
      job = std::move(s->jobs.front());
      s->jobs.pop_front();
      ++s->running;
    }
    job();
    job = nullptr;  // its captures go before the pool may be gone
    absl::MutexLock lock(&s->mu);
    --s->running;
  }
}

}  // namespace brook::internal
