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
// With a store (VS not void), the stream thread reads the record's key's
// entry when it submits the record, hands it to the call as a KeyState, and
// writes back what the call left there when it forwards the result, before
// submitting the key's next record. Workers never touch the store.
//
// A call running longer than AsyncOptions::timeout fails the task; the
// check runs on every poll of the background work and while a commit
// waits.
//
// Threading model: the processor is owned by its task and used on its
// stream thread; AsyncCompletions and SharedWorkerPool are thread-safe.
#ifndef BROOK_OPERATORS_INTERNAL_ASYNC_MAP_VALUES_H_
#define BROOK_OPERATORS_INTERNAL_ASYNC_MAP_VALUES_H_

#include <algorithm>
#include <atomic>
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

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/operators/async_options.h"
#include "brook/operators/internal/functions.h"
#include "brook/operators/key_state.h"
#include "brook/runtime/background_work.h"
#include "brook/runtime/internal/worker_pool.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/processor.h"

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

  // Records all the node's tasks hold (AsyncOptions.max_in_flight_total).
  std::atomic<int64_t>& in_flight() { return in_flight_; }

 private:
  std::atomic<int64_t> in_flight_{0};
  const int threads_;
  absl::Mutex mu_;
  std::shared_ptr<WorkerPool> pool_ ABSL_GUARDED_BY(mu_);
};

// The results of one processor instance's jobs.
template <typename K, typename V, typename VR, typename State>
class AsyncCompletions {
 public:
  struct Completion {
    std::shared_ptr<const Record<K, V>> record;
    absl::StatusOr<VR> result;
    State state;  // the key's entry as the function left it
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

// The function's call on a worker: fn(key, value) when VS is void, else
// fn(key, value, state) with the record's key's entry of a KeyValueStore<K,
// VS>.
template <typename VS>
struct AsyncState {
  using Type = KeyState<VS>;
};
template <>
struct AsyncState<void> {
  struct Type {};
};

template <typename K, typename V, typename VS, typename F>
decltype(auto) CallAsync(F& fn, const Record<K, V>& r,
                         typename AsyncState<VS>::Type& state) {
  if constexpr (std::is_void_v<VS>) {
    return CallKeyValue<K, V>(fn, r);
  } else {
    BindLastMutable<F, KeyState<VS>> bound{fn, state};
    return CallKeyValue<K, V>(bound, r);
  }
}

template <typename K, typename V, typename VS, typename F>
bool CanCallAsync(const Record<K, V>& r) {
  if constexpr (std::is_void_v<VS>) {
    return CanCallKeyValue<K, V, F>(r);
  } else {
    // A store holds no null key.
    return r.key.has_value() &&
           CanCallKeyValue<K, V, BindLastMutable<F, KeyState<VS>>>(r);
  }
}

template <typename K, typename V, typename VR, typename VS, typename F>
class AsyncMapValuesProcessor final : public Processor<K, V, K, VR> {
 public:
  // `store_name` is empty when VS is void.
  AsyncMapValuesProcessor(std::string name, std::shared_ptr<F> fn,
                          std::shared_ptr<SharedWorkerPool> pool,
                          AsyncOptions options, std::string store_name = "")
      : name_(std::move(name)),
        fn_(std::move(fn)),
        pool_holder_(std::move(pool)),
        options_(options),
        store_name_(std::move(store_name)) {}

  ~AsyncMapValuesProcessor() override { Close(); }

  absl::Status Init(ProcessorContext<K, VR>& context) override {
    context_ = &context;
    if constexpr (!std::is_void_v<VS>) {
      absl::StatusOr<KeyValueStore<K, VS>*> store =
          context.template GetStateStore<KeyValueStore<K, VS>>(store_name_);
      if (!store.ok()) {
        return absl::Status(
            store.status().code(),
            absl::StrCat("'", name_, "': ", store.status().message()));
      }
      store_ = *store;
    }
    pool_ = pool_holder_->Get();
    context.RegisterCommitHook([this] { return Drain(); });
    context.RegisterBackgroundWork(BackgroundWork{
        .poll =
            [this](BackgroundWorkStats* stats) {
              absl::Status s = ForwardCompleted(completions_->Take());
              if (s.ok()) s = CheckTimeouts();
              stats->Add(stats_);
              stats_ = {};
              return s;
            },
        .in_flight = [this] { return in_flight_; },
        .accepting =
            [this] {
              return in_flight_ < options_.max_in_flight &&
                     (options_.max_in_flight_total == 0 ||
                      pool_holder_->in_flight().load() <
                          options_.max_in_flight_total);
            },
    });
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, V>& record) override {
    BROOK_RETURN_IF_ERROR(error_);
    // As MapValues: a function that takes the key or value plainly is not
    // called for a null one, and the record is dropped.
    if (!CanCallAsync<K, V, VS, F>(record)) return absl::OkStatus();
    std::deque<Pending>& lane = lanes_[record.key];
    Pending p{std::make_shared<const Record<K, V>>(record), absl::Now(),
              std::make_shared<std::atomic<int64_t>>(0),
              context_->record_metadata()};
    lane.push_back(std::move(p));
    ++in_flight_;
    pool_holder_->in_flight().fetch_add(1);
    if (lane.size() == 1) return Submit(lane.front());
    return absl::OkStatus();
  }

  void Close() override {
    completions_->Close();
    lanes_.clear();
    pool_holder_->in_flight().fetch_sub(in_flight_);
    in_flight_ = 0;
  }

 private:
  using State = typename AsyncState<VS>::Type;
  struct Pending {
    std::shared_ptr<const Record<K, V>> record;
    absl::Time accepted;
    // When the call started, in Unix microseconds; 0 until it does.
    std::shared_ptr<std::atomic<int64_t>> started_micros;
    std::optional<RecordMetadata> metadata;  // for error messages
  };
  using Completions = AsyncCompletions<K, V, VR, State>;

  // Reads the key's entry (if there is a store) and queues the call.
  absl::Status Submit(const Pending& p) {
    if constexpr (std::is_void_v<VS>) {
      Enqueue(p, State{});
    } else {
      absl::StatusOr<std::optional<VS>> current = store_->Get(*p.record->key);
      if (!current.ok()) {
        error_ = absl::Status(
            current.status().code(),
            absl::StrCat("'", name_, "': reading store '", store_name_,
                         "': ", current.status().message()));
        return error_;
      }
      Enqueue(p, State(*std::move(current)));
    }
    return absl::OkStatus();
  }

  void Enqueue(const Pending& p, State state) {
    pool_->Submit([completions = completions_, fn = fn_, record = p.record,
                   accepted = p.accepted, started = p.started_micros,
                   state = std::move(state)]() mutable {
      if (!completions->open()) return;  // the task closed meanwhile
      const absl::Time start = absl::Now();
      started->store(absl::ToUnixMicros(start));
      absl::StatusOr<VR> result = CallAsync<K, V, VS>(*fn, *record, state);
      const absl::Time end = absl::Now();
      completions->Add(typename Completions::Completion{
          record, std::move(result), std::move(state),
          absl::ToInt64Microseconds(start - accepted),
          absl::ToInt64Microseconds(end - start)});
    });
  }

  // Fails the task if a call has run longer than options_.timeout.
  absl::Status CheckTimeouts() {
    const int64_t now = absl::ToUnixMicros(absl::Now());
    const int64_t limit = absl::ToInt64Microseconds(options_.timeout);
    BROOK_RETURN_IF_ERROR(error_);
    for (const auto& [key, lane] : lanes_) {
      if (lane.empty()) continue;  // its head failed (error_ is set)
      const Pending& head = lane.front();
      const int64_t started = head.started_micros->load();
      if (started == 0 || now - started <= limit) continue;
      std::string where = "a record";
      if (head.metadata.has_value()) {
        where = absl::StrCat("the record at ", head.metadata->topic, "-",
                             head.metadata->partition, " offset ",
                             head.metadata->offset);
      }
      error_ = absl::DeadlineExceededError(
          absl::StrCat("'", name_, "': the function has run ",
                       absl::FormatDuration(absl::Microseconds(now - started)),
                       " on ", where, ", longer than AsyncOptions.timeout (",
                       absl::FormatDuration(options_.timeout),
                       "); the call is abandoned and the task fails"));
      return error_;
    }
    return absl::OkStatus();
  }

  // The commit hook: forwards results until no record is held.
  absl::Status Drain() {
    for (;;) {
      BROOK_RETURN_IF_ERROR(ForwardCompleted(completions_->Take()));
      if (in_flight_ == 0) return absl::OkStatus();
      BROOK_RETURN_IF_ERROR(CheckTimeouts());
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
      pool_holder_->in_flight().fetch_sub(1);
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
      // The entry is written before the key's next record reads it.
      if constexpr (!std::is_void_v<VS>) {
        if (c.state.written()) {
          absl::Status s = c.state.Get().has_value()
                               ? store_->Put(*c.record->key, *c.state.Get())
                               : store_->Delete(*c.record->key);
          if (!s.ok()) {
            error_ = absl::Status(
                s.code(), absl::StrCat("'", name_, "': writing store '",
                                       store_name_, "': ", s.message()));
            return error_;
          }
        }
      }
      // The lane's next record runs while this one's output is forwarded.
      if (lane->second.empty()) {
        lanes_.erase(lane);
      } else {
        BROOK_RETURN_IF_ERROR(Submit(lane->second.front()));
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
  const std::string store_name_;
  const std::shared_ptr<Completions> completions_ =
      std::make_shared<Completions>();
  std::shared_ptr<WorkerPool> pool_;
  ProcessorContext<K, VR>* context_ = nullptr;
  KeyValueStore<K, VS>* store_ = nullptr;  // null when VS is void
  // The records held, per key, in input order; the head is running.
  absl::flat_hash_map<std::optional<K>, std::deque<Pending>> lanes_;
  int64_t in_flight_ = 0;
  // The first failure of the function; every later call returns it.
  absl::Status error_;
  BackgroundWorkStats stats_;  // since the last poll
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_ASYNC_MAP_VALUES_H_
