// SessionStoreImpl: SessionBytesStore over a StoreEngine.
//
// Stored key: [segment of end][user key][end][start], the segment and times
// in AppendOrdered64's encoding, so that one key's sessions in a segment are
// adjacent and ordered by end, then start: FindSessions() is a scan per
// non-empty segment, in the order it returns. Segments use the default
// interval, max(retention / 2, 60 s).
#ifndef BROOK_STATE_INTERNAL_SESSION_STORE_IMPL_H_
#define BROOK_STATE_INTERNAL_SESSION_STORE_IMPL_H_

#include <memory>
#include <optional>
#include <string>

#include "brook/state/internal/engine_store.h"
#include "brook/state/internal/segments.h"
#include "brook/state/session_bytes_store.h"

namespace brook::internal {

// Threading model: as StateStore (owned by one task, on its stream thread).
class SessionStoreImpl : public EngineStore<SessionBytesStore> {
 public:
  SessionStoreImpl(std::string name, std::unique_ptr<StoreEngine> engine,
                   int64_t retention_ms)
      : EngineStore(std::move(name), std::move(engine)),
        segments_(retention_ms, /*segment_interval_ms=*/0) {}

  int64_t retention_ms() const override { return segments_.retention_ms(); }

  // kInvalidArgument if start_ms > end_ms. On a logger error the write stays
  // buffered; the caller aborts.
  absl::StatusOr<bool> Put(absl::string_view key, int64_t start_ms,
                           int64_t end_ms,
                           std::optional<absl::string_view> value) override;
  absl::StatusOr<std::optional<std::string>> FetchSession(
      absl::string_view key, int64_t start_ms, int64_t end_ms) override;
  std::unique_ptr<SessionIterator> FindSessions(
      absl::string_view key, int64_t earliest_end_ms,
      int64_t latest_start_ms) override;
  std::unique_ptr<SessionIterator> BackwardFindSessions(
      absl::string_view key, int64_t earliest_end_ms,
      int64_t latest_start_ms) override;

  // Records of expired sessions are skipped; the stream time becomes the
  // highest end among the records if that is higher.
  absl::Status Restore(absl::Span<const ChangeRecord> records,
                       int64_t next_offset) override;

 private:
  absl::Status ValidateSettings() const override {
    return segments_.Validate(name());
  }
  void OnOpened() override;
  CommitExtras PrepareCommit() override;
  void OnCommitted() override { segments_.Committed(); }
  void OnAborted() override { segments_.Aborted(); }

  std::string StoredKey(absl::string_view key, int64_t start,
                        int64_t end) const;
  std::unique_ptr<SessionIterator> Find(absl::string_view key,
                                        int64_t earliest_end_ms,
                                        int64_t latest_start_ms, bool backward);

  Segments segments_;
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_SESSION_STORE_IMPL_H_
