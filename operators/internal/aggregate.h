// AggregateProcessor: the processor behind count, reduce and aggregate on a
// grouped stream. For each record it reads the key's aggregate from its
// key-value store, folds the value in, writes the new aggregate back and
// forwards the change (new and old aggregate) as the table's update. Records
// with a null key or a null value are dropped, as Kafka Streams drops them,
// and counted (dropped-records).
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_AGGREGATE_H_
#define BROOK_OPERATORS_INTERNAL_AGGREGATE_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "base/status_macros.h"
#include "operators/internal/change.h"
#include "runtime/key_value_store.h"
#include "runtime/processor.h"

namespace brook::internal {

// The new aggregate from the key, the record's value and the old aggregate
// (nullopt for the key's first record).
template <typename K, typename V, typename VR>
using AggregateFn =
    std::function<VR(const K& key, const V& value, const std::optional<VR>&)>;

template <typename K, typename V, typename VR>
class AggregateProcessor final : public Processor<K, V, K, Change<VR>> {
 public:
  AggregateProcessor(std::string store_name, AggregateFn<K, V, VR> fn)
      : store_name_(std::move(store_name)), fn_(std::move(fn)) {}

  absl::Status Init(ProcessorContext<K, Change<VR>>& context) override {
    context_ = &context;
    using Store = KeyValueStore<K, VR>;
    absl::StatusOr<Store*> store =
        context.template GetStateStore<Store>(store_name_);
    if (!store.ok()) return store.status();
    store_ = *store;
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, V>& record) override {
    if (!record.key.has_value() || !record.value.has_value()) {
      context_->RecordDropped(record.key.has_value()
                                  ? DroppedRecordReason::kNullValue
                                  : DroppedRecordReason::kNullKey);
      return absl::OkStatus();
    }
    BROOK_ASSIGN_OR_RETURN(std::optional<VR> old, store_->Get(*record.key));
    VR aggregate = fn_(*record.key, *record.value, old);
    BROOK_RETURN_IF_ERROR(store_->Put(*record.key, aggregate));
    std::optional<VR> new_value(aggregate);
    return context_->Forward(Record<K, Change<VR>>{
        record.key, Change<VR>{std::move(new_value), std::move(old)},
        record.timestamp_ms, record.headers});
  }

 private:
  const std::string store_name_;
  AggregateFn<K, V, VR> fn_;
  ProcessorContext<K, Change<VR>>* context_ = nullptr;
  KeyValueStore<K, VR>* store_ = nullptr;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_AGGREGATE_H_
