#include "brook/state/internal/recent_windows.h"

#include <algorithm>
#include <utility>

namespace brook::internal {
namespace {

// Rounds down, for negative numbers too.
int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

bool StartsBefore(const RecentWindows::Window& w, int64_t start) {
  return w.start < start;
}

}  // namespace

RecentWindows::RecentWindows(int64_t span_ms,
                             std::shared_ptr<ByteBudget> budget)
    : span_ms_(std::max<int64_t>(span_ms, 0)),
      bucket_ms_(std::max<int64_t>(span_ms_ / 2, 1)),
      budget_(std::move(budget)) {}

RecentWindows::~RecentWindows() { AddBytes(-bytes_); }

void RecentWindows::AddBytes(int64_t delta) {
  bytes_ += delta;
  budget_->Charge(delta);
}

int64_t RecentWindows::BucketOf(int64_t start) const {
  return FloorDiv(start, bucket_ms_);
}

int64_t RecentWindows::Cost(absl::string_view key, absl::string_view value) {
  // The value's bytes and its Window, the key's bytes once per window (an
  // overestimate when a key has several windows in a bucket), and the hash
  // map's slot.
  return static_cast<int64_t>(key.size() + value.size()) + 80;
}

void RecentWindows::Reset(std::optional<int64_t> floor) {
  buckets_.clear();
  AddBytes(-bytes_);
  if (!floor.has_value()) {
    floor_ = INT64_MIN;
  } else {
    floor_ = *floor;
  }
}

void RecentWindows::Put(absl::string_view key, int64_t start,
                        std::optional<absl::string_view> value) {
  if (!Covers(start)) return;
  const auto bucket_it = buckets_.try_emplace(BucketOf(start)).first;
  Bucket& bucket = bucket_it->second;
  Windows& windows = bucket[key];
  auto it =
      std::lower_bound(windows.begin(), windows.end(), start, StartsBefore);
  const bool found = it != windows.end() && it->start == start;
  if (found) AddBytes(-Cost(key, it->value));
  if (!value.has_value()) {
    if (found) windows.erase(it);
    if (windows.empty()) bucket.erase(bucket.find(key));
    if (bucket.empty()) buckets_.erase(bucket_it);
    return;
  }
  AddBytes(Cost(key, *value));
  if (found) {
    it->value.assign(value->data(), value->size());
  } else {
    windows.insert(it, Window{start, std::string(*value)});
  }
  while (budget_->exceeded() && !buckets_.empty()) {
    // Over budget: the oldest bucket goes, even if it is this write's. The
    // copies that write give memory back; one that stopped writing keeps
    // at most its last span.
    RaiseFloor((buckets_.begin()->first + 1) * bucket_ms_);
  }
}

std::optional<std::string> RecentWindows::Get(absl::string_view key,
                                              int64_t start) const {
  auto bucket = buckets_.find(BucketOf(start));
  if (bucket == buckets_.end()) return std::nullopt;
  auto windows = bucket->second.find(key);
  if (windows == bucket->second.end()) return std::nullopt;
  const Windows& w = windows->second;
  auto it = std::lower_bound(w.begin(), w.end(), start, StartsBefore);
  if (it == w.end() || it->start != start) return std::nullopt;
  return it->value;
}

void RecentWindows::Fetch(absl::string_view key, int64_t from, int64_t to,
                          std::vector<Window>* out) const {
  if (from > to) return;
  for (auto bucket = buckets_.lower_bound(BucketOf(from));
       bucket != buckets_.end() && bucket->first <= BucketOf(to); ++bucket) {
    auto windows = bucket->second.find(key);
    if (windows == bucket->second.end()) continue;
    const Windows& w = windows->second;
    for (auto it = std::lower_bound(w.begin(), w.end(), from, StartsBefore);
         it != w.end() && it->start <= to; ++it) {
      out->push_back(*it);
    }
  }
}

void RecentWindows::Advance(int64_t stream_time) {
  if (!enabled() || stream_time < INT64_MIN + span_ms_) return;
  RaiseFloor(stream_time - span_ms_);
}

void RecentWindows::RaiseFloor(int64_t floor) {
  if (floor <= floor_) return;
  floor_ = floor;
  // Buckets that end before the floor; the one the floor falls in stays.
  const int64_t first_kept = BucketOf(floor);
  while (!buckets_.empty() && buckets_.begin()->first < first_kept) {
    for (const auto& [key, windows] : buckets_.begin()->second) {
      for (const Window& w : windows) AddBytes(-Cost(key, w.value));
    }
    buckets_.erase(buckets_.begin());
  }
}

}  // namespace brook::internal
