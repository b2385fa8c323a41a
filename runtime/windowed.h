// Windowed<K>: the key of a windowed aggregation's result, the grouping key
// and its window; and the windowed serdes, byte-compatible with Kafka
// Streams' so that a Java consumer reads Brook's windowed output as is:
//
//   time windows (TimeWindowedSerializer):  key bytes | start (8 bytes BE)
//   session windows (SessionWindowedSerializer):
//                                key bytes | end (8 bytes BE) | start (8 BE)
//
// A time-windowed key on the wire holds no end: the deserializer computes it
// as start + the window size it was given (INT64_MAX if that overflows, as
// Kafka Streams does), so a hopping or tumbling window's size must be known
// to the reader. Sliding windows use the time-windowed format too, their
// size being the time difference (both ends included, as in Kafka Streams).
//
// Threading model: Windowed is a plain value; the serdes are immutable and
// thread-safe.
#ifndef BROOK_RUNTIME_WINDOWED_H_
#define BROOK_RUNTIME_WINDOWED_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "brook/runtime/serde.h"

namespace brook {

template <typename K>
struct Windowed {
  K key;
  // The window's start, inclusive. For time windows the end is exclusive
  // (a record at end_ms belongs to the next window); session windows include
  // both ends (a session of one record has start == end), as in Kafka
  // Streams.
  int64_t start_ms = 0;
  int64_t end_ms = 0;

  friend bool operator==(const Windowed&, const Windowed&) = default;
};

namespace internal {

inline void AppendBigEndian64(std::string* out, int64_t v) {
  char buf[8];
  absl::big_endian::Store64(buf, static_cast<uint64_t>(v));
  out->append(buf, 8);
}
inline int64_t LoadBigEndian64(const char* p) {
  return static_cast<int64_t>(absl::big_endian::Load64(p));
}

template <typename K>
class TimeWindowedSerde final : public Serde<Windowed<K>> {
 public:
  TimeWindowedSerde(SerdePtr<K> inner, int64_t window_size_ms)
      : inner_(std::move(inner)), window_size_ms_(window_size_ms) {}

  std::string Serialize(absl::string_view topic,
                        const Windowed<K>& w) const override {
    std::string out = inner_->Serialize(topic, w.key);
    AppendBigEndian64(&out, w.start_ms);
    return out;
  }
  absl::StatusOr<Windowed<K>> Deserialize(
      absl::string_view topic, absl::string_view bytes) const override {
    if (bytes.size() < 8) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a time-windowed key needs at least 8 bytes, got ", bytes.size()));
    }
    const size_t n = bytes.size() - 8;
    absl::StatusOr<K> key = inner_->Deserialize(topic, bytes.substr(0, n));
    if (!key.ok()) return key.status();
    const int64_t start = LoadBigEndian64(bytes.data() + n);
    int64_t end;
    if (__builtin_add_overflow(start, window_size_ms_, &end)) {
      end = std::numeric_limits<int64_t>::max();
    }
    return Windowed<K>{*std::move(key), start, end};
  }

 private:
  const SerdePtr<K> inner_;
  const int64_t window_size_ms_;
};

template <typename K>
class SessionWindowedSerde final : public Serde<Windowed<K>> {
 public:
  explicit SessionWindowedSerde(SerdePtr<K> inner) : inner_(std::move(inner)) {}

  std::string Serialize(absl::string_view topic,
                        const Windowed<K>& w) const override {
    std::string out = inner_->Serialize(topic, w.key);
    AppendBigEndian64(&out, w.end_ms);
    AppendBigEndian64(&out, w.start_ms);
    return out;
  }
  absl::StatusOr<Windowed<K>> Deserialize(
      absl::string_view topic, absl::string_view bytes) const override {
    if (bytes.size() < 16) {
      return absl::InvalidArgumentError(
          absl::StrCat("a session-windowed key needs at least 16 bytes, got ",
                       bytes.size()));
    }
    const size_t n = bytes.size() - 16;
    absl::StatusOr<K> key = inner_->Deserialize(topic, bytes.substr(0, n));
    if (!key.ok()) return key.status();
    const int64_t end = LoadBigEndian64(bytes.data() + n);
    const int64_t start = LoadBigEndian64(bytes.data() + n + 8);
    return Windowed<K>{*std::move(key), start, end};
  }

 private:
  const SerdePtr<K> inner_;
};

}  // namespace internal

class WindowedSerdes {
 public:
  // Kafka Streams' WindowedSerdes.timeWindowedSerdeFrom(K, windowSize).
  template <typename K>
  static SerdePtr<Windowed<K>> TimeWindowed(SerdePtr<K> inner,
                                            int64_t window_size_ms) {
    return std::make_shared<internal::TimeWindowedSerde<K>>(std::move(inner),
                                                            window_size_ms);
  }
  // Kafka Streams' WindowedSerdes.sessionWindowedSerdeFrom(K).
  template <typename K>
  static SerdePtr<Windowed<K>> SessionWindowed(SerdePtr<K> inner) {
    return std::make_shared<internal::SessionWindowedSerde<K>>(
        std::move(inner));
  }
};

}  // namespace brook

#endif  // BROOK_RUNTIME_WINDOWED_H_
