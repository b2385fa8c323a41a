// MetricFamily: one named metric and its samples, one per label set, as
// taken at a scrape. The unit of exchange between collectors (which read
// the runtime's counters) and renderers (the Prometheus text format).
//
// Threading model: plain values.
#ifndef BROOK_METRICS_METRIC_FAMILY_H_
#define BROOK_METRICS_METRIC_FAMILY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace brook {

enum class MetricType {
  kCounter,    // only rises (restarts at 0 with the process)
  kGauge,      // goes up and down
  kHistogram,  // observations counted into buckets, with their sum
};

// Label name and value pairs, in the order they are printed.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// The buckets of a histogram sample.
struct HistogramData {
  // Inclusive upper bounds, ascending. The +Inf bucket is implied.
  std::vector<double> upper_bounds;
  // Observations per bucket, not cumulative: counts[i] fell in
  // (upper_bounds[i-1], upper_bounds[i]]; counts has one more entry than
  // upper_bounds, for the observations above the last bound.
  std::vector<int64_t> counts;
  double sum = 0;  // of all observations
};

struct MetricSample {
  MetricLabels labels;
  double value = 0;         // counters and gauges
  HistogramData histogram;  // histograms
};

struct MetricFamily {
  // [a-zA-Z_:][a-zA-Z0-9_:]*; counters end in "_total" by convention.
  // Renderers replace any other character with '_'.
  std::string name;
  std::string help;  // one line of what it measures, and its unit
  MetricType type = MetricType::kGauge;
  std::vector<MetricSample> samples;
};

}  // namespace brook

#endif  // BROOK_METRICS_METRIC_FAMILY_H_
