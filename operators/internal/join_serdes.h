// The value and key formats of the stream-stream join's stores
// (stream_stream_join.h): a side store holds, per key and timestamp, the
// list of values that arrived then (ListSerde); the outer store's key says
// which side it belongs to (SideKeySerde) and its value holds that side's
// unjoined values (UnjoinedSerde). These bytes are what the stores'
// changelogs carry, so they are a storage format: change them only with a
// way to read the old one.
//
// Threading model: immutable after construction (serdes are shared between
// tasks).
#ifndef BROOK_OPERATORS_INTERNAL_JOIN_SERDES_H_
#define BROOK_OPERATORS_INTERNAL_JOIN_SERDES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "brook/base/status_macros.h"
#include "brook/runtime/serde.h"

namespace brook::internal {

// A list of values: for each, its length as 4 bytes big-endian, then its
// bytes.
template <typename V>
class ListSerde final : public Serde<std::vector<V>> {
 public:
  explicit ListSerde(SerdePtr<V> inner) : inner_(std::move(inner)) {}

  std::string Serialize(absl::string_view topic,
                        const std::vector<V>& values) const override {
    std::string out;
    for (const V& v : values) {
      const std::string bytes = inner_->Serialize(topic, v);
      char len[4];
      absl::big_endian::Store32(len, static_cast<uint32_t>(bytes.size()));
      out.append(len, 4);
      out.append(bytes);
    }
    return out;
  }
  absl::StatusOr<std::vector<V>> Deserialize(
      absl::string_view topic, absl::string_view bytes) const override {
    std::vector<V> values;
    while (!bytes.empty()) {
      if (bytes.size() < 4) return Truncated();
      const uint32_t n = absl::big_endian::Load32(bytes.data());
      bytes.remove_prefix(4);
      if (bytes.size() < n) return Truncated();
      BROOK_ASSIGN_OR_RETURN(V v,
                             inner_->Deserialize(topic, bytes.substr(0, n)));
      values.push_back(std::move(v));
      bytes.remove_prefix(n);
    }
    return values;
  }

 private:
  static absl::Status Truncated() {
    return absl::DataLossError("a join store's value list is truncated");
  }
  const SerdePtr<V> inner_;
};

// The outer store's key: the side ('L' or 'R'), then the key's bytes.
template <typename K>
struct SideKey {
  bool left = true;
  K key;
};

template <typename K>
class SideKeySerde final : public Serde<SideKey<K>> {
 public:
  explicit SideKeySerde(SerdePtr<K> inner) : inner_(std::move(inner)) {}

  std::string Serialize(absl::string_view topic,
                        const SideKey<K>& k) const override {
    return absl::StrCat(k.left ? "L" : "R", inner_->Serialize(topic, k.key));
  }
  absl::StatusOr<SideKey<K>> Deserialize(
      absl::string_view topic, absl::string_view bytes) const override {
    if (bytes.empty() || (bytes[0] != 'L' && bytes[0] != 'R')) {
      return absl::DataLossError("a join store's key has no side");
    }
    BROOK_ASSIGN_OR_RETURN(K key, inner_->Deserialize(topic, bytes.substr(1)));
    return SideKey<K>{bytes[0] == 'L', std::move(key)};
  }

 private:
  const SerdePtr<K> inner_;
};

// The outer store's value: the unjoined values of one side (the key says
// which), as a ListSerde of that side's serde.
template <typename V1, typename V2>
struct Unjoined {
  std::vector<V1> left;
  std::vector<V2> right;
};

template <typename V1, typename V2>
class UnjoinedSerde final : public Serde<Unjoined<V1, V2>> {
 public:
  UnjoinedSerde(SerdePtr<V1> left, SerdePtr<V2> right)
      : left_(std::move(left)), right_(std::move(right)) {}

  std::string Serialize(absl::string_view topic,
                        const Unjoined<V1, V2>& u) const override {
    if (!u.left.empty()) return "L" + left_.Serialize(topic, u.left);
    return "R" + right_.Serialize(topic, u.right);
  }
  absl::StatusOr<Unjoined<V1, V2>> Deserialize(
      absl::string_view topic, absl::string_view bytes) const override {
    if (bytes.empty() || (bytes[0] != 'L' && bytes[0] != 'R')) {
      return absl::DataLossError("a join store's value has no side");
    }
    Unjoined<V1, V2> u;
    if (bytes[0] == 'L') {
      BROOK_ASSIGN_OR_RETURN(u.left, left_.Deserialize(topic, bytes.substr(1)));
    } else {
      BROOK_ASSIGN_OR_RETURN(u.right,
                             right_.Deserialize(topic, bytes.substr(1)));
    }
    return u;
  }

 private:
  const ListSerde<V1> left_;
  const ListSerde<V2> right_;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_JOIN_SERDES_H_
