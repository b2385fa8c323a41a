// ChangelogReader: restores a stream thread's state stores from their
// changelog topics, in bounded batches that the thread interleaves with
// processing, so restoring one task neither blocks the others nor keeps the
// thread from polling.
//
// Each store restores from its committed_offset() (or the changelog's
// start) up to the changelog's high watermark, as Kafka Streams does:
//  - End offsets are read with a read_uncommitted client. A read_committed
//    one answers with the last stable offset, which lags while the markers
//    of a just-committed transaction are still being written; a restore
//    that stopped there would miss committed updates.
//  - Records are read with read_committed, so records of aborted
//    transactions are never applied, and a store is done only when the
//    read position (which moves past markers and aborted records) reaches
//    the end. A transaction still open at the end makes the restore wait
//    until it is decided (at most transaction.timeout.ms).
//  - The records and the offset they reach are written to the store
//    together, so a restore interrupted by a rebalance or a crash resumes
//    where it stopped. The offset stored is never past a record that was
//    read but not applied.
//  - A store whose offset lies beyond the high watermark, or below the log
//    start (records it needs were deleted), cannot be trusted: it is wiped
//    and restored in full, and the wipe is logged and counted. An offset that
//    falls out of range during the restore (the restore consumer runs with
//    auto.offset.reset=error, never jumping silently) is handled the same
//    way.
//
// Threading model: owned by one StreamThread.
#ifndef BROOK_RUNTIME_INTERNAL_CHANGELOG_READER_H_
#define BROOK_RUNTIME_INTERNAL_CHANGELOG_READER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"

#include "brook/kafka/consumer.h"
#include "brook/runtime/task_id.h"
#include "brook/state/state_store.h"

namespace brook::internal {

struct RestoreTarget {
  StateStore* store;
  TopicPartition changelog;
};

// Restore counters of one thread. Monotonic; read with relaxed ordering.
struct RestoreStats {
  std::atomic<int64_t> records{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> stores_restored{0};
  std::atomic<int64_t> stores_wiped{0};  // corrupt or ahead of the changelog
  std::atomic<int64_t> remaining_records{0};  // estimate for stores in progress
};

class ChangelogReader {
 public:
  // `consumer` is assign-only, reads with read_committed and has
  // auto.offset.reset=error. `end_offsets` is assign-only with
  // read_uncommitted and is used only for watermarks. `stats` must outlive
  // the reader.
  ChangelogReader(std::unique_ptr<Consumer> consumer,
                  std::unique_ptr<Consumer> end_offsets,
                  std::string thread_name, absl::Duration call_timeout,
                  RestoreStats* stats);

  // Starts restoring `targets` of task `id`. Returns true if the task still
  // needs restoring (false if every store was already up to date). On error
  // nothing of the task was added (a retriable error may be retried).
  absl::StatusOr<bool> Add(const TaskId& id,
                           const std::vector<RestoreTarget>& targets);

  // Forgets the task's stores (the task closed). What was restored stays.
  absl::Status Remove(const TaskId& id);

  // Restores up to `max_records` records; returns the tasks that finished.
  absl::StatusOr<std::vector<TaskId>> Restore(int64_t max_records);

  bool active() const { return !entries_.empty(); }

 private:
  struct Entry {
    TaskId task;
    StateStore* store;
    int64_t next;  // next changelog offset to apply
    int64_t end;   // high watermark when restoring began
    int64_t restored = 0;
  };

  // Where restoring `target` starts (wiping the store if its offset is out
  // of the changelog's range), and the end; nullopt end if up to date.
  absl::StatusOr<Entry> Plan(const TaskId& id, const RestoreTarget& target);
  // After the restore consumer reported an offset out of range: wipes and
  // restarts every store whose next offset is outside the changelog.
  absl::Status RestartOutOfRange(const absl::Status& cause);
  absl::Status Reassign();
  absl::StatusOr<std::vector<TaskId>> FinishDone();
  void LogProgress(bool force);

  const std::unique_ptr<Consumer> consumer_;
  const std::unique_ptr<Consumer> end_offsets_;
  const std::string thread_name_;
  const absl::Duration call_timeout_;
  std::map<TopicPartition, Entry> entries_;
  std::map<TaskId, int> open_per_task_;  // stores of a task still restoring
  absl::Time started_ = absl::Now();
  absl::Time last_log_ = absl::InfinitePast();
  int64_t restored_since_start_ = 0;
  RestoreStats& stats_;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_CHANGELOG_READER_H_
