#include "brook/runtime/serdes.h"

#include "absl/base/internal/endian.h"

namespace brook {
namespace {

class StringSerde final : public Serde<std::string> {
 public:
  std::string Serialize(absl::string_view,
                        const std::string& s) const override {
    return s;
  }
  absl::StatusOr<std::string> Deserialize(
      absl::string_view, absl::string_view bytes) const override {
    return std::string(bytes);
  }
};

template <typename T>
class BigEndianSerde final : public Serde<T> {
 public:
  std::string Serialize(absl::string_view, const T& v) const override {
    std::string out(sizeof(T), '\0');
    if constexpr (sizeof(T) == 8) {
      absl::big_endian::Store64(out.data(), static_cast<uint64_t>(v));
    } else {
      absl::big_endian::Store32(out.data(), static_cast<uint32_t>(v));
    }
    return out;
  }
  absl::StatusOr<T> Deserialize(absl::string_view,
                                absl::string_view bytes) const override {
    if (bytes.size() != sizeof(T)) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected ", sizeof(T), " bytes for an int",
                       sizeof(T) * 8, ", got ", bytes.size()));
    }
    if constexpr (sizeof(T) == 8) {
      return static_cast<T>(absl::big_endian::Load64(bytes.data()));
    } else {
      return static_cast<T>(absl::big_endian::Load32(bytes.data()));
    }
  }
};

template <typename S, typename T>
SerdePtr<T> Shared() {
  static const auto* serde =
      new std::shared_ptr<const Serde<T>>(std::make_shared<S>());
  return *serde;
}

}  // namespace

SerdePtr<std::string> Serdes::String() {
  return Shared<StringSerde, std::string>();
}
SerdePtr<std::string> Serdes::Bytes() {
  return Shared<StringSerde, std::string>();
}
SerdePtr<int64_t> Serdes::Int64() {
  return Shared<BigEndianSerde<int64_t>, int64_t>();
}
SerdePtr<int32_t> Serdes::Int32() {
  return Shared<BigEndianSerde<int32_t>, int32_t>();
}

}  // namespace brook
