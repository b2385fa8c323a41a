#include "brook/state/internal/session_store_impl.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/state/internal/key_codec.h"
#include "brook/state/internal/segment_scan.h"

namespace brook::internal {
namespace {

constexpr size_t kTimeBytes = 8;

class ScanSessionIterator : public SessionIterator {
 public:
  ScanSessionIterator(StoreEngine* engine, ScanPlan plan)
      : scan_(engine, std::move(plan)) {}
  bool Valid() const override { return scan_.Valid(); }
  void Next() override { scan_.Next(); }
  absl::string_view key() const override { return scan_.entry().key; }
  int64_t start_ms() const override { return scan_.entry().start; }
  int64_t end_ms() const override { return scan_.entry().end; }
  absl::string_view value() const override { return scan_.entry().value; }
  absl::Status status() const override { return scan_.status(); }

 private:
  SegmentScan scan_;
};

}  // namespace

std::string SessionStoreImpl::StoredKey(absl::string_view key, int64_t start,
                                        int64_t end) const {
  std::string stored = Segments::SegmentPrefix(segments_.SegmentOf(end));
  stored.append(key.data(), key.size());
  AppendOrdered64(end, &stored);
  AppendOrdered64(start, &stored);
  return stored;
}

void SessionStoreImpl::OnOpened() {
  segments_.Reset(engine().committed_meta(MetaKey::kStreamTime));
}

CommitExtras SessionStoreImpl::PrepareCommit() {
  CommitExtras extras;
  segments_.PrepareCommit(&extras);
  return extras;
}

absl::StatusOr<bool> SessionStoreImpl::Put(
    absl::string_view key, int64_t start_ms, int64_t end_ms,
    std::optional<absl::string_view> value) {
  if (start_ms > end_ms) {
    return absl::InvalidArgumentError(
        absl::StrCat("session of store '", name(), "' starts at ", start_ms,
                     " ms, after its end at ", end_ms, " ms"));
  }
  if (!segments_.IsLive(end_ms)) return false;
  const std::string stored = StoredKey(key, start_ms, end_ms);
  BROOK_RETURN_IF_ERROR(value ? engine().Put(stored, *value)
                              : engine().Delete(stored));
  segments_.Observe(end_ms);
  BROOK_RETURN_IF_ERROR(
      LogChange(EncodeSessionKey(key, start_ms, end_ms), value));
  return true;
}

absl::StatusOr<std::optional<std::string>> SessionStoreImpl::FetchSession(
    absl::string_view key, int64_t start_ms, int64_t end_ms) {
  if (!segments_.IsLive(end_ms)) return std::nullopt;
  return engine().Get(StoredKey(key, start_ms, end_ms));
}

std::unique_ptr<SessionIterator> SessionStoreImpl::FindSessions(
    absl::string_view key, int64_t earliest_end_ms, int64_t latest_start_ms) {
  return Find(key, earliest_end_ms, latest_start_ms, /*backward=*/false);
}

std::unique_ptr<SessionIterator> SessionStoreImpl::BackwardFindSessions(
    absl::string_view key, int64_t earliest_end_ms, int64_t latest_start_ms) {
  return Find(key, earliest_end_ms, latest_start_ms, /*backward=*/true);
}

std::unique_ptr<SessionIterator> SessionStoreImpl::Find(absl::string_view key,
                                                        int64_t earliest_end_ms,
                                                        int64_t latest_start_ms,
                                                        bool backward) {
  ScanPlan plan;
  plan.backward = backward;
  if (auto live = segments_.LiveSegments(earliest_end_ms, INT64_MAX)) {
    std::tie(plan.first_segment, plan.last_segment) = *live;
  }
  plan.bounds = [key = std::string(key), earliest_end_ms](int64_t segment) {
    std::string lower = Segments::SegmentPrefix(segment) + key;
    std::optional<std::string> upper = PrefixSuccessor(lower);
    AppendOrdered64(earliest_end_ms, &lower);
    return std::make_pair(std::move(lower), std::move(upper));
  };
  const size_t stored_size = kTimeBytes + key.size() + 2 * kTimeBytes;
  plan.decode = [this, stored_size, earliest_end_ms, latest_start_ms](
                    absl::string_view stored, absl::string_view value,
                    ScanEntry* out) {
    if (stored.size() != stored_size) return false;  // a longer user key
    const int64_t end =
        ReadOrdered64(stored.substr(stored_size - 2 * kTimeBytes));
    const int64_t start =
        ReadOrdered64(stored.substr(stored_size - kTimeBytes));
    if (end < earliest_end_ms || start > latest_start_ms ||
        !segments_.IsLive(end)) {
      return false;
    }
    out->key =
        std::string(stored.substr(kTimeBytes, stored_size - 3 * kTimeBytes));
    out->start = start;
    out->end = end;
    out->value = std::string(value);
    return true;
  };
  return std::make_unique<ScanSessionIterator>(&engine(), std::move(plan));
}

absl::Status SessionStoreImpl::Restore(absl::Span<const ChangeRecord> records,
                                       int64_t next_offset) {
  BROOK_RETURN_IF_ERROR(CheckRestorable());
  std::string key;
  int64_t start = 0;
  int64_t end = 0;
  for (const ChangeRecord& record : records) {
    if (!DecodeSessionKey(record.key, &key, &start, &end)) {
      segments_.Aborted();
      return absl::InvalidArgumentError(absl::StrCat(
          "changelog record of session store '", name(), "' has a ",
          record.key.size(), "-byte key, shorter than a session's times"));
    }
    segments_.Observe(end);
  }
  std::vector<ChangeRecord> stored;
  stored.reserve(records.size());
  for (const ChangeRecord& record : records) {
    DecodeSessionKey(record.key, &key, &start, &end);
    if (!segments_.IsLive(end)) continue;
    stored.push_back({StoredKey(key, start, end), record.value});
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
  return status;
}

}  // namespace brook::internal
