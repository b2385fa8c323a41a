// WindowStoreImpl: WindowBytesStore over a StoreEngine.
//
// Stored key: [segment of start][user key][start], the segment and start in
// AppendOrdered64's encoding. Within a segment the windows of one key are
// therefore adjacent and ordered by start, which makes Fetch(key, from, to)
// a short scan per non-empty segment. FetchAll() reads each segment of the
// range whole and sorts it by start, then key.
//
// With a recent-windows span, the windows that start within that span of the
// observed stream time are also kept in memory (RecentWindows), and
// Fetch(key, ...) and BackwardFetch(key, ...) whose range lies there are
// answered from memory alone. FetchAll() always reads the engine.
#ifndef BROOK_STATE_INTERNAL_WINDOW_STORE_IMPL_H_
#define BROOK_STATE_INTERNAL_WINDOW_STORE_IMPL_H_

#include <memory>
#include <optional>
#include <string>

#include "brook/state/internal/engine_store.h"
#include "brook/state/internal/recent_windows.h"
#include "brook/state/internal/segments.h"
#include "brook/state/window_bytes_store.h"

namespace brook::internal {

// Threading model: as StateStore (owned by one task, on its stream thread).
class WindowStoreImpl : public EngineStore<WindowBytesStore> {
 public:
  // recent_windows_ms > 0 keeps the windows within that span of the
  // observed stream time in memory too, within `recent_windows_budget` (see
  // RecentWindows); null: a budget of its own, of RocksDBConfig's default.
  WindowStoreImpl(std::string name, std::unique_ptr<StoreEngine> engine,
                  int64_t retention_ms, int64_t segment_interval_ms,
                  int64_t recent_windows_ms = 0,
                  std::shared_ptr<ByteBudget> recent_windows_budget = nullptr);

  int64_t retention_ms() const override { return segments_.retention_ms(); }
  int64_t segment_interval_ms() const override {
    return segments_.interval_ms();
  }
  std::optional<int64_t> observed_stream_time_ms() const override {
    return segments_.observed();
  }

  // On a logger error the write stays buffered; the caller aborts.
  absl::StatusOr<bool> Put(absl::string_view key, int64_t window_start_ms,
                           std::optional<absl::string_view> value) override;
  absl::StatusOr<std::optional<std::string>> Fetch(
      absl::string_view key, int64_t window_start_ms) override;
  std::unique_ptr<WindowIterator> Fetch(absl::string_view key,
                                        int64_t time_from_ms,
                                        int64_t time_to_ms) override;
  std::unique_ptr<WindowIterator> FetchAll(int64_t time_from_ms,
                                           int64_t time_to_ms) override;
  std::unique_ptr<WindowIterator> BackwardFetch(absl::string_view key,
                                                int64_t time_from_ms,
                                                int64_t time_to_ms) override;
  std::unique_ptr<WindowIterator> BackwardFetchAll(int64_t time_from_ms,
                                                   int64_t time_to_ms) override;

  // Records of expired windows are skipped; the stream time becomes the
  // highest start among the records if that is higher.
  absl::Status Restore(absl::Span<const ChangeRecord> records,
                       int64_t next_offset) override;

 private:
  absl::Status ValidateSettings() const override {
    return segments_.Validate(name());
  }
  void OnOpened() override;
  CommitExtras PrepareCommit() override;
  void OnCommitted() override { segments_.Committed(); }
  void OnAborted() override;

  std::string StoredKey(absl::string_view key, int64_t start) const;
  std::unique_ptr<WindowIterator> FetchKey(absl::string_view key,
                                           int64_t time_from_ms,
                                           int64_t time_to_ms, bool backward);
  std::unique_ptr<WindowIterator> FetchRange(int64_t time_from_ms,
                                             int64_t time_to_ms, bool backward);

  // The memory copy starts over above everything the store holds.
  void ResetRecent();

  Segments segments_;
  RecentWindows recent_;
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_WINDOW_STORE_IMPL_H_
