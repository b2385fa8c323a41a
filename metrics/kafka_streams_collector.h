// The metrics of a KafkaStreams instance, as a MetricsRegistry collector.
// Names follow Kafka Streams' where it has a counterpart (process-total ->
// brook_thread_process_total, commit-latency-max ->
// brook_thread_commit_latency_max_seconds), in Prometheus' conventions:
// base units (seconds, bytes), counters end in _total, and rates are left
// to PromQL (process-rate is rate(brook_thread_process_total[1m])). The
// full list is in README.md, "Operating Brook".
//
// Threading model: the collector is thread-safe; it reads the instance
// through its thread-safe accessors (KafkaStreams::Metrics(),
// ConsumerLag(), RocksDBMemoryUsage()).
#ifndef BROOK_METRICS_KAFKA_STREAMS_COLLECTOR_H_
#define BROOK_METRICS_KAFKA_STREAMS_COLLECTOR_H_

#include "absl/time/time.h"

#include "brook/metrics/metrics_registry.h"
#include "brook/runtime/kafka_streams.h"

namespace brook {

struct KafkaStreamsCollectorOptions {
  // Consumer lag asks the cluster at every scrape (KafkaStreams::
  // ConsumerLag()); a scrape waits this long for it at most, then goes
  // without the lag families and sets brook_consumer_lag_up to 0. Keep it
  // below the scraper's own timeout (Prometheus: 10 s).
  absl::Duration lag_timeout = absl::Seconds(5);
};

// REQUIRES: `streams` outlives every call of the collector.
MetricsRegistry::Collector KafkaStreamsCollector(
    const KafkaStreams* streams, KafkaStreamsCollectorOptions options = {});

}  // namespace brook

#endif  // BROOK_METRICS_KAFKA_STREAMS_COLLECTOR_H_
