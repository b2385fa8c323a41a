#include "brook/metrics/kafka_streams_collector.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "brook/base/logging.h"

namespace brook {
namespace {

// Builds the families of one scrape, one sample at a time.
class Families {
 public:
  explicit Families(std::vector<MetricFamily>* out) : out_(out) {}

  void Add(const std::string& name, MetricType type, const std::string& help,
           MetricLabels labels, double value) {
    Family(name, type, help).samples.push_back({std::move(labels), value, {}});
  }
  void AddHistogram(const std::string& name, const std::string& help,
                    MetricLabels labels, HistogramData data) {
    Family(name, MetricType::kHistogram, help)
        .samples.push_back({std::move(labels), 0, std::move(data)});
  }

 private:
  MetricFamily& Family(const std::string& name, MetricType type,
                       const std::string& help) {
    for (MetricFamily& f : *out_) {
      if (f.name == name) return f;
    }
    out_->push_back({name, help, type, {}});
    return out_->back();
  }
  std::vector<MetricFamily>* out_;
};

constexpr MetricType kCounter = MetricType::kCounter;
constexpr MetricType kGauge = MetricType::kGauge;

// One store of one task: Kafka Streams' state-store metrics (as counters
// and totals; rates are PromQL's) and its RocksDB size properties.
void CollectStore(const std::string& thread, const std::string& task,
                  const std::string& store, const StateStoreMetrics& m,
                  Families& f) {
  const MetricLabels labels = {
      {"thread", thread}, {"task", task}, {"store", store}};
  f.Add("brook_store_get_total", kCounter,
        "Point reads of the store's storage (Kafka Streams get-total).", labels,
        m.get_total);
  f.Add("brook_store_put_total", kCounter,
        "Writes of a value to the store's storage (put-total).", labels,
        m.put_total);
  f.Add("brook_store_delete_total", kCounter,
        "Deletes of a key from the store's storage (delete-total).", labels,
        m.delete_total);
  f.Add("brook_store_range_total", kCounter,
        "Range, prefix and window or session scans of the store "
        "(range-total).",
        labels, m.range_total);
  f.Add("brook_store_flush_total", kCounter,
        "Commits that wrote the store's share of a transaction to its "
        "storage (flush-total).",
        labels, m.flush_total);
  f.Add("brook_store_flush_latency_avg_seconds", kGauge,
        "Average time of those writes (flush-latency-avg).", labels,
        m.flush_latency_avg_ms / 1000.0);
  f.Add("brook_store_flush_latency_max_seconds", kGauge,
        "Longest of those writes (flush-latency-max).", labels,
        m.flush_latency_max_ms / 1000.0);
  for (const auto& [call, latency] :
       {std::pair{"get", m.get_latency}, std::pair{"put", m.put_latency},
        std::pair{"delete", m.delete_latency}}) {
    if (!latency) continue;
    f.Add(absl::StrCat("brook_store_", call, "_latency_avg_seconds"), kGauge,
          absl::StrCat("Average time of a ", call, " (", call,
                       "-latency-avg; metrics.recording.level=DEBUG only)."),
          labels, latency->avg_ms / 1000.0);
    f.Add(absl::StrCat("brook_store_", call, "_latency_max_seconds"), kGauge,
          absl::StrCat("Longest ", call, " (", call,
                       "-latency-max; metrics.recording.level=DEBUG only)."),
          labels, latency->max_ms / 1000.0);
  }
  if (m.estimate_num_keys) {
    f.Add("brook_store_estimate_num_keys", kGauge,
          "Committed keys in the store: RocksDB's estimate-num-keys, an "
          "in-memory store's exact count.",
          labels, *m.estimate_num_keys);
  }
  if (m.total_sst_files_size_bytes) {
    f.Add("brook_store_total_sst_files_size_bytes", kGauge,
          "Bytes of the store's RocksDB SST files (total-sst-files-size).",
          labels, *m.total_sst_files_size_bytes);
  }
  if (m.cur_size_all_mem_tables_bytes) {
    f.Add("brook_store_cur_size_all_mem_tables_bytes", kGauge,
          "Bytes of the store's RocksDB memtables "
          "(cur-size-all-mem-tables).",
          labels, *m.cur_size_all_mem_tables_bytes);
  }
}

void CollectThread(const StreamThreadMetrics& t, Families& f) {
  const MetricLabels l = {{"thread", t.name}};
  f.Add("brook_thread_state", kGauge,
        "Stream thread state (Kafka Streams' names): 1 for the current one.",
        {{"thread", t.name}, {"state", t.state}}, 1);
  f.Add("brook_thread_active_tasks", kGauge, "Tasks the thread runs.", l,
        t.tasks);
  f.Add("brook_thread_process_total", kCounter,
        "Records processed (Kafka Streams process-total).", l,
        t.records_processed);
  f.Add("brook_thread_process_latency_avg_seconds", kGauge,
        "Processing time per record since the thread started (Kafka Streams "
        "process-latency-avg).",
        l, t.process_latency_avg_ms / 1000);
  f.Add("brook_thread_commit_total", kCounter,
        "Commits, transactions under exactly-once (Kafka Streams "
        "commit-total).",
        l, t.commits);
  f.Add("brook_thread_commit_latency_avg_seconds", kGauge,
        "Mean commit time (Kafka Streams commit-latency-avg).", l,
        t.commit_latency_avg_ms / 1000);
  f.Add("brook_thread_commit_latency_max_seconds", kGauge,
        "Longest commit (Kafka Streams commit-latency-max).", l,
        t.commit_latency_max_ms / 1000);
  HistogramData h;
  for (double ms : t.commit_latency_bucket_bounds_ms) {
    h.upper_bounds.push_back(ms / 1000);
  }
  h.counts = t.commit_latency_bucket_counts;
  h.sum = t.commit_latency_sum_ms / 1000;
  f.AddHistogram("brook_thread_commit_latency_seconds",
                 "Commit time: flush, offsets into the transaction, commit, "
                 "store write.",
                 l, std::move(h));
  f.Add("brook_thread_aborts_total", kCounter,
        "Transactions aborted after an abortable error.", l, t.aborts);
  f.Add("brook_thread_rebalances_total", kCounter,
        "Assignments received; rate() of it is the rebalance rate.", l,
        t.rebalances);
  f.Add("brook_thread_task_migrations_total", kCounter,
        "Times the thread's tasks were dropped unclean and it rejoined "
        "(lost membership).",
        l, t.task_migrations);
  f.Add("brook_thread_producer_resets_total", kCounter,
        "Producers recreated after a fatal error.", l, t.producer_resets);
  f.Add("brook_thread_producer_fencings_total", kCounter,
        "Producer resets caused by a fencing (same transactional.id "
        "elsewhere, or a zombie epoch).",
        l, t.producer_fencings);
  f.Add("brook_thread_open_transaction_age_seconds", kGauge,
        "Age of the open transaction, 0 when none; compare with "
        "transaction.timeout.ms.",
        l, t.open_transaction_age_ms / 1000);
  f.Add("brook_thread_poll_gap_seconds", kGauge,
        "Time since the thread last polled; at max.poll.interval.ms the "
        "group removes it.",
        l, t.poll_gap_ms / 1000);
  f.Add("brook_thread_poll_gap_max_seconds", kGauge,
        "Longest time between two polls.", l, t.max_poll_gap_ms / 1000);
  f.Add("brook_thread_restore_records_total", kCounter,
        "Changelog records restored into stores.", l, t.restored_records);
  f.Add("brook_thread_restore_bytes_total", kCounter,
        "Changelog bytes restored into stores.", l, t.restored_bytes);
  f.Add("brook_thread_restore_remaining_records", kGauge,
        "Changelog records left to restore (Kafka Streams "
        "restore-remaining-records-total).",
        l, t.restore_remaining_records);
  f.Add("brook_thread_stores_restored_total", kCounter,
        "Store restores completed.", l, t.stores_restored);
  f.Add("brook_thread_stores_wiped_total", kCounter,
        "Stores wiped and restored from scratch (corrupt, or ahead of their "
        "changelog).",
        l, t.stores_wiped);
  f.Add("brook_thread_repartition_purges_total", kCounter,
        "Deletions of consumed repartition records.", l, t.repartition_purges);
  f.Add("brook_thread_repartition_purge_errors_total", kCounter,
        "Failed deletions of consumed repartition records.", l,
        t.repartition_purge_errors);
  for (const auto& [reason, n] : t.dropped_records) {
    f.Add("brook_thread_dropped_records_total", kCounter,
          "Records skipped by processors, by reason (Kafka Streams "
          "dropped-records-total).",
          {{"thread", t.name}, {"reason", reason}}, n);
  }
  f.Add("brook_thread_enforced_processing_total", kCounter,
        "Times a task processed with an input partition still empty after "
        "max.task.idle.ms (Kafka Streams enforced-processing-total).",
        l, t.enforced_processing);
  f.Add("brook_thread_background_in_flight", kGauge,
        "Records the thread's MapValuesAsync nodes hold (queued behind their "
        "key or running).",
        l, t.background_in_flight);
  f.Add("brook_thread_background_completed_total", kCounter,
        "Records whose MapValuesAsync function completed.", l,
        t.background_completed);
  f.Add("brook_thread_background_handler_latency_avg_seconds", kGauge,
        "Mean time of a MapValuesAsync function call.", l,
        t.background_handler_latency_avg_ms / 1000);
  f.Add("brook_thread_background_handler_latency_max_seconds", kGauge,
        "Longest MapValuesAsync function call.", l,
        t.background_handler_latency_max_ms / 1000);
  f.Add("brook_thread_background_queue_wait_max_seconds", kGauge,
        "Longest wait of a record between reaching a MapValuesAsync node and "
        "its function's start.",
        l, t.background_queue_wait_max_ms / 1000);
  for (const auto& [kind, n] : t.dead_letter_records) {
    f.Add("brook_thread_dead_letter_records_total", kCounter,
          "Input records written to the dead-letter topic, by error kind "
          "(deserialization, processing, production).",
          {{"thread", t.name}, {"kind", kind}}, n);
  }
  for (const TaskMetrics& task : t.active_tasks) {
    f.Add("brook_task_process_total", kCounter,
          "Records processed by the task on this thread, as of the thread's "
          "last commit (Kafka Streams task process-total).",
          {{"thread", t.name}, {"task", task.task_id}}, task.records_processed);
    for (const auto& [store, m] : task.stores) {
      CollectStore(t.name, task.task_id, store, m, f);
    }
  }
}

void CollectLag(const KafkaStreams& streams, absl::Duration timeout,
                Families& f) {
  absl::StatusOr<std::vector<PartitionLag>> lags = streams.ConsumerLag(timeout);
  f.Add("brook_consumer_lag_up", kGauge,
        "1 if this scrape read the consumer lag, 0 if asking the cluster "
        "failed (see the log).",
        {}, lags.ok() ? 1 : 0);
  if (!lags.ok()) {
    LOG(WARNING) << "metrics: consumer lag not available: " << lags.status();
    return;
  }
  for (const PartitionLag& p : *lags) {
    const MetricLabels l = {{"thread", p.thread},
                            {"task", p.task_id},
                            {"topic", p.partition.topic},
                            {"partition", absl::StrCat(p.partition.partition)}};
    f.Add("brook_partition_consumer_lag", kGauge,
          "Records of an input partition not committed yet: end offset (the "
          "last stable offset under exactly-once) minus the committed one.",
          l, p.lag);
    f.Add("brook_partition_uncommitted_records", kGauge,
          "Records of an input partition its task has taken but not "
          "committed: its position minus the committed offset (records "
          "in MapValuesAsync workers included); the next commit closes it.",
          l, p.uncommitted);
    f.Add("brook_partition_committed_offset", kGauge,
          "The group's committed offset of the partition, -1 if none.", l,
          p.committed_offset);
    f.Add("brook_partition_end_offset", kGauge,
          "The partition's end offset as this instance reads it (last stable "
          "offset under exactly-once, else high watermark).",
          l, p.end_offset);
  }
}

void CollectOutputHealth(const KafkaStreams& streams, absl::Duration timeout,
                         Families& f) {
  absl::StatusOr<std::vector<OutputPartitionHealth>> health =
      streams.OutputHealth(timeout);
  f.Add("brook_output_health_up", kGauge,
        "1 if this scrape read the output partitions' offsets, 0 if asking "
        "the cluster failed (see the log).",
        {}, health.ok() ? 1 : 0);
  if (!health.ok()) {
    LOG(WARNING) << "metrics: output health not available: " << health.status();
    return;
  }
  for (const OutputPartitionHealth& h : *health) {
    const MetricLabels l = {{"topic", h.partition.topic},
                            {"partition", absl::StrCat(h.partition.partition)}};
    f.Add("brook_output_partition_undecided_records", kGauge,
          "Records of an output partition in transactions neither committed "
          "nor aborted yet: high watermark minus last stable offset. "
          "read_committed readers cannot pass them.",
          l, h.undecided_records);
    f.Add("brook_output_partition_lso_stalled_seconds", kGauge,
          "How long the output partition's last stable offset has stayed "
          "behind its high watermark without moving (a stuck transaction, "
          "of this application or another producer); 0 when caught up.",
          l, h.lso_stalled_seconds);
  }
}

}  // namespace

MetricsRegistry::Collector KafkaStreamsCollector(
    const KafkaStreams* streams, KafkaStreamsCollectorOptions options) {
  return [streams, options](std::vector<MetricFamily>* out) {
    Families f(out);
    const std::string& app = streams->config().application_id;
    f.Add("brook_instance_state", kGauge,
          "KafkaStreams instance state: 1 for the current one.",
          {{"application_id", app},
           {"state", std::string(KafkaStreams::StateName(streams->state()))}},
          1);
    f.Add("brook_max_poll_interval_seconds", kGauge,
          "max.poll.interval.ms, for alerts on brook_thread_poll_gap_seconds.",
          {{"application_id", app}},
          absl::ToDoubleSeconds(streams->config().max_poll_interval));
    f.Add("brook_transaction_timeout_seconds", kGauge,
          "transaction.timeout.ms, for alerts on "
          "brook_thread_open_transaction_age_seconds.",
          {{"application_id", app}},
          absl::ToDoubleSeconds(streams->config().transaction_timeout));
    const RocksDBMemory memory = streams->RocksDBMemoryUsage();
    f.Add("brook_rocksdb_memory_budget_bytes", kGauge,
          "The RocksDB stores' shared memory budget "
          "(RocksDBConfig::memory_budget_bytes).",
          {{"application_id", app}}, memory.budget_bytes);
    f.Add("brook_rocksdb_block_cache_usage_bytes", kGauge,
          "Bytes in the shared block cache, memtables included.",
          {{"application_id", app}}, memory.block_cache_bytes);
    f.Add("brook_rocksdb_memtable_bytes", kGauge,
          "Bytes of memtables of all stores.", {{"application_id", app}},
          memory.memtable_bytes);
    f.Add("brook_rocksdb_recent_windows_bytes", kGauge,
          "Bytes of the join stores' in-memory copies of their recent "
          "windows, outside the budget (RocksDBConfig::recent_windows_bytes).",
          {{"application_id", app}}, memory.recent_windows_bytes);
    for (const StreamThreadMetrics& t : streams->Metrics()) {
      CollectThread(t, f);
    }
    CollectLag(*streams, options.lag_timeout, f);
    CollectOutputHealth(*streams, options.lag_timeout, f);
  };
}

}  // namespace brook
