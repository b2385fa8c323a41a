// KTable<K, V>: a changelog stream read as a table, the latest value per
// key. A KTable comes from StreamsBuilder::Table or from an aggregation of
// a KGroupedStream; its store, a key-value store named by Materialized,
// holds the table.
//
// Inside the DSL a table's node forwards internal::Change<V> (the key's
// new and old value), as Kafka Streams does, so that later table operations
// (KGroupedTable's subtractor, not built yet) can undo the old value;
// ToStream() forwards the new values.
//
// Threading model: build on one thread.
#ifndef BROOK_OPERATORS_KTABLE_H_
#define BROOK_OPERATORS_KTABLE_H_

#include <memory>
#include <string>
#include <utility>

#include "operators/internal/change.h"
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
  friend class StreamsBuilder;

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
  using Changes = KStream<K, internal::Change<V>>;
  Changes self(graph_, node_, key_serde_, nullptr, false);
  internal::Step step = [](const void* in, const internal::Next& next) {
    const auto& r = *static_cast<const Record<K, internal::Change<V>>*>(in);
    Record<K, V> out{r.key, r.value ? r.value->new_value : std::nullopt,
                     r.timestamp_ms, r.headers};
    return next(&out);
  };
  KStream<K, V> stream =
      self.template Then<K, V>(graph_->NameOr(named.name, "KTABLE-TOSTREAM-"),
                               std::move(step), Changes::KeyChange::kKeeps);
  stream.value_serde_ = value_serde_;
  return stream;
}

}  // namespace brook

#endif  // BROOK_OPERATORS_KTABLE_H_
