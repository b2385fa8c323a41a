// MetricsRegistry: the collectors whose metrics a scrape returns. Nothing
// is stored between scrapes: at each Collect() every collector reads the
// counters it knows (the runtime's are atomics its threads add to without
// locks) and returns them as families. So the record path pays nothing for
// a scrape, and a scrape always sees current values.
//
//   MetricsRegistry registry;
//   registry.AddCollector([&](std::vector<MetricFamily>* out) {
//     out->push_back({.name = "myapp_orders_total", .help = "Orders seen.",
//                     .type = MetricType::kCounter,
//                     .samples = {{.value = double(orders.load())}}});
//   });
//
// Threading model: thread-safe. Collectors run on the thread that calls
// Collect() (a MetricsServer's request thread), one scrape at a time.
#ifndef BROOK_METRICS_METRICS_REGISTRY_H_
#define BROOK_METRICS_METRICS_REGISTRY_H_

#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "brook/metrics/metric_family.h"

namespace brook {

class MetricsRegistry {
 public:
  // Appends the collector's families to `out`. Must be thread-safe against
  // whatever it reads; must not call back into the registry.
  using Collector = std::function<void(std::vector<MetricFamily>* out)>;

  // Collectors run in the order they were added.
  void AddCollector(Collector collector) ABSL_LOCKS_EXCLUDED(mu_);

  // Runs every collector. Families of the same name from several
  // collectors (two instances, say) are merged into the first one's, so
  // each name appears once; their samples must differ in labels.
  std::vector<MetricFamily> Collect() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::vector<Collector> collectors_ ABSL_GUARDED_BY(mu_);
  // Held across collection, so scrapes do not run collectors concurrently.
  mutable absl::Mutex collect_mu_;
};

}  // namespace brook

#endif  // BROOK_METRICS_METRICS_REGISTRY_H_
