// TableSourceProcessor: keeps the latest value per key of a topic read as a
// table (StreamsBuilder::Table) in its store and forwards each update as a
// Change. A null value (tombstone) deletes the key; a tombstone for a key
// the table does not hold changes nothing and forwards nothing. Records
// with a null key are dropped. With a record cache (record_cache.h) the
// store write and the forward wait for the commit, once per key.
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_TABLE_SOURCE_H_
#define BROOK_OPERATORS_INTERNAL_TABLE_SOURCE_H_

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

template <typename K, typename V>
class TableSourceProcessor final : public Processor<K, V, K, Change<V>> {
 public:
  explicit TableSourceProcessor(std::string store_name,
                                Caching caching = Caching::kEnabled)
      : store_name_(std::move(store_name)), caching_(caching) {}

  absl::Status Init(ProcessorContext<K, Change<V>>& context) override {
    context_ = &context;
    BROOK_ASSIGN_OR_RETURN(
        cache_, (OpenCachedStore<K, V>(context, store_name_, caching_)));
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, V>& record) override {
    if (!record.key.has_value()) {
      context_->RecordDropped(DroppedRecordReason::kNullKey);
      return absl::OkStatus();
    }
    BROOK_ASSIGN_OR_RETURN(std::optional<V> old, cache_->Get(*record.key));
    if (!record.value.has_value() && !old.has_value()) {
      return absl::OkStatus();
    }
    return cache_->Put(*record.key, record.value, old, record.timestamp_ms,
                       record.headers);
  }

 private:
  const std::string store_name_;
  const Caching caching_;
  ProcessorContext<K, Change<V>>* context_ = nullptr;
  std::unique_ptr<CachedStore<K, V>> cache_;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_TABLE_SOURCE_H_
