// passthrough_bench's Markdown report: per-variant medians, min - max and
// ratios of medians measured in one run, the overhead ratios at each commit
// interval, and every run in the order run.
#ifndef BROOK_BENCH_PASSTHROUGH_REPORT_H_
#define BROOK_BENCH_PASSTHROUGH_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

#include "bench/passthrough/run.h"

namespace brook::passthrough_bench {

// What the report needs to know besides the runs.
struct ReportContext {
  BenchConfig config;
  std::vector<Variant> variants;  // indexed by RunResult::variant_index
  int64_t input_bytes = 0;        // key + value bytes of the input
};

// The report of `results`, the runs of a benchmark that began at `started`
// with the load average `load_before` (see LoadAverage()). Reads the load
// average again, for "after".
std::string Report(const ReportContext& ctx,
                   const std::vector<RunResult>& results, absl::Time started,
                   const std::string& load_before);

}  // namespace brook::passthrough_bench

#endif  // BROOK_BENCH_PASSTHROUGH_REPORT_H_
