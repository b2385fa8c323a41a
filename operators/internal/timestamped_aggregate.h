// TimestampedAggregate: a window's aggregate and the largest record
// timestamp folded into it, as the time and sliding window aggregations and
// suppress keep them; its serde writes Kafka Streams' ValueAndTimestamp
// layout (8 bytes big-endian timestamp, then the value), the layout of a
// Kafka Streams timestamped window store's changelog.
// Threading model: value types; the serde is immutable after construction.
#ifndef BROOK_OPERATORS_INTERNAL_TIMESTAMPED_AGGREGATE_H_
#define BROOK_OPERATORS_INTERNAL_TIMESTAMPED_AGGREGATE_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

#include "brook/runtime/serde.h"
#include "brook/runtime/windowed.h"

namespace brook::internal {

// A window's aggregate and the largest record timestamp folded into it.
template <typename VR>
struct TimestampedAggregate {
  VR value;
  int64_t max_timestamp_ms = 0;
};

// 8 bytes big-endian timestamp, then the aggregate's bytes.
template <typename VR>
class TimestampedAggregateSerde final : public Serde<TimestampedAggregate<VR>> {
 public:
  explicit TimestampedAggregateSerde(SerdePtr<VR> inner)
      : inner_(std::move(inner)) {}
  std::string Serialize(absl::string_view topic,
                        const TimestampedAggregate<VR>& v) const override {
    std::string out;
    AppendBigEndian64(&out, v.max_timestamp_ms);
    out += inner_->Serialize(topic, v.value);
    return out;
  }
  absl::StatusOr<TimestampedAggregate<VR>> Deserialize(
      absl::string_view topic, absl::string_view bytes) const override {
    if (bytes.size() < 8) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a timestamped window aggregate needs at least 8 bytes, got ",
          bytes.size()));
    }
    absl::StatusOr<VR> v = inner_->Deserialize(topic, bytes.substr(8));
    if (!v.ok()) return v.status();
    return TimestampedAggregate<VR>{*std::move(v),
                                    LoadBigEndian64(bytes.data())};
  }

 private:
  const SerdePtr<VR> inner_;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_TIMESTAMPED_AGGREGATE_H_
