#include "runtime/internal/changelog_reader.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

#include "base/logging.h"
#include "base/status_macros.h"

namespace brook::internal {

ChangelogReader::ChangelogReader(std::unique_ptr<Consumer> consumer,
                                 std::string thread_name,
                                 absl::Duration call_timeout,
                                 RestoreStats* stats)
    : consumer_(std::move(consumer)),
      thread_name_(std::move(thread_name)),
      call_timeout_(call_timeout),
      stats_(*stats) {}

absl::StatusOr<bool> ChangelogReader::Add(
    const TaskId& id, const std::vector<RestoreTarget>& targets) {
  if (entries_.empty()) {
    started_ = absl::Now();
    restored_since_start_ = 0;
  }
  int open = 0;
  for (const RestoreTarget& t : targets) {
    BROOK_ASSIGN_OR_RETURN(
        auto marks, consumer_->QueryWatermarks(t.changelog, call_timeout_));
    const auto [low, end] = marks;
    int64_t start = t.store->committed_offset().value_or(low);
    if (start > end) {
      LOG(WARNING) << thread_name_ << ": state store '" << t.store->name()
                   << "' of task " << id.ToString()
                   << " is at changelog offset " << start
                   << ", beyond the end of " << t.changelog.ToString() << " ("
                   << end << "): wiping it and restoring it in full";
      BROOK_RETURN_IF_ERROR(t.store->Wipe());
      stats_.stores_wiped.fetch_add(1, std::memory_order_relaxed);
      start = low;
    }
    start = std::max(start, low);
    if (start >= end) continue;
    LOG(INFO) << thread_name_ << ": restoring state store '" << t.store->name()
              << "' of task " << id.ToString() << " from "
              << t.changelog.ToString() << " offsets [" << start << ", " << end
              << ")";
    entries_[t.changelog] = Entry{id, t.store, start, end};
    ++open;
  }
  if (open == 0) return false;
  open_per_task_[id] = open;
  BROOK_RETURN_IF_ERROR(Reassign());
  return true;
}

absl::Status ChangelogReader::Remove(const TaskId& id) {
  bool removed = false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.task == id) {
      it = entries_.erase(it);
      removed = true;
    } else {
      ++it;
    }
  }
  open_per_task_.erase(id);
  return removed ? Reassign() : absl::OkStatus();
}

absl::Status ChangelogReader::Reassign() {
  std::vector<TopicPartitionOffset> positions;
  int64_t remaining = 0;
  for (const auto& [tp, e] : entries_) {
    positions.push_back({tp, e.next});
    remaining += e.end - e.next;
  }
  stats_.remaining_records.store(remaining, std::memory_order_relaxed);
  return consumer_->Assign(positions);
}

absl::StatusOr<std::vector<TaskId>> ChangelogReader::Restore(
    int64_t max_records) {
  std::map<TopicPartition, std::vector<ChangeRecord>> batches;
  std::map<TopicPartition, int64_t> last_offset;
  for (int64_t n = 0; n < max_records; ++n) {
    BROOK_ASSIGN_OR_RETURN(std::optional<ConsumerRecord> r,
                           consumer_->Poll(n == 0 ? absl::Milliseconds(10)
                                                  : absl::ZeroDuration()));
    if (!r.has_value()) break;
    TopicPartition tp{r->topic, r->partition};
    auto it = entries_.find(tp);
    if (it == entries_.end() || r->offset >= it->second.end) continue;
    stats_.bytes.fetch_add(
        static_cast<int64_t>((r->key ? r->key->size() : 0) +
                             (r->value ? r->value->size() : 0)),
        std::memory_order_relaxed);
    batches[tp].push_back(
        ChangeRecord{r->key.value_or(""), std::move(r->value)});
    last_offset[tp] = r->offset;
  }
  for (auto& [tp, batch] : batches) {
    Entry& e = entries_.at(tp);
    const int64_t next = last_offset[tp] + 1;
    absl::Status s = e.store->Restore(batch, next);
    if (!s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("restoring state store '", e.store->name(),
                                 "' from ", tp.ToString(), ": ", s.message()));
    }
    e.next = next;
    e.restored += static_cast<int64_t>(batch.size());
    restored_since_start_ += static_cast<int64_t>(batch.size());
    stats_.records.fetch_add(static_cast<int64_t>(batch.size()),
                             std::memory_order_relaxed);
  }
  LogProgress(false);
  return FinishDone();
}

absl::StatusOr<std::vector<TaskId>> ChangelogReader::FinishDone() {
  std::vector<TaskId> finished;
  bool changed = false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    // Transaction markers and aborted records advance the position without
    // surfacing as records; the position, not the last record, tells the end.
    const int64_t position = consumer_->Position(it->first);
    if (std::max(position, e.next) < e.end) {
      ++it;
      continue;
    }
    // The stored offset must cover the markers too, or the next restore
    // would start before them.
    if (position > e.next) {
      BROOK_RETURN_IF_ERROR(e.store->Restore({}, position));
    }
    LOG(INFO) << thread_name_ << ": restored state store '" << e.store->name()
              << "' of task " << e.task.ToString() << ": " << e.restored
              << " records";
    stats_.stores_restored.fetch_add(1, std::memory_order_relaxed);
    if (--open_per_task_[e.task] == 0) {
      open_per_task_.erase(e.task);
      finished.push_back(e.task);
    }
    it = entries_.erase(it);
    changed = true;
  }
  if (changed) {
    BROOK_RETURN_IF_ERROR(Reassign());
    if (entries_.empty()) LogProgress(true);
  } else {
    int64_t remaining = 0;
    for (const auto& [tp, e] : entries_) remaining += e.end - e.next;
    stats_.remaining_records.store(remaining, std::memory_order_relaxed);
  }
  return finished;
}

void ChangelogReader::LogProgress(bool force) {
  const absl::Time now = absl::Now();
  if (!force && now - last_log_ < absl::Seconds(5)) return;
  last_log_ = now;
  const double seconds = std::max(1e-3, absl::ToDoubleSeconds(now - started_));
  const double rate = restored_since_start_ / seconds;
  const int64_t remaining = stats_.remaining_records.load();
  LOG(INFO) << thread_name_ << ": restore progress: " << restored_since_start_
            << " records in " << absl::StrFormat("%.1f", seconds) << " s ("
            << static_cast<int64_t>(rate) << " records/s), " << remaining
            << " left"
            << (rate > 0 && remaining > 0
                    ? absl::StrCat(", about ",
                                   static_cast<int64_t>(remaining / rate),
                                   " s to go")
                    : "");
}

}  // namespace brook::internal
