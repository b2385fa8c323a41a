// The types passthrough_bench's harness, copy loops and report share: what a
// variant is, what one run is given (RunSpec) and what it returns
// (Measurement, RunResult), and the settings the flags give the benchmark.
//
// All of them are plain values: a thread that runs a copy gets its own copy.
#ifndef BROOK_BENCH_PASSTHROUGH_RUN_H_
#define BROOK_BENCH_PASSTHROUGH_RUN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace brook::passthrough_bench {

// Payloads are identical from run to run (perf.md 5.6).
constexpr uint64_t kPayloadSeed = 20241128;
constexpr int kKeyCardinality = 10000;

// The benchmark's settings, read once from the flags.
struct BenchConfig {
  std::string bootstrap_servers;
  int64_t records = 0;
  int32_t value_bytes = 0;
  int32_t partitions = 0;
  int32_t repetitions = 0;
  std::vector<absl::Duration> intervals;
  absl::Duration timeout;
  bool consumer_prefetch = true;  // --consumer_prefetch
  bool warmup = true;
  std::string out;
};

// ---------------------------------------------------------------------------
// Variants and results.

enum class Loop { kRaw, kBrook };
enum class Commit { kNone, kAtLeastOnce, kExactlyOnce };

struct Variant {
  Loop loop;
  Commit commit;
  absl::Duration interval;  // zero for Commit::kNone

  std::string Name() const {
    const char* loop_name = loop == Loop::kRaw ? "raw" : "brook";
    const char* mode = commit == Commit::kNone          ? "nocommit"
                       : commit == Commit::kAtLeastOnce ? "alos"
                                                        : "eos";
    return absl::StrCat(loop_name, "_", mode);
  }
  std::string IntervalLabel() const {
    return commit == Commit::kNone ? "-" : absl::FormatDuration(interval);
  }
};

// Everything one run needs, copied into the thread that runs it.
struct RunSpec {
  Variant variant;
  std::string bootstrap_servers;
  std::string input_topic;
  std::string output_topic;
  std::string group_id;   // group.id, application.id: unique per run
  std::string state_dir;  // root of the copier's state directories
  int32_t partitions = 0;
  int64_t records = 0;
  // Raise librdkafka's consumer prefetch limits (--consumer_prefetch; see
  // MatchedConsumerConfig()).
  bool consumer_prefetch = true;
  absl::Time deadline;
};

// When a run reached each milestone, and what it did on the way.
struct Measurement {
  absl::Time started_at = absl::InfiniteFuture();       // before the clients
  absl::Time first_output_at = absl::InfiniteFuture();  // first output in log
  absl::Time done_at = absl::InfiniteFuture();  // every offset committed
  int64_t commits = 0;
  int64_t retries = 0;  // raw: retriable transaction errors retried
  int64_t aborts = 0;   // brook: aborted transactions

  // The measured window (perf.md 5.5): first output record -> last commit.
  absl::Duration elapsed() const { return done_at - first_output_at; }
  // Excluded from it: creating the clients, joining the group, starting to
  // fetch, and librdkafka's wait for the new output topic's metadata.
  absl::Duration startup() const { return first_output_at - started_at; }
};

enum class Outcome { kOk, kInvalid, kTimeout, kError };

inline const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kInvalid:
      return "INVALID";
    case Outcome::kTimeout:
      return "TIMEOUT";
    case Outcome::kError:
      return "ERROR";
  }
  return "?";
}

struct RunResult {
  int variant_index = 0;
  int round = 0;
  Outcome outcome = Outcome::kError;
  Measurement measurement;
  int64_t output_records = -1;
  // CPU time of this process (loop, librdkafka threads, watcher) per record
  // copied, over the whole run: startup included, the broker excluded.
  double client_cpu_us_per_record = 0;
  double cpu_busy_percent = 0;  // both cores, broker included
  double steal_percent = 0;
  std::string detail;
};

// Whether the copy finished, so that its milestones are set.
inline bool Timed(const RunResult& r) {
  return r.outcome == Outcome::kOk || r.outcome == Outcome::kInvalid;
}

// The run's throughput over its measured window, for a copy of `records`.
// REQUIRES: Timed(r).
inline double RecordsPerSecond(int64_t records, const RunResult& r) {
  return records / absl::ToDoubleSeconds(r.measurement.elapsed());
}

}  // namespace brook::passthrough_bench

#endif  // BROOK_BENCH_PASSTHROUGH_RUN_H_
