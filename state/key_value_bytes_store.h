// KeyValueBytesStore: a transactional key-value store over bytes. Keys sort
// bytewise. Typed access (through serdes) is runtime/key_value_store.h.
//
// Reads see committed data overlaid with this transaction's uncommitted
// writes. Every write is also sent to the ChangeSink, if one is set, after
// it is buffered: if the logger fails, its error is returned and the write
// stays buffered (the caller aborts the transaction).
// Threading model: owned by one task (see StateStore).
#ifndef BROOK_STATE_KEY_VALUE_BYTES_STORE_H_
#define BROOK_STATE_KEY_VALUE_BYTES_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

#include "brook/state/state_store.h"

namespace brook {

// Walks key-value pairs in key order. A snapshot: writes made after it was
// created may or may not be seen. Must be destroyed before the store is
// committed, aborted or closed.
class KeyValueIterator {
 public:
  virtual ~KeyValueIterator() = default;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  // REQUIRES: Valid(). Valid until the next call on the iterator.
  virtual absl::string_view key() const = 0;
  virtual absl::string_view value() const = 0;
  // An error met while iterating (Valid() is then false); kDataLoss if the
  // store's files turn out to be damaged.
  virtual absl::Status status() const = 0;
};

class KeyValueBytesStore : public StateStore {
 public:
  virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) = 0;
  virtual absl::Status Put(absl::string_view key, absl::string_view value) = 0;
  virtual absl::Status Delete(absl::string_view key) = 0;
  // Puts `value` if `key` is absent; returns the existing value otherwise
  // (and writes nothing).
  virtual absl::StatusOr<std::optional<std::string>> PutIfAbsent(
      absl::string_view key, absl::string_view value) = 0;
  // Pairs with from <= key < to; nullopt bounds are open.
  virtual std::unique_ptr<KeyValueIterator> Range(
      std::optional<absl::string_view> from,
      std::optional<absl::string_view> to) = 0;
  // Pairs whose key starts with `prefix`.
  virtual std::unique_ptr<KeyValueIterator> PrefixScan(
      absl::string_view prefix) = 0;
  // An estimate of the number of keys (committed, plus uncommitted puts).
  virtual absl::StatusOr<int64_t> ApproximateNumEntries() = 0;
};

}  // namespace brook

#endif  // BROOK_STATE_KEY_VALUE_BYTES_STORE_H_
