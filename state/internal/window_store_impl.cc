#include "brook/state/internal/window_store_impl.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/state/bytes_stores.h"
#include "brook/state/internal/key_codec.h"
#include "brook/state/internal/segment_scan.h"

namespace brook::internal {
namespace {

constexpr size_t kTimeBytes = 8;

class ScanWindowIterator : public WindowIterator {
 public:
  ScanWindowIterator(StoreEngine* engine, ScanPlan plan)
      : scan_(engine, std::move(plan)) {}
  bool Valid() const override { return scan_.Valid(); }
  void Next() override { scan_.Next(); }
  absl::string_view key() const override { return scan_.entry().key; }
  int64_t window_start_ms() const override { return scan_.entry().start; }
  absl::string_view value() const override { return scan_.entry().value; }
  absl::Status status() const override { return scan_.status(); }

 private:
  SegmentScan scan_;
};

// Windows of one key copied from RecentWindows.
class RecentWindowIterator : public WindowIterator {
 public:
  RecentWindowIterator(std::string key,
                       std::vector<RecentWindows::Window> windows,
                       bool backward)
      : key_(std::move(key)), windows_(std::move(windows)) {
    if (backward) std::reverse(windows_.begin(), windows_.end());
  }
  bool Valid() const override { return next_ < windows_.size(); }
  void Next() override { ++next_; }
  absl::string_view key() const override { return key_; }
  int64_t window_start_ms() const override { return windows_[next_].start; }
  absl::string_view value() const override { return windows_[next_].value; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  const std::string key_;
  std::vector<RecentWindows::Window> windows_;
  size_t next_ = 0;
};

}  // namespace

WindowStoreImpl::WindowStoreImpl(
    std::string name, std::unique_ptr<StoreEngine> engine, int64_t retention_ms,
    int64_t segment_interval_ms, int64_t recent_windows_ms,
    std::shared_ptr<ByteBudget> recent_windows_budget)
    : EngineStore(std::move(name), std::move(engine)),
      segments_(retention_ms, segment_interval_ms),
      recent_(recent_windows_ms,
              recent_windows_budget != nullptr
                  ? std::move(recent_windows_budget)
                  : std::make_shared<ByteBudget>(
                        RocksDBConfig().recent_windows_bytes)) {}

std::string WindowStoreImpl::StoredKey(absl::string_view key,
                                       int64_t start) const {
  std::string stored = Segments::SegmentPrefix(segments_.SegmentOf(start));
  stored.append(key.data(), key.size());
  AppendOrdered64(start, &stored);
  return stored;
}

void WindowStoreImpl::OnOpened() {
  segments_.Reset(engine().committed_meta(MetaKey::kStreamTime));
  ResetRecent();
}

void WindowStoreImpl::OnAborted() {
  segments_.Aborted();
  ResetRecent();
}

void WindowStoreImpl::ResetRecent() {
  // No window starts after the observed stream time.
  const std::optional<int64_t> observed = segments_.observed();
  if (!observed.has_value()) {
    recent_.Reset(std::nullopt);
  } else {
    recent_.Reset(*observed == INT64_MAX ? INT64_MAX : *observed + 1);
  }
}

CommitExtras WindowStoreImpl::PrepareCommit() {
  CommitExtras extras;
  segments_.PrepareCommit(&extras);
  return extras;
}

absl::StatusOr<bool> WindowStoreImpl::Put(
    absl::string_view key, int64_t window_start_ms,
    std::optional<absl::string_view> value) {
  if (!segments_.IsLive(window_start_ms)) return false;
  const std::string stored = StoredKey(key, window_start_ms);
  BROOK_RETURN_IF_ERROR(value ? engine().Put(stored, *value)
                              : engine().Delete(stored));
  segments_.Observe(window_start_ms);
  recent_.Put(key, window_start_ms, value);
  recent_.Advance(*segments_.observed());
  BROOK_RETURN_IF_ERROR(
      LogChange(EncodeWindowKey(key, window_start_ms), value));
  return true;
}

absl::StatusOr<std::optional<std::string>> WindowStoreImpl::Fetch(
    absl::string_view key, int64_t window_start_ms) {
  if (!segments_.IsLive(window_start_ms)) return std::nullopt;
  if (recent_.Covers(window_start_ms)) {
    return recent_.Get(key, window_start_ms);
  }
  return engine().Get(StoredKey(key, window_start_ms));
}

std::unique_ptr<WindowIterator> WindowStoreImpl::Fetch(absl::string_view key,
                                                       int64_t time_from_ms,
                                                       int64_t time_to_ms) {
  return FetchKey(key, time_from_ms, time_to_ms, /*backward=*/false);
}

std::unique_ptr<WindowIterator> WindowStoreImpl::BackwardFetch(
    absl::string_view key, int64_t time_from_ms, int64_t time_to_ms) {
  return FetchKey(key, time_from_ms, time_to_ms, /*backward=*/true);
}

std::unique_ptr<WindowIterator> WindowStoreImpl::FetchAll(int64_t time_from_ms,
                                                          int64_t time_to_ms) {
  return FetchRange(time_from_ms, time_to_ms, /*backward=*/false);
}

std::unique_ptr<WindowIterator> WindowStoreImpl::BackwardFetchAll(
    int64_t time_from_ms, int64_t time_to_ms) {
  return FetchRange(time_from_ms, time_to_ms, /*backward=*/true);
}

std::unique_ptr<WindowIterator> WindowStoreImpl::FetchKey(absl::string_view key,
                                                          int64_t time_from_ms,
                                                          int64_t time_to_ms,
                                                          bool backward) {
  if (recent_.Covers(time_from_ms)) {
    std::vector<RecentWindows::Window> windows;
    recent_.Fetch(key, time_from_ms, time_to_ms, &windows);
    // The copy may hold windows that expired since they were written.
    windows.erase(std::remove_if(windows.begin(), windows.end(),
                                 [this](const RecentWindows::Window& w) {
                                   return !segments_.IsLive(w.start);
                                 }),
                  windows.end());
    return std::make_unique<RecentWindowIterator>(std::string(key),
                                                  std::move(windows), backward);
  }
  ScanPlan plan;
  plan.backward = backward;
  if (auto live = segments_.LiveSegments(time_from_ms, time_to_ms)) {
    std::tie(plan.first_segment, plan.last_segment) = *live;
  }
  plan.bounds = [key = std::string(key), time_from_ms,
                 time_to_ms](int64_t segment) {
    std::string lower = Segments::SegmentPrefix(segment) + key;
    std::string upper = lower;
    AppendOrdered64(time_from_ms, &lower);
    AppendOrdered64(time_to_ms, &upper);
    upper.push_back('\0');  // just past the window that starts at time_to
    return std::make_pair(std::move(lower),
                          std::optional<std::string>(std::move(upper)));
  };
  const size_t stored_size = kTimeBytes + key.size() + kTimeBytes;
  plan.decode = [this, stored_size, time_from_ms, time_to_ms](
                    absl::string_view stored, absl::string_view value,
                    ScanEntry* out) {
    if (stored.size() != stored_size) return false;  // a longer user key
    const int64_t start =
        ReadOrdered64(stored.substr(stored_size - kTimeBytes));
    if (start < time_from_ms || start > time_to_ms ||
        !segments_.IsLive(start)) {
      return false;
    }
    out->key =
        std::string(stored.substr(kTimeBytes, stored_size - 2 * kTimeBytes));
    out->start = start;
    out->value = std::string(value);
    return true;
  };
  return std::make_unique<ScanWindowIterator>(&engine(), std::move(plan));
}

std::unique_ptr<WindowIterator> WindowStoreImpl::FetchRange(
    int64_t time_from_ms, int64_t time_to_ms, bool backward) {
  ScanPlan plan;
  plan.backward = backward;
  if (auto live = segments_.LiveSegments(time_from_ms, time_to_ms)) {
    std::tie(plan.first_segment, plan.last_segment) = *live;
  }
  plan.bounds = [](int64_t segment) {
    std::string lower = Segments::SegmentPrefix(segment);
    std::optional<std::string> upper = PrefixSuccessor(lower);
    return std::make_pair(std::move(lower), std::move(upper));
  };
  plan.decode = [this, time_from_ms, time_to_ms](absl::string_view stored,
                                                 absl::string_view value,
                                                 ScanEntry* out) {
    if (stored.size() < 2 * kTimeBytes) return false;
    const int64_t start =
        ReadOrdered64(stored.substr(stored.size() - kTimeBytes));
    if (start < time_from_ms || start > time_to_ms ||
        !segments_.IsLive(start)) {
      return false;
    }
    out->key =
        std::string(stored.substr(kTimeBytes, stored.size() - 2 * kTimeBytes));
    out->start = start;
    out->value = std::string(value);
    return true;
  };
  plan.sort_by_start_then_key = true;
  return std::make_unique<ScanWindowIterator>(&engine(), std::move(plan));
}

absl::Status WindowStoreImpl::Restore(absl::Span<const ChangeRecord> records,
                                      int64_t next_offset) {
  BROOK_RETURN_IF_ERROR(CheckRestorable());
  std::string key;
  int64_t start = 0;
  for (const ChangeRecord& record : records) {
    if (!DecodeWindowKey(record.key, &key, &start)) {
      segments_.Aborted();
      ResetRecent();
      return absl::InvalidArgumentError(absl::StrCat(
          "changelog record of window store '", name(), "' has a ",
          record.key.size(), "-byte key, shorter than a window start"));
    }
    segments_.Observe(start);
  }
  std::vector<ChangeRecord> stored;
  stored.reserve(records.size());
  for (const ChangeRecord& record : records) {
    DecodeWindowKey(record.key, &key, &start);
    if (!segments_.IsLive(start)) continue;
    stored.push_back({StoredKey(key, start), record.value});
  }
  CommitExtras extras;
  segments_.PrepareCommit(&extras);
  extras.changelog_offset = next_offset;
  absl::Status status = engine().WriteCommitted(stored, extras);
  if (status.ok()) {
    segments_.Committed();
  } else {
    segments_.Aborted();
  }
  ResetRecent();
  return status;
}

}  // namespace brook::internal
