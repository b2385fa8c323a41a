// WindowStore<K, V>: the typed face of a window store
// (state/window_bytes_store.h), what a processor gets from
// ProcessorContext::GetStateStore<WindowStore<K, V>>(). One value per key
// and window start; windows older than the retention period expire (a write
// to one is refused, reads skip them). Writes are transactional and
// changelogged like KeyValueStore's.
//
// Iteration runs forward (by window start, then key) or backward (the exact
// reverse: latest start first), as Kafka Streams' fetch and backwardFetch.
// Threading model: owned by one task, used on its stream thread.
#ifndef BROOK_RUNTIME_WINDOW_STORE_H_
#define BROOK_RUNTIME_WINDOW_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/runtime/internal/delegating_store.h"
#include "brook/runtime/serde.h"
#include "brook/state/window_bytes_store.h"

namespace brook {

template <typename K, typename V>
class WindowStore final : public internal::DelegatingStore {
 public:
  using KeyType = K;
  using ValueType = V;
  using Visitor =
      std::function<absl::Status(const K& key, int64_t start_ms, const V&)>;

  WindowStore(std::unique_ptr<WindowBytesStore> inner, SerdePtr<K> key_serde,
              SerdePtr<V> value_serde)
      : internal::DelegatingStore(inner.get()),
        inner_(std::move(inner)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)) {}

  int64_t retention_ms() const { return inner_->retention_ms(); }
  // The highest window start written so far (see WindowBytesStore).
  std::optional<int64_t> observed_stream_time_ms() const {
    return inner_->observed_stream_time_ms();
  }

  // Writes `value` for `key` in the window starting at `start_ms`; nullopt
  // deletes it. false (nothing written) if the window has expired.
  absl::StatusOr<bool> Put(const K& key, int64_t start_ms,
                           const std::optional<V>& value) {
    std::optional<std::string> bytes;
    if (value.has_value()) bytes = value_serde_->Serialize(name(), *value);
    return inner_->Put(SerializeKey(key), start_ms, bytes);
  }

  absl::StatusOr<std::optional<V>> Fetch(const K& key, int64_t start_ms) {
    BROOK_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                           inner_->Fetch(SerializeKey(key), start_ms));
    if (!bytes.has_value()) return std::optional<V>();
    absl::StatusOr<V> v = value_serde_->Deserialize(name(), *bytes);
    if (!v.ok()) return Corrupt("value", v.status());
    return std::optional<V>(*std::move(v));
  }

  // Calls `fn` for each window of `key` with from <= start <= to, by start,
  // until it returns an error.
  absl::Status Fetch(const K& key, int64_t from_ms, int64_t to_ms,
                     const Visitor& fn) {
    return Walk(inner_->Fetch(SerializeKey(key), from_ms, to_ms), fn);
  }
  // The same for every key: by start, then by serialized key.
  absl::Status FetchAll(int64_t from_ms, int64_t to_ms, const Visitor& fn) {
    return Walk(inner_->FetchAll(from_ms, to_ms), fn);
  }
  // Fetch and FetchAll in reverse: latest start first (for FetchAll, then
  // by serialized key, descending).
  absl::Status BackwardFetch(const K& key, int64_t from_ms, int64_t to_ms,
                             const Visitor& fn) {
    return Walk(inner_->BackwardFetch(SerializeKey(key), from_ms, to_ms), fn);
  }
  absl::Status BackwardFetchAll(int64_t from_ms, int64_t to_ms,
                                const Visitor& fn) {
    return Walk(inner_->BackwardFetchAll(from_ms, to_ms), fn);
  }

  WindowBytesStore* bytes() { return inner_.get(); }

 private:
  std::string SerializeKey(const K& key) const {
    return key_serde_->Serialize(name(), key);
  }
  absl::Status Walk(std::unique_ptr<WindowIterator> it, const Visitor& fn) {
    for (; it->Valid(); it->Next()) {
      absl::StatusOr<K> k = key_serde_->Deserialize(name(), it->key());
      if (!k.ok()) return Corrupt("key", k.status());
      absl::StatusOr<V> v = value_serde_->Deserialize(name(), it->value());
      if (!v.ok()) return Corrupt("value", v.status());
      BROOK_RETURN_IF_ERROR(fn(*k, it->window_start_ms(), *v));
    }
    return it->status();
  }
  absl::Status Corrupt(absl::string_view what, const absl::Status& s) const {
    return absl::DataLossError(
        absl::StrCat("window store '", name(), "' holds a ", what,
                     " its serde cannot read: ", s.message()));
  }

  const std::unique_ptr<WindowBytesStore> inner_;
  const SerdePtr<K> key_serde_;
  const SerdePtr<V> value_serde_;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_WINDOW_STORE_H_
