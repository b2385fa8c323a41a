// KTable<K, V>: a changelog stream read as a table, the latest value per
// key. Today a KTable comes only from an aggregation of a KGroupedStream;
// its store, a key-value store named by Materialized, holds the table.
//
// Each update is forwarded downstream as the key's new value. Kafka
// Streams forwards Change<V> (old and new value) inside the DSL so that a
// table aggregation can subtract the old value; Brook does not yet (see
// docs/dsl.md).
//
// Threading model: build on one thread.
#ifndef BROOK_OPERATORS_KTABLE_H_
#define BROOK_OPERATORS_KTABLE_H_

#include <memory>
#include <string>
#include <utility>

#include "operators/internal/graph.h"
#include "operators/options.h"

namespace brook {

template <typename K, typename V>
class KStream;

template <typename K, typename V>
class KTable {
 public:
  // The table's updates as a stream (KTABLE-TOSTREAM-<n>).
  KStream<K, V> ToStream(const Named& named = {}) const;

  // The name of the store that holds the table.
  const std::string& store_name() const { return store_name_; }

 private:
  template <typename, typename>
  friend class KGroupedStream;

  KTable(std::shared_ptr<internal::DslGraph> graph, int node,
         SerdePtr<K> key_serde, SerdePtr<V> value_serde, std::string store_name)
      : graph_(std::move(graph)),
        node_(node),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        store_name_(std::move(store_name)) {}

  std::shared_ptr<internal::DslGraph> graph_;
  int node_;
  SerdePtr<K> key_serde_;
  SerdePtr<V> value_serde_;
  std::string store_name_;
};

}  // namespace brook

// KTable::ToStream needs the complete KStream.
#include "operators/kstream.h"

namespace brook {

template <typename K, typename V>
KStream<K, V> KTable<K, V>::ToStream(const Named& named) const {
  KStream<K, V> self(graph_, node_, key_serde_, value_serde_, false);
  internal::Step step = [](const void* in, const internal::Next& next) {
    return next(in);
  };
  return self.template Then<K, V>(
      graph_->NameOr(named.name, "KTABLE-TOSTREAM-"), std::move(step),
      KStream<K, V>::KeyChange::kKeeps);
}

}  // namespace brook

#endif  // BROOK_OPERATORS_KTABLE_H_
