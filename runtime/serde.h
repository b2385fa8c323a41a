// Serde<T>: turns a key or value into bytes and back.
//
// Serdes never see nulls: a null key or value is std::nullopt in a Record and
// null on the wire. A Deserialize() error names what is wrong with the bytes;
// Brook adds the topic, partition and offset.
//
// Threading model: implementations must be thread-safe; one serde instance is
// shared by every task of every stream thread.
#ifndef BROOK_RUNTIME_SERDE_H_
#define BROOK_RUNTIME_SERDE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace brook {

template <typename T>
class Serde {
 public:
  using Type = T;
  virtual ~Serde() = default;
  virtual std::string Serialize(absl::string_view topic,
                                const T& data) const = 0;
  virtual absl::StatusOr<T> Deserialize(absl::string_view topic,
                                        absl::string_view bytes) const = 0;
};

template <typename T>
using SerdePtr = std::shared_ptr<const Serde<T>>;

}  // namespace brook

#endif  // BROOK_RUNTIME_SERDE_H_
