// StateStoreMetrics: what one store of one task reports to the metrics
// (KafkaStreams::Metrics(), the Prometheus families brook_store_*). The
// names follow Kafka Streams' state-store metrics (get, put, delete, range,
// flush) and its RocksDB properties (estimate-num-keys,
// total-sst-files-size, cur-size-all-mem-tables).
//
// The counters are the store's calls into its storage, below any record
// cache: a put the cache absorbed is not counted until the cache flushes it.
#ifndef BROOK_STATE_STATE_STORE_METRICS_H_
#define BROOK_STATE_STATE_STORE_METRICS_H_

#include <cstdint>
#include <optional>

namespace brook {

// A snapshot; plain values, copied freely.
struct StateStoreMetrics {
  // Calls since the store was built on this instance (a task that moves
  // away and back starts again at 0).
  int64_t get_total = 0;     // point reads (put-if-absent's read included)
  int64_t put_total = 0;     // writes of a value
  int64_t delete_total = 0;  // deletes of one key
  // Iterators opened: ranges, prefix scans, window and session fetches.
  int64_t range_total = 0;
  // Commits of the store (flush in Kafka Streams' terms: one per commit of
  // its task), and how long they took: the write of the store's share of a
  // transaction, with its changelog offset.
  int64_t flush_total = 0;
  double flush_latency_avg_ms = 0;
  double flush_latency_max_ms = 0;
  // Size, where the storage can tell (nullopt otherwise, or while closed).
  // Committed keys: RocksDB's estimate, an in-memory store's exact count.
  std::optional<int64_t> estimate_num_keys;
  // RocksDB only: bytes of the store's SST files and of its memtables.
  std::optional<int64_t> total_sst_files_size_bytes;
  std::optional<int64_t> cur_size_all_mem_tables_bytes;

  // Per-call latencies (Kafka Streams' get-, put- and delete-latency-avg
  // and -max), only with metrics.recording.level=DEBUG, as in Kafka
  // Streams: timing every call costs two clock reads. nullopt otherwise.
  struct Latency {
    double avg_ms = 0;
    double max_ms = 0;
  };
  std::optional<Latency> get_latency;
  std::optional<Latency> put_latency;
  std::optional<Latency> delete_latency;
};

}  // namespace brook

#endif  // BROOK_STATE_STATE_STORE_METRICS_H_
