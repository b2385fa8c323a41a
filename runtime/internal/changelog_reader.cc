#include "brook/runtime/internal/changelog_reader.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"

namespace brook::internal {

ChangelogReader::ChangelogReader(std::unique_ptr<Consumer> consumer,
                                 std::unique_ptr<Consumer> end_offsets,
                                 std::string thread_name,
                                 absl::Duration call_timeout,
                                 RestoreStats* stats)
    : consumer_(std::move(consumer)),
      end_offsets_(std::move(end_offsets)),
      thread_name_(std::move(thread_name)),
      call_timeout_(call_timeout),
      stats_(*stats) {}

absl::StatusOr<ChangelogReader::Entry> ChangelogReader::Plan(
    const TaskId& id, const RestoreTarget& t) {
  BROOK_ASSIGN_OR_RETURN(
      auto marks, end_offsets_->QueryWatermarks(t.changelog, call_timeout_));
  const auto [low, high] = marks;
  const std::optional<int64_t> stored = t.store->committed_offset();
  int64_t start = stored.value_or(low);
  if (stored.has_value() && (*stored > high || *stored < low)) {
    LOG(WARNING) << thread_name_ << ": state store '" << t.store->name()
                 << "' of task " << id.ToString() << " is at changelog offset "
                 << *stored << ", outside " << t.changelog.ToString()
                 << " offsets [" << low << ", " << high
                 << "]: the store is corrupt; wiping it and restoring it in "
                    "full";
    BROOK_RETURN_IF_ERROR(t.store->Wipe());
    stats_.stores_wiped.fetch_add(1, std::memory_order_relaxed);
    start = low;
  }
  return Entry{id, t.store, start, high};
}

absl::StatusOr<bool> ChangelogReader::Add(
    const TaskId& id, const std::vector<RestoreTarget>& targets) {
  // Plan every store first: a failure (a retriable ListOffsets error) then
  // leaves nothing of the task behind, and the caller may simply retry.
  std::vector<std::pair<TopicPartition, Entry>> planned;
  for (const RestoreTarget& t : targets) {
    BROOK_ASSIGN_OR_RETURN(Entry e, Plan(id, t));
    if (e.next >= e.end) continue;
    LOG(INFO) << thread_name_ << ": restoring state store '" << t.store->name()
              << "' of task " << id.ToString() << " from "
              << t.changelog.ToString() << " offsets [" << e.next << ", "
              << e.end << ")";
    planned.emplace_back(t.changelog, e);
  }
  if (planned.empty()) return false;
  if (entries_.empty()) {
    started_ = absl::Now();
    restored_since_start_ = 0;
  }
  for (auto& [tp, e] : planned) entries_[tp] = e;
  open_per_task_[id] = static_cast<int>(planned.size());
  BROOK_RETURN_IF_ERROR(Reassign());
  return true;
}

absl::Status ChangelogReader::RestartOutOfRange(const absl::Status& cause) {
  bool restarted = false;
  for (auto& [tp, e] : entries_) {
    BROOK_ASSIGN_OR_RETURN(auto marks,
                           end_offsets_->QueryWatermarks(tp, call_timeout_));
    const auto [low, high] = marks;
    if (e.next >= low && e.next <= high) continue;
    LOG(WARNING) << thread_name_ << ": restoring state store '"
                 << e.store->name() << "' of task " << e.task.ToString()
                 << " needs " << tp.ToString() << " offset " << e.next
                 << ", outside [" << low << ", " << high << "] (" << cause
                 << "): the store is corrupt; wiping it and restoring it in "
                    "full";
    BROOK_RETURN_IF_ERROR(e.store->Wipe());
    stats_.stores_wiped.fetch_add(1, std::memory_order_relaxed);
    e.next = low;
    e.end = high;
    e.restored = 0;
    restarted = true;
  }
  if (!restarted) {
    return absl::Status(cause.code(),
                        absl::StrCat(thread_name_,
                                     ": restore offset out of range, but every "
                                     "store's offset is inside its changelog: ",
                                     cause.message()));
  }
  return Reassign();
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
  // One batch per changelog partition read in this call. Records of one
  // partition mostly come in runs, so the last partition's batch is found
  // by comparing, not by building and looking up a TopicPartition.
  struct Batch {
    const TopicPartition* tp;
    Entry* entry;
    std::vector<ChangeRecord> records;
    int64_t last_offset = -1;
  };
  std::vector<Batch> batches;
  Batch* last = nullptr;
  for (int64_t n = 0; n < max_records; ++n) {
    absl::StatusOr<std::optional<ConsumerRecord>> polled =
        consumer_->Poll(n == 0 ? absl::Milliseconds(10) : absl::ZeroDuration());
    if (absl::IsOutOfRange(polled.status())) {
      // Nothing polled in this call has been applied yet; drop it all.
      BROOK_RETURN_IF_ERROR(RestartOutOfRange(polled.status()));
      return std::vector<TaskId>{};
    }
    if (!polled.ok()) return polled.status();
    std::optional<ConsumerRecord>& r = *polled;
    if (!r.has_value()) break;
    if (last == nullptr || last->tp->partition != r->partition ||
        last->tp->topic != r->topic) {
      last = nullptr;
      for (Batch& b : batches) {
        if (b.tp->partition == r->partition && b.tp->topic == r->topic) {
          last = &b;
          break;
        }
      }
      if (last == nullptr) {
        // Records past the end (the changelog grew) are applied too: every
        // record read must be applied before the position passes it,
        // because the position is what the store's offset is set to when
        // it is done.
        auto it = entries_.find(TopicPartition{r->topic, r->partition});
        if (it == entries_.end()) continue;
        batches.push_back(Batch{&it->first, &it->second, {}});
        last = &batches.back();
      }
    }
    stats_.bytes.fetch_add(
        static_cast<int64_t>((r->key ? r->key->size() : 0) +
                             (r->value ? r->value->size() : 0)),
        std::memory_order_relaxed);
    last->records.push_back(ChangeRecord{
        r->key ? std::move(*r->key) : std::string(), std::move(r->value)});
    last->last_offset = r->offset;
  }
  for (Batch& b : batches) {
    Entry& e = *b.entry;
    const int64_t next = b.last_offset + 1;
    absl::Status s = e.store->Restore(b.records, next);
    if (!s.ok()) {
      return absl::Status(
          s.code(),
          absl::StrCat("restoring state store '", e.store->name(), "' from ",
                       b.tp->ToString(), ": ", s.message()));
    }
    const int64_t restored = static_cast<int64_t>(b.records.size());
    e.next = next;
    e.restored += restored;
    restored_since_start_ += restored;
    stats_.records.fetch_add(restored, std::memory_order_relaxed);
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
