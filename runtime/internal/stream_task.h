// StreamTask: one sub-topology running on one partition number. It owns the
// sub-topology's node instances, one record queue per input partition, its
// stream time and its punctuations, and tracks the offsets it has consumed
// since the last commit.
//
// Task life cycle:
//
//   Create() --> Initialize() --> running: AddRecord / Process / Punctuate
//                                     |
//               Close(kClean) after a commit, or Close(kDirty) after an
//               abort or a lost assignment (uncommitted work is dropped)
//
// Threading model: owned by one StreamThread; every call on its thread.
#ifndef BROOK_RUNTIME_INTERNAL_STREAM_TASK_H_
#define BROOK_RUNTIME_INTERNAL_STREAM_TASK_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "runtime/internal/changelog_logger.h"
#include "runtime/internal/changelog_reader.h"
#include "runtime/internal/partition_group.h"
#include "runtime/internal/processor_node.h"
#include "runtime/internal/punctuation_queue.h"
#include "runtime/internal/task_context.h"
#include "runtime/internal/topology_plan.h"
#include "state/state_directory.h"

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
};

enum class CloseMode { kClean, kDirty };

class StreamTask final : public TaskContext {
 public:
  // REQUIRES: `partitions` are exactly the task's input partitions.
  StreamTask(TaskId id, std::shared_ptr<const TopologyPlan> plan,
             std::vector<TopicPartition> partitions, TaskOptions options,
             RecordCollector* collector);
  ~StreamTask() override;

  // Locks the task directory, opens the stores (wiping one whose files are
  // corrupt: it is then restored in full), makes and initializes the nodes.
  // An error names the task and the node or store.
  absl::Status Initialize();

  // The logged stores and their changelog partitions, to restore before the
  // task processes anything.
  std::vector<RestoreTarget> RestoreTargets() const;
  bool restoring() const { return restoring_; }
  void set_restoring(bool restoring) { restoring_ = restoring; }

  // After the Kafka transaction (or, at-least-once, the flush) carrying the
  // task's changelog records succeeded: writes each store's uncommitted
  // changes with the changelog offset they reach. `delivered` holds the
  // highest offset written per changelog partition.
  absl::Status CommitStores(
      const absl::flat_hash_map<TopicPartition, int64_t>& delivered);

  // Buffers a record of one of the task's partitions.
  absl::Status AddRecord(ConsumerRecord record);
  size_t buffered() const { return group_.buffered(); }
  size_t buffered(const TopicPartition& tp) const {
    return group_.buffered(tp);
  }

  // Processes up to `max_records` buffered records (none while restoring),
  // lowest timestamp first, running stream-time punctuation as stream time
  // advances. Returns how many it processed. An error names the task and the
  // record's topic, partition and offset; the failing record counts as not
  // consumed.
  absl::StatusOr<int64_t> Process(int64_t max_records);

  absl::Status PunctuateWallClock();

  // Next offset to commit per partition consumed since the last commit.
  std::vector<TopicPartitionOffset> UncommittedOffsets() const;
  bool commit_needed() const { return !consumed_.empty(); }
  bool commit_requested() const { return commit_requested_; }
  void MarkCommitted();

  void Close(CloseMode mode);

  const TaskId& id() const { return id_; }
  const std::vector<TopicPartition>& partitions() const { return partitions_; }
  int64_t processed_total() const { return processed_total_; }

  // TaskContext.
  const TaskId& task_id() const override { return id_; }
  const std::string& application_id() const override {
    return options_.application_id;
  }
  const std::optional<RecordMetadata>& record_metadata() const override {
    return metadata_;
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
  RecordCollector& collector() override { return *collector_; }

 private:
  absl::Status ProcessOne(StampedRecord record);
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
  absl::flat_hash_map<std::string, std::unique_ptr<ChangelogLogger>> loggers_;
  bool restoring_ = false;
  int64_t current_timestamp_ms_ = 0;
  std::vector<std::unique_ptr<ProcessorNode>> nodes_;
  absl::flat_hash_map<std::string, SourceNodeBase*> source_by_topic_;
  absl::flat_hash_map<std::string, std::unique_ptr<StateStore>> stores_;
  PartitionGroup group_;
  PunctuationQueue stream_time_punctuation_;
  PunctuationQueue wall_clock_punctuation_;
  std::optional<RecordMetadata> metadata_;
  absl::flat_hash_map<TopicPartition, int64_t> consumed_;
  bool commit_requested_ = false;
  bool initialized_ = false;
  bool closed_ = false;
  int64_t processed_total_ = 0;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_STREAM_TASK_H_
