// TableTableJoinProcessor: KTable::Join, LeftJoin and OuterJoin with another
// KTable (Kafka Streams' KTableKTableJoin and friends). Each table's updates
// go through a processor of its own that reads the other table's store;
// both forward Change<VR> to one merge node, the joined table.
//
// For an update (key, Change(new, old)) of this side, with `other` the
// other table's current value for the key:
//   inner: nothing if other is absent; else Change(joiner(new, other) if
//          new, joiner(old, other) if old);
//   left:  left updates forward Change(joiner(new, other?) if new,
//          joiner(old, other?) if old); right updates forward nothing if
//          the left row is absent, else Change(joiner(left, new?),
//          joiner(left, old?)) with nulls where new or old is absent;
//   outer: Change(joiner(new?, other?) unless both are absent, joiner(old?,
//          other?) unless both are absent).
// So deleting a row that had joined forwards Change(null, old result): a
// tombstone downstream, as in Kafka Streams. A Change with neither side is
// not forwarded. The result's timestamp is the update's (Kafka Streams
// 3.x takes the later of the update's and the other row's, from its
// timestamped stores; Brook's stores keep no timestamps). Updates with a
// null key are dropped and counted (null-key).
//
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_TABLE_TABLE_JOIN_H_
#define BROOK_OPERATORS_INTERNAL_TABLE_TABLE_JOIN_H_

#include <optional>
#include <string>
#include <utility>

#include "brook/base/status_macros.h"
#include "brook/operators/internal/change.h"
#include "brook/operators/internal/functions.h"
#include "brook/operators/internal/stream_stream_join.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/processor.h"

namespace brook::internal {

// kThisLeft: this processor handles the left table's updates (V = V1) and
// reads the right table's store; else the right's (V = V2), reading the
// left's.
template <typename K, typename V1, typename V2, typename VR, typename J,
          JoinKind kKind, bool kThisLeft>
class TableTableJoinProcessor final
    : public Processor<K, Change<std::conditional_t<kThisLeft, V1, V2>>, K,
                       Change<VR>> {
 public:
  using V = std::conditional_t<kThisLeft, V1, V2>;
  using VO = std::conditional_t<kThisLeft, V2, V1>;

  TableTableJoinProcessor(std::string other_store, J joiner)
      : other_store_(std::move(other_store)), joiner_(std::move(joiner)) {}

  absl::Status Init(ProcessorContext<K, Change<VR>>& context) override {
    context_ = &context;
    using Store = KeyValueStore<K, VO>;
    BROOK_ASSIGN_OR_RETURN(other_,
                           context.template GetStateStore<Store>(other_store_));
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, Change<V>>& record) override {
    if (!record.key.has_value()) {
      context_->RecordDropped(DroppedRecordReason::kNullKey);
      return absl::OkStatus();
    }
    if (!record.value.has_value()) return absl::OkStatus();
    BROOK_ASSIGN_OR_RETURN(std::optional<VO> other, other_->Get(*record.key));
    const Change<V>& change = *record.value;
    Change<VR> out{Joined(change.new_value, other),
                   Joined(change.old_value, other)};
    if (!out.new_value.has_value() && !out.old_value.has_value()) {
      return absl::OkStatus();
    }
    return context_->Forward(Record<K, Change<VR>>{
        record.key, std::move(out), record.timestamp_ms, record.headers});
  }

 private:
  // The joined value of this side's `mine` with `other`, or nullopt where
  // the join kind gives none.
  std::optional<VR> Joined(const std::optional<V>& mine,
                           const std::optional<VO>& other) {
    const std::optional<V1>* l;
    const std::optional<V2>* r;
    if constexpr (kThisLeft) {
      l = &mine;
      r = &other;
    } else {
      l = &other;
      r = &mine;
    }
    if constexpr (kKind == JoinKind::kInner) {
      if (!mine.has_value() || !other.has_value()) return std::nullopt;
      return ToOptional(joiner_(**l, **r));
    } else if constexpr (kKind == JoinKind::kLeft) {
      if (!l->has_value()) return std::nullopt;
      // A right update joins a present left row; a right row's absent old
      // or new side joins as null.
      if (!kThisLeft || mine.has_value()) {
        return ToOptional(joiner_(**l, *r));
      }
      return std::nullopt;
    } else {
      if (!mine.has_value() && !other.has_value()) return std::nullopt;
      return ToOptional(joiner_(*l, *r));
    }
  }

  const std::string other_store_;
  J joiner_;
  ProcessorContext<K, Change<VR>>* context_ = nullptr;
  KeyValueStore<K, VO>* other_ = nullptr;
};

// Adds a join of the tables at `left_node` and `right_node` (materialized
// in `left_store` and `right_store`) to `graph`: KTABLE-JOINTHIS-<n>,
// KTABLE-JOINOTHER-<n> and the merge node `name`, whose id it returns.
template <typename K, typename V1, typename V2, typename VR, typename J,
          JoinKind kKind>
int AddTableTableJoin(DslGraph& graph, int left_node, int right_node,
                      const std::string& left_store,
                      const std::string& right_store, const std::string& name,
                      J joiner) {
  auto side = [&]<bool kThisLeft>(std::bool_constant<kThisLeft>) {
    using P = TableTableJoinProcessor<K, V1, V2, VR, J, kKind, kThisLeft>;
    using V = typename P::V;
    DslNode node;
    node.kind = DslNode::Kind::kProcessor;
    node.name =
        graph.NewName(kThisLeft ? "KTABLE-JOINTHIS-" : "KTABLE-JOINOTHER-");
    node.parents = {kThisLeft ? left_node : right_node};
    node.input = RecordTypes::Of<K, Change<V>>();
    node.output = RecordTypes::Of<K, Change<VR>>();
    const std::string other = kThisLeft ? right_store : left_store;
    node.store_names = {other};
    node.add = [other, joiner](Topology& t, const std::string& node_name,
                               std::vector<std::string> parents) {
      t.AddProcessor<K, Change<V>, K, Change<VR>>(
          node_name,
          [other, joiner]() { return std::make_unique<P>(other, joiner); },
          std::move(parents));
    };
    return graph.Add(std::move(node));
  };
  const int l = side(std::true_type{});
  const int r = side(std::false_type{});
  DslNode merge;
  merge.kind = DslNode::Kind::kStateless;
  merge.name = name;
  merge.parents = {l, r};
  merge.input = RecordTypes::Of<K, Change<VR>>();
  merge.output = RecordTypes::Of<K, Change<VR>>();
  merge.step = [](const void* in, const Next& next) { return next(in); };
  return graph.Add(std::move(merge));
}

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_TABLE_TABLE_JOIN_H_
