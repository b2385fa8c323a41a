// Segments: the retention rules of window and session stores, and the
// time-based segments their data is split into.
//
// Each stored key of a segmented store starts with its segment id (the time
// divided by the interval, rounded down) in AppendOrdered64's encoding, so a
// segment is one contiguous key range and dropping it is one range deletion.
//
// The store tracks the observed stream time (the highest time written),
// both as seen by the open transaction and as committed; the committed value
// is kept in the engine's MetaKey::kStreamTime. Times before observed -
// retention are expired.
#ifndef BROOK_STATE_INTERNAL_SEGMENTS_H_
#define BROOK_STATE_INTERNAL_SEGMENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "brook/state/internal/store_engine.h"

namespace brook::internal {

// Threading model: owned by one store, on its stream thread.
class Segments {
 public:
  // max(retention / 2, 60 s), as Kafka Streams.
  static int64_t DefaultInterval(int64_t retention_ms);

  // A segment_interval_ms of 0 picks DefaultInterval(retention_ms).
  Segments(int64_t retention_ms, int64_t segment_interval_ms);

  // kInvalidArgument, naming the store, for a negative retention or
  // interval.
  absl::Status Validate(absl::string_view store_name) const;

  int64_t retention_ms() const { return retention_ms_; }
  int64_t interval_ms() const { return interval_ms_; }
  std::optional<int64_t> observed() const { return observed_; }

  // Forgets the transaction's view and starts from `committed_stream_time`
  // (after open, wipe).
  void Reset(std::optional<int64_t> committed_stream_time);

  // False if `time` has expired for the open transaction.
  bool IsLive(int64_t time) const;
  // Raises the observed stream time to `time` if higher.
  void Observe(int64_t time);

  // The segment ids that may hold live times in [from, to], oldest first;
  // nullopt if none can (nothing written, or all of [from, to] expired or
  // in the future).
  std::optional<std::pair<int64_t, int64_t>> LiveSegments(int64_t from,
                                                          int64_t to) const;
  int64_t SegmentOf(int64_t time) const;
  // The first 8 bytes of every stored key of `segment`.
  static std::string SegmentPrefix(int64_t segment);

  // Adds to `extras` what the commit of the transaction writes besides its
  // data: the stream time if it moved and the range of expired segments if
  // it grew.
  void PrepareCommit(CommitExtras* extras) const;
  // The commit (or restore) prepared by PrepareCommit() succeeded.
  void Committed();
  // The transaction is gone: back to the committed stream time.
  void Aborted() { observed_ = committed_; }

 private:
  // The oldest live time; meaningful only when observed_ is set.
  int64_t MinLive() const;

  const int64_t retention_ms_;
  const int64_t interval_ms_;
  std::optional<int64_t> observed_;
  std::optional<int64_t> committed_;
  // Segments below this one were deleted by this process (or never
  // checked, if INT64_MIN).
  int64_t dropped_below_ = INT64_MIN;
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_SEGMENTS_H_
