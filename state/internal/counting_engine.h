// CountingEngine: a StoreEngine that counts the calls it forwards to the
// engine it wraps and times its commits, for StateStoreMetrics; once
// EnableLatencyMetrics() is called it also times every get, put and delete.
// Every built-in store (EngineStore) wraps its engine in one, so the
// counters cover key-value, window and session stores alike.
#ifndef BROOK_STATE_INTERNAL_COUNTING_ENGINE_H_
#define BROOK_STATE_INTERNAL_COUNTING_ENGINE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "brook/state/internal/store_engine.h"
#include "brook/state/state_store_metrics.h"

namespace brook::internal {

// Threading model: as StoreEngine (owned by one store, used on its task's
// stream thread); the counters are plain integers for that reason.
class CountingEngine final : public StoreEngine {
 public:
  explicit CountingEngine(std::unique_ptr<StoreEngine> inner)
      : inner_(std::move(inner)) {}

  // Times every Get(), Put() and Delete() from now on: two clock reads a
  // call (metrics.recording.level=DEBUG).
  void EnableLatencyMetrics() { timed_ = true; }

  bool persistent() const override { return inner_->persistent(); }
  absl::Status Open(const std::string& path) override {
    return inner_->Open(path);
  }
  bool is_open() const override { return inner_->is_open(); }
  void Close() override { inner_->Close(); }
  absl::Status Wipe() override { return inner_->Wipe(); }
  std::optional<int64_t> committed_meta(MetaKey key) const override {
    return inner_->committed_meta(key);
  }

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override {
    return Call(gets_, [&] { return inner_->Get(key); });
  }
  absl::Status Put(absl::string_view key, absl::string_view value) override {
    return Call(puts_, [&] { return inner_->Put(key, value); });
  }
  absl::Status Delete(absl::string_view key) override {
    return Call(deletes_, [&] { return inner_->Delete(key); });
  }
  std::unique_ptr<EngineIterator> NewIterator(
      std::optional<absl::string_view> from,
      std::optional<absl::string_view> to) override {
    ++ranges_;
    return inner_->NewIterator(from, to);
  }

  bool has_uncommitted() const override { return inner_->has_uncommitted(); }
  // Counted and timed (a flush in Kafka Streams' terms).
  absl::Status Commit(const CommitExtras& extras) override;
  void Abort() override { inner_->Abort(); }
  absl::Status WriteCommitted(absl::Span<const ChangeRecord> records,
                              const CommitExtras& extras) override {
    return inner_->WriteCommitted(records, extras);
  }
  absl::StatusOr<int64_t> ApproximateNumEntries() override {
    return inner_->ApproximateNumEntries();
  }

  // The wrapped engine's size fields with this engine's counters.
  StateStoreMetrics Metrics() const override;

 private:
  using Clock = std::chrono::steady_clock;

  // Calls of one kind and, when timed, their total and longest time.
  struct CallStats {
    int64_t calls = 0;
    int64_t nanos_total = 0;
    int64_t nanos_max = 0;
    void AddTime(Clock::duration elapsed);
    StateStoreMetrics::Latency latency() const;
  };

  template <typename F>
  std::invoke_result_t<F&> Call(CallStats& stats, F&& call) {
    ++stats.calls;
    if (!timed_) return call();
    const Clock::time_point start = Clock::now();
    auto result = call();
    stats.AddTime(Clock::now() - start);
    return result;
  }

  const std::unique_ptr<StoreEngine> inner_;
  bool timed_ = false;
  CallStats gets_;
  CallStats puts_;
  CallStats deletes_;
  int64_t ranges_ = 0;
  CallStats flushes_;  // always timed
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_COUNTING_ENGINE_H_
