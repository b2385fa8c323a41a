// The window specifications of KGroupedStream::WindowedBy, with Kafka
// Streams' names and semantics:
//
//   TimeWindows::OfSizeWithNoGrace(absl::Minutes(1))          tumbling
//   TimeWindows::OfSizeAndGrace(absl::Minutes(5), absl::Seconds(30))
//       .AdvanceBy(absl::Minutes(1))                           hopping
//   SessionWindows::OfInactivityGapAndGrace(absl::Minutes(5), absl::Seconds(10))
//   SlidingWindows::OfTimeDifferenceAndGrace(absl::Seconds(10), absl::Seconds(1))
//
// Time windows are [start, start + size): the start is inclusive, the end
// exclusive; hopping windows start every `advance` ms from the epoch, so a
// record belongs to size / advance windows. Session windows are [first
// record, last record], both inclusive; a record within `gap` of a session
// extends it, and one that bridges two sessions merges them. Sliding
// windows are [start, start + time difference], both inclusive, one per
// distinct set of records that fit in it.
//
// Grace: a window accepts records until stream time (the highest record
// timestamp the aggregation has seen) reaches its end + grace (time
// windows: stream time >= end + grace closes it; sessions and sliding
// windows, whose end is inclusive: stream time > end + grace). A record for
// a closed window is dropped and counted in dropped-records
// (window-closed). Negative timestamps are not supported (Kafka Streams
// neither).
//
// Invalid values (size or gap <= 0, advance outside (0, size], negative
// grace) become a Build() error naming the operator.
// Threading model: plain values.
#ifndef BROOK_OPERATORS_WINDOWS_H_
#define BROOK_OPERATORS_WINDOWS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace brook {

struct TimeWindows {
  int64_t size_ms = 0;
  int64_t advance_ms = 0;  // == size_ms: tumbling
  int64_t grace_ms = 0;

  static TimeWindows OfSizeWithNoGrace(absl::Duration size) {
    return OfSizeAndGrace(size, absl::ZeroDuration());
  }
  static TimeWindows OfSizeAndGrace(absl::Duration size, absl::Duration grace) {
    const int64_t s = absl::ToInt64Milliseconds(size);
    return TimeWindows{s, s, absl::ToInt64Milliseconds(grace)};
  }
  // Hopping windows: a new window every `advance` (0 < advance <= size).
  TimeWindows AdvanceBy(absl::Duration advance) const {
    TimeWindows w = *this;
    w.advance_ms = absl::ToInt64Milliseconds(advance);
    return w;
  }

  // The starts of the windows that contain `timestamp_ms`, ascending.
  // REQUIRES: Validate().ok(), timestamp_ms >= 0.
  std::vector<int64_t> WindowStartsFor(int64_t timestamp_ms) const {
    std::vector<int64_t> starts;
    int64_t first = timestamp_ms - size_ms + advance_ms;
    if (first < 0) first = 0;
    first = first / advance_ms * advance_ms;
    for (int64_t s = first; s <= timestamp_ms; s += advance_ms) {
      starts.push_back(s);
    }
    return starts;
  }

  absl::Status Validate() const {
    if (size_ms <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("TimeWindows: size must be > 0 ms, got ", size_ms));
    }
    if (advance_ms <= 0 || advance_ms > size_ms) {
      return absl::InvalidArgumentError(
          absl::StrCat("TimeWindows: advance must be in (0, size = ", size_ms,
                       "] ms, got ", advance_ms));
    }
    if (grace_ms < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("TimeWindows: grace must be >= 0 ms, got ", grace_ms));
    }
    return absl::OkStatus();
  }
};

struct SessionWindows {
  int64_t gap_ms = 0;
  int64_t grace_ms = 0;

  static SessionWindows OfInactivityGapWithNoGrace(absl::Duration gap) {
    return OfInactivityGapAndGrace(gap, absl::ZeroDuration());
  }
  static SessionWindows OfInactivityGapAndGrace(absl::Duration gap,
                                                absl::Duration grace) {
    return SessionWindows{absl::ToInt64Milliseconds(gap),
                          absl::ToInt64Milliseconds(grace)};
  }

  absl::Status Validate() const {
    if (gap_ms <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SessionWindows: inactivity gap must be > 0 ms, got ", gap_ms));
    }
    if (grace_ms < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SessionWindows: grace must be >= 0 ms, got ", grace_ms));
    }
    return absl::OkStatus();
  }
};

struct SlidingWindows {
  int64_t time_difference_ms = 0;
  int64_t grace_ms = 0;

  static SlidingWindows OfTimeDifferenceWithNoGrace(absl::Duration diff) {
    return OfTimeDifferenceAndGrace(diff, absl::ZeroDuration());
  }
  static SlidingWindows OfTimeDifferenceAndGrace(absl::Duration diff,
                                                 absl::Duration grace) {
    return SlidingWindows{absl::ToInt64Milliseconds(diff),
                          absl::ToInt64Milliseconds(grace)};
  }

  absl::Status Validate() const {
    if (time_difference_ms <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("SlidingWindows: time difference must be > 0 ms, got ",
                       time_difference_ms));
    }
    if (grace_ms < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SlidingWindows: grace must be >= 0 ms, got ", grace_ms));
    }
    return absl::OkStatus();
  }
};

}  // namespace brook

#endif  // BROOK_OPERATORS_WINDOWS_H_
