// AggregateProcessor: the processor behind count, reduce and aggregate on a
// grouped stream. For each record it reads the key's aggregate from its
// key-value store, folds the value in, writes the new aggregate back and
// forwards the change (new and old aggregate) as the table's update. Records
// with a null key or a null value are dropped, as Kafka Streams drops them,
// and counted (dropped-records). With a record cache (record_cache.h) the
// store write and the forward wait for the commit, once per key.
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_AGGREGATE_H_
#define BROOK_OPERATORS_INTERNAL_AGGREGATE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "brook/base/status_macros.h"
#include "brook/operators/internal/change.h"
#include "brook/operators/internal/record_cache.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/processor.h"

namespace brook::internal {

// The new aggregate from the key, the record's value and the old aggregate
// (nullopt for the key's first record).
template <typename K, typename V, typename VR>
using AggregateFn =
    std::function<VR(const K& key, const V& value, const std::optional<VR>&)>;

template <typename K, typename V, typename VR>
class AggregateProcessor final : public Processor<K, V, K, Change<VR>> {
 public:
  AggregateProcessor(std::string store_name, AggregateFn<K, V, VR> fn,
                     Caching caching = Caching::kEnabled)
      : store_name_(std::move(store_name)),
        fn_(std::move(fn)),
        caching_(caching) {}

  absl::Status Init(ProcessorContext<K, Change<VR>>& context) override {
    context_ = &context;
    BROOK_ASSIGN_OR_RETURN(
        cache_, (OpenCachedStore<K, VR>(context, store_name_, caching_)));
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, V>& record) override {
    if (!record.key.has_value() || !record.value.has_value()) {
      context_->RecordDropped(record.key.has_value()
                                  ? DroppedRecordReason::kNullValue
                                  : DroppedRecordReason::kNullKey);
      return absl::OkStatus();
    }
    BROOK_ASSIGN_OR_RETURN(std::optional<VR> old, cache_->Get(*record.key));
    std::optional<VR> aggregate(fn_(*record.key, *record.value, old));
    return cache_->Put(*record.key, std::move(aggregate), old,
                       record.timestamp_ms, record.headers);
  }

 private:
  const std::string store_name_;
  AggregateFn<K, V, VR> fn_;
  const Caching caching_;
  ProcessorContext<K, Change<VR>>* context_ = nullptr;
  std::unique_ptr<CachedStore<K, VR>> cache_;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_AGGREGATE_H_
