#include "brook/state/internal/segments.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

#include "brook/state/internal/key_codec.h"

namespace brook::internal {
namespace {

constexpr int64_t kMinInterval = 60000;

}  // namespace

int64_t Segments::DefaultInterval(int64_t retention_ms) {
  return std::max(retention_ms / 2, kMinInterval);
}

Segments::Segments(int64_t retention_ms, int64_t segment_interval_ms)
    : retention_ms_(retention_ms),
      interval_ms_(segment_interval_ms == 0 ? DefaultInterval(retention_ms)
                                            : segment_interval_ms) {}

absl::Status Segments::Validate(absl::string_view store_name) const {
  if (retention_ms_ < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("retention of state store '", store_name,
                     "' must not be negative, is ", retention_ms_, " ms"));
  }
  if (interval_ms_ <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("segment interval of state store '", store_name,
                     "' must not be negative, is ", interval_ms_, " ms"));
  }
  return absl::OkStatus();
}

void Segments::Reset(std::optional<int64_t> committed_stream_time) {
  observed_ = committed_stream_time;
  committed_ = committed_stream_time;
  dropped_below_ = INT64_MIN;
}

int64_t Segments::MinLive() const {
  if (*observed_ < std::numeric_limits<int64_t>::min() + retention_ms_) {
    return std::numeric_limits<int64_t>::min();
  }
  return *observed_ - retention_ms_;
}

bool Segments::IsLive(int64_t time) const {
  return !observed_ || time >= MinLive();
}

void Segments::Observe(int64_t time) {
  if (!observed_ || time > *observed_) observed_ = time;
}

std::optional<std::pair<int64_t, int64_t>> Segments::LiveSegments(
    int64_t from, int64_t to) const {
  if (!observed_) return std::nullopt;
  const int64_t low = std::max(from, MinLive());
  const int64_t high = std::min(to, *observed_);
  if (low > high) return std::nullopt;
  return std::make_pair(SegmentOf(low), SegmentOf(high));
}

int64_t Segments::SegmentOf(int64_t time) const {
  int64_t segment = time / interval_ms_;
  if (time % interval_ms_ < 0) --segment;  // round down, not toward zero
  return segment;
}

std::string Segments::SegmentPrefix(int64_t segment) {
  std::string prefix;
  AppendOrdered64(segment, &prefix);
  return prefix;
}

void Segments::PrepareCommit(CommitExtras* extras) const {
  if (!observed_) return;
  if (observed_ != committed_) extras->stream_time = observed_;
  // Segment s holds times up to (s + 1) * interval - 1: it has expired as a
  // whole iff s < SegmentOf(MinLive()).
  const int64_t first_live = SegmentOf(MinLive());
  if (first_live > dropped_below_) {
    extras->delete_ranges.emplace_back(SegmentPrefix(dropped_below_),
                                       SegmentPrefix(first_live));
  }
}

void Segments::Committed() {
  committed_ = observed_;
  if (observed_)
    dropped_below_ = std::max(dropped_below_, SegmentOf(MinLive()));
}

}  // namespace brook::internal
