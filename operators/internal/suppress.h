// WindowSuppressProcessor: Suppressed::UntilWindowCloses. It buffers the
// latest update of each window of a windowed aggregation in a key-value
// store (in memory, changelogged, so the buffer survives a crash with the
// transaction that wrote it) and forwards each window's final value once
// stream time reaches the window's end + the close delay (grace, + 1 ms
// for inclusive ends). A window whose latest update is a delete (a merged
// session) forwards nothing. Forwarding a result and removing it from the
// buffer happen in one transaction, so each window's final result is
// emitted exactly once under exactly-once.
//
// Stream time is the highest timestamp the processor has seen. The buffer
// is indexed in memory by deadline; Init() rebuilds the index from the
// store, after restore. A bounded buffer (BufferLimits, always strict here,
// as in Kafka Streams: results must be final) that is still over its bound
// after the closed windows have left fails the task with BufferFullError.
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_SUPPRESS_H_
#define BROOK_OPERATORS_INTERNAL_SUPPRESS_H_

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "brook/base/status_macros.h"
#include "brook/operators/internal/change.h"
#include "brook/operators/internal/suppress_buffer.h"
#include "brook/operators/internal/timestamped_aggregate.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/processor.h"
#include "brook/runtime/windowed.h"

namespace brook::internal {

// A buffered final result: the value, with the timestamp of the update that
// set it (in TimestampedAggregate's max_timestamp_ms).
template <typename V>
using BufferedValue = TimestampedAggregate<V>;

template <typename K, typename V>
class WindowSuppressProcessor final
    : public Processor<Windowed<K>, Change<V>, Windowed<K>, Change<V>> {
 public:
  // REQUIRES: !limits.emit_early.
  WindowSuppressProcessor(std::string node_name, std::string store_name,
                          int64_t close_delay_ms,
                          SerdePtr<Windowed<K>> key_serde,
                          SerdePtr<BufferedValue<V>> value_serde,
                          BufferLimits limits)
      : node_name_(std::move(node_name)),
        store_name_(std::move(store_name)),
        close_delay_ms_(close_delay_ms),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        limits_(limits) {}

  absl::Status Init(
      ProcessorContext<Windowed<K>, Change<V>>& context) override {
    context_ = &context;
    BROOK_ASSIGN_OR_RETURN(store_,
                           context.template GetStateStore<Store>(store_name_));
    buffer_.Clear();
    return store_->All(
        [&](const Windowed<K>& key, const BufferedValue<V>& value) {
          Track(key, value);
          return absl::OkStatus();
        });
  }

  absl::Status Process(const Record<Windowed<K>, Change<V>>& record) override {
    if (!record.key.has_value() || !record.value.has_value()) {
      context_->RecordDropped(record.key.has_value()
                                  ? DroppedRecordReason::kNullValue
                                  : DroppedRecordReason::kNullKey);
      return absl::OkStatus();
    }
    observed_ms_ = std::max(observed_ms_, record.timestamp_ms);
    const Windowed<K>& key = *record.key;
    if (record.value->new_value.has_value()) {
      BufferedValue<V> value{*record.value->new_value, record.timestamp_ms};
      BROOK_RETURN_IF_ERROR(store_->Put(key, value));
      Track(key, value);
    } else {
      BROOK_RETURN_IF_ERROR(store_->Delete(key));
      buffer_.Erase(key_serde_->Serialize(store_name_, key));
    }
    BROOK_RETURN_IF_ERROR(EmitClosed());
    if (buffer_.Over(limits_)) {
      return BufferFullError(node_name_, limits_, buffer_.records(),
                             buffer_.bytes());
    }
    return absl::OkStatus();
  }

 private:
  using Store = KeyValueStore<Windowed<K>, BufferedValue<V>>;
  // Indexes the window by its deadline (closed windows first, a stable
  // order within one deadline) and counts its bytes if they are bounded.
  void Track(const Windowed<K>& key, const BufferedValue<V>& value) {
    std::string key_bytes = key_serde_->Serialize(store_name_, key);
    const int64_t bytes =
        limits_.counts_bytes()
            ? static_cast<int64_t>(
                  key_bytes.size() +
                  value_serde_->Serialize(store_name_, value).size())
            : 0;
    buffer_.Put(key_bytes, key, key.end_ms + close_delay_ms_, bytes);
  }

  absl::Status EmitClosed() {
    while (!buffer_.empty() && buffer_.oldest_time() <= observed_ms_) {
      const Windowed<K> key = buffer_.oldest_key();
      buffer_.Erase(std::string(buffer_.oldest_key_bytes()));
      BROOK_ASSIGN_OR_RETURN(std::optional<BufferedValue<V>> buffered,
                             store_->Get(key));
      if (!buffered.has_value()) continue;
      BROOK_RETURN_IF_ERROR(store_->Delete(key));
      BROOK_RETURN_IF_ERROR(context_->Forward(Record<Windowed<K>, Change<V>>{
          key,
          Change<V>{std::move(buffered->value), std::nullopt},
          buffered->max_timestamp_ms,
          {}}));
    }
    return absl::OkStatus();
  }

  const std::string node_name_;
  const std::string store_name_;
  const int64_t close_delay_ms_;
  const SerdePtr<Windowed<K>> key_serde_;
  const SerdePtr<BufferedValue<V>> value_serde_;
  const BufferLimits limits_;
  ProcessorContext<Windowed<K>, Change<V>>* context_ = nullptr;
  Store* store_ = nullptr;
  SuppressBufferUsage<Windowed<K>> buffer_;
  int64_t observed_ms_ = -1;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_SUPPRESS_H_
