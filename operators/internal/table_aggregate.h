// TableAggregateProcessor: the processor behind KGroupedTable's Count,
// Reduce and Aggregate. Its input is the group-by's repartitioned table
// updates: Change<V> with the value that left the group (old_value, to
// subtract) and the value that joined it (new_value, to add); either may be
// absent. For each update it reads the group's aggregate, subtracts the old
// value (only if the group has an aggregate), adds the new one (starting
// from the initializer, or the value itself for Reduce, if the group has
// none), writes the result back and forwards Change(new aggregate, old
// aggregate), as Kafka Streams' KTableAggregate and KTableReduce do. A group
// whose count drops to zero keeps its zero (Kafka Streams does the same).
// Records with a null key or no value, and updates that leave the store as
// it was (a subtract from an absent group), forward nothing. With a record
// cache (record_cache.h) the store write and the forward wait for the
// commit, once per group, carrying the group's aggregate before the first
// update held back.
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_TABLE_AGGREGATE_H_
#define BROOK_OPERATORS_INTERNAL_TABLE_AGGREGATE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "brook/base/status_macros.h"
#include "brook/operators/internal/aggregate.h"
#include "brook/operators/internal/change.h"
#include "brook/operators/internal/record_cache.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/processor.h"

namespace brook::internal {

// The aggregate without `value`. REQUIRES: the group has an aggregate.
template <typename K, typename V, typename VR>
using SubtractFn =
    std::function<VR(const K& key, const V& value, const VR& aggregate)>;

template <typename K, typename V, typename VR>
class TableAggregateProcessor final
    : public Processor<K, Change<V>, K, Change<VR>> {
 public:
  TableAggregateProcessor(std::string store_name, AggregateFn<K, V, VR> add,
                          SubtractFn<K, V, VR> subtract,
                          Caching caching = Caching::kEnabled)
      : store_name_(std::move(store_name)),
        add_(std::move(add)),
        subtract_(std::move(subtract)),
        caching_(caching) {}

  absl::Status Init(ProcessorContext<K, Change<VR>>& context) override {
    context_ = &context;
    BROOK_ASSIGN_OR_RETURN(
        cache_, (OpenCachedStore<K, VR>(context, store_name_, caching_)));
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, Change<V>>& record) override {
    if (!record.key.has_value() || !record.value.has_value()) {
      context_->RecordDropped(record.key.has_value()
                                  ? DroppedRecordReason::kNullValue
                                  : DroppedRecordReason::kNullKey);
      return absl::OkStatus();
    }
    const K& key = *record.key;
    const Change<V>& change = *record.value;
    BROOK_ASSIGN_OR_RETURN(std::optional<VR> old, cache_->Get(key));
    std::optional<VR> aggregate = old;
    bool changed = false;
    if (change.old_value.has_value() && aggregate.has_value()) {
      aggregate = subtract_(key, *change.old_value, *aggregate);
      changed = true;
    }
    if (change.new_value.has_value()) {
      aggregate = add_(key, *change.new_value, aggregate);
      changed = true;
    }
    if (!changed) return absl::OkStatus();
    return cache_->Put(key, std::move(aggregate), old, record.timestamp_ms,
                       record.headers);
  }

 private:
  const std::string store_name_;
  AggregateFn<K, V, VR> add_;
  SubtractFn<K, V, VR> subtract_;
  const Caching caching_;
  ProcessorContext<K, Change<VR>>* context_ = nullptr;
  std::unique_ptr<CachedStore<K, VR>> cache_;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_TABLE_AGGREGATE_H_
