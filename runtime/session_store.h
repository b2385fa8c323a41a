// SessionStore<K, V>: the typed face of a session store
// (state/session_bytes_store.h): one value per key and session [start, end],
// both ends inclusive. Sessions whose end is older than the retention period
// expire. Writes are transactional and changelogged like KeyValueStore's.
// Threading model: owned by one task, used on its stream thread.
#ifndef BROOK_RUNTIME_SESSION_STORE_H_
#define BROOK_RUNTIME_SESSION_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/runtime/internal/delegating_store.h"
#include "brook/runtime/serde.h"
#include "brook/state/session_bytes_store.h"

namespace brook {

template <typename K, typename V>
class SessionStore final : public internal::DelegatingStore {
 public:
  using KeyType = K;
  using ValueType = V;
  using Visitor = std::function<absl::Status(const K& key, int64_t start_ms,
                                             int64_t end_ms, const V&)>;

  SessionStore(std::unique_ptr<SessionBytesStore> inner, SerdePtr<K> key_serde,
               SerdePtr<V> value_serde)
      : internal::DelegatingStore(inner.get()),
        inner_(std::move(inner)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)) {}

  int64_t retention_ms() const { return inner_->retention_ms(); }

  // Writes (nullopt: removes) the session. false if its end has expired;
  // kInvalidArgument if start_ms > end_ms.
  absl::StatusOr<bool> Put(const K& key, int64_t start_ms, int64_t end_ms,
                           const std::optional<V>& value) {
    std::optional<std::string> bytes;
    if (value.has_value()) bytes = value_serde_->Serialize(name(), *value);
    return inner_->Put(SerializeKey(key), start_ms, end_ms, bytes);
  }

  absl::StatusOr<std::optional<V>> FetchSession(const K& key, int64_t start_ms,
                                                int64_t end_ms) {
    BROOK_ASSIGN_OR_RETURN(
        std::optional<std::string> bytes,
        inner_->FetchSession(SerializeKey(key), start_ms, end_ms));
    if (!bytes.has_value()) return std::optional<V>();
    absl::StatusOr<V> v = value_serde_->Deserialize(name(), *bytes);
    if (!v.ok()) return Corrupt("value", v.status());
    return std::optional<V>(*std::move(v));
  }

  // Calls `fn` for the sessions of `key` with end >= earliest_end and
  // start <= latest_start, by end then start, until it returns an error.
  absl::Status FindSessions(const K& key, int64_t earliest_end_ms,
                            int64_t latest_start_ms, const Visitor& fn) {
    return Walk(inner_->FindSessions(SerializeKey(key), earliest_end_ms,
                                     latest_start_ms),
                fn);
  }
  // The same sessions in reverse: latest end first, then latest start.
  absl::Status BackwardFindSessions(const K& key, int64_t earliest_end_ms,
                                    int64_t latest_start_ms,
                                    const Visitor& fn) {
    return Walk(inner_->BackwardFindSessions(SerializeKey(key), earliest_end_ms,
                                             latest_start_ms),
                fn);
  }

  SessionBytesStore* bytes() { return inner_.get(); }

 private:
  absl::Status Walk(std::unique_ptr<SessionIterator> it, const Visitor& fn) {
    for (; it->Valid(); it->Next()) {
      absl::StatusOr<K> k = key_serde_->Deserialize(name(), it->key());
      if (!k.ok()) return Corrupt("key", k.status());
      absl::StatusOr<V> v = value_serde_->Deserialize(name(), it->value());
      if (!v.ok()) return Corrupt("value", v.status());
      BROOK_RETURN_IF_ERROR(fn(*k, it->start_ms(), it->end_ms(), *v));
    }
    return it->status();
  }
  std::string SerializeKey(const K& key) const {
    return key_serde_->Serialize(name(), key);
  }
  absl::Status Corrupt(absl::string_view what, const absl::Status& s) const {
    return absl::DataLossError(
        absl::StrCat("session store '", name(), "' holds a ", what,
                     " its serde cannot read: ", s.message()));
  }

  const std::unique_ptr<SessionBytesStore> inner_;
  const SerdePtr<K> key_serde_;
  const SerdePtr<V> value_serde_;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_SESSION_STORE_H_
