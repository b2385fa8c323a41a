// TaskManager: a stream thread's tasks. It turns assignments into tasks
// (checking co-partitioning), routes polled records to them, pauses and
// resumes partitions by buffer fill, runs the tasks in turn, and commits
// their consumed offsets.
// Threading model: owned by one StreamThread.
#ifndef BROOK_RUNTIME_INTERNAL_TASK_MANAGER_H_
#define BROOK_RUNTIME_INTERNAL_TASK_MANAGER_H_

#include <map>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

#include "kafka/consumer.h"
#include "runtime/internal/stream_task.h"
#include "runtime/internal/streams_producer.h"
#include "runtime/streams_config.h"

namespace brook::internal {

class TaskManager {
 public:
  // `restorer` may be null when the topology has no logged stores.
  TaskManager(std::shared_ptr<const TopologyPlan> plan,
              const StreamsConfig& config, TaskOptions task_options,
              Consumer* consumer, StreamsProducer* producer,
              ChangelogReader* restorer);
  ~TaskManager();

  // Makes a task per (sub-topology, partition) of `partitions`. Fails, naming
  // the task and the missing partitions, if a task did not get every input
  // partition it needs: the instance must not process half a join.
  absl::Status HandleAssignment(absl::Span<const TopicPartition> partitions);

  // Closes every task: cleanly if `mode` is kClean (REQUIRES: committed
  // first), else dropping uncommitted work.
  void CloseAll(CloseMode mode);

  // Buffers a polled record in its task and pauses its partition when the
  // buffer is full.
  absl::Status AddRecord(ConsumerRecord record);

  // Runs each task in turn for up to `max_per_task` records, then resumes
  // partitions whose buffer has drained. Returns records processed.
  absl::StatusOr<int64_t> Process(int64_t max_per_task);

  absl::Status PunctuateWallClock();

  // Restores up to `max_records` changelog records of restoring tasks; a task
  // whose stores are all restored starts processing (its partitions resume).
  absl::Status Restore(int64_t max_records);
  bool restoring() const { return restorer_ != nullptr && restorer_->active(); }

  // Commits every task's consumed offsets: in the open transaction under
  // exactly-once, else flush and commit through the consumer. Errors are
  // returned unhandled (the thread decides: abort, migrate or die).
  absl::Status Commit();
  bool commit_needed() const;
  bool commit_requested() const;

  // After an aborted transaction: recreates every task and seeks its
  // partitions back to their committed offsets.
  absl::Status ReviveAllFromCommitted();

  bool has_buffered_records() const;
  size_t num_tasks() const { return tasks_.size(); }
  std::vector<const StreamTask*> tasks() const;

 private:
  absl::Status CreateTasks(
      const std::map<TaskId, std::vector<TopicPartition>>& assignment);
  absl::Status ResumeDrained();

  const std::shared_ptr<const TopologyPlan> plan_;
  const StreamsConfig& config_;
  const TaskOptions task_options_;
  Consumer* const consumer_;
  StreamsProducer* const producer_;
  ChangelogReader* const restorer_;

  std::map<TaskId, std::unique_ptr<StreamTask>> tasks_;
  absl::flat_hash_map<TopicPartition, StreamTask*> task_by_partition_;
  absl::flat_hash_set<TopicPartition> paused_;
  size_t next_task_ = 0;  // round-robin start
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_TASK_MANAGER_H_
