// SegmentScan: reads entries of a segmented store (window or session) across
// a range of segments, one segment at a time.
//
// One engine iterator serves the whole scan. For each segment the scan
// seeks to the lower bound that the plan gives and reads up to its upper
// bound; when a seek lands in a later segment, the segments in between are
// empty and are skipped, so a scan costs one seek per non-empty segment
// whatever the number of segments in the range.
//
// A segment's matching entries are decoded into memory before the first of
// them is returned (and sorted, if the plan asks): memory is bounded by what
// one segment holds in the scanned range.
//
// A backward scan visits the segments from the last to the first and returns
// each segment's entries in reverse: exactly the forward scan's entries in
// the opposite order. It costs one seek per segment in the range (empty ones
// included), as the engine iterators only seek forward.
#ifndef BROOK_STATE_INTERNAL_SEGMENT_SCAN_H_
#define BROOK_STATE_INTERNAL_SEGMENT_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

#include "brook/state/internal/store_engine.h"

namespace brook::internal {

// One decoded entry. Window stores leave `end` unused.
struct ScanEntry {
  std::string key;
  int64_t start = 0;
  int64_t end = 0;
  std::string value;
};

struct ScanPlan {
  // The segments to scan, inclusive.
  int64_t first_segment = 0;
  int64_t last_segment = -1;
  // The stored keys [first, second) to read in a segment; no second: to the
  // end of the key space.
  std::function<std::pair<std::string, std::optional<std::string>>(
      int64_t segment)>
      bounds;
  // Decodes a stored entry into `out`; false to skip it.
  std::function<bool(absl::string_view key, absl::string_view value,
                     ScanEntry* out)>
      decode;
  // Whether to order each segment's entries by start, then key (otherwise
  // they come in stored-key order).
  bool sort_by_start_then_key = false;
  // Whether to return the entries in the reverse of the order above.
  bool backward = false;
};

// Threading model: as the store's iterators (one stream thread; destroyed
// before the store commits, aborts or closes).
class SegmentScan {
 public:
  // `engine` must outlive the scan.
  SegmentScan(StoreEngine* engine, ScanPlan plan);

  bool Valid() const { return next_ < entries_.size(); }
  void Next();
  // REQUIRES: Valid().
  const ScanEntry& entry() const { return entries_[next_]; }
  absl::Status status() const { return status_; }

 private:
  // Fills entries_ from the next non-empty segment, if any.
  void LoadNextSegment();
  // Backward scans: fills entries_ from segment_ (maybe nothing) and moves
  // to the one before; false when done or on error.
  bool LoadSegmentBackward();
  // Reads segment_ from the iterator's position; false on error.
  bool ReadSegment(const std::optional<std::string>& upper);

  StoreEngine* const engine_;
  const ScanPlan plan_;
  std::unique_ptr<EngineIterator> it_;
  int64_t segment_;
  bool done_ = false;
  std::vector<ScanEntry> entries_;
  size_t next_ = 0;
  absl::Status status_;
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_SEGMENT_SCAN_H_
