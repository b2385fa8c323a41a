// StreamThread's recovery from failed commits and sends: retry while the
// error is retriable, abort and rewind on an abortable one, and on a fatal
// one (a fenced producer, a lost group membership) drop the tasks, recreate
// the producer and rejoin. One concept apart from the thread's loop
// (stream_thread.cc), same class, same threading model.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/errors.h"
#include "brook/runtime/internal/stream_thread.h"

namespace brook::internal {

absl::Status StreamThread::HandleCommitError(const absl::Status& error) {
  processed_since_commit_ = 0;
  last_commit_ = absl::Now();
  if (IsRetriable(error) && task_manager_->num_tasks() > 0) {
    // Still retriable after the call timeout (a broker restarting for
    // longer than that): retry on later iterations while polling, up to
    // task.timeout.ms, rather than end the thread.
    const absl::Time now = absl::Now();
    if (!commit_failing_since_.has_value()) commit_failing_since_ = now;
    if (now - *commit_failing_since_ <= config_.task_timeout) {
      LOG(WARNING) << name_ << ": commit not done yet, retrying: " << error;
      return absl::OkStatus();
    }
    commit_failing_since_.reset();
    return absl::Status(
        error.code(), absl::StrCat(name_, ": the commit of tasks ",
                                   task_manager_->TaskIdsString(),
                                   " did not succeed within task.timeout.ms (",
                                   absl::FormatDuration(config_.task_timeout),
                                   "): ", error.message()));
  }
  commit_failing_since_.reset();
  if (IsGroupMembershipLost(error)) {
    LOG(WARNING) << name_ << ": tasks migrated away (" << error
                 << "); dropping them without commit and rejoining";
    stats_.task_migrations.fetch_add(1, std::memory_order_relaxed);
    absl::Status aborted = producer_->Abort();
    if (!aborted.ok()) producer_needs_reset_ = true;
    task_manager_->CloseAll(CloseMode::kDirty);
    PublishTasks();
    return Rejoin();
  }
  if (IsTransactionAbortable(error)) {
    LOG(WARNING) << name_ << ": aborting the transaction (" << error
                 << "); tasks restart from their committed offsets";
    stats_.aborts.fetch_add(1, std::memory_order_relaxed);
    absl::Status aborted = producer_->Abort();
    // A record the broker rejects at delivery (INVALID_TIMESTAMP, a record
    // too large for the broker's limits) comes back on every reprocessing:
    // aborts with no commit in between for longer than task.timeout.ms end
    // the thread, naming the cause, instead of looping for ever.
    const absl::Time now = absl::Now();
    if (!aborting_since_.has_value()) aborting_since_ = now;
    if (aborted.ok() && now - *aborting_since_ > config_.task_timeout) {
      const absl::Duration for_how_long = now - *aborting_since_;
      const std::string tasks = task_manager_->TaskIdsString();
      aborting_since_.reset();
      task_manager_->CloseAll(CloseMode::kDirty);
      PublishTasks();
      return absl::AbortedError(absl::StrCat(
          name_, ": the transactions of tasks ", tasks,
          " kept aborting with no commit for ",
          absl::FormatDuration(for_how_long), ", over task.timeout.ms (",
          absl::FormatDuration(config_.task_timeout),
          "); the last cause: ", error.message(),
          ". A record the broker rejects at delivery is rejected again each "
          "time it is reprocessed"));
    }
    if (aborted.ok()) {
      absl::Status revived = task_manager_->ReviveAllFromCommitted();
      PublishTasks();
      return revived;
    }
    LOG(WARNING) << name_ << ": abort failed: " << aborted;
    // Fall through: an abort that fails leaves the producer unusable.
  } else if (!IsFatal(error)) {
    return error;
  }
  LOG(WARNING) << name_ << ": producer failed for good (" << error
               << "); dropping tasks, recreating the producer, rejoining";
  stats_.producer_resets.fetch_add(1, std::memory_order_relaxed);
  const std::string code = KafkaErrorCode(error);
  // A send refused after librdkafka's fatal error carries that error's own
  // code (_FENCED), not _FATAL (RdKafkaProducer::Send).
  const bool fenced =
      absl::StrContains(code, "FENCED") || code == "INVALID_PRODUCER_EPOCH";
  if (fenced) stats_.producer_fencings.fetch_add(1, std::memory_order_relaxed);
  task_manager_->CloseAll(CloseMode::kDirty);
  PublishTasks();
  BackOffAfterRepeatedReset();
  BROOK_RETURN_IF_ERROR(producer_->Initialize());
  return Rejoin();
}

absl::Status StreamThread::HandleProducerError(const absl::Status& error) {
  if (IsGroupMembershipLost(error) || IsTransactionAbortable(error) ||
      IsFatal(error)) {
    return HandleCommitError(error);
  }
  return error;
}

void StreamThread::BackOffAfterRepeatedReset() {
  const absl::Time now = absl::Now();
  resets_in_a_row_ =
      now - last_reset_ < absl::Seconds(30) ? resets_in_a_row_ + 1 : 1;
  last_reset_ = now;
  if (resets_in_a_row_ < 2) return;
  const absl::Duration wait =
      absl::Seconds(1) * (int64_t{1} << std::min(resets_in_a_row_ - 2, 3));
  LOG(WARNING) << name_ << ": producer failed for good " << resets_in_a_row_
               << " times in a row; waiting " << absl::FormatDuration(wait)
               << " before recreating it. If it was fenced, another process "
                  "may be using transactional.id '"
               << transactional_id_
               << "' (a copied state directory, which holds the process id?)";
  const absl::Time until = now + wait;
  while (absl::Now() < until && !shutdown_requested_.load()) {
    absl::SleepFor(std::min(until - absl::Now(), absl::Milliseconds(50)));
  }
}

absl::Status StreamThread::Rejoin() {
  // A stopping thread closes its consumer next: subscribing again right
  // before rd_kafka_consumer_close() trips librdkafka 2.0.2's assertion
  // "!rkcg->rkcg_subscription" in rd_kafka_cgrp_destroy_final (seen when
  // SIGTERM arrived during a stall past max.poll.interval.ms, whose commit
  // was then fenced). Leave the group as it is; Shutdown() closes it.
  if (shutdown_requested_.load()) return absl::OkStatus();
  // Leaving and joining again gives this member a new generation and a
  // fresh assignment, from the group's committed offsets.
  BROOK_RETURN_IF_ERROR(consumer_->Unsubscribe());
  return consumer_->Subscribe(plan_->Subscription());
}

}  // namespace brook::internal
