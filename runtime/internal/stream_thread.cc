#include "brook/runtime/internal/stream_thread.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/errors.h"

namespace brook::internal {
namespace {

// How long a poll may block while background work is in flight: the
// latency its completions may wait before the thread forwards them.
constexpr absl::Duration kBackgroundWorkPollTimeout = absl::Milliseconds(1);

void UpdateMax(std::atomic<int64_t>& max, int64_t value) {
  int64_t current = max.load(std::memory_order_relaxed);
  while (value > current && !max.compare_exchange_weak(
                                current, value, std::memory_order_relaxed)) {
  }
}

}  // namespace

absl::string_view StreamThread::StateName(State s) {
  switch (s) {
    case State::kCreated:
      return "CREATED";
    case State::kStarting:
      return "STARTING";
    case State::kPartitionsRevoked:
      return "PARTITIONS_REVOKED";
    case State::kPartitionsAssigned:
      return "PARTITIONS_ASSIGNED";
    case State::kRunning:
      return "RUNNING";
    case State::kPendingShutdown:
      return "PENDING_SHUTDOWN";
    case State::kDead:
      return "DEAD";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<StreamThread>> StreamThread::Create(
    std::shared_ptr<const TopologyPlan> plan, const StreamsConfig& config,
    int index, const std::string& process_id,
    const std::string& state_directory, KafkaClientFactory factory,
    Callbacks callbacks, const StateDirectory* state_dir, StoreContext stores,
    std::shared_ptr<std::atomic<int64_t>> buffered_bytes,
    std::shared_ptr<const TopicMaxMessageBytes> max_message_bytes) {
  std::unique_ptr<StreamThread> thread(
      new StreamThread(std::move(plan), config, index, process_id,
                       std::move(factory), std::move(callbacks)));
  const std::string client_id = ThreadClientId(config, process_id, index);
  thread->consumer_config_ = MainConsumerConfig(config, client_id, index);
  const ClientConfig producer_config =
      ThreadProducerConfig(config, client_id, thread->transactional_id_);
  thread->producer_ = std::make_unique<StreamsProducer>(
      producer_config, thread->factory_, config.client_call_timeout);
  thread->restore_consumer_config_ = RestoreConsumerConfig(config, client_id);
  thread->buffered_bytes_ = buffered_bytes != nullptr
                                ? std::move(buffered_bytes)
                                : std::make_shared<std::atomic<int64_t>>(0);
  thread->task_options_ = TaskOptions{
      .application_id = config.application_id,
      .state_directory = state_directory,
      .state_dir = state_dir,
      .store_context = std::move(stores),
      .default_timestamp_extractor = config.default_timestamp_extractor,
      .clock_ms = [] { return absl::ToUnixMillis(absl::Now()); },
      .cache_max_bytes = config.cache_max_bytes,
      .store_latency_metrics =
          config.metrics_recording_level == MetricsRecordingLevel::kDebug,
      .max_task_idle_ms = config.max_task_idle_ms,
      .lag = [thread = thread.get()](
                 const TopicPartition& tp) -> std::optional<int64_t> {
        if (thread->consumer_ == nullptr) return std::nullopt;
        return thread->consumer_->CachedLag(tp);
      },
      .on_enforced_processing =
          [stats = &thread->stats_](int64_t n) {
            stats->enforced_processing.fetch_add(n, std::memory_order_relaxed);
          },
      .on_dropped_record =
          [stats = &thread->stats_](DroppedRecordReason reason) {
            stats->dropped_records[static_cast<int>(reason)].fetch_add(
                1, std::memory_order_relaxed);
          },
      .error_policies = config.error_policies,
      .max_record_bytes =
          MaxRecordBytes(producer_config, std::move(max_message_bytes)),
      .on_dead_letter =
          [stats = &thread->stats_](RecordErrorKind kind) {
            stats->dead_letter_records[static_cast<int>(kind)].fetch_add(
                1, std::memory_order_relaxed);
          },
      .on_background_work =
          [stats = &thread->stats_](const BackgroundWorkStats& done) {
            constexpr auto kRelaxed = std::memory_order_relaxed;
            stats->background_completed.fetch_add(done.completed, kRelaxed);
            stats->background_handler_micros_total.fetch_add(
                done.handler_micros_total, kRelaxed);
            UpdateMax(stats->background_handler_micros_max,
                      done.handler_micros_max);
            stats->background_queue_wait_micros_total.fetch_add(
                done.queue_wait_micros_total, kRelaxed);
            UpdateMax(stats->background_queue_wait_micros_max,
                      done.queue_wait_micros_max);
          },
  };
  // Repartition topics: internal topics this topology reads. Their consumed
  // records are deleted after commits (repartition.purge.interval.ms).
  for (const auto& [topic, options] : thread->plan_->internal_topics()) {
    if (thread->plan_->RouteFor(topic).has_value()) {
      thread->repartition_topics_.insert(topic);
    }
  }
  if (!thread->repartition_topics_.empty()) {
    ClientConfig admin_config = PurgerAdminConfig(config, client_id);
    thread->purger_ = std::make_unique<RepartitionPurger>(
        [admin = thread->factory_.admin, admin_config] {
          return admin(admin_config);
        },
        config.repartition_purge_interval, config.client_call_timeout,
        thread->name_);
  }
  return thread;
}

StreamThread::StreamThread(std::shared_ptr<const TopologyPlan> plan,
                           const StreamsConfig& config, int index,
                           const std::string& process_id,
                           KafkaClientFactory factory, Callbacks callbacks)
    : plan_(std::move(plan)),
      config_(config),
      index_(index),
      name_(absl::StrCat(config.application_id, "-StreamThread-", index)),
      transactional_id_(
          absl::StrCat(config.application_id, "-", process_id, "-", index)),
      factory_(std::move(factory)),
      callbacks_(std::move(callbacks)),
      last_poll_micros_(absl::ToUnixMicros(absl::Now())) {}

StreamThread::~StreamThread() {
  RequestShutdown();
  Join();
  task_manager_.reset();
  consumer_.reset();
}

void StreamThread::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StreamThread::Join() {
  if (thread_.joinable()) thread_.join();
}

void StreamThread::Run() {
  absl::Status status = Startup();
  while (status.ok() && !shutdown_requested_.load()) status = RunOnce();
  if (!status.ok()) LOG(ERROR) << name_ << " failed: " << status;
  Shutdown(status);
  if (!status.ok() && callbacks_.on_error) callbacks_.on_error(index_, status);
}

void StreamThread::SetState(State s) {
  State old = state_.exchange(s);
  if (old == s) return;
  LOG(INFO) << name_ << " " << StateName(old) << " -> " << StateName(s);
  if (callbacks_.on_state_change) callbacks_.on_state_change(index_, s);
}

absl::Status StreamThread::Startup() {
  SetState(State::kStarting);
  BROOK_RETURN_IF_ERROR(producer_->Initialize());
  BROOK_ASSIGN_OR_RETURN(consumer_, factory_.consumer(consumer_config_, this));
  bool logged_stores = false;
  for (const auto& [name, builder] : plan_->stores()) {
    logged_stores |= builder->logging_enabled();
  }
  if (logged_stores) {
    BROOK_ASSIGN_OR_RETURN(
        std::unique_ptr<Consumer> restore_consumer,
        factory_.consumer(restore_consumer_config_, nullptr));
    // Changelog end offsets are high watermarks, read read_uncommitted: a
    // read_committed ListOffsets answers with the last stable offset.
    ClientConfig end_offsets_config = restore_consumer_config_;
    end_offsets_config["client.id"] += "-end";
    end_offsets_config["isolation.level"] = "read_uncommitted";
    BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Consumer> end_offsets,
                           factory_.consumer(end_offsets_config, nullptr));
    restorer_ = std::make_unique<ChangelogReader>(
        std::move(restore_consumer), std::move(end_offsets), name_,
        config_.client_call_timeout, &restore_stats_);
  }
  if (config_.partition_queues) {
    BROOK_RETURN_IF_ERROR(consumer_->EnablePartitionQueues());
  }
  task_manager_ = std::make_unique<TaskManager>(
      plan_, config_, task_options_, consumer_.get(), producer_.get(),
      restorer_.get(), buffered_bytes_);
  BROOK_RETURN_IF_ERROR(consumer_->Subscribe(plan_->Subscription()));
  LOG(INFO) << name_ << " started (transactional.id " << transactional_id_
            << ")";
  return absl::OkStatus();
}

std::vector<TaskSnapshot> StreamThread::tasks_snapshot() const {
  absl::MutexLock lock(&snapshot_mu_);
  return tasks_snapshot_;
}

void StreamThread::PublishTasks() {
  const absl::Time now = absl::Now();
  const bool read_stores = now - last_store_publish_ >= absl::Seconds(1);
  std::map<TaskId, std::map<std::string, StateStoreMetrics>> previous;
  if (!read_stores) {
    absl::MutexLock lock(&snapshot_mu_);
    for (TaskSnapshot& t : tasks_snapshot_) previous[t.id] = t.stores;
  }
  std::vector<TaskSnapshot> tasks;
  for (const StreamTask* task : task_manager_->tasks()) {
    tasks.push_back({task->id(), task->partitions(), task->processed_total(),
                     task->UncommittedOffsets()});
    if (read_stores) {
      tasks.back().stores = task->StoreMetrics();
    } else if (auto it = previous.find(task->id()); it != previous.end()) {
      tasks.back().stores = std::move(it->second);
    }
  }
  last_publish_ = now;
  if (read_stores) last_store_publish_ = now;
  absl::MutexLock lock(&snapshot_mu_);
  tasks_snapshot_ = std::move(tasks);
}

void StreamThread::NotePoll(bool entering) {
  const absl::Time now = absl::Now();
  const int64_t micros = absl::ToUnixMicros(now);
  // The gap librdkafka holds against max.poll.interval.ms runs from one
  // poll's return to the next poll's start; the time blocked in a poll is
  // not part of it.
  if (entering) {
    UpdateMax(stats_.max_poll_gap_micros, micros - last_poll_micros_.load());
  }
  last_poll_micros_.store(micros);
  // Blocking commit and abort calls must end in time for the next poll:
  // three quarters of max.poll.interval.ms, leaving the rest for the
  // iteration's processing. A call cut short is retried after polling.
  producer_->set_deadline(now + config_.max_poll_interval * 3 / 4);
}

absl::StatusOr<int64_t> StreamThread::PollQueues() {
  int64_t polled = 0;
  for (bool waited = false;; waited = true) {
    // The consumer queue carries the rebalances and errors (and, rarely, a
    // record fetched before its partition's queue was split off): served
    // every iteration, without blocking.
    NotePoll(/*entering=*/true);
    int64_t from_consumer = 0;
    while (from_consumer < config_.max_poll_records) {
      absl::StatusOr<std::optional<ConsumerRecord>> record =
          consumer_->Poll(absl::ZeroDuration());
      if (!callback_error_.ok())
        return std::exchange(callback_error_, absl::OkStatus());
      if (!record.ok()) return record.status();
      if (!record->has_value()) break;
      BROOK_RETURN_IF_ERROR(task_manager_->AddRecord(**std::move(record)));
      ++from_consumer;
    }
    NotePoll(/*entering=*/false);
    if (from_consumer > 0 && !logged_consumer_queue_records_) {
      // Expected only for records fetched before their partition's queue
      // was split off; many of them bypass the read-ahead bound.
      logged_consumer_queue_records_ = true;
      LOG(WARNING) << name_ << ": " << from_consumer
                   << " records came through the consumer queue with "
                      "partition queues on";
    }
    BROOK_ASSIGN_OR_RETURN(int64_t read, task_manager_->ReadPartitionQueues());
    polled += from_consumer + read;
    if (waited || polled > 0 || task_manager_->has_buffered_records() ||
        task_manager_->restore_active()) {
      return polled;
    }
    // Nothing to do: block until any queue receives something. librdkafka
    // counts this wait against max.poll.interval.ms, but it lasts at most
    // poll.ms.
    consumer_->WaitForData(
        task_manager_->background_in_flight() > 0
            ? std::min(config_.poll_timeout, kBackgroundWorkPollTimeout)
            : config_.poll_timeout);
  }
}

absl::StatusOr<int64_t> StreamThread::PollRecords() {
  if (config_.partition_queues) return PollQueues();
  // With background work in flight, neither block (its completions are
  // forwarded between polls) nor spin (a task that stopped taking records
  // keeps its buffer full).
  const absl::Duration first_timeout =
      task_manager_->background_in_flight() > 0
          ? std::min(config_.poll_timeout, kBackgroundWorkPollTimeout)
      : task_manager_->has_buffered_records() || task_manager_->restore_active()
          ? absl::ZeroDuration()
          : config_.poll_timeout;
  int64_t polled = 0;
  while (polled < config_.max_poll_records) {
    // librdkafka restarts max.poll.interval.ms when the poll starts, and the
    // rebalance callbacks run inside it: their commits and aborts get a
    // budget counted from now, not from the previous poll (which, after a
    // long iteration, would leave them almost nothing).
    if (polled == 0) NotePoll(/*entering=*/true);
    absl::StatusOr<std::optional<ConsumerRecord>> record =
        consumer_->Poll(polled == 0 ? first_timeout : absl::ZeroDuration());
    // The first poll may block, and any poll may run a rebalance callback;
    // the clock is read after the first and once the batch ends (below),
    // not per record: the polls between return at once.
    if (polled == 0) NotePoll(/*entering=*/false);
    if (!callback_error_.ok())
      return std::exchange(callback_error_, absl::OkStatus());
    if (!record.ok()) return record.status();
    if (!record->has_value()) break;
    BROOK_RETURN_IF_ERROR(task_manager_->AddRecord(**std::move(record)));
    ++polled;
  }
  if (polled > 0) NotePoll(/*entering=*/false);
  return polled;
}

absl::Status StreamThread::RunOnce() {
  if (producer_needs_reset_) {
    producer_needs_reset_ = false;
    stats_.producer_resets.fetch_add(1, std::memory_order_relaxed);
    BROOK_RETURN_IF_ERROR(producer_->Initialize());
  }
  BROOK_RETURN_IF_ERROR(PollRecords().status());
  if (commit_failing_since_.has_value()) {
    // A commit is still pending (retriable failures): keep polling, so the
    // group keeps this member, and process nothing until it goes through.
    absl::Status s = CommitAll();
    num_tasks_.store(task_manager_->num_tasks());
    return s.ok() ? s : HandleCommitError(s);
  }
  BROOK_RETURN_IF_ERROR(task_manager_->InitializeTasks());
  // A bounded slice of restoring per iteration keeps the other tasks
  // processing and the consumer polled.
  BROOK_RETURN_IF_ERROR(
      task_manager_->Restore(config_.restore_records_per_iteration));
  if (state_.load() == State::kPartitionsAssigned &&
      !task_manager_->restoring()) {
    SetState(State::kRunning);
  }
  // Completed background work first: it frees room for more records.
  if (absl::Status s = task_manager_->PollBackgroundWork(); !s.ok()) {
    return HandleProducerError(s);
  }
  // Two clock reads per iteration, not per record.
  const absl::Time process_start = absl::Now();
  absl::StatusOr<int64_t> processed =
      task_manager_->Process(config_.max_records_per_task_per_iteration);
  stats_.process_micros_total.fetch_add(
      absl::ToInt64Microseconds(absl::Now() - process_start),
      std::memory_order_relaxed);
  // A Kafka error met while sending (a fenced producer, a failed delivery)
  // is handled as it would be at commit; anything else kills the thread.
  if (!processed.ok()) return HandleProducerError(processed.status());
  stats_.records_processed.fetch_add(*processed, std::memory_order_relaxed);
  if (absl::Status s = task_manager_->PunctuateWallClock(); !s.ok()) {
    return HandleProducerError(s);
  }
  absl::Status committed = MaybeCommit(*processed);
  stats_.background_in_flight.store(task_manager_->background_in_flight(),
                                    std::memory_order_relaxed);
  // The tasks' uncommitted offsets move between commits; the metrics see
  // them at most a second old.
  if (absl::Now() - last_publish_ >= absl::Seconds(1)) PublishTasks();
  // After the commit: a failed one may have dropped every task (lost
  // membership, fatal producer error), and num_tasks() must say so now.
  num_tasks_.store(task_manager_->num_tasks());
  return committed;
}

absl::Status StreamThread::MaybeCommit(int64_t processed) {
  processed_since_commit_ += processed;
  if (!task_manager_->commit_needed()) {
    last_commit_ = absl::Now();
    return absl::OkStatus();
  }
  if (absl::Now() - last_commit_ < config_.EffectiveCommitInterval() &&
      processed_since_commit_ < config_.commit_max_records &&
      !task_manager_->commit_requested()) {
    return absl::OkStatus();
  }
  absl::Status s = CommitAll();
  return s.ok() ? s : HandleCommitError(s);
}

absl::Status StreamThread::CommitAll() {
  const absl::Time start = absl::Now();
  // What this commit closes stays visible while its hooks wait (a
  // MapValuesAsync drain): the offsets taken, and the records in flight.
  PublishTasks();
  stats_.background_in_flight.store(task_manager_->background_in_flight(),
                                    std::memory_order_relaxed);
  BROOK_RETURN_IF_ERROR(task_manager_->Commit());
  if (purger_ != nullptr) {
    std::vector<TopicPartitionOffset> repartition;
    for (const TopicPartitionOffset& o : task_manager_->last_committed()) {
      if (repartition_topics_.contains(o.tp.topic)) repartition.push_back(o);
    }
    if (!repartition.empty()) purger_->Offer(repartition);
  }
  const int64_t micros = absl::ToInt64Microseconds(absl::Now() - start);
  stats_.commits.fetch_add(1, std::memory_order_relaxed);
  stats_.commit_micros_total.fetch_add(micros, std::memory_order_relaxed);
  UpdateMax(stats_.commit_micros_max, micros);
  size_t bucket = 0;
  while (bucket < kCommitLatencyBucketsMs.size() &&
         micros > kCommitLatencyBucketsMs[bucket] * 1000) {
    ++bucket;
  }
  stats_.commit_latency_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  PublishTasks();
  last_commit_ = absl::Now();
  processed_since_commit_ = 0;
  aborting_since_.reset();
  if (commit_failing_since_.has_value()) {
    LOG(INFO) << name_ << ": the pending commit went through after "
              << absl::FormatDuration(absl::Now() - *commit_failing_since_);
    commit_failing_since_.reset();
  }
  return absl::OkStatus();
}

void StreamThread::OnPartitionsRevoked(
    absl::Span<const TopicPartition> partitions, RevocationKind kind) {
  // Shutdown() closes the consumer, whose final revocation must not move a
  // stopping thread back to PARTITIONS_REVOKED: the only way out of
  // PENDING_SHUTDOWN is DEAD (see the state diagram in the header).
  if (state_.load() != State::kPendingShutdown) {
    SetState(State::kPartitionsRevoked);
  }
  if (task_manager_->num_tasks() == 0) return;
  if (kind == RevocationKind::kLost) {
    LOG(WARNING) << name_ << ": assignment lost; aborting and dropping "
                 << task_manager_->num_tasks() << " tasks";
    stats_.task_migrations.fetch_add(1, std::memory_order_relaxed);
    if (!producer_->Abort().ok()) producer_needs_reset_ = true;
    task_manager_->CloseAll(CloseMode::kDirty);
    num_tasks_.store(0);
    PublishTasks();
    return;
  }
  // Commit before giving the tasks up, so their new owner starts exactly
  // where this thread stopped.
  absl::Status s = CommitAll();
  if (s.ok()) {
    task_manager_->CloseAll(CloseMode::kClean);
  } else {
    LOG(WARNING) << name_ << ": commit on revocation failed (" << s
                 << "); dropping tasks without commit";
    if (!producer_->Abort().ok() || IsFatal(s)) producer_needs_reset_ = true;
    task_manager_->CloseAll(CloseMode::kDirty);
    const bool handled =
        IsGroupMembershipLost(s) || IsTransactionAbortable(s) || IsFatal(s);
    if (!handled && callback_error_.ok()) callback_error_ = s;
  }
  num_tasks_.store(0);
  PublishTasks();
}

void StreamThread::OnPartitionsAssigned(
    absl::Span<const TopicPartition> partitions) {
  SetState(State::kPartitionsAssigned);
  stats_.rebalances.fetch_add(1, std::memory_order_relaxed);
  absl::Status s = task_manager_->HandleAssignment(partitions);
  if (!s.ok()) {
    if (callback_error_.ok()) callback_error_ = s;
    return;
  }
  num_tasks_.store(task_manager_->num_tasks());
  PublishTasks();
  LOG(INFO) << name_ << " assigned " << partitions.size() << " partitions, "
            << task_manager_->num_tasks() << " tasks";
  last_commit_ = absl::Now();
  // As in Kafka Streams, the thread runs once its stores are restored.
  if (!task_manager_->restoring()) SetState(State::kRunning);
}

void StreamThread::Shutdown(const absl::Status& error) {
  if (state_.load() == State::kDead) return;
  SetState(State::kPendingShutdown);
  if (task_manager_ != nullptr) {
    if (error.ok() && task_manager_->commit_needed()) {
      absl::Status s = CommitAll();
      if (!s.ok()) {
        LOG(WARNING) << name_ << ": final commit failed: " << s;
        producer_->Abort().IgnoreError();  // The producer is closed next.
        task_manager_->CloseAll(CloseMode::kDirty);
      }
    } else if (!error.ok()) {
      producer_->Abort().IgnoreError();  // Already failing; nothing to add.
      task_manager_->CloseAll(CloseMode::kDirty);
    }
    task_manager_->CloseAll(CloseMode::kClean);
    PublishTasks();
  }
  if (consumer_ != nullptr) {
    // Leaving the group; the revocation finds no tasks left to commit.
    consumer_->Close().IgnoreError();  // Close() logs its own failure.
  }
  num_tasks_.store(0);
  SetState(State::kDead);
}

}  // namespace brook::internal
