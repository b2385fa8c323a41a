// KGroupedStream<K, V>: a stream grouped by key, the input of an
// aggregation (KStream::GroupByKey or GroupBy). Count, Reduce and Aggregate
// keep one aggregate per key in a key-value store (RocksDB unless
// Materialized says otherwise), backed by a changelog topic, and produce the
// KTable of the aggregates; each input record forwards its key's new
// aggregate. Records with a null key or value are dropped and counted
// (dropped-records). WindowedBy() starts a windowed aggregation
// (time_windowed_kstream.h, session_windowed_kstream.h).
//
// If the key may have changed since the stream was read, the aggregation
// first writes the records to an internal topic
// "<application.id>-<name>-repartition" (name: Grouped's, else the store's)
// and reads them back, so that all records of a key reach the same task.
// Brook creates that topic at start with the partition count of the
// upstream input. The nodes it adds are <name>-repartition-filter (drops
// null keys), -sink and -source.
//
// Threading model: build on one thread.
#ifndef BROOK_OPERATORS_KGROUPED_STREAM_H_
#define BROOK_OPERATORS_KGROUPED_STREAM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"

#include "brook/operators/internal/aggregate.h"
#include "brook/operators/internal/graph.h"
#include "brook/operators/internal/windowed_fold.h"
#include "brook/operators/ktable.h"
#include "brook/operators/options.h"
#include "brook/operators/session_windowed_kstream.h"
#include "brook/operators/suppressed.h"
#include "brook/operators/time_windowed_kstream.h"
#include "brook/operators/windows.h"
#include "brook/runtime/stores.h"

namespace brook {

template <typename K, typename V>
class KStream;

template <typename K, typename V>
class KGroupedStream {
 public:
  // The number of records per key (KSTREAM-AGGREGATE-<n>).
  KTable<K, int64_t> Count(Materialized<K, int64_t> materialized = {},
                           const Named& named = {}) const {
    return Fold<int64_t>(
        "KSTREAM-AGGREGATE-",
        [](const K&, const V&, const std::optional<int64_t>& count) {
          return count.value_or(0) + 1;
        },
        std::move(materialized), named);
  }

  // Combines the values per key: the first value as it is, then
  // reducer(aggregate, value) (KSTREAM-REDUCE-<n>).
  template <typename F>
  KTable<K, V> Reduce(F reducer, Materialized<K, V> materialized = {},
                      const Named& named = {}) const {
    static_assert(std::is_invocable_r_v<V, F&, const V&, const V&>,
                  "Reduce: the reducer must be callable as "
                  "V(const V& aggregate, const V& value)");
    return Fold<V>(
        "KSTREAM-REDUCE-",
        [reducer](const K&, const V& value,
                  const std::optional<V>& aggregate) mutable -> V {
          if (!aggregate.has_value()) return value;
          return reducer(*aggregate, value);
        },
        std::move(materialized), named);
  }

  // Folds the values per key into aggregator(key, value, aggregate),
  // starting from initializer() (KSTREAM-AGGREGATE-<n>).
  template <typename I, typename A,
            typename VR = std::decay_t<std::invoke_result_t<I&>>>
  KTable<K, VR> Aggregate(I initializer, A aggregator,
                          Materialized<K, VR> materialized = {},
                          const Named& named = {}) const {
    static_assert(std::is_invocable_r_v<VR, A&, const K&, const V&, const VR&>,
                  "Aggregate: the aggregator must be callable as "
                  "VR(const K& key, const V& value, const VR& aggregate), "
                  "VR being what the initializer returns");
    return Fold<VR>(
        "KSTREAM-AGGREGATE-",
        [initializer, aggregator](
            const K& key, const V& value,
            const std::optional<VR>& aggregate) mutable -> VR {
          if (aggregate.has_value()) return aggregator(key, value, *aggregate);
          return aggregator(key, value, initializer());
        },
        std::move(materialized), named);
  }

  // Windowed aggregations (time_windowed_kstream.h,
  // session_windowed_kstream.h). The repartition, if needed, is named as
  // for the aggregations above.
  TimeWindowedKStream<K, V> WindowedBy(const TimeWindows& windows) const {
    return TimeWindowedKStream<K, V>(MakeWindowedFold(), windows);
  }
  TimeWindowedKStream<K, V> WindowedBy(const SlidingWindows& windows) const {
    return TimeWindowedKStream<K, V>(MakeWindowedFold(), windows);
  }
  SessionWindowedKStream<K, V> WindowedBy(const SessionWindows& windows) const {
    return SessionWindowedKStream<K, V>(MakeWindowedFold(), windows);
  }

 private:
  template <typename, typename>
  friend class KStream;

  internal::WindowedFold<K, V> MakeWindowedFold() const {
    KGroupedStream self = *this;
    return internal::WindowedFold<K, V>(
        graph_,
        [self](const std::string& store) {
          if (!self.repartition_required_) return self.node_;
          return self.Repartition(self.name_.empty() ? store : self.name_);
        },
        key_serde_, value_serde_);
  }

  KGroupedStream(std::shared_ptr<internal::DslGraph> graph, int node,
                 SerdePtr<K> key_serde, SerdePtr<V> value_serde,
                 bool repartition_required, std::string name)
      : graph_(std::move(graph)),
        node_(node),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        repartition_required_(repartition_required),
        name_(std::move(name)) {}

  template <typename VR>
  KTable<K, VR> Fold(const std::string& prefix,
                     internal::AggregateFn<K, V, VR> fn,
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
    internal::CheckSerdes<K, VR>(*graph_, ks, vs,
                                 absl::StrCat("aggregation '", name, "'"),
                                 "Materialized");
    int parent = node_;
    if (repartition_required_) {
      parent = Repartition(name_.empty() ? store : name_);
    }
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kProcessor;
    node.name = name;
    node.parents = {parent};
    node.input = internal::RecordTypes::Of<K, V>();
    node.output = internal::RecordTypes::Of<K, internal::Change<VR>>();
    const internal::Caching caching = materialized.caching_enabled
                                          ? internal::Caching::kEnabled
                                          : internal::Caching::kDisabled;
    node.add = [store, fn, caching, graph = graph_.get()](
                   Topology& t, const std::string& name,
                   std::vector<std::string> parents) {
      const internal::Caching c = graph->StoreReadByName(store)
                                      ? internal::Caching::kDisabled
                                      : caching;
      t.AddProcessor<K, V, K, internal::Change<VR>>(
          name,
          [store, fn, caching = c] {
            return std::make_unique<internal::AggregateProcessor<K, V, VR>>(
                store, fn, caching);
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

  // Adds <base>-repartition-filter, -sink and -source after node_; returns
  // the source's id.
  int Repartition(const std::string& base) const {
    const std::string topic = base + "-repartition";
    internal::CheckSerdes<K, V>(*graph_, key_serde_, value_serde_,
                                absl::StrCat("repartition topic '", topic, "'"),
                                "Grouped");
    internal::DslNode filter;
    filter.kind = internal::DslNode::Kind::kStateless;
    filter.name = topic + "-filter";
    filter.parents = {node_};
    filter.input = filter.output = internal::RecordTypes::Of<K, V>();
    filter.step = [](const void* in, const internal::Next& next) {
      const auto& r = *static_cast<const Record<K, V>*>(in);
      if (r.key.has_value()) return next(in);
      next.RecordDropped(DroppedRecordReason::kNullKey);
      return absl::OkStatus();
    };
    const int filter_id = graph_->Add(std::move(filter));

    internal::DslNode sink;
    sink.kind = internal::DslNode::Kind::kSink;
    sink.name = topic + "-sink";
    sink.parents = {filter_id};
    sink.input = internal::RecordTypes::Of<K, V>();
    sink.internal_topic = topic;
    sink.add = [topic, ks = key_serde_, vs = value_serde_](
                   Topology& t, const std::string& name,
                   std::vector<std::string> parents) {
      t.AddSink<K, V>(name, topic, ks, vs, std::move(parents));
    };
    graph_->Add(std::move(sink));

    internal::DslNode source;
    source.kind = internal::DslNode::Kind::kSource;
    source.name = topic + "-source";
    source.output = internal::RecordTypes::Of<K, V>();
    source.internal_topic = topic;
    source.add = [topic, ks = key_serde_, vs = value_serde_](
                     Topology& t, const std::string& name,
                     std::vector<std::string>) {
      t.AddSource<K, V>(name, {topic}, ks, vs);
    };
    return graph_->Add(std::move(source));
  }

  std::shared_ptr<internal::DslGraph> graph_;
  int node_;
  SerdePtr<K> key_serde_;
  SerdePtr<V> value_serde_;
  bool repartition_required_;
  std::string name_;
};

}  // namespace brook

#endif  // BROOK_OPERATORS_KGROUPED_STREAM_H_
