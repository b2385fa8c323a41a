#include "brook/runtime/internal/task_manager.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "brook/base/crash_point.h"
#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/errors.h"

namespace brook::internal {
namespace {

std::string Join(const std::vector<TopicPartition>& tps) {
  return absl::StrJoin(tps, ", ",
                       [](std::string* out, const TopicPartition& tp) {
                         out->append(tp.ToString());
                       });
}

}  // namespace

TaskManager::TaskManager(std::shared_ptr<const TopologyPlan> plan,
                         const StreamsConfig& config, TaskOptions task_options,
                         Consumer* consumer, StreamsProducer* producer,
                         ChangelogReader* restorer,
                         std::shared_ptr<std::atomic<int64_t>> buffered_bytes)
    : plan_(std::move(plan)),
      config_(config),
      task_options_(std::move(task_options)),
      consumer_(consumer),
      producer_(producer),
      restorer_(restorer),
      buffered_bytes_(buffered_bytes != nullptr
                          ? std::move(buffered_bytes)
                          : std::make_shared<std::atomic<int64_t>>(0)) {}

TaskManager::~TaskManager() { CloseAll(CloseMode::kDirty); }

absl::Status TaskManager::HandleAssignment(
    absl::Span<const TopicPartition> partitions) {
  std::map<TaskId, std::vector<TopicPartition>> assignment;
  for (const TopicPartition& tp : partitions) {
    std::optional<TopologyPlan::Route> route = plan_->RouteFor(tp.topic);
    if (!route.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "assigned partition ", tp.ToString(), " is read by no source"));
    }
    assignment[TaskId{route->subtopology, tp.partition}].push_back(tp);
  }
  // Co-partitioning: a task needs partition N of every topic its
  // sub-topology reads by name.
  for (const auto& [id, tps] : assignment) {
    std::vector<TopicPartition> missing;
    for (const std::string& topic :
         plan_->subtopologies()[id.subtopology].source_topics) {
      TopicPartition needed{topic, id.partition};
      if (std::find(tps.begin(), tps.end(), needed) == tps.end()) {
        missing.push_back(needed);
      }
    }
    if (!missing.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "task ", id.ToString(), " was assigned ", Join(tps), " but not ",
          Join(missing),
          ": co-partitioned topics need equal partition counts, and every "
          "instance of the application must run the same topology"));
    }
  }
  return CreateTasks(assignment);
}

absl::Status TaskManager::CreateTasks(
    const std::map<TaskId, std::vector<TopicPartition>>& assignment) {
  for (const auto& [id, tps] : assignment) {
    auto task =
        std::make_unique<StreamTask>(id, plan_, tps, task_options_, producer_);
    last_route_ = nullptr;
    for (const TopicPartition& tp : tps) task_by_partition_[tp] = task.get();
    // Input waits until the task runs: with partition queues its
    // partitions are simply not read until then.
    if (!config_.partition_queues) {
      BROOK_RETURN_IF_ERROR(consumer_->Pause(tps));
      paused_.insert(tps.begin(), tps.end());
    }
    tasks_[id] = std::move(task);
  }
  init_failing_since_.clear();
  return absl::OkStatus();
}

namespace {

// Conditions that pass by themselves: a lock a sibling thread is about to
// release, a broker that is restarting or electing a leader, a call that
// timed out.
bool IsTransient(const absl::Status& s) {
  return IsRetriable(s) || absl::IsUnavailable(s) ||
         absl::IsDeadlineExceeded(s);
}

}  // namespace

absl::Status TaskManager::InitializeTasks() {
  const absl::Time now = absl::Now();
  for (auto& [id, task] : tasks_) {
    if (task->state() != StreamTask::State::kCreated) continue;
    absl::Status s = task->InitializeStores();
    bool restoring = false;
    if (s.ok() && restorer_ != nullptr) {
      std::vector<RestoreTarget> targets = task->RestoreTargets();
      if (!targets.empty()) {
        absl::StatusOr<bool> added = restorer_->Add(id, targets);
        if (added.ok()) {
          restoring = *added;
        } else {
          s = added.status();
          // Release the stores and the lock; the retry starts afresh. The
          // records already buffered stay.
          task->ReleaseStores();
        }
      }
    }
    if (!s.ok()) {
      if (!IsTransient(s)) return s;
      auto [it, first] = init_failing_since_.try_emplace(id, now);
      if (now - it->second > config_.task_timeout) {
        return absl::Status(
            s.code(), absl::StrCat("task ", id.ToString(),
                                   " could not be initialised "
                                   "within task.timeout.ms (",
                                   absl::FormatDuration(config_.task_timeout),
                                   "): ", s.message()));
      }
      if (first || now - last_init_warning_ > absl::Seconds(5)) {
        last_init_warning_ = now;
        LOG(WARNING) << "task " << id.ToString()
                     << " is not ready yet, retrying: " << s;
      }
      continue;
    }
    init_failing_since_.erase(id);
    if (!restoring) BROOK_RETURN_IF_ERROR(StartRunning(*task));
  }
  return absl::OkStatus();
}

absl::Status TaskManager::StartRunning(StreamTask& task) {
  BROOK_RETURN_IF_ERROR(task.InitializeTopology());
  std::vector<TopicPartition> resume;
  for (const TopicPartition& tp : task.partitions()) {
    if (paused_.erase(tp) > 0) resume.push_back(tp);
  }
  return resume.empty() ? absl::OkStatus() : consumer_->Resume(resume);
}

bool TaskManager::restoring() const {
  for (const auto& [id, task] : tasks_) {
    if (!task->running()) return true;
  }
  return false;
}

void TaskManager::CloseAll(CloseMode mode) {
  for (auto& [id, task] : tasks_) {
    if (restorer_ != nullptr &&
        task->state() == StreamTask::State::kRestoring) {
      absl::Status s = restorer_->Remove(id);
      if (!s.ok())
        LOG(WARNING) << "stopping the restore of task " << id.ToString() << ": "
                     << s;
    }
    buffered_bytes_->fetch_sub(task->buffered_bytes());
    task->Close(mode);
  }
  tasks_.clear();
  last_route_ = nullptr;
  task_by_partition_.clear();
  paused_.clear();
  next_task_ = 0;
}

absl::Status TaskManager::AddRecord(ConsumerRecord&& record) {
  if (last_route_ == nullptr ||
      last_route_->first.partition != record.partition ||
      last_route_->first.topic != record.topic) {
    auto it =
        task_by_partition_.find(TopicPartition{record.topic, record.partition});
    if (it == task_by_partition_.end()) {
      // A record fetched before its partition was revoked; dropping it is
      // safe because nothing consumed it.
      return absl::OkStatus();
    }
    last_route_ = &*it;
  }
  const TopicPartition& tp = last_route_->first;
  StreamTask& task = *last_route_->second;
  const int64_t before = task.buffered_bytes();
  BROOK_RETURN_IF_ERROR(task.AddRecord(std::move(record)));
  const int64_t total =
      buffered_bytes_->fetch_add(task.buffered_bytes() - before) +
      (task.buffered_bytes() - before);
  if (config_.partition_queues) return absl::OkStatus();  // never pauses
  if ((task.buffered(tp) >=
           static_cast<size_t>(config_.buffered_records_per_partition) ||
       total > config_.input_buffer_max_bytes) &&
      !paused_.contains(tp)) {
    BROOK_RETURN_IF_ERROR(consumer_->Pause({tp}));
    paused_.insert(tp);
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> TaskManager::ReadPartitionQueues() {
  int64_t total = 0;
  const size_t read_ahead =
      static_cast<size_t>(config_.partition_read_ahead_records);
  for (auto& [id, task] : tasks_) {
    if (!task->running()) continue;
    for (const TopicPartition& tp : task->partitions()) {
      const size_t have = task->buffered(tp);
      if (have >= read_ahead ||
          buffered_bytes_->load(std::memory_order_relaxed) >
              config_.input_buffer_max_bytes) {
        continue;
      }
      read_batch_.clear();
      BROOK_ASSIGN_OR_RETURN(
          size_t n,
          consumer_->PollPartition(tp, read_ahead - have, &read_batch_));
      if (n == 0) continue;
      const int64_t before = task->buffered_bytes();
      for (ConsumerRecord& r : read_batch_) {
        BROOK_RETURN_IF_ERROR(task->AddRecord(std::move(r)));
      }
      buffered_bytes_->fetch_add(task->buffered_bytes() - before);
      total += static_cast<int64_t>(n);
    }
  }
  return total;
}

absl::StatusOr<int64_t> TaskManager::Process(int64_t max_per_task) {
  int64_t total = 0;
  if (tasks_.empty()) return total;
  std::vector<StreamTask*> order;
  for (auto& [id, task] : tasks_) order.push_back(task.get());
  next_task_ %= order.size();
  for (size_t i = 0; i < order.size(); ++i) {
    StreamTask* task = order[(next_task_ + i) % order.size()];
    const int64_t before = task->buffered_bytes();
    absl::StatusOr<int64_t> n = task->Process(max_per_task);
    buffered_bytes_->fetch_sub(before - task->buffered_bytes());
    if (!n.ok()) return n.status();
    total += *n;
  }
  ++next_task_;
  BROOK_RETURN_IF_ERROR(ResumeDrained());
  return total;
}

absl::Status TaskManager::ResumeDrained() {
  // Resume below half the limits, so the fetch restarts while records
  // remain.
  if (paused_.empty() ||
      buffered_bytes_->load() > config_.input_buffer_max_bytes / 2) {
    return absl::OkStatus();
  }
  std::vector<TopicPartition> resume;
  for (const TopicPartition& tp : paused_) {
    auto it = task_by_partition_.find(tp);
    if (it != task_by_partition_.end() && !it->second->running()) continue;
    if (it == task_by_partition_.end() ||
        it->second->buffered(tp) <
            static_cast<size_t>(config_.buffered_records_per_partition) / 2) {
      resume.push_back(tp);
    }
  }
  if (resume.empty()) return absl::OkStatus();
  for (const TopicPartition& tp : resume) paused_.erase(tp);
  return consumer_->Resume(resume);
}

absl::Status TaskManager::Restore(int64_t max_records) {
  if (restorer_ == nullptr || !restorer_->active()) return absl::OkStatus();
  BROOK_ASSIGN_OR_RETURN(std::vector<TaskId> finished,
                         restorer_->Restore(max_records));
  for (const TaskId& id : finished) {
    auto it = tasks_.find(id);
    if (it == tasks_.end()) continue;
    BROOK_RETURN_IF_ERROR(StartRunning(*it->second));
  }
  return absl::OkStatus();
}

absl::Status TaskManager::PunctuateWallClock() {
  for (auto& [id, task] : tasks_)
    BROOK_RETURN_IF_ERROR(task->PunctuateWallClock());
  return absl::OkStatus();
}

absl::Status TaskManager::PollBackgroundWork() {
  for (auto& [id, task] : tasks_)
    BROOK_RETURN_IF_ERROR(task->PollBackgroundWork());
  return absl::OkStatus();
}

int64_t TaskManager::background_in_flight() const {
  int64_t total = 0;
  for (const auto& [id, task] : tasks_) total += task->background_in_flight();
  return total;
}

bool TaskManager::commit_needed() const {
  for (const auto& [id, task] : tasks_) {
    if (task->commit_needed()) return true;
  }
  return producer_->transaction_open();
}

bool TaskManager::commit_requested() const {
  for (const auto& [id, task] : tasks_) {
    if (task->commit_requested()) return true;
  }
  return false;
}

absl::Status TaskManager::Commit() {
  // Processors that hold updates back (record caches) write them out first,
  // so that their changelog and output records join this transaction.
  for (auto& [id, task] : tasks_) {
    BROOK_RETURN_IF_ERROR(task->PrepareCommit());
  }
  std::vector<TopicPartitionOffset> offsets;
  for (const auto& [id, task] : tasks_) {
    for (TopicPartitionOffset& o : task->UncommittedOffsets()) {
      offsets.push_back(std::move(o));
    }
  }
  if ((CrashPointSet("commit.after_produce") ||
       CrashPointSet("commit.after_send_offsets")) &&
      producer_->transaction_open()) {
    // These points promise that the transaction's records are in the log (a
    // test checks that the restart aborts them), not some of them still in
    // the producer's linger queue. Only when a test sets one of them.
    BROOK_RETURN_IF_ERROR(producer_->Flush());
  }
  CrashPoint("commit.after_produce");
  if (producer_->exactly_once()) {
    std::unique_ptr<GroupMetadata> group;
    if (!offsets.empty()) {
      // Fresh metadata: offsets sent with a stale generation are rejected by
      // the broker, which is how a zombie is fenced (KIP-447).
      BROOK_ASSIGN_OR_RETURN(group, consumer_->GetGroupMetadata());
    }
    BROOK_RETURN_IF_ERROR(producer_->Commit(offsets, group.get()));
  } else {
    BROOK_RETURN_IF_ERROR(producer_->Commit({}, nullptr));
    BROOK_RETURN_IF_ERROR(RetryWhileRetriable(config_.client_call_timeout, [&] {
      return consumer_->CommitSync(offsets);
    }));
  }
  // The Kafka side is committed: make the stores durable at the changelog
  // offsets their changes reached. A crash before this point leaves them at
  // their previous commit, and restore replays the changelog tail.
  CrashPoint("commit.before_store_write");
  const absl::flat_hash_map<TopicPartition, int64_t> delivered =
      producer_->TakeDeliveredOffsets();
  for (auto& [id, task] : tasks_) {
    BROOK_RETURN_IF_ERROR(task->CommitStores(delivered));
    task->MarkCommitted();
  }
  last_committed_ = std::move(offsets);
  return absl::OkStatus();
}

absl::Status TaskManager::ReviveAllFromCommitted() {
  std::map<TaskId, std::vector<TopicPartition>> assignment;
  std::vector<TopicPartition> all;
  for (const auto& [id, task] : tasks_) {
    assignment[id] = task->partitions();
    all.insert(all.end(), task->partitions().begin(), task->partitions().end());
  }
  std::vector<TopicPartition> paused(paused_.begin(), paused_.end());
  CloseAll(CloseMode::kDirty);
  if (!paused.empty()) BROOK_RETURN_IF_ERROR(consumer_->Resume(paused));
  if (all.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<TopicPartitionOffset>> committed;
  BROOK_RETURN_IF_ERROR(RetryWhileRetriable(config_.client_call_timeout, [&] {
    committed = consumer_->Committed(all, config_.client_call_timeout);
    return committed.status();
  }));
  // No committed offset: where the group consumer would start, as its
  // auto.offset.reset says (Brook's default: earliest).
  int64_t reset = kOffsetBeginning;
  if (auto it = config_.consumer_config.find("auto.offset.reset");
      it != config_.consumer_config.end()) {
    const std::string& v = it->second;
    if (v == "latest" || v == "largest" || v == "end") {
      reset = kOffsetEnd;
    } else if (v != "earliest" && v != "smallest" && v != "beginning") {
      reset = kOffsetInvalid;  // "error": a partition without an offset fails
    }
  }
  for (TopicPartitionOffset& p : *committed) {
    if (p.offset >= 0) continue;
    if (reset == kOffsetInvalid) {
      return absl::FailedPreconditionError(absl::StrCat(
          "partition ", p.tp.ToString(),
          " has no committed offset to rewind to after an abort, and "
          "'auto.offset.reset'='",
          config_.consumer_config.at("auto.offset.reset"),
          "' names no position"));
    }
    p.offset = reset;
  }
  BROOK_RETURN_IF_ERROR(consumer_->Seek(*committed));
  LOG(INFO) << "revived " << assignment.size()
            << " tasks from their committed offsets";
  return CreateTasks(assignment);
}

bool TaskManager::has_buffered_records() const {
  for (const auto& [id, task] : tasks_) {
    if (task->buffered() > 0) return true;
  }
  return false;
}

std::string TaskManager::TaskIdsString() const {
  return absl::StrJoin(tasks_, ", ", [](std::string* out, const auto& entry) {
    out->append(entry.first.ToString());
  });
}

std::vector<const StreamTask*> TaskManager::tasks() const {
  std::vector<const StreamTask*> out;
  for (const auto& [id, task] : tasks_) out.push_back(task.get());
  return out;
}

}  // namespace brook::internal
