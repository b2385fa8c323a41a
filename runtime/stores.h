// Stores: builders of the built-in state stores, to attach to a topology
// with Topology::AddStateStore().
//
//   topology.AddStateStore(
//       Stores::KeyValueStoreBuilder<std::string, int64_t>(
//           "counts", Serdes::String(), Serdes::Int64()),
//       {"count"});
//   ...
//   // in the processor's Init():
//   BROOK_ASSIGN_OR_RETURN(counts_,
//       context.GetStateStore<KeyValueStore<std::string, int64_t>>("counts"));
//
// Each store is backed by a compacted changelog topic
// <application.id>-<store>-changelog, created by Brook, unless logging is
// disabled: such a store is not fault-tolerant (its data is lost with the
// state directory and does not move with its task).
#ifndef BROOK_RUNTIME_STORES_H_
#define BROOK_RUNTIME_STORES_H_

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

#include "brook/runtime/key_value_store.h"
#include "brook/runtime/serde.h"
#include "brook/runtime/session_store.h"
#include "brook/runtime/window_store.h"
#include "brook/state/bytes_stores.h"
#include "brook/state/state_store.h"

namespace brook {

struct StoreOptions {
  // On disk in RocksDB (survives restarts: restore reads only the changelog
  // tail) or in memory (restores the whole changelog after every restart).
  bool persistent = true;
  // Back the store with a changelog topic. Without one the store is not
  // fault-tolerant.
  bool logging_enabled = true;
  // Window stores on RocksDB: also keep the windows that start within this
  // span of the stream time in memory, and read them there (0: none). The
  // stream-stream join sets it to twice its window size, as its reads land
  // there; RocksDBConfig::recent_windows_bytes_per_store bounds the memory.
  int64_t recent_windows_ms = 0;
};

class Stores {
 public:
  template <typename K, typename V>
  static std::shared_ptr<const StoreBuilder> KeyValueStoreBuilder(
      std::string name, SerdePtr<K> key_serde, SerdePtr<V> value_serde,
      StoreOptions options = {});

  // Untyped window and session stores (GetStateStore<WindowBytesStore>,
  // GetStateStore<SessionBytesStore>). retention_ms bounds how long windows
  // are kept. Their changelogs are compacted and deleted after retention + 1
  // day.
  static std::shared_ptr<const StoreBuilder> WindowStoreBuilder(
      std::string name, int64_t retention_ms, StoreOptions options = {});
  static std::shared_ptr<const StoreBuilder> SessionStoreBuilder(
      std::string name, int64_t retention_ms, StoreOptions options = {});

  // Typed: GetStateStore<WindowStore<K, V>> and
  // GetStateStore<SessionStore<K, V>> (runtime/window_store.h,
  // runtime/session_store.h).
  template <typename K, typename V>
  static std::shared_ptr<const StoreBuilder> WindowStoreBuilder(
      std::string name, int64_t retention_ms, SerdePtr<K> key_serde,
      SerdePtr<V> value_serde, StoreOptions options = {});
  template <typename K, typename V>
  static std::shared_ptr<const StoreBuilder> SessionStoreBuilder(
      std::string name, int64_t retention_ms, SerdePtr<K> key_serde,
      SerdePtr<V> value_serde, StoreOptions options = {});
};

namespace internal {

// The byte stores the untyped builders make.
std::unique_ptr<WindowBytesStore> NewWindowBytesStore(
    const std::string& name, int64_t retention_ms, const StoreOptions& options,
    const StoreContext& context);
std::unique_ptr<SessionBytesStore> NewSessionBytesStore(
    const std::string& name, int64_t retention_ms, const StoreOptions& options,
    const StoreContext& context);
// Compacted, and deleted after retention + 1 day (Kafka Streams'
// windowstore.changelog.additional.retention.ms), so that keys of expired
// windows do not stay forever.
std::map<std::string, std::string> WindowedChangelogConfig(
    int64_t retention_ms);

// A typed window (S = WindowStore<K, V>) or session store builder.
template <typename S, bool kSession>
class TypedWindowStoreBuilder final : public StoreBuilder {
 public:
  TypedWindowStoreBuilder(std::string name, int64_t retention_ms,
                          SerdePtr<typename S::KeyType> key_serde,
                          SerdePtr<typename S::ValueType> value_serde,
                          StoreOptions options)
      : name_(std::move(name)),
        retention_ms_(retention_ms),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        options_(options) {}
  const std::string& name() const override { return name_; }
  bool logging_enabled() const override { return options_.logging_enabled; }
  std::map<std::string, std::string> changelog_config() const override {
    return WindowedChangelogConfig(retention_ms_);
  }
  std::unique_ptr<StateStore> Build(
      const StoreContext& context) const override {
    if constexpr (kSession) {
      return std::make_unique<S>(
          NewSessionBytesStore(name_, retention_ms_, options_, context),
          key_serde_, value_serde_);
    } else {
      return std::make_unique<S>(
          NewWindowBytesStore(name_, retention_ms_, options_, context),
          key_serde_, value_serde_);
    }
  }

 private:
  const std::string name_;
  const int64_t retention_ms_;
  const SerdePtr<typename S::KeyType> key_serde_;
  const SerdePtr<typename S::ValueType> value_serde_;
  const StoreOptions options_;
};

template <typename K, typename V>
class KeyValueStoreBuilderImpl final : public StoreBuilder {
 public:
  KeyValueStoreBuilderImpl(std::string name, SerdePtr<K> key_serde,
                           SerdePtr<V> value_serde, StoreOptions options)
      : name_(std::move(name)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        options_(options) {}
  const std::string& name() const override { return name_; }
  bool logging_enabled() const override { return options_.logging_enabled; }
  std::unique_ptr<StateStore> Build(
      const StoreContext& context) const override {
    std::unique_ptr<KeyValueBytesStore> inner =
        options_.persistent ? NewRocksDBKeyValueStore(name_, context.rocksdb)
                            : NewInMemoryKeyValueStore(name_);
    return std::make_unique<KeyValueStore<K, V>>(std::move(inner), key_serde_,
                                                 value_serde_);
  }

 private:
  const std::string name_;
  const SerdePtr<K> key_serde_;
  const SerdePtr<V> value_serde_;
  const StoreOptions options_;
};

}  // namespace internal

template <typename K, typename V>
std::shared_ptr<const StoreBuilder> Stores::KeyValueStoreBuilder(
    std::string name, SerdePtr<K> key_serde, SerdePtr<V> value_serde,
    StoreOptions options) {
  return std::make_shared<internal::KeyValueStoreBuilderImpl<K, V>>(
      std::move(name), std::move(key_serde), std::move(value_serde), options);
}

template <typename K, typename V>
std::shared_ptr<const StoreBuilder> Stores::WindowStoreBuilder(
    std::string name, int64_t retention_ms, SerdePtr<K> key_serde,
    SerdePtr<V> value_serde, StoreOptions options) {
  return std::make_shared<
      internal::TypedWindowStoreBuilder<WindowStore<K, V>, false>>(
      std::move(name), retention_ms, std::move(key_serde),
      std::move(value_serde), options);
}

template <typename K, typename V>
std::shared_ptr<const StoreBuilder> Stores::SessionStoreBuilder(
    std::string name, int64_t retention_ms, SerdePtr<K> key_serde,
    SerdePtr<V> value_serde, StoreOptions options) {
  return std::make_shared<
      internal::TypedWindowStoreBuilder<SessionStore<K, V>, true>>(
      std::move(name), retention_ms, std::move(key_serde),
      std::move(value_serde), options);
}

}  // namespace brook

#endif  // BROOK_RUNTIME_STORES_H_
