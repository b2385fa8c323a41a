// KeyValueStore<K, V>: the typed face of a key-value state store, what a
// processor gets from ProcessorContext::GetStateStore<KeyValueStore<K, V>>().
// Keys and values go through serdes into a transactional
// KeyValueBytesStore (state/key_value_bytes_store.h): writes are visible to
// this task at once, reach the changelog inside the task's transaction, and are
// durable locally once the transaction commits. Keys order by their
// serialized bytes (Serdes::Int64() is big-endian, so non-negative numbers
// sort numerically).
// Threading model: owned by one task, used on its stream thread.
#ifndef BROOK_RUNTIME_KEY_VALUE_STORE_H_
#define BROOK_RUNTIME_KEY_VALUE_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/runtime/internal/delegating_store.h"
#include "brook/runtime/serde.h"
#include "brook/state/key_value_bytes_store.h"

namespace brook {

template <typename K, typename V>
class KeyValueStore final : public internal::DelegatingStore {
 public:
  KeyValueStore(std::unique_ptr<KeyValueBytesStore> inner,
                SerdePtr<K> key_serde, SerdePtr<V> value_serde)
      : internal::DelegatingStore(inner.get()),
        inner_(std::move(inner)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)) {}

  absl::StatusOr<std::optional<V>> Get(const K& key) {
    BROOK_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                           inner_->Get(SerializeKey(key)));
    return DeserializeValue(bytes);
  }
  absl::Status Put(const K& key, const V& value) {
    return inner_->Put(SerializeKey(key),
                       value_serde_->Serialize(name(), value));
  }
  absl::Status Delete(const K& key) {
    return inner_->Delete(SerializeKey(key));
  }
  // Puts `value` unless `key` has one; returns the existing value.
  absl::StatusOr<std::optional<V>> PutIfAbsent(const K& key, const V& value) {
    BROOK_ASSIGN_OR_RETURN(
        std::optional<std::string> bytes,
        inner_->PutIfAbsent(SerializeKey(key),
                            value_serde_->Serialize(name(), value)));
    return DeserializeValue(bytes);
  }

  // Calls `fn` for each pair with from <= key < to (nullopt: open), in key
  // order, until it returns an error.
  absl::Status Range(
      const std::optional<K>& from, const std::optional<K>& to,
      const std::function<absl::Status(const K&, const V&)>& fn) {
    std::optional<std::string> f, t;
    if (from) f = SerializeKey(*from);
    if (to) t = SerializeKey(*to);
    return Walk(inner_->Range(f, t), fn);
  }
  absl::Status All(const std::function<absl::Status(const K&, const V&)>& fn) {
    return Walk(inner_->Range(std::nullopt, std::nullopt), fn);
  }
  // Pairs whose serialized key starts with `prefix`'s serialized bytes.
  absl::Status PrefixScan(
      const K& prefix,
      const std::function<absl::Status(const K&, const V&)>& fn) {
    return Walk(inner_->PrefixScan(SerializeKey(prefix)), fn);
  }
  absl::StatusOr<int64_t> ApproximateNumEntries() {
    return inner_->ApproximateNumEntries();
  }

  KeyValueBytesStore* bytes() { return inner_.get(); }
  const SerdePtr<K>& key_serde() const { return key_serde_; }
  const SerdePtr<V>& value_serde() const { return value_serde_; }

 private:
  std::string SerializeKey(const K& key) const {
    return key_serde_->Serialize(name(), key);
  }
  absl::StatusOr<std::optional<V>> DeserializeValue(
      const std::optional<std::string>& bytes) const {
    if (!bytes.has_value()) return std::optional<V>();
    absl::StatusOr<V> v = value_serde_->Deserialize(name(), *bytes);
    if (!v.ok()) return Corrupt("value", v.status());
    return std::optional<V>(*std::move(v));
  }
  absl::Status Walk(std::unique_ptr<KeyValueIterator> it,
                    const std::function<absl::Status(const K&, const V&)>& fn) {
    for (; it->Valid(); it->Next()) {
      absl::StatusOr<K> k = key_serde_->Deserialize(name(), it->key());
      if (!k.ok()) return Corrupt("key", k.status());
      absl::StatusOr<V> v = value_serde_->Deserialize(name(), it->value());
      if (!v.ok()) return Corrupt("value", v.status());
      BROOK_RETURN_IF_ERROR(fn(*k, *v));
    }
    return it->status();
  }
  absl::Status Corrupt(absl::string_view what, const absl::Status& s) const {
    return absl::DataLossError(
        absl::StrCat("state store '", name(), "' holds a ", what,
                     " its serde cannot read: ", s.message()));
  }

  const std::unique_ptr<KeyValueBytesStore> inner_;
  const SerdePtr<K> key_serde_;
  const SerdePtr<V> value_serde_;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_KEY_VALUE_STORE_H_
