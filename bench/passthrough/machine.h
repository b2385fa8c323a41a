// How busy the machine and this process were, read from /proc and
// getrusage(), so that passthrough_bench can log the load around each run
// (perf.md 5.6). Stateless functions, safe from any thread.
#ifndef BROOK_BENCH_PASSTHROUGH_MACHINE_H_
#define BROOK_BENCH_PASSTHROUGH_MACHINE_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace brook::passthrough_bench {

// /proc/stat's aggregate line, to log how busy and how stolen the machine
// was during each run (perf.md 5.6).
struct CpuTimes {
  int64_t busy = 0;
  int64_t steal = 0;
  int64_t total = 0;
};

CpuTimes ReadCpuTimes();

// User plus system CPU time of this process, all threads, so far.
absl::Duration ProcessCpuTime();

// 100 * part / whole, or 0 if `whole` is not positive.
double Percent(int64_t part, int64_t whole);

// /proc/loadavg's 1, 5 and 15 minute figures, e.g. "0.52 0.61 0.70".
std::string LoadAverage();

}  // namespace brook::passthrough_bench

#endif  // BROOK_BENCH_PASSTHROUGH_MACHINE_H_
