// TaskManager: a stream thread's tasks. It turns assignments into tasks
// (checking co-partitioning), initialises and restores them, routes polled
// records to them, pauses and resumes partitions by buffer fill, runs the
// tasks in turn, and commits their consumed offsets.
//
// An assignment only creates tasks (nothing blocks inside the rebalance
// callback). The thread's loop then calls InitializeTasks(), which locks
// the task directories, opens the stores and registers the changelogs to
// restore. A transient failure there (a directory still locked by a sibling
// thread that has not yet seen its revocation, a ListOffsets timeout, a
// leader change) is retried on later iterations, and fails the thread only
// once task.timeout.ms has passed, naming the task and the cause. A task's
// partitions stay paused until it runs.
//
// Threading model: owned by one StreamThread.
#ifndef BROOK_RUNTIME_INTERNAL_TASK_MANAGER_H_
#define BROOK_RUNTIME_INTERNAL_TASK_MANAGER_H_

#include <atomic>
#include <map>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

#include "brook/kafka/consumer.h"
#include "brook/runtime/internal/stream_task.h"
#include "brook/runtime/internal/streams_producer.h"
#include "brook/runtime/streams_config.h"

namespace brook::internal {

class TaskManager {
 public:
  // `restorer` may be null when the topology has no logged stores.
  // `buffered_bytes` counts the input buffered by every thread of the
  // process (input.buffer.max.bytes); it must outlive the manager.
  TaskManager(std::shared_ptr<const TopologyPlan> plan,
              const StreamsConfig& config, TaskOptions task_options,
              Consumer* consumer, StreamsProducer* producer,
              ChangelogReader* restorer,
              std::shared_ptr<std::atomic<int64_t>> buffered_bytes);
  ~TaskManager();

  // Makes a task per (sub-topology, partition) of `partitions`, paused until
  // it runs. Fails, naming the task and the missing partitions, if a task
  // did not get every input partition it needs: the instance must not
  // process half a join.
  absl::Status HandleAssignment(absl::Span<const TopicPartition> partitions);

  // Tries to initialise created tasks (see the class comment). Returns an
  // error only for a permanent failure, or a transient one that lasted
  // longer than task.timeout.ms.
  absl::Status InitializeTasks();

  // Closes every task: cleanly if `mode` is kClean (REQUIRES: committed
  // first), else dropping uncommitted work.
  void CloseAll(CloseMode mode);

  // Buffers a polled record in its task and pauses its partition when the
  // buffer is full.
  absl::Status AddRecord(ConsumerRecord&& record);

  // With partition queues: tops up each running task's read-ahead from its
  // partitions' queues (up to partition.read.ahead.records buffered per
  // partition, while the process-wide input.buffer.max.bytes allows).
  // Returns the records read.
  absl::StatusOr<int64_t> ReadPartitionQueues();

  // Runs each task in turn for up to `max_per_task` records, then resumes
  // partitions whose buffer has drained. Returns records processed.
  absl::StatusOr<int64_t> Process(int64_t max_per_task);

  absl::Status PunctuateWallClock();

  // Forwards what every running task's background work completed
  // (StreamTask::PollBackgroundWork).
  absl::Status PollBackgroundWork();
  // Records held in background work by all tasks.
  int64_t background_in_flight() const;

  // Restores up to `max_records` changelog records of restoring tasks; a task
  // whose stores are all restored initialises its processors and starts
  // processing (its partitions resume).
  absl::Status Restore(int64_t max_records);
  // True while any task is not running yet (created or restoring).
  bool restoring() const;
  // True while changelog records are being restored.
  bool restore_active() const {
    return restorer_ != nullptr && restorer_->active();
  }

  // Commits every task's consumed offsets: in the open transaction under
  // exactly-once, else flush and commit through the consumer. Errors are
  // returned unhandled (the thread decides: abort, migrate or die).
  absl::Status Commit();
  // The input offsets of the last successful Commit().
  const std::vector<TopicPartitionOffset>& last_committed() const {
    return last_committed_;
  }
  bool commit_needed() const;
  bool commit_requested() const;

  // After an aborted transaction: recreates every task and seeks its
  // partitions back to their committed offsets.
  absl::Status ReviveAllFromCommitted();

  bool has_buffered_records() const;
  size_t num_tasks() const { return tasks_.size(); }
  // "0_1, 0_2": the tasks, for messages.
  std::string TaskIdsString() const;
  std::vector<const StreamTask*> tasks() const;

 private:
  absl::Status CreateTasks(
      const std::map<TaskId, std::vector<TopicPartition>>& assignment);
  // Initialises the processors of a restored task and resumes its input.
  absl::Status StartRunning(StreamTask& task);
  absl::Status ResumeDrained();

  const std::shared_ptr<const TopologyPlan> plan_;
  const StreamsConfig& config_;
  const TaskOptions task_options_;
  Consumer* const consumer_;
  StreamsProducer* const producer_;
  ChangelogReader* const restorer_;
  const std::shared_ptr<std::atomic<int64_t>> buffered_bytes_;

  std::map<TaskId, std::unique_ptr<StreamTask>> tasks_;
  absl::flat_hash_map<TopicPartition, StreamTask*> task_by_partition_;
  // The entry of task_by_partition_ the last record was routed by:
  // consecutive records mostly share a partition, and comparing saves a
  // hash of the topic name per record. Reset whenever task_by_partition_
  // changes (a rehash moves its entries).
  const std::pair<const TopicPartition, StreamTask*>* last_route_ = nullptr;
  // Partitions paused by this manager (never with partition queues).
  absl::flat_hash_set<TopicPartition> paused_;
  std::vector<ConsumerRecord> read_batch_;  // reused by ReadPartitionQueues
  std::vector<TopicPartitionOffset> last_committed_;
  size_t next_task_ = 0;  // round-robin start
  // When each created task first failed to initialise (transiently).
  std::map<TaskId, absl::Time> init_failing_since_;
  absl::Time last_init_warning_ = absl::InfinitePast();
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_TASK_MANAGER_H_
