// ChangeSerde<V>: the wire format of a table update on a repartition topic
// (KTable::GroupBy), so that the aggregation on the other side knows what to
// subtract and what to add. One flag byte says which sides are present
// (bit 0: new value, bit 1: old value); then, with both, the new value's
// length as 4 bytes big-endian, the new value's bytes and the old value's
// bytes; with one side, its bytes. A Change with neither side is never
// written (the group-by drops it).
//
// Kafka Streams (3.5+, KIP-904) uses a similar combined format on its
// group-by repartition topics; the two are not byte-compatible, which is
// fine for an internal topic that only this application reads.
//
// Threading model: immutable after construction, thread-safe.
#ifndef BROOK_OPERATORS_INTERNAL_CHANGE_SERDE_H_
#define BROOK_OPERATORS_INTERNAL_CHANGE_SERDE_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "brook/operators/internal/change.h"
#include "brook/runtime/serde.h"

namespace brook::internal {

template <typename V>
class ChangeSerde final : public Serde<Change<V>> {
 public:
  explicit ChangeSerde(SerdePtr<V> inner) : inner_(std::move(inner)) {}

  std::string Serialize(absl::string_view topic,
                        const Change<V>& change) const override {
    const bool has_new = change.new_value.has_value();
    const bool has_old = change.old_value.has_value();
    std::string out(
        1, static_cast<char>((has_new ? kNew : 0) | (has_old ? kOld : 0)));
    if (has_new && has_old) {
      const std::string new_bytes = inner_->Serialize(topic, *change.new_value);
      char length[4];
      absl::big_endian::Store32(length,
                                static_cast<uint32_t>(new_bytes.size()));
      out.append(length, 4);
      out += new_bytes;
      out += inner_->Serialize(topic, *change.old_value);
    } else if (has_new) {
      out += inner_->Serialize(topic, *change.new_value);
    } else if (has_old) {
      out += inner_->Serialize(topic, *change.old_value);
    }
    return out;
  }

  absl::StatusOr<Change<V>> Deserialize(
      absl::string_view topic, absl::string_view bytes) const override {
    if (bytes.empty() || (bytes[0] & ~(kNew | kOld)) != 0) {
      return absl::InvalidArgumentError(
          "not a table update: missing or bad flag byte");
    }
    const int flags = bytes[0];
    bytes.remove_prefix(1);
    Change<V> change;
    absl::string_view new_bytes, old_bytes;
    if ((flags & kNew) && (flags & kOld)) {
      if (bytes.size() < 4) {
        return absl::InvalidArgumentError("table update too short for length");
      }
      const uint32_t n = absl::big_endian::Load32(bytes.data());
      bytes.remove_prefix(4);
      if (bytes.size() < n) {
        return absl::InvalidArgumentError(
            absl::StrCat("table update says its new value has ", n,
                         " bytes, but only ", bytes.size(), " follow"));
      }
      new_bytes = bytes.substr(0, n);
      old_bytes = bytes.substr(n);
    } else if (flags & kNew) {
      new_bytes = bytes;
    } else if (flags & kOld) {
      old_bytes = bytes;
    }
    if (flags & kNew) {
      absl::StatusOr<V> v = inner_->Deserialize(topic, new_bytes);
      if (!v.ok()) return v.status();
      change.new_value = *std::move(v);
    }
    if (flags & kOld) {
      absl::StatusOr<V> v = inner_->Deserialize(topic, old_bytes);
      if (!v.ok()) return v.status();
      change.old_value = *std::move(v);
    }
    return change;
  }

 private:
  static constexpr int kNew = 1;
  static constexpr int kOld = 2;
  const SerdePtr<V> inner_;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_CHANGE_SERDE_H_
