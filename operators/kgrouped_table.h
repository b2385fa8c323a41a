// KGroupedTable<K, V>: a table re-grouped by KTable::GroupBy, the input of
// a table aggregation. Unlike a grouped stream, a table's rows change: each
// update of an upstream row subtracts the row's old (key, value) from its old
// group and adds its new (key, value) to its new group, so Count, Reduce and
// Aggregate take a subtractor beside the adder (Kafka Streams' semantics).
//
//   table.GroupBy([](const S& user, const S& city) {
//          return std::pair(city, user);
//        })
//       .Count(Materialized<S, int64_t>::As("users-per-city"));
//
// A user moving from "paris" to "rome" decrements paris and increments rome;
// a tombstone for the user decrements paris only.
//
// Repartitioning: the new key may live on another partition, so the updates
// always go through the internal topic "<application.id>-<name>-repartition"
// (name: Grouped's, else the store's), with the nodes
// <name>-repartition-sink and -source. The value on that topic carries both
// sides of the update (internal::ChangeSerde, Grouped's value serde inside):
// an update whose old and new key are equal travels as one record (the
// aggregate moves in one step, with no intermediate result), and one whose
// keys differ as two, the subtract first, each to its key's partition. Two
// records cannot be avoided there: the two groups may be on different tasks.
//
// Results are a KTable<K, VR> whose store holds the aggregate per group; a
// group whose aggregate drops to zero (Count) keeps its zero, as in Kafka
// Streams. A selector returning a null key or value for a side skips that
// side.
//
// Threading model: build on one thread.
#ifndef BROOK_OPERATORS_KGROUPED_TABLE_H_
#define BROOK_OPERATORS_KGROUPED_TABLE_H_

#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"

#include "brook/operators/internal/change.h"
#include "brook/operators/internal/change_serde.h"
#include "brook/operators/internal/functions.h"
#include "brook/operators/internal/graph.h"
#include "brook/operators/internal/table_aggregate.h"
#include "brook/operators/ktable.h"
#include "brook/operators/options.h"
#include "brook/runtime/stores.h"

namespace brook {

template <typename K, typename V>
class KGroupedTable {
 public:
  // The number of rows per group (KTABLE-AGGREGATE-<n>).
  KTable<K, int64_t> Count(Materialized<K, int64_t> materialized = {},
                           const Named& named = {}) const {
    return Fold<int64_t>(
        "KTABLE-AGGREGATE-",
        [](const K&, const V&, const std::optional<int64_t>& count) {
          return count.value_or(0) + 1;
        },
        [](const K&, const V&, const int64_t& count) { return count - 1; },
        std::move(materialized), named);
  }

  // Combines the values per group: the first as it is, then
  // adder(aggregate, value); a row that leaves the group is taken out with
  // subtractor(aggregate, value) (KTABLE-REDUCE-<n>).
  template <typename A, typename R>
  KTable<K, V> Reduce(A adder, R subtractor,
                      Materialized<K, V> materialized = {},
                      const Named& named = {}) const {
    static_assert(std::is_invocable_r_v<V, A&, const V&, const V&> &&
                      std::is_invocable_r_v<V, R&, const V&, const V&>,
                  "KGroupedTable::Reduce: the adder and the subtractor must "
                  "be callable as V(const V& aggregate, const V& value)");
    return Fold<V>(
        "KTABLE-REDUCE-",
        [adder](const K&, const V& value,
                const std::optional<V>& aggregate) mutable -> V {
          if (!aggregate.has_value()) return value;
          return adder(*aggregate, value);
        },
        [subtractor](const K&, const V& value, const V& aggregate) mutable {
          return subtractor(aggregate, value);
        },
        std::move(materialized), named);
  }

  // Folds the rows of each group: adder(key, value, aggregate) for a row
  // that joins, starting from initializer(); subtractor(key, value,
  // aggregate) for a row that leaves (KTABLE-AGGREGATE-<n>).
  template <typename I, typename A, typename R,
            typename VR = std::decay_t<std::invoke_result_t<I&>>>
  KTable<K, VR> Aggregate(I initializer, A adder, R subtractor,
                          Materialized<K, VR> materialized = {},
                          const Named& named = {}) const {
    static_assert(
        std::is_invocable_r_v<VR, A&, const K&, const V&, const VR&> &&
            std::is_invocable_r_v<VR, R&, const K&, const V&, const VR&>,
        "KGroupedTable::Aggregate: the adder and the subtractor must be "
        "callable as VR(const K& key, const V& value, const VR& aggregate), "
        "VR being what the initializer returns");
    return Fold<VR>(
        "KTABLE-AGGREGATE-",
        [initializer, adder](const K& key, const V& value,
                             const std::optional<VR>& aggregate) mutable {
          if (aggregate.has_value()) return VR(adder(key, value, *aggregate));
          return VR(adder(key, value, initializer()));
        },
        [subtractor](const K& key, const V& value,
                     const VR& aggregate) mutable {
          return VR(subtractor(key, value, aggregate));
        },
        std::move(materialized), named);
  }

 private:
  template <typename, typename>
  friend class KTable;

  KGroupedTable(std::shared_ptr<internal::DslGraph> graph, int node,
                SerdePtr<K> key_serde, SerdePtr<V> value_serde,
                std::string name)
      : graph_(std::move(graph)),
        node_(node),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        name_(std::move(name)) {}

  template <typename VR>
  KTable<K, VR> Fold(const std::string& prefix,
                     internal::AggregateFn<K, V, VR> add,
                     internal::SubtractFn<K, V, VR> subtract,
                     Materialized<K, VR> materialized,
                     const Named& named) const {
    const std::string name = graph_->NameOr(named.name, prefix);
    const std::string store =
        graph_->NameOr(materialized.name, prefix + "STATE-STORE-");
    SerdePtr<K> ks =
        materialized.key_serde ? materialized.key_serde : key_serde_;
    SerdePtr<VR> vs = materialized.value_serde
                          ? materialized.value_serde
                          : internal::SameOrDefault<VR, V>(value_serde_);
    // The repartition comes first, so its missing serde is the one named.
    const int parent = Repartition(name_.empty() ? store : name_);
    internal::CheckSerdes<K, VR>(*graph_, ks, vs,
                                 absl::StrCat("aggregation '", name, "'"),
                                 "Materialized");
    using Changes = internal::Change<V>;
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kProcessor;
    node.name = name;
    node.parents = {parent};
    node.input = internal::RecordTypes::Of<K, Changes>();
    node.output = internal::RecordTypes::Of<K, internal::Change<VR>>();
    const internal::Caching caching = materialized.caching_enabled
                                          ? internal::Caching::kEnabled
                                          : internal::Caching::kDisabled;
    node.add = [store, add, subtract, caching, graph = graph_.get()](
                   Topology& t, const std::string& name,
                   std::vector<std::string> parents) {
      const internal::Caching c = graph->StoreReadByName(store)
                                      ? internal::Caching::kDisabled
                                      : caching;
      t.AddProcessor<K, Changes, K, internal::Change<VR>>(
          name,
          [store, add, subtract, caching = c] {
            return std::make_unique<
                internal::TableAggregateProcessor<K, V, VR>>(store, add,
                                                             subtract, caching);
          },
          std::move(parents));
    };
    if (ks && vs) {
      node.stores.push_back(Stores::KeyValueStoreBuilder<K, VR>(
          store, ks, vs,
          StoreOptions{
              .persistent = materialized.store_type == StoreType::kRocksDB,
              .logging_enabled = materialized.logging_enabled}));
    }
    const int id = graph_->Add(std::move(node));
    return KTable<K, VR>(graph_, id, std::move(ks), std::move(vs), store);
  }

  // Adds <base>-repartition-sink and -source after node_ (the group-by's
  // selection, which already dropped null keys); returns the source's id.
  int Repartition(const std::string& base) const {
    using Changes = internal::Change<V>;
    const std::string topic = base + "-repartition";
    if (!internal::CheckSerdes<K, V>(
            *graph_, key_serde_, value_serde_,
            absl::StrCat("repartition topic '", topic, "'"), "Grouped")) {
      return node_;  // Build() fails anyway
    }
    SerdePtr<Changes> vs =
        std::make_shared<internal::ChangeSerde<V>>(value_serde_);
    internal::DslNode sink;
    sink.kind = internal::DslNode::Kind::kSink;
    sink.name = topic + "-sink";
    sink.parents = {node_};
    sink.input = internal::RecordTypes::Of<K, Changes>();
    sink.internal_topic = topic;
    sink.add = [topic, ks = key_serde_, vs](Topology& t,
                                            const std::string& name,
                                            std::vector<std::string> parents) {
      t.AddSink<K, Changes>(name, topic, ks, vs, std::move(parents));
    };
    graph_->Add(std::move(sink));

    internal::DslNode source;
    source.kind = internal::DslNode::Kind::kSource;
    source.name = topic + "-source";
    source.output = internal::RecordTypes::Of<K, Changes>();
    source.internal_topic = topic;
    source.add = [topic, ks = key_serde_, vs](Topology& t,
                                              const std::string& name,
                                              std::vector<std::string>) {
      t.AddSource<K, Changes>(name, {topic}, ks, vs);
    };
    return graph_->Add(std::move(source));
  }

  std::shared_ptr<internal::DslGraph> graph_;
  int node_;
  SerdePtr<K> key_serde_;
  SerdePtr<V> value_serde_;
  std::string name_;
};

// KTable::GroupBy needs the complete KGroupedTable.
template <typename K, typename V>
template <typename F>
auto KTable<K, V>::GroupBy(F selector, const Named& named) const {
  // Checked before the result type is computed, so that a wrong selector
  // gives this message and not pages of substitution notes.
  if constexpr (!internal::kTakesKeyValue<K, V, F>) {
    static_assert(internal::kTakesKeyValue<K, V, F>,
                  "KTable::GroupBy: the selector must be callable as "
                  "std::pair<KR, VR>(const K&, const V&) (either may be "
                  "std::optional)");
  } else {
    using R = std::decay_t<internal::KeyValueResult<K, V, F>>;
    if constexpr (!internal::IsPair<R>::value) {
      static_assert(internal::IsPair<R>::value,
                    "KTable::GroupBy: the selector must return a "
                    "std::pair<KR, VR> (the row's group and value)");
    } else {
      return GroupBy(std::move(selector),
                     Grouped<internal::UnwrapT<typename R::first_type>,
                             internal::UnwrapT<typename R::second_type>>{},
                     named);
    }
  }
}

template <typename K, typename V>
template <typename F, typename KR, typename VR>
KGroupedTable<KR, VR> KTable<K, V>::GroupBy(F selector, Grouped<KR, VR> grouped,
                                            const Named& named) const {
  static_assert(internal::kTakesKeyValue<K, V, F>,
                "KTable::GroupBy: the selector must be callable as "
                "std::pair<KR, VR>(const K&, const V&) (either may be "
                "std::optional)");
  using R = std::decay_t<internal::KeyValueResult<K, V, F>>;
  static_assert(
      std::is_same_v<std::pair<internal::UnwrapT<typename R::first_type>,
                               internal::UnwrapT<typename R::second_type>>,
                     std::pair<KR, VR>>,
      "KTable::GroupBy: the selector must return std::pair<KR, VR> with the "
      "types of Grouped<KR, VR> (either may be std::optional)");
  using Side = std::optional<std::pair<KR, VR>>;
  internal::Step step = [selector](const void* in,
                                   const internal::Next& next) mutable {
    const auto& r = *static_cast<const Record<K, internal::Change<V>>*>(in);
    if (!r.value.has_value()) return absl::OkStatus();
    // The row's (group, value) for one side of the update; nullopt if the
    // side is absent or the selector gives a null key or value (counted in
    // dropped-records as null-key or null-value: that side is skipped).
    auto select = [&](const std::optional<V>& v) -> Side {
      if (!v.has_value() || !internal::CanCallKeyValue<K, V, F>(r.key, v)) {
        return std::nullopt;
      }
      R kv = internal::CallKeyValue<K, V>(selector, r.key, v);
      std::optional<KR> k = internal::ToOptional(std::move(kv.first));
      std::optional<VR> value = internal::ToOptional(std::move(kv.second));
      if (!k.has_value() || !value.has_value()) {
        next.RecordDropped(k.has_value() ? DroppedRecordReason::kNullValue
                                         : DroppedRecordReason::kNullKey);
        return std::nullopt;
      }
      return std::pair<KR, VR>(*std::move(k), *std::move(value));
    };
    Side old_side = select(r.value->old_value);
    Side new_side = select(r.value->new_value);
    using Out = Record<KR, internal::Change<VR>>;
    if constexpr (std::equality_comparable<KR>) {
      if (old_side && new_side && old_side->first == new_side->first) {
        Out both{std::move(new_side->first),
                 internal::Change<VR>{std::move(new_side->second),
                                      std::move(old_side->second)},
                 r.timestamp_ms, r.headers};
        return next(&both);
      }
    }
    if (old_side) {
      Out subtract{
          std::move(old_side->first),
          internal::Change<VR>{std::nullopt, std::move(old_side->second)},
          r.timestamp_ms, r.headers};
      BROOK_RETURN_IF_ERROR(next(&subtract));
    }
    if (new_side) {
      Out add{std::move(new_side->first),
              internal::Change<VR>{std::move(new_side->second), std::nullopt},
              r.timestamp_ms, r.headers};
      BROOK_RETURN_IF_ERROR(next(&add));
    }
    return absl::OkStatus();
  };
  internal::DslNode node;
  node.kind = internal::DslNode::Kind::kStateless;
  node.name = graph_->NameOr(named.name, "KTABLE-SELECT-");
  node.parents = {node_};
  node.input = internal::RecordTypes::Of<K, internal::Change<V>>();
  node.output = internal::RecordTypes::Of<KR, internal::Change<VR>>();
  node.step = std::move(step);
  const int id = graph_->Add(std::move(node));
  return KGroupedTable<KR, VR>(
      graph_, id, grouped.key_serde ? grouped.key_serde : DefaultSerde<KR>(),
      grouped.value_serde ? grouped.value_serde
                          : internal::SameOrDefault<VR, V>(value_serde_),
      grouped.name);
}

}  // namespace brook

#endif  // BROOK_OPERATORS_KGROUPED_TABLE_H_
