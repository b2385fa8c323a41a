// KTable<K, V>: a changelog stream read as a table, the latest value per
// key. A KTable comes from StreamsBuilder::Table or from an aggregation of
// a KGroupedStream; its store, a key-value store named by Materialized,
// holds the table.
//
// Inside the DSL a table's node forwards internal::Change<V> (the key's
// new and old value), as Kafka Streams does, so that later table operations
// (KGroupedTable's subtractor) can undo the old value;
// ToStream() forwards the new values.
//
// Threading model: build on one thread.
#ifndef BROOK_OPERATORS_KTABLE_H_
#define BROOK_OPERATORS_KTABLE_H_

#include <memory>
#include <string>
#include <utility>

#include "brook/operators/internal/change.h"
#include "brook/operators/internal/functions.h"
#include "brook/operators/internal/graph.h"
#include "brook/operators/internal/table_table_join.h"
#include "brook/operators/options.h"

namespace brook {

template <typename K, typename V>
class KStream;
template <typename K, typename V>
class KGroupedTable;
namespace internal {
template <typename K, typename V>
class WindowedFold;
}  // namespace internal

template <typename K, typename V>
class KTable {
 public:
  // The table's updates as a stream (KTABLE-TOSTREAM-<n>).
  KStream<K, V> ToStream(const Named& named = {}) const;

  // The rows for which predicate(key, value) holds; an update of a row that
  // stops passing deletes it downstream (KTABLE-FILTER-<n>). Not
  // materialized: store_name() is empty.
  template <typename P>
  KTable Filter(P predicate, const Named& named = {}) const {
    static_assert(internal::kTakesKeyValue<K, V, P>,
                  "KTable::Filter: the predicate must be callable as "
                  "bool(const K&, const V&) (either may be std::optional)");
    return Where<P, true>(std::move(predicate), named);
  }
  template <typename P>
  KTable FilterNot(P predicate, const Named& named = {}) const {
    static_assert(internal::kTakesKeyValue<K, V, P>,
                  "KTable::FilterNot: the predicate must be callable as "
                  "bool(const K&, const V&) (either may be std::optional)");
    return Where<P, false>(std::move(predicate), named);
  }

  // Each row's value replaced by mapper(value) or mapper(key, value)
  // (KTABLE-MAPVALUES-<n>); deletes stay deletes. Not materialized.
  template <typename F>
  auto MapValues(F mapper, const Named& named = {}) const {
    static_assert(
        internal::kTakesValue<V, F> || internal::kTakesKeyValue<K, V, F>,
        "KTable::MapValues: the mapper must be callable as "
        "V2(const V&) or V2(const K&, const V&)");
    using V2 = internal::UnwrapT<internal::ValueOrKeyValueResult<K, V, F>>;
    internal::Step step = [mapper](const void* in,
                                   const internal::Next& next) mutable {
      const auto& r = *static_cast<const Record<K, internal::Change<V>>*>(in);
      auto map = [&](const std::optional<V>& v) -> std::optional<V2> {
        if (!v.has_value()) return std::nullopt;
        Record<K, V> row{r.key, v, r.timestamp_ms, {}};
        if (!internal::CanCallValueOrKeyValue<K, V, F>(row)) {
          return std::nullopt;
        }
        return internal::CallValueOrKeyValue<K, V>(mapper, row);
      };
      Record<K, internal::Change<V2>> out{
          r.key,
          internal::Change<V2>{map(r.value->new_value),
                               map(r.value->old_value)},
          r.timestamp_ms, r.headers};
      return next(&out);
    };
    return Then<V2>(graph_->NameOr(named.name, "KTABLE-MAPVALUES-"),
                    std::move(step),
                    internal::SameOrDefault<V2, V>(value_serde_));
  }

  // Re-groups the rows by selector(key, value), a std::pair<KR, VR> (the
  // row's group and the value it contributes), for Count, Reduce or
  // Aggregate with a subtractor (see kgrouped_table.h). Always goes through
  // a repartition topic, written with Grouped's serdes (default: the
  // types'). `named` names the selecting node (else KTABLE-SELECT-<n>).
  template <typename F>
  auto GroupBy(F selector, const Named& named = {}) const;
  template <typename F, typename KR, typename VR>
  KGroupedTable<KR, VR> GroupBy(F selector, Grouped<KR, VR> grouped,
                                const Named& named = {}) const;

  // Joins this table with `other` by key (Kafka Streams' KTable-KTable
  // join; see internal/table_table_join.h): a table of joiner(value, other
  // value) that changes whenever either side does, carrying old and new
  // joined values; a row deleted on either side deletes the joined row.
  // Both tables must be materialized (from StreamsBuilder::Table or an
  // aggregation) and co-partitioned (checked at start). The result is not
  // materialized. The merge node is named `named`, else KTABLE-MERGE-<n>.
  template <typename VO, typename J>
  auto Join(const KTable<K, VO>& other, J joiner,
            const Named& named = {}) const {
    static_assert(std::is_invocable_v<J&, const V&, const VO&>,
                  "KTable::Join: the joiner must be callable as VR(const V&, "
                  "const VO&)");
    return JoinTable<VO, J, internal::JoinKind::kInner>(other, joiner, named);
  }
  // As Join, keeping every row of this table: joiner(const V&, const
  // std::optional<VO>&).
  template <typename VO, typename J>
  auto LeftJoin(const KTable<K, VO>& other, J joiner,
                const Named& named = {}) const {
    static_assert(std::is_invocable_v<J&, const V&, const std::optional<VO>&>,
                  "KTable::LeftJoin: the joiner must be callable as VR(const "
                  "V&, const std::optional<VO>&)");
    return JoinTable<VO, J, internal::JoinKind::kLeft>(other, joiner, named);
  }
  // As Join, keeping every row of both tables: joiner(const
  // std::optional<V>&, const std::optional<VO>&).
  template <typename VO, typename J>
  auto OuterJoin(const KTable<K, VO>& other, J joiner,
                 const Named& named = {}) const {
    static_assert(std::is_invocable_v<J&, const std::optional<V>&,
                                      const std::optional<VO>&>,
                  "KTable::OuterJoin: the joiner must be callable as VR(const "
                  "std::optional<V>&, const std::optional<VO>&)");
    return JoinTable<VO, J, internal::JoinKind::kOuter>(other, joiner, named);
  }

  // The name of the store that holds the table.
  const std::string& store_name() const { return store_name_; }

  // Holds back a windowed aggregation's updates and forwards one final
  // result per window once it has closed (operators/suppressed.h).
  // REQUIRES: K is Windowed<...> and the table comes straight from a
  // windowed aggregation (else a Build() error).
  template <typename S>
  KTable Suppress(const S& suppressed, const Named& named = {}) const;

 private:
  template <typename, typename>
  friend class KStream;
  template <typename, typename>
  friend class KGroupedStream;
  template <typename, typename>
  friend class KGroupedTable;
  template <typename, typename>
  friend class KTable;
  template <typename, typename>
  friend class internal::WindowedFold;
  friend class StreamsBuilder;

  KTable(std::shared_ptr<internal::DslGraph> graph, int node,
         SerdePtr<K> key_serde, SerdePtr<V> value_serde, std::string store_name)
      : graph_(std::move(graph)),
        node_(node),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        store_name_(std::move(store_name)) {}

  // Adds a stateless node over this table's changes.
  template <typename V2>
  KTable<K, V2> Then(std::string name, internal::Step step,
                     SerdePtr<V2> value_serde) const {
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kStateless;
    node.name = std::move(name);
    node.parents = {node_};
    node.input = internal::RecordTypes::Of<K, internal::Change<V>>();
    node.output = internal::RecordTypes::Of<K, internal::Change<V2>>();
    node.step = std::move(step);
    const int id = graph_->Add(std::move(node));
    return KTable<K, V2>(graph_, id, key_serde_, std::move(value_serde), "");
  }

  template <typename P, bool kKeepIf>
  KTable Where(P predicate, const Named& named) const {
    internal::Step step = [predicate](const void* in,
                                      const internal::Next& next) mutable {
      const auto& r = *static_cast<const Record<K, internal::Change<V>>*>(in);
      auto keep = [&](const std::optional<V>& v) -> std::optional<V> {
        if (!v.has_value() || !internal::CanCallKeyValue<K, V, P>(r.key, v) ||
            static_cast<bool>(
                internal::CallKeyValue<K, V>(predicate, r.key, v)) != kKeepIf) {
          return std::nullopt;
        }
        return v;
      };
      Record<K, internal::Change<V>> out{
          r.key,
          internal::Change<V>{keep(r.value->new_value),
                              keep(r.value->old_value)},
          r.timestamp_ms, r.headers};
      // Neither side passes: nothing changed downstream.
      if (!out.value->new_value && !out.value->old_value) {
        return absl::OkStatus();
      }
      return next(&out);
    };
    return Then<V>(graph_->NameOr(named.name, "KTABLE-FILTER-"),
                   std::move(step), value_serde_);
  }

  template <typename VO, typename J, internal::JoinKind kKind>
  auto JoinTable(const KTable<K, VO>& other, J joiner,
                 const Named& named) const {
    using VR = internal::StreamJoinResult<K, V, VO, J, kKind>;
    const std::string name = graph_->NameOr(named.name, "KTABLE-MERGE-");
    if (other.graph_ != graph_) {
      graph_->AddError(absl::InvalidArgumentError(
          absl::StrCat(name, ": the tables come from different builders")));
      return KTable<K, VR>(graph_, node_, key_serde_, nullptr, "");
    }
    if (store_name_.empty() || other.store_name_.empty()) {
      graph_->AddError(absl::InvalidArgumentError(absl::StrCat(
          name, ": the ", store_name_.empty() ? "left" : "right",
          " table is not materialized (a KTable from Filter, MapValues or "
          "a join has no store); join tables from StreamsBuilder::Table or "
          "an aggregation")));
      return KTable<K, VR>(graph_, node_, key_serde_, nullptr, "");
    }
    const int id = internal::AddTableTableJoin<K, V, VO, VR, J, kKind>(
        *graph_, node_, other.node_, store_name_, other.store_name_, name,
        std::move(joiner));
    return KTable<K, VR>(graph_, id, key_serde_, DefaultSerde<VR>(), "");
  }

  std::shared_ptr<internal::DslGraph> graph_;
  int node_;
  SerdePtr<K> key_serde_;
  SerdePtr<V> value_serde_;
  std::string store_name_;
  // Tables from a windowed aggregation: how long after a window's end it
  // closes (grace, + 1 ms where the end is inclusive); -1 otherwise.
  int64_t window_close_delay_ms_ = -1;
};

}  // namespace brook

// KTable::ToStream needs the complete KStream, GroupBy KGroupedTable.
#include "brook/operators/kgrouped_table.h"
#include "brook/operators/kstream.h"

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
