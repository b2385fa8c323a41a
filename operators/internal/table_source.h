// TableSourceProcessor: keeps the latest value per key of a topic read as a
// table (StreamsBuilder::Table) in its store and forwards each update as a
// Change. A null value (tombstone) deletes the key; a tombstone for a key
// the table does not hold changes nothing and forwards nothing. Records
// with a null key are dropped.
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_TABLE_SOURCE_H_
#define BROOK_OPERATORS_INTERNAL_TABLE_SOURCE_H_

#include <optional>
#include <string>
#include <utility>

#include "base/status_macros.h"
#include "operators/internal/change.h"
#include "runtime/key_value_store.h"
#include "runtime/processor.h"

namespace brook::internal {

template <typename K, typename V>
class TableSourceProcessor final : public Processor<K, V, K, Change<V>> {
 public:
  explicit TableSourceProcessor(std::string store_name)
      : store_name_(std::move(store_name)) {}

  absl::Status Init(ProcessorContext<K, Change<V>>& context) override {
    context_ = &context;
    using Store = KeyValueStore<K, V>;
    absl::StatusOr<Store*> store =
        context.template GetStateStore<Store>(store_name_);
    if (!store.ok()) return store.status();
    store_ = *store;
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, V>& record) override {
    if (!record.key.has_value()) {
      context_->RecordDropped(DroppedRecordReason::kNullKey);
      return absl::OkStatus();
    }
    BROOK_ASSIGN_OR_RETURN(std::optional<V> old, store_->Get(*record.key));
    if (record.value.has_value()) {
      BROOK_RETURN_IF_ERROR(store_->Put(*record.key, *record.value));
    } else {
      if (!old.has_value()) return absl::OkStatus();
      BROOK_RETURN_IF_ERROR(store_->Delete(*record.key));
    }
    return context_->Forward(Record<K, Change<V>>{
        record.key, Change<V>{record.value, std::move(old)},
        record.timestamp_ms, record.headers});
  }

 private:
  const std::string store_name_;
  ProcessorContext<K, Change<V>>* context_ = nullptr;
  KeyValueStore<K, V>* store_ = nullptr;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_TABLE_SOURCE_H_
