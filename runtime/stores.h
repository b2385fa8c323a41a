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

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

#include "runtime/key_value_store.h"
#include "runtime/serde.h"
#include "state/state_store.h"
#include "state/stores.h"

namespace brook {

struct StoreOptions {
  // On disk in RocksDB (survives restarts: restore reads only the changelog
  // tail) or in memory (restores the whole changelog after every restart).
  bool persistent = true;
  // Back the store with a changelog topic. Without one the store is not
  // fault-tolerant.
  bool logging_enabled = true;
};

class Stores {
 public:
  template <typename K, typename V>
  static std::shared_ptr<const StoreBuilder> KeyValueStoreBuilder(
      std::string name, SerdePtr<K> key_serde, SerdePtr<V> value_serde,
      StoreOptions options = {});

  // Window and session stores are handed out untyped for now
  // (GetStateStore<WindowBytesStore>): the DSL's windows will type them.
  // retention_ms bounds how long windows are kept.
  static std::shared_ptr<const StoreBuilder> WindowStoreBuilder(
      std::string name, int64_t retention_ms, StoreOptions options = {});
  static std::shared_ptr<const StoreBuilder> SessionStoreBuilder(
      std::string name, int64_t retention_ms, StoreOptions options = {});
};

namespace internal {

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

}  // namespace brook

#endif  // BROOK_RUNTIME_STORES_H_
