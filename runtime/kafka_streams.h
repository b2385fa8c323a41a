// KafkaStreams: a running Brook application instance. It runs a Topology
// with num.stream.threads stream threads; instances with the same
// application.id share the work through the consumer group.
//
//   absl::StatusOr<std::unique_ptr<KafkaStreams>> app =
//       KafkaStreams::Create(topology, config);
//   BROOK_RETURN_IF_ERROR((*app)->Start());
//   ... until SIGTERM ...
//   BROOK_RETURN_IF_ERROR((*app)->Close(absl::Seconds(30)));
//
// Instance states (Kafka Streams' names):
//
//          Start()              all threads running
//   kCreated ----> kRebalancing <-------------------> kRunning
//      |                |    a thread rebalances         |
//      |                +------------+-------------------+
//      |                             | Close()
//      |                             v
//      +------ Close() ------> kPendingShutdown ----> kNotRunning
//
//   a thread dies and the error handler answers kShutdownClient -> kError
//   (Close() is still needed to release resources).
//
// Threading model: thread-safe. Listeners and the error handler run on
// stream threads; they must not call Close().
#ifndef BROOK_RUNTIME_KAFKA_STREAMS_H_
#define BROOK_RUNTIME_KAFKA_STREAMS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/topic_partition.h"
#include "brook/runtime/internal/client_factory.h"
#include "brook/runtime/streams_config.h"
#include "brook/runtime/topology.h"
#include "brook/state/bytes_stores.h"
#include "brook/state/state_directory.h"
#include "brook/state/state_store_metrics.h"

namespace brook {

namespace internal {
class StreamThread;
class TopologyPlan;
}  // namespace internal

// What to do when a stream thread dies of an error (a processing error, a
// deserialization error, a broken co-partitioning, an unrecoverable Kafka
// error).
enum class StreamThreadErrorResponse {
  // Start a new thread in its place (same index, same transactional.id);
  // its tasks are reassigned and restart from their committed offsets.
  kReplaceThread,
  // Stop every thread and move the instance to kError. The default.
  kShutdownClient,
};

// One active task of a stream thread, as of the thread's last commit or
// rebalance.
struct TaskMetrics {
  std::string task_id;  // "0_1"
  std::vector<TopicPartition> partitions;
  int64_t records_processed = 0;  // since the task was created here
  // Per partition with records taken since the task's last commit: the
  // offset its next commit will store (its position). Published by the
  // stream thread at each commit and at least once a second.
  std::vector<TopicPartitionOffset> uncommitted_offsets;
  // Its state stores' metrics (state/state_store_metrics.h), by store name,
  // as of at most a second ago.
  std::map<std::string, StateStoreMetrics> stores;
};

// A snapshot of one stream thread's counters.
struct StreamThreadMetrics {
  std::string name;
  std::string state;
  int64_t tasks = 0;
  int64_t records_processed = 0;
  int64_t commits = 0;
  double commit_latency_avg_ms = 0;
  double commit_latency_max_ms = 0;
  // The commit-latency histogram: commit_latency_bucket_counts[i] commits
  // took at most commit_latency_bucket_bounds_ms[i] (and more than the
  // bound before); the last count, one more than the bounds, is the rest.
  // Not cumulative. Their sum is `commits`.
  std::vector<double> commit_latency_bucket_bounds_ms;
  std::vector<int64_t> commit_latency_bucket_counts;
  double commit_latency_sum_ms = 0;
  // process-latency-avg: time spent processing, per record.
  double process_latency_avg_ms = 0;
  // Age of the thread's open transaction, 0 when none is open. A stuck
  // processor shows here long before transaction.timeout.ms aborts it.
  double open_transaction_age_ms = 0;
  // Time since the thread last polled: as it nears max.poll.interval.ms the
  // group is about to remove the thread.
  double poll_gap_ms = 0;
  int64_t aborts = 0;
  int64_t rebalances = 0;
  int64_t task_migrations = 0;
  int64_t producer_resets = 0;
  int64_t producer_fencings = 0;  // resets caused by a fencing
  // Times a task processed with an input partition still empty after
  // waiting max.task.idle.ms (Kafka Streams' enforced-processing-total).
  int64_t enforced_processing = 0;
  // Deletions of consumed repartition records, and failed ones.
  int64_t repartition_purges = 0;
  int64_t repartition_purge_errors = 0;
  double max_poll_gap_ms = 0;  // longest time between two polls
  // Restore of state stores from their changelogs.
  int64_t restored_records = 0;
  int64_t restored_bytes = 0;
  int64_t stores_restored = 0;
  int64_t stores_wiped = 0;  // corrupt, or ahead of their changelog
  int64_t restore_remaining_records = 0;
  // Records skipped by processors (Kafka Streams' dropped-records), by
  // DroppedRecordReasonName(): null keys and values an aggregation or
  // group-by cannot use, records too late for a window's grace period.
  // Each drop is also logged, at a rate limit.
  // They include records an error handler (runtime/error_handlers.h)
  // skipped: "deserialization-error", "processing-error",
  // "production-error".
  std::map<std::string, int64_t> dropped_records;
  // The thread's active tasks.
  std::vector<TaskMetrics> active_tasks;
  // Background work (KStream::MapValuesAsync): records the thread's tasks
  // hold now (queued behind their key or running), records completed, the
  // function's latency, and the wait from a record's arrival at the node to
  // its function's start.
  int64_t background_in_flight = 0;
  int64_t background_completed = 0;
  double background_handler_latency_avg_ms = 0;
  double background_handler_latency_max_ms = 0;
  double background_queue_wait_avg_ms = 0;
  double background_queue_wait_max_ms = 0;
  int64_t dropped_records_total() const {
    int64_t n = 0;
    for (const auto& [reason, count] : dropped_records) n += count;
    return n;
  }
  // Input records written to the dead-letter topic (in the transaction of
  // their offsets), by RecordErrorKindName(): "deserialization-error",
  // "processing-error", "production-error".
  std::map<std::string, int64_t> dead_letter_records;
};

// Consumer lag of one input partition of this instance.
struct PartitionLag {
  TopicPartition partition;
  std::string task_id;
  std::string thread;
  // The group's committed offset (under exactly-once, the offset of the
  // last committed transaction); -1 when none is committed yet.
  int64_t committed_offset = -1;
  // The end a consumer of this instance can read to: the last stable
  // offset under exactly-once (read_committed), else the high watermark.
  int64_t end_offset = 0;
  // end_offset - committed_offset, or end_offset - the log start offset
  // when nothing is committed.
  int64_t lag = 0;
  // Records the task has taken past the committed offset: the gap between
  // its position and the committed prefix, which the next commit closes.
  // Records still running in MapValuesAsync workers count here. At most a
  // second old.
  int64_t uncommitted = 0;
};

// Transactional health of one partition an instance writes (a sink topic,
// repartition topics included). Under exactly-once, records of a
// transaction that is neither committed nor aborted sit between the last
// stable offset and the high watermark, and read_committed consumers
// cannot read past them: a last stable offset that stays behind is a stuck
// transaction, of this application or of any other producer.
struct OutputPartitionHealth {
  TopicPartition partition;
  int64_t high_watermark = 0;
  int64_t last_stable_offset = 0;
  // high_watermark - last_stable_offset.
  int64_t undecided_records = 0;
  // How long the last stable offset has stayed where it is while behind
  // the high watermark, as seen by successive OutputHealth() calls (0 when
  // it is not behind, or on the first call).
  double lso_stalled_seconds = 0;
};

// Memory of the RocksDB stores of this instance (one shared budget).
struct RocksDBMemory {
  int64_t budget_bytes = 0;       // RocksDBConfig::memory_budget_bytes
  int64_t block_cache_bytes = 0;  // in the shared cache, memtables included
  int64_t memtable_bytes = 0;
  // The join stores' in-memory copies of their recent windows, outside the
  // budget (RocksDBConfig::recent_windows_bytes).
  int64_t recent_windows_bytes = 0;
};

class KafkaStreams {
 public:
  enum class State {
    kCreated,
    kRebalancing,
    kRunning,
    kPendingShutdown,
    kNotRunning,
    kError,
  };
  static absl::string_view StateName(State s);

  // Validates the config and the topology and locks the state directory.
  // Errors name the config key or topology node at fault.
  static absl::StatusOr<std::unique_ptr<KafkaStreams>> Create(
      const Topology& topology, const StreamsConfig& config);
  // The same with other Kafka clients (fakes in unit tests).
  static absl::StatusOr<std::unique_ptr<KafkaStreams>> Create(
      const Topology& topology, const StreamsConfig& config,
      internal::KafkaClientFactory factory);

  // Closes with an unbounded wait if Close() was not called.
  ~KafkaStreams();

  // Called with (new state, old state) on every change. Set before Start().
  void SetStateListener(std::function<void(State, State)> listener);
  // Decides what a stream thread's death means. Set before Start().
  void SetUncaughtErrorHandler(
      std::function<StreamThreadErrorResponse(const absl::Status&)> handler);

  // Checks that every source and sink topic exists and that co-partitioned
  // source topics have equal partition counts (errors name the topics), then
  // starts the threads. REQUIRES: state() == kCreated.
  absl::Status Start();

  // Stops the threads (each commits its tasks first) and waits up to
  // `timeout`. kDeadlineExceeded if threads are still running then.
  absl::Status Close(absl::Duration timeout = absl::InfiniteDuration());

  State state() const;
  // The error that moved the instance to kError.
  absl::Status error() const;
  // Per-thread counters. Replaced threads that were freed appear summed in
  // one entry named "<application.id>-replaced-threads".
  std::vector<StreamThreadMetrics> Metrics() const;
  // Persisted in the state directory; part of every transactional.id.
  const std::string& process_id() const {
    return state_directory_->process_id();
  }
  // Topology::Describe() of what this instance runs.
  std::string DescribeTopology() const;
  // Topology::ToMermaid() of what this instance runs.
  std::string DescribeTopologyMermaid() const;
  // Topology::ToDot() of what this instance runs.
  std::string DescribeTopologyDot() const;
  const StreamsConfig& config() const { return config_; }

  // Lag of every input partition assigned to this instance now: asks the
  // cluster for the group's committed offsets and each partition's end
  // (one OffsetFetch and one ListOffsets per partition, through a consumer
  // of the group's id that never subscribes). Works while the stream
  // threads are blocked or their partitions paused, which is when it
  // matters. Blocks up to about `timeout`; concurrent calls are serialized.
  absl::StatusOr<std::vector<PartitionLag>> ConsumerLag(
      absl::Duration timeout) const ABSL_LOCKS_EXCLUDED(lag_mu_);
  RocksDBMemory RocksDBMemoryUsage() const;
  // The health of every partition of the sink topics this instance's
  // topology names (known after Start(); topics chosen per record are not
  // included): two ListOffsets per partition, read_uncommitted and
  // read_committed. Blocks up to about `timeout`; concurrent calls are
  // serialized with ConsumerLag().
  absl::StatusOr<std::vector<OutputPartitionHealth>> OutputHealth(
      absl::Duration timeout) const ABSL_LOCKS_EXCLUDED(lag_mu_);

 private:
  KafkaStreams(std::shared_ptr<const internal::TopologyPlan> plan,
               StreamsConfig config, internal::KafkaClientFactory factory,
               std::unique_ptr<StateDirectory> state_directory,
               std::shared_ptr<RocksDBResources> rocksdb);

  absl::Status ValidateTopics();
  // Creates missing changelog topics and checks the partition count of
  // existing ones.
  // Creates or validates the topology's internal (repartition) topics.
  absl::Status EnsureInternalTopics(Admin& admin);
  absl::Status EnsureChangelogTopics(Admin& admin);
  // Checks that the dead-letter topic exists and reads each sink topic's
  // max.message.bytes into max_message_bytes_.
  absl::Status DescribeSinkTopics(Admin& admin);
  absl::StatusOr<std::unique_ptr<internal::StreamThread>> MakeThread(int index)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnThreadStateChange(int index);
  void OnThreadError(int index, const absl::Status& error);
  void SetState(State s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NotifyListener(State new_state, State old_state);
  void WatchPolls();
  // Joins and frees replaced threads that have ended (their clients and
  // tasks with them), folding their counters into retired_.
  void ReapReplacedThreads() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static StreamThreadMetrics ThreadMetrics(const internal::StreamThread& t);

  const std::shared_ptr<const internal::TopologyPlan> plan_;
  const StreamsConfig config_;
  const internal::KafkaClientFactory factory_;
  const std::unique_ptr<StateDirectory> state_directory_;
  const std::shared_ptr<RocksDBResources> rocksdb_;
  // Input buffered by all stream threads (input.buffer.max.bytes).
  const std::shared_ptr<std::atomic<int64_t>> buffered_bytes_ =
      std::make_shared<std::atomic<int64_t>>(0);

  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kCreated;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  // threads_[i] is the live thread of index i; replaced ones are kept until
  // the watchdog (or Close()) joins and frees them.
  std::vector<std::unique_ptr<internal::StreamThread>> threads_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<internal::StreamThread>> replaced_
      ABSL_GUARDED_BY(mu_);
  std::function<void(State, State)> listener_ ABSL_GUARDED_BY(mu_);
  std::function<StreamThreadErrorResponse(const absl::Status&)> error_handler_
      ABSL_GUARDED_BY(mu_);
  bool watchdog_stop_ ABSL_GUARDED_BY(mu_) = false;
  // Sink topics' max.message.bytes, read by Start().
  std::shared_ptr<const absl::flat_hash_map<std::string, int64_t>>
      max_message_bytes_ ABSL_GUARDED_BY(mu_);
  // Counters of the replaced threads already freed, summed.
  StreamThreadMetrics retired_ ABSL_GUARDED_BY(mu_);
  int64_t retired_threads_ ABSL_GUARDED_BY(mu_) = 0;

  absl::Mutex listener_mu_;  // serializes listener calls
  // ConsumerLag()'s consumer, made at its first call.
  mutable absl::Mutex lag_mu_;
  mutable std::unique_ptr<Consumer> lag_consumer_ ABSL_GUARDED_BY(lag_mu_);
  // OutputHealth()'s: sink partition counts (from Start()), its two
  // consumers, and each partition's last stable offset with when it was
  // first seen there.
  std::map<std::string, int32_t> sink_partitions_ ABSL_GUARDED_BY(lag_mu_);
  mutable std::unique_ptr<Consumer> hw_consumer_ ABSL_GUARDED_BY(lag_mu_);
  mutable std::unique_ptr<Consumer> lso_consumer_ ABSL_GUARDED_BY(lag_mu_);
  mutable absl::flat_hash_map<TopicPartition, std::pair<int64_t, absl::Time>>
      lso_seen_ ABSL_GUARDED_BY(lag_mu_);
  std::thread watchdog_;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_KAFKA_STREAMS_H_
