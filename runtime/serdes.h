// The built-in serdes. Their byte formats match Kafka's Java serdes, so Brook
// reads and writes topics that Kafka Streams applications share:
//   String()  UTF-8 bytes as they are
//   Bytes()   raw bytes (the same representation as String())
//   Int64()   8 bytes, big-endian two's complement (Kafka's LongSerializer)
//   Int32()   4 bytes, big-endian (Kafka's IntegerSerializer)
//   Protobuf<M>()  the message's binary encoding
#ifndef BROOK_RUNTIME_SERDES_H_
#define BROOK_RUNTIME_SERDES_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

#include "brook/runtime/serde.h"

namespace brook {

class Serdes {
 public:
  static SerdePtr<std::string> String();
  static SerdePtr<std::string> Bytes();
  static SerdePtr<int64_t> Int64();
  static SerdePtr<int32_t> Int32();
  // M is a generated protobuf message class.
  template <typename M>
  static SerdePtr<M> Protobuf();
};

namespace internal {

template <typename M>
class ProtobufSerde final : public Serde<M> {
 public:
  std::string Serialize(absl::string_view, const M& m) const override {
    return m.SerializeAsString();
  }
  absl::StatusOr<M> Deserialize(absl::string_view,
                                absl::string_view bytes) const override {
    M m;
    if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a valid ", M::descriptor()->full_name(), " (",
                       bytes.size(), " bytes)"));
    }
    return m;
  }
};

}  // namespace internal

template <typename M>
SerdePtr<M> Serdes::Protobuf() {
  static const auto* serde = new std::shared_ptr<const Serde<M>>(
      std::make_shared<internal::ProtobufSerde<M>>());
  return *serde;
}

}  // namespace brook

#endif  // BROOK_RUNTIME_SERDES_H_
