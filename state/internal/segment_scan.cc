#include "brook/state/internal/segment_scan.h"

#include <algorithm>
#include <optional>
#include <tuple>

#include "brook/state/internal/key_codec.h"
#include "brook/state/internal/segments.h"

namespace brook::internal {

SegmentScan::SegmentScan(StoreEngine* engine, ScanPlan plan)
    : engine_(engine),
      plan_(std::move(plan)),
      segment_(plan_.backward ? plan_.last_segment : plan_.first_segment) {
  if (plan_.first_segment > plan_.last_segment) {
    done_ = true;
    return;
  }
  const std::string lower = Segments::SegmentPrefix(plan_.first_segment);
  const std::optional<std::string> upper =
      PrefixSuccessor(Segments::SegmentPrefix(plan_.last_segment));
  it_ = engine_->NewIterator(
      lower, upper ? std::optional<absl::string_view>(*upper) : std::nullopt);
  LoadNextSegment();
}

void SegmentScan::Next() {
  if (!Valid()) return;
  if (++next_ == entries_.size()) LoadNextSegment();
}

void SegmentScan::LoadNextSegment() {
  entries_.clear();
  next_ = 0;
  while (!done_ && entries_.empty()) {
    if (plan_.backward) {
      if (!LoadSegmentBackward()) break;
      continue;
    }
    if (segment_ > plan_.last_segment) {
      done_ = true;
      break;
    }
    const auto [lower, upper] = plan_.bounds(segment_);
    it_->Seek(lower);
    if (!it_->Valid()) {
      status_ = it_->status();
      done_ = true;
      break;
    }
    if (it_->key().size() < 8) {
      status_ = absl::DataLossError("a stored key has no segment id");
      done_ = true;
      break;
    }
    const int64_t found = ReadOrdered64(it_->key());
    if (found > segment_) {  // the segments in between are empty
      segment_ = found;
      continue;
    }
    if (!ReadSegment(upper)) break;
    if (segment_ == plan_.last_segment) {
      done_ = true;
    } else {
      ++segment_;
    }
  }
  if (plan_.sort_by_start_then_key) {
    std::sort(entries_.begin(), entries_.end(),
              [](const ScanEntry& a, const ScanEntry& b) {
                return std::tie(a.start, a.key) < std::tie(b.start, b.key);
              });
  }
  if (plan_.backward) std::reverse(entries_.begin(), entries_.end());
}

bool SegmentScan::LoadSegmentBackward() {
  if (segment_ < plan_.first_segment) {
    done_ = true;
    return false;
  }
  const auto [lower, upper] = plan_.bounds(segment_);
  it_->Seek(lower);
  if (!it_->status().ok()) {
    status_ = it_->status();
    done_ = true;
    return false;
  }
  // Nothing at or after `lower` (invalid), or the next entry is in a later
  // segment: this segment holds nothing in range, an earlier one may.
  if (it_->Valid() && it_->key().size() < 8) {
    status_ = absl::DataLossError("a stored key has no segment id");
    done_ = true;
    return false;
  }
  const bool here = it_->Valid() && ReadOrdered64(it_->key()) == segment_;
  if (here && !ReadSegment(upper)) return false;
  --segment_;
  return true;
}

bool SegmentScan::ReadSegment(const std::optional<std::string>& upper) {
  ScanEntry entry;
  for (; it_->Valid() && (!upper || it_->key() < *upper); it_->Next()) {
    if (plan_.decode(it_->key(), it_->value(), &entry)) {
      entries_.push_back(std::move(entry));
      entry = ScanEntry();
    }
  }
  status_ = it_->status();
  if (!status_.ok()) {
    entries_.clear();
    done_ = true;
    return false;
  }
  return true;
}

}  // namespace brook::internal
