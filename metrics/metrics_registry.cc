#include "brook/metrics/metrics_registry.h"

#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace brook {

void MetricsRegistry::AddCollector(Collector collector) {
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(collector));
}

std::vector<MetricFamily> MetricsRegistry::Collect() const {
  std::vector<Collector> collectors;
  {
    absl::MutexLock lock(&mu_);
    collectors = collectors_;
  }
  absl::MutexLock collecting(&collect_mu_);
  std::vector<MetricFamily> families;
  for (const Collector& collect : collectors) collect(&families);
  std::vector<MetricFamily> merged;
  absl::flat_hash_map<std::string, size_t> index;
  for (MetricFamily& family : families) {
    auto [it, inserted] = index.try_emplace(family.name, merged.size());
    if (inserted) {
      merged.push_back(std::move(family));
      continue;
    }
    std::vector<MetricSample>& samples = merged[it->second].samples;
    for (MetricSample& sample : family.samples) {
      samples.push_back(std::move(sample));
    }
  }
  return merged;
}

}  // namespace brook
