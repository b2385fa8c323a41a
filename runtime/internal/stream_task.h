// StreamTask: one sub-topology running on one partition number. It owns the
// sub-topology's node instances, one record queue per input partition, its
// stream time and its punctuations, and tracks the offsets it has consumed
// since the last commit.
//
// Task life cycle (Kafka Streams' task states):
//
//   kCreated --InitializeStores()--> kRestoring --InitializeTopology()-->
//   kRunning: Process / Punctuate        (records may be buffered in any
//                                         state; only kRunning processes)
//   any state --Close()--> kClosed: kClean after a commit, kDirty after an
//               abort or a lost assignment (uncommitted work is dropped)
//
// Processors are initialised only once the stores are restored, as Kafka
// Streams does in completeRestoration: a punctuator scheduled in Init()
// must never read half-restored state or write into a store being
// restored.
//
// Threading model: owned by one StreamThread; every call on its thread.
#ifndef BROOK_RUNTIME_INTERNAL_STREAM_TASK_H_
#define BROOK_RUNTIME_INTERNAL_STREAM_TASK_H_

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "brook/runtime/error_handlers.h"
#include "brook/runtime/internal/changelog_reader.h"
#include "brook/runtime/internal/partition_group.h"
#include "brook/runtime/internal/processor_node.h"
#include "brook/runtime/internal/punctuation_queue.h"
#include "brook/runtime/internal/store_change_logger.h"
#include "brook/runtime/internal/task_context.h"
#include "brook/runtime/internal/topology_plan.h"
#include "brook/state/state_directory.h"

namespace brook::internal {

struct TaskOptions {
  std::string application_id;
  // The application's state directory; each task's stores live in
  // <state_directory>/<task id>/, locked through `state_dir` when set.
  std::string state_directory;
  const StateDirectory* state_dir = nullptr;
  StoreContext store_context;
  TimestampExtractor default_timestamp_extractor;
  // Milliseconds since the epoch; replaceable for tests.
  std::function<int64_t()> clock_ms;
  // statestore.cache.max.bytes, handed to processors
  // (ProcessorContext::cache_max_bytes).
  int64_t cache_max_bytes = 0;
  // metrics.recording.level=DEBUG: the stores time each call
  // (StateStore::EnableLatencyMetrics).
  bool store_latency_metrics = false;
  // max.task.idle.ms (StreamsConfig::max_task_idle_ms): how long a task
  // with several input partitions waits for an empty one that is known to
  // have nothing to fetch before it processes the others anyway; -1 never
  // waits. See PartitionGroup::ReadyToProcess.
  int64_t max_task_idle_ms = -1;
  // The consumer's cached lag of a partition (Consumer::CachedLag). Empty:
  // every partition counts as having nothing to fetch (the test driver).
  PartitionGroup::LagFn lag;
  // Called with the number of enforced processings (see
  // enforced_processing_total()) after a Process() call that had some; may
  // be empty.
  std::function<void(int64_t)> on_enforced_processing;
  // Called for every record a processor drops (the thread's metric); may be
  // empty.
  std::function<void(DroppedRecordReason)> on_dropped_record;
  // What to do with records that fail deserialization, processing or
  // production, and the dead-letter topic.
  RecordErrorPolicies error_policies;
  // The largest record a sink may send to `topic` (its max.message.bytes,
  // capped by the producer's message.max.bytes), checked before sending;
  // nullopt or an empty function: not checked. Must give the same answer
  // for a topic for the task's lifetime: sinks remember the last one.
  std::function<std::optional<int64_t>(const std::string& topic)>
      max_record_bytes;
  // Called for every record written to the dead-letter topic; may be empty.
  std::function<void(RecordErrorKind)> on_dead_letter;
  // Given what background work completed at each PollBackgroundWork() (the
  // thread's metrics); may be empty.
  std::function<void(const BackgroundWorkStats&)> on_background_work;
};

// An upper bound of the bytes `record` takes in a record batch of its own
// (Kafka's v2 format, uncompressed): what the broker compares with the
// topic's max.message.bytes.
int64_t RecordBatchSizeUpperBound(const ProducerRecord& record);

enum class CloseMode { kClean, kDirty };

class StreamTask final : public TaskContext {
 public:
  // REQUIRES: `partitions` are exactly the task's input partitions.
  StreamTask(TaskId id, std::shared_ptr<const TopologyPlan> plan,
             std::vector<TopicPartition> partitions, TaskOptions options,
             RecordCollector* collector);
  ~StreamTask() override;

  enum class State { kCreated, kRestoring, kRunning, kClosed };

  // kCreated -> kRestoring: locks the task directory and opens the stores
  // (wiping one whose files are corrupt: it is then restored in full). On
  // error the task holds nothing and stays kCreated, so the call can be
  // retried (a directory still locked by a sibling thread that has not yet
  // seen its revocation is kUnavailable). An error names the task and the
  // store.
  absl::Status InitializeStores();

  // kRestoring -> kRunning: makes the processor nodes and runs their
  // Init(). An error names the task and the node.
  absl::Status InitializeTopology();

  // kRestoring -> kCreated: closes the stores and releases the task
  // directory, keeping the buffered records (a failed restore start is
  // retried later).
  void ReleaseStores();

  // Both, for a task without anything to restore.
  absl::Status Initialize();

  // The logged stores and their changelog partitions, to restore before the
  // task processes anything. REQUIRES: state() != kCreated.
  std::vector<RestoreTarget> RestoreTargets() const;
  State state() const { return state_; }
  bool running() const { return state_ == State::kRunning; }

  // First step of a commit, before the producer is flushed and offsets are
  // sent: runs the processors' commit hooks (ProcessorContext::
  // RegisterCommitHook), whose store writes and forwarded records join the
  // commit. Does nothing unless running. An error names the task and node.
  absl::Status PrepareCommit();

  // After the Kafka transaction (or, at-least-once, the flush) carrying the
  // task's changelog records succeeded: writes each store's uncommitted
  // changes with the changelog offset they reach. `delivered` holds the
  // highest offset written per changelog partition.
  absl::Status CommitStores(
      const absl::flat_hash_map<TopicPartition, int64_t>& delivered);

  // Buffers a record of one of the task's partitions.
  absl::Status AddRecord(ConsumerRecord&& record);
  size_t buffered() const { return group_.buffered(); }
  int64_t buffered_bytes() const { return group_.buffered_bytes(); }
  size_t buffered(const TopicPartition& tp) const {
    return group_.buffered(tp);
  }

  // Processes up to `max_records` buffered records (none unless running),
  // lowest timestamp first, running stream-time punctuation as stream time
  // advances. Returns how many it processed. An error names the task and the
  // record's topic, partition and offset; the failing record counts as not
  // consumed.
  absl::StatusOr<int64_t> Process(int64_t max_records);

  absl::Status PunctuateWallClock();

  // Forwards what the processors' background work completed (see
  // ProcessorContext::RegisterBackgroundWork), without blocking. Does
  // nothing unless running. An error names the task and node.
  absl::Status PollBackgroundWork();
  // Records the processors hold in background work, not forwarded yet.
  int64_t background_in_flight() const;

  // Next offset to commit per partition consumed since the last commit.
  std::vector<TopicPartitionOffset> UncommittedOffsets() const;
  // Each store's metrics (StateStore::Metrics()), by store name.
  std::map<std::string, StateStoreMetrics> StoreMetrics() const;
  // True if the task consumed records or wrote to a store since its last
  // commit (a punctuator may write without consuming).
  bool commit_needed() const;
  bool commit_requested() const { return commit_requested_; }
  void MarkCommitted();

  void Close(CloseMode mode);

  const TaskId& id() const { return id_; }
  const std::vector<TopicPartition>& partitions() const { return partitions_; }
  int64_t processed_total() const { return processed_total_; }
  // Times the task processed past max.task.idle.ms with an input partition
  // empty (Kafka Streams' enforced-processing-total).
  int64_t enforced_processing_total() const {
    return group_.enforced_processing();
  }

  // TaskContext.
  const TaskId& task_id() const override { return id_; }
  const std::string& application_id() const override {
    return options_.application_id;
  }
  const std::optional<RecordMetadata>& record_metadata() const override {
    return has_metadata_ ? metadata_ : no_metadata_;
  }
  int64_t stream_time_ms() const override { return group_.stream_time(); }
  int64_t system_time_ms() const override { return options_.clock_ms(); }
  absl::StatusOr<Cancellable> Schedule(ProcessorNode* node,
                                       absl::Duration interval,
                                       PunctuationType type,
                                       Punctuator punctuator) override;
  absl::StatusOr<StateStore*> GetStateStore(const ProcessorNode& node,
                                            absl::string_view name) override;
  void RequestCommit() override { commit_requested_ = true; }
  void RegisterCommitHook(ProcessorNode* node,
                          std::function<absl::Status()> hook) override;
  void RegisterBackgroundWork(ProcessorNode* node,
                              BackgroundWork work) override;
  int64_t cache_max_bytes() const override { return options_.cache_max_bytes; }
  // Sinks send through the task, which checks each record's size first
  // (production errors, runtime/error_handlers.h).
  RecordCollector& collector() override { return sink_collector_; }
  // Counts the drop, reports it to on_dropped_record and logs it: the first
  // drop, then at most one line per kDropLogInterval of the task's clock,
  // with the number dropped since the previous line.
  void RecordDropped(const ProcessorNode& node,
                     DroppedRecordReason reason) override;
  // Records dropped by this task's processors since it was created.
  const DroppedRecordCounts& dropped_records() const { return dropped_; }
  // Input records this task wrote to the dead-letter topic, by kind.
  int64_t dead_letter_records(RecordErrorKind kind) const {
    return dead_lettered_[static_cast<int>(kind)];
  }

 private:
  // The collector sinks see: checks sizes, then sends through collector_.
  class SinkCollector final : public RecordCollector {
   public:
    explicit SinkCollector(StreamTask* task) : task_(task) {}
    absl::Status Send(const ProducerRecord& record) override;
    absl::Status CheckTopicExists(const std::string& topic) override {
      return task_->collector_->CheckTopicExists(topic);
    }

   private:
    // max_record_bytes of the topic last sent to: sinks send to few topics,
    // and the lookup (a std::function and a hash of the topic's name) cost
    // about 2% of a passthrough's CPU when made per record.
    std::optional<int64_t> LimitFor(const std::string& topic);

    StreamTask* const task_;
    std::string limit_topic_;
    bool limit_known_ = false;
    std::optional<int64_t> limit_;
  };

  absl::Status ProcessOne(const StampedRecord& record);
  // Asks the policy for `kind` what to do with the current input record
  // (`input`, nullptr in a punctuator) after `error`, and does it. OK if the
  // record is skipped or dead-lettered; otherwise the error to fail with.
  absl::Status HandleRecordError(RecordErrorKind kind, const std::string& node,
                                 const ConsumerRecord* input,
                                 const absl::Status& error,
                                 const ProducerRecord* output = nullptr);
  absl::Status WriteDeadLetter(RecordErrorKind kind, const std::string& node,
                               const ConsumerRecord& input,
                               const absl::Status& error);
  // Logs a skipped or dead-lettered record: the first, then at most one line
  // per 10 s of the task's clock.
  void LogRecordError(RecordErrorKind kind, ErrorHandlerResponse response,
                      const ConsumerRecord* input, const absl::Status& error);
  // False while a processor's background work takes no more input.
  bool accepting() const;
  absl::Status RunPunctuator(ProcessorNode* node, const Punctuator& p,
                             int64_t timestamp);
  static std::vector<RecordQueue> MakeQueues(
      const TopologyPlan& plan, const std::vector<TopicPartition>& tps,
      const TimestampExtractor& fallback);

  const TaskId id_;
  const std::shared_ptr<const TopologyPlan> plan_;
  const std::vector<TopicPartition> partitions_;
  const TaskOptions options_;
  RecordCollector* const collector_;

  std::unique_ptr<TaskDirectory> task_dir_;
  absl::flat_hash_map<std::string, std::unique_ptr<StoreChangeLogger>> loggers_;
  State state_ = State::kCreated;
  int64_t current_timestamp_ms_ = 0;
  std::vector<std::unique_ptr<ProcessorNode>> nodes_;
  // By queue index (PartitionGroup): the source node reading that
  // partition, resolved once in InitializeTopology.
  std::vector<SourceNodeBase*> source_by_queue_;
  absl::flat_hash_map<std::string, std::unique_ptr<StateStore>> stores_;
  PartitionGroup group_;
  PunctuationQueue stream_time_punctuation_;
  PunctuationQueue wall_clock_punctuation_;
  // The current record's metadata, or none (record_metadata() then returns
  // no_metadata_). Kept engaged between records, so that the topic string's
  // buffer is reused instead of allocated per record.
  std::optional<RecordMetadata> metadata_;
  bool has_metadata_ = false;
  static const std::optional<RecordMetadata> no_metadata_;
  // In registration (Init) order; cleared on Close().
  std::vector<std::pair<ProcessorNode*, std::function<absl::Status()>>>
      commit_hooks_;
  // In registration (Init) order; cleared on Close().
  std::vector<std::pair<ProcessorNode*, BackgroundWork>> background_work_;
  // By queue index: the offset after the last processed record, -1 if none
  // since the last commit.
  std::vector<int64_t> consumed_;
  bool consumed_any_ = false;
  bool commit_requested_ = false;
  bool initialized_ = false;  // nodes made and Init() run
  int64_t processed_total_ = 0;
  DroppedRecordCounts dropped_{};
  int64_t drops_since_log_ = 0;
  int64_t last_drop_log_ms_ = -1;  // -1: never logged
  SinkCollector sink_collector_{this};
  // While ProcessOne() runs: the input record, whether it went to the
  // dead-letter topic already (a record goes there once, however many of
  // its outputs fail), and the first error a send met (a Kafka error, or a
  // production error the handler chose to fail on), which no processing
  // handler may swallow.
  const ConsumerRecord* current_input_ = nullptr;
  // The record being processed, reused from one to the next.
  StampedRecord next_record_;
  bool current_dead_lettered_ = false;
  absl::Status send_error_;
  std::array<int64_t, 3> dead_lettered_{};
  int64_t record_errors_since_log_ = 0;
  int64_t last_record_error_log_ms_ = -1;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_STREAM_TASK_H_
