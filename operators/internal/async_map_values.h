// AsyncMapValuesProcessor: the node behind KStream::MapValuesAsync. It runs
// the user's function on a shared WorkerPool, one record of a key at a time
// in input order, different keys at once, and forwards the results on the
// stream thread.
//
// Each task's instance keeps a FIFO lane per key (null keys share one lane).
// Only the head of a lane is submitted; when its result comes back the
// stream thread forwards it and submits the lane's next record. Results
// come back through AsyncCompletions, which the jobs share with the
// instance: a job of a closed instance finds it closed and its result is
// dropped, so no worker touches a task's memory after it closes.
//
// Exactly once: the commit hook waits until the instance holds no record,
// forwarding results as they come. The offsets a commit takes therefore
// cover only records whose outputs are already in the transaction.
//
// Threading model: the processor is owned by its task and used on its
// stream thread; AsyncCompletions and SharedWorkerPool are thread-safe.
#ifndef BROOK_OPERATORS_INTERNAL_ASYNC_MAP_VALUES_H_
#define BROOK_OPERATORS_INTERNAL_ASYNC_MAP_VALUES_H_

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include "base/logging.h"
#include "base/status_macros.h"
#include "operators/async_options.h"
#include "operators/internal/functions.h"
#include "runtime/background_work.h"
#include "runtime/internal/worker_pool.h"
#include "runtime/processor.h"

namespace brook::internal {

template <typename T>
struct IsStatusOr : std::false_type {};
template <typename T>
struct IsStatusOr<absl::StatusOr<T>> : std::true_type {};

// The node's pool, made when its first task initialises (not when the
// topology is built) and shared by all its tasks.
class SharedWorkerPool {
 public:
  explicit SharedWorkerPool(int threads) : threads_(threads) {}

  std::shared_ptr<WorkerPool> Get() {
    absl::MutexLock lock(&mu_);
    if (pool_ == nullptr) pool_ = std::make_shared<WorkerPool>(threads_);
    return pool_;
  }

 private:
  const int threads_;
  absl::Mutex mu_;
  std::shared_ptr<WorkerPool> pool_ ABSL_GUARDED_BY(mu_);
};

// The results of one processor instance's jobs.
template <typename K, typename V, typename VR>
class AsyncCompletions {
 public:
  struct Completion {
    std::shared_ptr<const Record<K, V>> record;
    absl::StatusOr<VR> result;
    int64_t queue_wait_micros = 0;
    int64_t handler_micros = 0;
  };

  // False once closed: a job not started yet skips its call.
  bool open() const {
    absl::MutexLock lock(&mu_);
    return !closed_;
  }
  // Dropped if closed.
  void Add(Completion c) {
    absl::MutexLock lock(&mu_);
    if (!closed_) done_.push_back(std::move(c));
  }
  std::vector<Completion> Take() {
    std::vector<Completion> out;
    absl::MutexLock lock(&mu_);
    out.swap(done_);
    return out;
  }
  // Returns when a completion is queued or `timeout` passed.
  void WaitForAny(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(
        absl::Condition(
            +[](std::vector<Completion>* d) { return !d->empty(); }, &done_),
        timeout);
  }
  void Close() {
    std::vector<Completion> dropped;
    absl::MutexLock lock(&mu_);
    closed_ = true;
    dropped.swap(done_);
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Completion> done_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

template <typename K, typename V, typename VR, typename F>
class AsyncMapValuesProcessor final : public Processor<K, V, K, VR> {
 public:
  AsyncMapValuesProcessor(std::string name, std::shared_ptr<F> fn,
                          std::shared_ptr<SharedWorkerPool> pool,
                          AsyncOptions options)
      : name_(std::move(name)),
        fn_(std::move(fn)),
        pool_holder_(std::move(pool)),
        options_(options) {}

  ~AsyncMapValuesProcessor() override { completions_->Close(); }

  absl::Status Init(ProcessorContext<K, VR>& context) override {
    context_ = &context;
    pool_ = pool_holder_->Get();
    context.RegisterCommitHook([this] { return Drain(); });
    context.RegisterBackgroundWork(BackgroundWork{
        .poll =
            [this](BackgroundWorkStats* stats) {
              absl::Status s = ForwardCompleted(completions_->Take());
              stats->Add(stats_);
              stats_ = {};
              return s;
            },
        .in_flight = [this] { return in_flight_; },
        .accepting = [this] { return in_flight_ < options_.max_in_flight; },
    });
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, V>& record) override {
    BROOK_RETURN_IF_ERROR(error_);
    // As MapValues: a function that takes the key or value plainly is not
    // called for a null one, and the record is dropped.
    if (!CanCallKeyValue<K, V, F>(record)) return absl::OkStatus();
    std::deque<Pending>& lane = lanes_[record.key];
    lane.push_back(
        Pending{std::make_shared<const Record<K, V>>(record), absl::Now()});
    ++in_flight_;
    if (lane.size() == 1) Submit(lane.front());
    return absl::OkStatus();
  }

  void Close() override {
    completions_->Close();
    lanes_.clear();
    in_flight_ = 0;
  }

 private:
  struct Pending {
    std::shared_ptr<const Record<K, V>> record;
    absl::Time accepted;
  };
  using Completions = AsyncCompletions<K, V, VR>;

  void Submit(const Pending& p) {
    pool_->Submit([completions = completions_, fn = fn_, record = p.record,
                   accepted = p.accepted] {
      if (!completions->open()) return;  // the task closed meanwhile
      const absl::Time start = absl::Now();
      absl::StatusOr<VR> result = CallKeyValue<K, V>(*fn, *record);
      const absl::Time end = absl::Now();
      completions->Add(typename Completions::Completion{
          record, std::move(result),
          absl::ToInt64Microseconds(start - accepted),
          absl::ToInt64Microseconds(end - start)});
    });
  }

  // The commit hook: forwards results until no record is held.
  absl::Status Drain() {
    for (;;) {
      BROOK_RETURN_IF_ERROR(ForwardCompleted(completions_->Take()));
      if (in_flight_ == 0) return absl::OkStatus();
      completions_->WaitForAny(absl::Milliseconds(100));
    }
  }

  absl::Status ForwardCompleted(
      std::vector<typename Completions::Completion> done) {
    for (typename Completions::Completion& c : done) {
      BROOK_RETURN_IF_ERROR(error_);
      auto lane = lanes_.find(c.record->key);
      CHECK(lane != lanes_.end() && lane->second.front().record == c.record)
          << name_ << ": a result came back for a record that is not the "
          << "head of its key's lane";
      lane->second.pop_front();
      --in_flight_;
      ++stats_.completed;
      stats_.handler_micros_total += c.handler_micros;
      stats_.handler_micros_max =
          std::max(stats_.handler_micros_max, c.handler_micros);
      stats_.queue_wait_micros_total += c.queue_wait_micros;
      stats_.queue_wait_micros_max =
          std::max(stats_.queue_wait_micros_max, c.queue_wait_micros);
      if (!c.result.ok()) {
        error_ =
            absl::Status(c.result.status().code(),
                         absl::StrCat("'", name_, "': the function failed: ",
                                      c.result.status().message()));
        return error_;
      }
      // The lane's next record runs while this one's output is forwarded.
      if (lane->second.empty()) {
        lanes_.erase(lane);
      } else {
        Submit(lane->second.front());
      }
      BROOK_RETURN_IF_ERROR(
          context_->Forward(c.record->template WithKeyValue<K, VR>(
              c.record->key, std::optional<VR>(*std::move(c.result)))));
    }
    return absl::OkStatus();
  }

  const std::string name_;
  const std::shared_ptr<F> fn_;
  const std::shared_ptr<SharedWorkerPool> pool_holder_;
  const AsyncOptions options_;
  const std::shared_ptr<Completions> completions_ =
      std::make_shared<Completions>();
  std::shared_ptr<WorkerPool> pool_;
  ProcessorContext<K, VR>* context_ = nullptr;
  // The records held, per key, in input order; the head is running.
  absl::flat_hash_map<std::optional<K>, std::deque<Pending>> lanes_;
  int64_t in_flight_ = 0;
  // The first failure of the function; every later call returns it.
  absl::Status error_;
  BackgroundWorkStats stats_;  // since the last poll
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_ASYNC_MAP_VALUES_H_
