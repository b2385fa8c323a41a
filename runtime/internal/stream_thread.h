// StreamThread: one OS thread with one consumer (a member of the
// application's group), one producer (transactional under exactly-once, one
// per thread as in EOS-v2 / KIP-447) and the tasks of its partitions.
//
// Each iteration: poll up to max.poll.records (rebalance callbacks run
// inside the poll), let every task process a bounded number of records,
// run punctuations, resume drained partitions, and commit when the commit
// interval has passed, commit.max.records were processed, or a task asked.
//
// Thread states (Kafka Streams' names):
//
//   kCreated -> kStarting -> kPartitionsRevoked <-> kPartitionsAssigned
//                                  ^                      |
//                                  +------ kRunning <-----+
//   any state -> kPendingShutdown -> kDead;  an error -> kDead
//
// Error handling at commit:
//   retriable          retried inside StreamsProducer for the call timeout,
//                      then on later iterations (polling, processing
//                      nothing) up to task.timeout.ms; then the thread dies
//   abortable          abort, recreate the tasks at their committed offsets
//   membership lost    (stale generation, unknown member, fenced static
//                      member) abort, drop the tasks unclean, rejoin
//   fatal (fenced)     drop the tasks unclean, recreate the producer, rejoin;
//                      failed for good again within 30 s: wait first (1 s,
//                      doubling to 8 s), see BackOffAfterRepeatedReset()
//   anything else      the thread dies; KafkaStreams' error handler decides
//
// Threading model: Start() runs the loop on a thread of its own, which owns
// the consumer, producer and tasks. RequestShutdown(), state(), stats(),
// last_poll(), tasks_snapshot() and transaction_opened_at() may be called
// from any thread.
#ifndef BROOK_RUNTIME_INTERNAL_STREAM_THREAD_H_
#define BROOK_RUNTIME_INTERNAL_STREAM_THREAD_H_

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

#include "brook/kafka/consumer.h"
#include "brook/runtime/internal/changelog_reader.h"
#include "brook/runtime/internal/client_factory.h"
#include "brook/runtime/internal/repartition_purger.h"
#include "brook/runtime/internal/streams_producer.h"
#include "brook/runtime/internal/task_manager.h"
#include "brook/runtime/internal/thread_client_configs.h"
#include "brook/runtime/internal/topology_plan.h"
#include "brook/runtime/streams_config.h"
#include "brook/state/state_store_metrics.h"

namespace brook::internal {

// Upper bounds (inclusive, in milliseconds) of the commit-latency
// histogram's buckets; a last, unbounded bucket takes the rest. From a
// quick commit on loopback (~1 ms) to one that risks max.poll.interval.ms.
inline constexpr std::array<double, 12> kCommitLatencyBucketsMs = {
    1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000};

// Counters of one thread. Monotonic; read with relaxed ordering. The
// stream thread is their only writer, so updating one is an uncontended
// atomic add, never a lock.
struct StreamThreadStats {
  std::atomic<int64_t> records_processed{0};
  std::atomic<int64_t> commits{0};
  std::atomic<int64_t> commit_micros_total{0};
  std::atomic<int64_t> commit_micros_max{0};
  std::atomic<int64_t> aborts{0};
  std::atomic<int64_t> rebalances{0};
  std::atomic<int64_t> task_migrations{
      0};  // tasks dropped unclean and rejoined
  std::atomic<int64_t> producer_resets{0};
  std::atomic<int64_t> max_poll_gap_micros{0};
  // Time spent processing records (Process() calls), summed: with
  // records_processed it gives process-latency-avg.
  std::atomic<int64_t> process_micros_total{0};
  // Commits per latency bucket (kCommitLatencyBucketsMs, then the rest);
  // not cumulative.
  std::array<std::atomic<int64_t>, kCommitLatencyBucketsMs.size() + 1>
      commit_latency_buckets{};
  // Fatal producer errors that were a fencing (another producer with the
  // same transactional.id, or a zombie's epoch): counted within
  // producer_resets too.
  std::atomic<int64_t> producer_fencings{0};
  std::atomic<int64_t> enforced_processing{0};  // max.task.idle.ms expired
  // Background work (MapValuesAsync): records held by the thread's tasks
  // (a gauge, set every iteration), records completed, and their handler
  // time and queue wait (arrival at the processor to handler start).
  std::atomic<int64_t> background_in_flight{0};
  std::atomic<int64_t> background_completed{0};
  std::atomic<int64_t> background_handler_micros_total{0};
  std::atomic<int64_t> background_handler_micros_max{0};
  std::atomic<int64_t> background_queue_wait_micros_total{0};
  std::atomic<int64_t> background_queue_wait_micros_max{0};
  // Records dropped by processors, per DroppedRecordReason.
  std::array<std::atomic<int64_t>, kNumDroppedRecordReasons> dropped_records{};
  // Input records written to the dead-letter topic, per RecordErrorKind.
  std::array<std::atomic<int64_t>, 3> dead_letter_records{};
};

// One task of a thread as of its last commit or rebalance.
struct TaskSnapshot {
  TaskId id;
  std::vector<TopicPartition> partitions;
  int64_t processed_total = 0;  // records processed since the task started
  // Next offset to commit per partition with records taken since the last
  // commit (StreamTask::UncommittedOffsets()).
  std::vector<TopicPartitionOffset> uncommitted;
  // Its stores' metrics, by store name, refreshed at most once a second.
  std::map<std::string, StateStoreMetrics> stores;
};
class StreamThread final : private RebalanceListener {
 public:
  enum class State {
    kCreated,
    kStarting,
    kPartitionsRevoked,
    kPartitionsAssigned,
    kRunning,
    kPendingShutdown,
    kDead,
  };
  static absl::string_view StateName(State s);

  struct Callbacks {
    // Called on the stream thread at every state change.
    std::function<void(int index, State new_state)> on_state_change;
    // Called on the stream thread when it dies of an error.
    std::function<void(int index, const absl::Status& error)> on_error;
  };

  // `process_id` and `index` make the transactional.id
  // <application.id>-<process_id>-<index>.
  // `state_dir` (may be null in unit tests without stores) locks task
  // directories; `stores` is what store builders get. A sink's record
  // larger than its topic's entry in `max_message_bytes` (or than the
  // producer's message.max.bytes) is a production error.
  static absl::StatusOr<std::unique_ptr<StreamThread>> Create(
      std::shared_ptr<const TopologyPlan> plan, const StreamsConfig& config,
      int index, const std::string& process_id,
      const std::string& state_directory, KafkaClientFactory factory,
      Callbacks callbacks, const StateDirectory* state_dir = nullptr,
      StoreContext stores = {},
      std::shared_ptr<std::atomic<int64_t>> buffered_bytes = nullptr,
      std::shared_ptr<const TopicMaxMessageBytes> max_message_bytes = nullptr);
  ~StreamThread() override;

  void Start();
  void RequestShutdown() { shutdown_requested_.store(true); }
  void Join();

  // The loop's parts, public so unit tests can drive a thread step by step
  // on their own thread instead of Start().
  absl::Status Startup();
  absl::Status RunOnce();
  // Commits (on a clean stop) or aborts (after `error`), closes the tasks
  // and the consumer.
  void Shutdown(const absl::Status& error);

  State state() const { return state_.load(); }
  int index() const { return index_; }
  const std::string& name() const { return name_; }
  const std::string& transactional_id() const { return transactional_id_; }
  const StreamThreadStats& stats() const { return stats_; }
  // When the consumer was last polled.
  absl::Time last_poll() const {
    return absl::FromUnixMicros(last_poll_micros_.load());
  }
  size_t num_tasks() const { return num_tasks_.load(); }
  // The thread's tasks and their input partitions, published after every
  // commit and rebalance (so a thread blocked in a processor still shows
  // what it owns).
  std::vector<TaskSnapshot> tasks_snapshot() const
      ABSL_LOCKS_EXCLUDED(snapshot_mu_);
  // When the open transaction began; nullopt when none is open (or under
  // at-least-once).
  std::optional<absl::Time> transaction_opened_at() const {
    return producer_->transaction_opened_at();
  }
  const RestoreStats& restore_stats() const { return restore_stats_; }
  // Successful and failed purges of consumed repartition records.
  int64_t repartition_purges() const {
    return purger_ == nullptr ? 0 : purger_->purges();
  }
  int64_t repartition_purge_errors() const {
    return purger_ == nullptr ? 0 : purger_->errors();
  }

 private:
  StreamThread(std::shared_ptr<const TopologyPlan> plan,
               const StreamsConfig& config, int index,
               const std::string& process_id, KafkaClientFactory factory,
               Callbacks callbacks);

  void Run();
  void SetState(State s);
  absl::StatusOr<int64_t> PollRecords();
  // PollRecords() with partition queues (StreamsConfig::partition_queues).
  absl::StatusOr<int64_t> PollQueues();
  absl::Status MaybeCommit(int64_t processed);
  absl::Status CommitAll();
  absl::Status HandleCommitError(const absl::Status& error);
  // Routes Kafka errors raised while processing to HandleCommitError().
  absl::Status HandleProducerError(const absl::Status& error);
  // Another producer with this thread's transactional.id calls
  // InitTransactions() and retries while this thread's transaction is open
  // (CONCURRENT_TRANSACTIONS, every ~0.5 s in librdkafka 2.0.2); each retry
  // has the coordinator abort that transaction, fencing this producer. A
  // thread that recreated its producer and opened a transaction again at
  // once kept winning the race, and both sides fenced each other for seconds
  // (seen once per-partition queues made the rejoin fast: 7 resets in 3 s).
  // The coordinator's abort shows up as a fencing or, for a commit already
  // under way, as INVALID_TXN_STATE. So the second producer reset within
  // 30 s, whatever its error, waits 1 s before the producer is recreated,
  // doubling up to 8 s, and names the likely cause.
  void BackOffAfterRepeatedReset();
  absl::Status Rejoin();
  // Records a poll: `entering` just before a poll starts (the gap since the
  // last one ends), else just after it returned. Either way the producer's
  // deadline is renewed from now.
  void NotePoll(bool entering);
  // Replaces the tasks snapshot with the task manager's tasks.
  void PublishTasks() ABSL_LOCKS_EXCLUDED(snapshot_mu_);

  // RebalanceListener; run inside Poll() on this thread.
  void OnPartitionsRevoked(absl::Span<const TopicPartition> partitions,
                           RevocationKind kind) override;
  void OnPartitionsAssigned(
      absl::Span<const TopicPartition> partitions) override;

  const std::shared_ptr<const TopologyPlan> plan_;
  const StreamsConfig config_;
  const int index_;
  const std::string name_;
  const std::string transactional_id_;
  const KafkaClientFactory factory_;
  const Callbacks callbacks_;

  std::unique_ptr<Consumer> consumer_;
  std::unique_ptr<StreamsProducer> producer_;
  std::unique_ptr<ChangelogReader> restorer_;
  std::unique_ptr<TaskManager> task_manager_;
  // Internal topics the topology reads, and what purges them; null when
  // there are none.
  absl::flat_hash_set<std::string> repartition_topics_;
  std::unique_ptr<RepartitionPurger> purger_;
  TaskOptions task_options_;
  // Input buffered by every thread of the process (input.buffer.max.bytes).
  std::shared_ptr<std::atomic<int64_t>> buffered_bytes_;
  ClientConfig consumer_config_;
  ClientConfig restore_consumer_config_;

  // Loop state, touched only by the stream thread.
  absl::Time last_commit_ = absl::Now();
  absl::Time last_publish_;  // of PublishTasks()
  // Of the store metrics in tasks_snapshot_: reading RocksDB's properties
  // costs more than a commit's other bookkeeping, so it is done once a
  // second, not at every commit.
  absl::Time last_store_publish_;
  int64_t processed_since_commit_ = 0;
  bool producer_needs_reset_ = false;
  // Set while a commit keeps failing with retriable errors.
  std::optional<absl::Time> commit_failing_since_;
  // Producer resets less than 30 s apart, and when the last one came
  // (BackOffAfterRepeatedReset()).
  int resets_in_a_row_ = 0;
  absl::Time last_reset_ = absl::InfinitePast();
  // The first abort since the last successful commit (HandleCommitError).
  std::optional<absl::Time> aborting_since_;
  absl::Status callback_error_;  // first error from a rebalance callback
  bool logged_consumer_queue_records_ = false;  // see PollQueues()

  std::atomic<State> state_{State::kCreated};
  std::atomic<bool> shutdown_requested_{false};
  std::atomic<int64_t> last_poll_micros_;
  std::atomic<size_t> num_tasks_{0};
  StreamThreadStats stats_;
  RestoreStats restore_stats_;
  mutable absl::Mutex snapshot_mu_;
  std::vector<TaskSnapshot> tasks_snapshot_ ABSL_GUARDED_BY(snapshot_mu_);
  std::thread thread_;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_STREAM_THREAD_H_
