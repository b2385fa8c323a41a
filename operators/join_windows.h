// JoinWindows: how far apart in time two records of a KStream-KStream join
// may be, with Kafka Streams' names:
//
//   JoinWindows::OfTimeDifferenceWithNoGrace(absl::Minutes(5))
//   JoinWindows::OfTimeDifferenceAndGrace(absl::Minutes(5), absl::Seconds(30))
//       .Before(absl::ZeroDuration())    // the other side only after
//
// A record of the left stream at time t joins the right stream's records of
// the same key with timestamps in [t - before, t + after], both inclusive
// (OfTimeDifference sets before = after = the difference). Grace is how
// long after a record's window has ended (stream time past t + after for a
// left record, t + before for a right one) out-of-order records are still
// accepted; later ones are dropped and counted (dropped-records,
// window-closed). See operators/internal/stream_stream_join.h.
//
// Invalid values (before + after < 0, negative grace) become a Build()
// error naming the join.
// Threading model: plain values.
#ifndef BROOK_OPERATORS_JOIN_WINDOWS_H_
#define BROOK_OPERATORS_JOIN_WINDOWS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace brook {

struct JoinWindows {
  int64_t before_ms = 0;
  int64_t after_ms = 0;
  int64_t grace_ms = 0;

  static JoinWindows OfTimeDifferenceWithNoGrace(absl::Duration difference) {
    return OfTimeDifferenceAndGrace(difference, absl::ZeroDuration());
  }
  static JoinWindows OfTimeDifferenceAndGrace(absl::Duration difference,
                                              absl::Duration grace) {
    const int64_t d = absl::ToInt64Milliseconds(difference);
    return JoinWindows{d, d, absl::ToInt64Milliseconds(grace)};
  }
  // How far before a left record a right record may be; `after` unchanged.
  JoinWindows Before(absl::Duration before) const {
    JoinWindows w = *this;
    w.before_ms = absl::ToInt64Milliseconds(before);
    return w;
  }
  // How far after a left record a right record may be; `before` unchanged.
  JoinWindows After(absl::Duration after) const {
    JoinWindows w = *this;
    w.after_ms = absl::ToInt64Milliseconds(after);
    return w;
  }

  // before + after, as Kafka Streams' JoinWindows.size().
  int64_t size_ms() const { return before_ms + after_ms; }

  absl::Status Validate() const {
    if (before_ms + after_ms < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("JoinWindows: before + after must be >= 0 ms, got ",
                       before_ms, " + ", after_ms));
    }
    if (grace_ms < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("JoinWindows: grace must be >= 0 ms, got ", grace_ms));
    }
    return absl::OkStatus();
  }
};

}  // namespace brook

#endif  // BROOK_OPERATORS_JOIN_WINDOWS_H_
