// RecentWindows: an in-memory copy of a window store's most recent windows,
// so that reads of them skip the engine.
//
// A stream-stream join reads, for every record, the other side's windows of
// its key within the join window, and appends the record to its own side's
// list at its timestamp: one engine iterator and one engine Get per record.
// On RocksDB those were half of the join's CPU (a seek into a memtable that
// holds the whole grace period, and a Get that always misses; issue 10's
// profile). Both read windows close to the stream time, which this copy
// holds.
//
// The invariant: the copy holds every window of the store, committed or not,
// whose start is at or after floor(). Reads of windows at or after the floor
// may therefore be answered here alone, absent windows included; reads below
// it go to the engine. The store writes every window to both (the engine
// stays the source of truth, and its commit and changelog are unchanged).
// The floor only rises: to stream time - span as the stream time moves, and
// past the oldest windows when a write finds the byte budget (shared by the
// copies of all window stores of the process) exceeded. Raising it never
// breaks the invariant. Reset() starts over from a floor above every
// window the store holds (after open, abort and restore).
//
// Windows are grouped in buckets of span / 2 by start, so that dropping old
// windows drops whole buckets.
//
// Threading model: owned by one store, on its stream thread.
#ifndef BROOK_STATE_INTERNAL_RECENT_WINDOWS_H_
#define BROOK_STATE_INTERNAL_RECENT_WINDOWS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

#include "brook/state/internal/byte_budget.h"

namespace brook::internal {

class RecentWindows {
 public:
  struct Window {
    int64_t start = 0;
    std::string value;
  };

  // A span_ms of 0 or less turns the copy off: Covers() is always false.
  // The copy charges its bytes to `budget`, which may be shared with other
  // copies.
  RecentWindows(int64_t span_ms, std::shared_ptr<ByteBudget> budget);
  ~RecentWindows();

  RecentWindows(const RecentWindows&) = delete;
  RecentWindows& operator=(const RecentWindows&) = delete;

  bool enabled() const { return span_ms_ > 0; }
  int64_t floor() const { return floor_; }
  int64_t bytes() const { return bytes_; }

  // Whether every window that starts at or after `from` is held here.
  bool Covers(int64_t from) const { return enabled() && from >= floor_; }

  // Forgets every window. REQUIRES: no window of the store starts at or
  // after `floor` (nullopt: the store holds no window at all).
  void Reset(std::optional<int64_t> floor);

  // Mirrors a write of the store (nullopt: a delete). Ignored below the
  // floor. If the budget is then exceeded, the copy's oldest windows leave
  // (the floor rises past them) until it is not, or the copy is empty.
  void Put(absl::string_view key, int64_t start,
           std::optional<absl::string_view> value);

  // The value of `key` at `start`; nullopt if the store has none.
  // REQUIRES: Covers(start).
  std::optional<std::string> Get(absl::string_view key, int64_t start) const;

  // Appends to `out` the windows of `key` with from <= start <= to, by
  // start. REQUIRES: Covers(from).
  void Fetch(absl::string_view key, int64_t from, int64_t to,
             std::vector<Window>* out) const;

  // The stream time moved to `stream_time`: windows that start before
  // stream_time - span are no longer kept.
  void Advance(int64_t stream_time);

 private:
  // A key's windows in one bucket, by start.
  using Windows = std::vector<Window>;
  using Bucket = absl::flat_hash_map<std::string, Windows>;

  int64_t BucketOf(int64_t start) const;
  // Raises the floor to `floor` and drops the buckets wholly below it.
  void RaiseFloor(int64_t floor);
  static int64_t Cost(absl::string_view key, absl::string_view value);
  void AddBytes(int64_t delta);

  const int64_t span_ms_;
  const int64_t bucket_ms_;
  const std::shared_ptr<ByteBudget> budget_;
  int64_t floor_ = INT64_MAX;
  int64_t bytes_ = 0;
  absl::btree_map<int64_t, Bucket> buckets_;
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_RECENT_WINDOWS_H_
