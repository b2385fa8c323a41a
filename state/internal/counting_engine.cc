#include "brook/state/internal/counting_engine.h"

#include <algorithm>

namespace brook::internal {

void CountingEngine::CallStats::AddTime(Clock::duration elapsed) {
  const int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
  nanos_total += nanos;
  nanos_max = std::max(nanos_max, nanos);
}

StateStoreMetrics::Latency CountingEngine::CallStats::latency() const {
  return {.avg_ms = calls > 0 ? nanos_total / 1e6 / calls : 0,
          .max_ms = nanos_max / 1e6};
}

absl::Status CountingEngine::Commit(const CommitExtras& extras) {
  ++flushes_.calls;
  const Clock::time_point start = Clock::now();
  absl::Status status = inner_->Commit(extras);
  flushes_.AddTime(Clock::now() - start);
  return status;
}

StateStoreMetrics CountingEngine::Metrics() const {
  StateStoreMetrics m = inner_->Metrics();
  m.get_total = gets_.calls;
  m.put_total = puts_.calls;
  m.delete_total = deletes_.calls;
  m.range_total = ranges_;
  m.flush_total = flushes_.calls;
  const StateStoreMetrics::Latency flush = flushes_.latency();
  m.flush_latency_avg_ms = flush.avg_ms;
  m.flush_latency_max_ms = flush.max_ms;
  if (timed_) {
    m.get_latency = gets_.latency();
    m.put_latency = puts_.latency();
    m.delete_latency = deletes_.latency();
  }
  return m;
}

}  // namespace brook::internal
