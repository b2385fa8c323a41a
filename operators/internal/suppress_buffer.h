// What the two suppress processors share: the buffer's bounds
// (BufferLimits, from BufferConfig), its usage (SuppressBufferUsage: the
// keys buffered, their bytes, and the order in which they leave), and the
// error a full strict buffer fails the task with.
//
// A key's bytes are its serialized key plus its serialized buffer entry,
// the bytes the buffer's store and changelog hold for it (Kafka Streams
// counts key, values and record context; the figures differ, the bound
// means the same: memory held per buffered key).
//
// Threading model: one instance per processor, on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_SUPPRESS_BUFFER_H_
#define BROOK_OPERATORS_INTERNAL_SUPPRESS_BUFFER_H_

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace brook::internal {

struct BufferLimits {
  static constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();
  int64_t max_records = kUnbounded;
  int64_t max_bytes = kUnbounded;
  // True: a full buffer forwards its oldest entries early to make room;
  // false: a full buffer fails the task.
  bool emit_early = false;

  bool bounded() const {
    return max_records != kUnbounded || max_bytes != kUnbounded;
  }
  bool counts_bytes() const { return max_bytes != kUnbounded; }
};

// The buffered keys, ordered by (time, serialized key): the order in which
// they leave the buffer, oldest first, stable among equal times. The time
// is the buffer's deadline (UntilWindowCloses) or the time the key entered
// the buffer (UntilTimeLimit).
template <typename K>
class SuppressBufferUsage {
 public:
  struct Entry {
    int64_t time;
    int64_t bytes;
  };

  // The entry of `key_bytes`, or nullptr if it is not buffered.
  const Entry* Find(const std::string& key_bytes) const {
    auto it = entries_.find(key_bytes);
    return it == entries_.end() ? nullptr : &it->second;
  }

  // Adds the key, or replaces its time and size.
  void Put(const std::string& key_bytes, const K& key, int64_t time,
           int64_t bytes) {
    Erase(key_bytes);
    entries_.emplace(key_bytes, Entry{time, bytes});
    order_.emplace(std::make_pair(time, key_bytes), key);
    bytes_ += bytes;
  }

  void Erase(const std::string& key_bytes) {
    auto it = entries_.find(key_bytes);
    if (it == entries_.end()) return;
    order_.erase(std::make_pair(it->second.time, key_bytes));
    bytes_ -= it->second.bytes;
    entries_.erase(it);
  }

  void Clear() {
    entries_.clear();
    order_.clear();
    bytes_ = 0;
  }

  bool empty() const { return order_.empty(); }
  // REQUIRES: !empty().
  int64_t oldest_time() const { return order_.begin()->first.first; }
  const std::string& oldest_key_bytes() const {
    return order_.begin()->first.second;
  }
  const K& oldest_key() const { return order_.begin()->second; }

  int64_t records() const { return static_cast<int64_t>(entries_.size()); }
  int64_t bytes() const { return bytes_; }

  bool Over(const BufferLimits& limits) const {
    return records() > limits.max_records || bytes() > limits.max_bytes;
  }

 private:
  absl::flat_hash_map<std::string, Entry> entries_;
  std::map<std::pair<int64_t, std::string>, K> order_;
  int64_t bytes_ = 0;
};

inline std::string LimitText(int64_t limit) {
  return limit == BufferLimits::kUnbounded ? std::string("unbounded")
                                           : absl::StrCat(limit);
}

// Kafka Streams: "<node> buffer exceeded its max capacity. Currently
// [records/max] records and [bytes/max] bytes."
inline absl::Status BufferFullError(const std::string& node,
                                    const BufferLimits& limits, int64_t records,
                                    int64_t bytes) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "suppress '", node,
      "': the suppression buffer exceeded its bound (BufferConfig "
      "ShutDownWhenFull): ",
      records, " keys buffered, at most ", LimitText(limits.max_records),
      " records; ",
      limits.counts_bytes() ? absl::StrCat(bytes) : std::string("(uncounted)"),
      " bytes, at most ", LimitText(limits.max_bytes),
      " bytes. Raise the bound, or use EmitEarlyWhenFull() where early "
      "results are acceptable"));
}

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_SUPPRESS_BUFFER_H_
