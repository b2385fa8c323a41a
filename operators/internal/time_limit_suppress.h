// TimeLimitSuppressProcessor: Suppressed::UntilTimeLimit. It holds the
// latest update of each key of a table in a key-value store (in memory,
// changelogged) and forwards it once stream time reaches the time the key
// entered the buffer + the limit. Later updates of a buffered key replace
// its value but keep its place (Kafka Streams' non-resetting semantics:
// InMemoryTimeOrderedKeyValueBuffer puts a known key back at its old
// time), so a key that changes all the time still comes out once per
// limit. The forwarded update carries the latest value (a delete is
// forwarded as a delete), the timestamp of the latest update, and as old
// value the value the key had before it entered the buffer.
//
// A bounded buffer over its bound after the expired keys have left either
// forwards its oldest keys early until it fits (EmitEarlyWhenFull) or fails
// the task with BufferFullError (ShutDownWhenFull).
//
// Stream time is the highest timestamp the processor has seen. Forwarding
// and removing from the buffer commit together, so under exactly-once each
// buffered update is forwarded once, also across crashes. Init() rebuilds
// the in-memory order from the store after restore.
//
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_TIME_LIMIT_SUPPRESS_H_
#define BROOK_OPERATORS_INTERNAL_TIME_LIMIT_SUPPRESS_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/operators/internal/change.h"
#include "brook/operators/internal/change_serde.h"
#include "brook/operators/internal/suppress_buffer.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/processor.h"
#include "brook/runtime/serde.h"

namespace brook::internal {

// One buffered key: when it entered the buffer, the timestamp of its latest
// update, and (old) its value before it entered, (new) its latest value.
template <typename V>
struct SuppressedUpdate {
  int64_t buffer_time_ms = 0;
  int64_t record_time_ms = 0;
  Change<V> change;
};

// 8 bytes big-endian buffer time, 8 bytes big-endian record time, then the
// change in ChangeSerde's format.
template <typename V>
class SuppressedUpdateSerde final : public Serde<SuppressedUpdate<V>> {
 public:
  explicit SuppressedUpdateSerde(SerdePtr<V> inner) : change_(inner) {}

  std::string Serialize(absl::string_view topic,
                        const SuppressedUpdate<V>& u) const override {
    char times[16];
    absl::big_endian::Store64(times, static_cast<uint64_t>(u.buffer_time_ms));
    absl::big_endian::Store64(times + 8,
                              static_cast<uint64_t>(u.record_time_ms));
    return absl::StrCat(absl::string_view(times, 16),
                        change_.Serialize(topic, u.change));
  }

  absl::StatusOr<SuppressedUpdate<V>> Deserialize(
      absl::string_view topic, absl::string_view bytes) const override {
    if (bytes.size() < 17) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a suppression buffer entry needs at least 17 bytes, got ",
          bytes.size()));
    }
    SuppressedUpdate<V> u;
    u.buffer_time_ms =
        static_cast<int64_t>(absl::big_endian::Load64(bytes.data()));
    u.record_time_ms =
        static_cast<int64_t>(absl::big_endian::Load64(bytes.data() + 8));
    BROOK_ASSIGN_OR_RETURN(u.change,
                           change_.Deserialize(topic, bytes.substr(16)));
    return u;
  }

 private:
  const ChangeSerde<V> change_;
};

template <typename K, typename V>
class TimeLimitSuppressProcessor final
    : public Processor<K, Change<V>, K, Change<V>> {
 public:
  TimeLimitSuppressProcessor(std::string node_name, std::string store_name,
                             int64_t limit_ms, SerdePtr<K> key_serde,
                             SerdePtr<SuppressedUpdate<V>> value_serde,
                             BufferLimits limits)
      : node_name_(std::move(node_name)),
        store_name_(std::move(store_name)),
        limit_ms_(limit_ms),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        limits_(limits) {}

  absl::Status Init(ProcessorContext<K, Change<V>>& context) override {
    context_ = &context;
    BROOK_ASSIGN_OR_RETURN(store_,
                           context.template GetStateStore<Store>(store_name_));
    buffer_.Clear();
    return store_->All([&](const K& key, const SuppressedUpdate<V>& u) {
      Track(key_serde_->Serialize(store_name_, key), key, u);
      return absl::OkStatus();
    });
  }

  absl::Status Process(const Record<K, Change<V>>& record) override {
    if (!record.key.has_value() || !record.value.has_value()) {
      context_->RecordDropped(record.key.has_value()
                                  ? DroppedRecordReason::kNullValue
                                  : DroppedRecordReason::kNullKey);
      return absl::OkStatus();
    }
    observed_ms_ = std::max(observed_ms_, record.timestamp_ms);
    const K& key = *record.key;
    std::string key_bytes = key_serde_->Serialize(store_name_, key);
    SuppressedUpdate<V> u{record.timestamp_ms, record.timestamp_ms,
                          *record.value};
    if (buffer_.Find(key_bytes) != nullptr) {
      BROOK_ASSIGN_OR_RETURN(std::optional<SuppressedUpdate<V>> buffered,
                             store_->Get(key));
      if (buffered.has_value()) {
        u.buffer_time_ms = buffered->buffer_time_ms;
        u.change.old_value = std::move(buffered->change.old_value);
      }
    }
    BROOK_RETURN_IF_ERROR(store_->Put(key, u));
    Track(std::move(key_bytes), key, u);
    return EnforceConstraints();
  }

 private:
  using Store = KeyValueStore<K, SuppressedUpdate<V>>;

  void Track(std::string key_bytes, const K& key,
             const SuppressedUpdate<V>& u) {
    const int64_t bytes =
        limits_.counts_bytes()
            ? static_cast<int64_t>(
                  key_bytes.size() +
                  value_serde_->Serialize(store_name_, u).size())
            : 0;
    buffer_.Put(key_bytes, key, u.buffer_time_ms, bytes);
  }

  // Kafka Streams' KTableSuppressProcessor.enforceConstraints: the expired
  // keys leave first; then a buffer still over its bound emits early or
  // fails.
  absl::Status EnforceConstraints() {
    while (!buffer_.empty() &&
           buffer_.oldest_time() <= observed_ms_ - limit_ms_) {
      BROOK_RETURN_IF_ERROR(EmitOldest());
    }
    if (!buffer_.Over(limits_)) return absl::OkStatus();
    if (!limits_.emit_early) {
      return BufferFullError(node_name_, limits_, buffer_.records(),
                             buffer_.bytes());
    }
    while (buffer_.Over(limits_)) BROOK_RETURN_IF_ERROR(EmitOldest());
    return absl::OkStatus();
  }

  absl::Status EmitOldest() {
    const K key = buffer_.oldest_key();
    buffer_.Erase(std::string(buffer_.oldest_key_bytes()));
    BROOK_ASSIGN_OR_RETURN(std::optional<SuppressedUpdate<V>> buffered,
                           store_->Get(key));
    if (!buffered.has_value()) return absl::OkStatus();
    BROOK_RETURN_IF_ERROR(store_->Delete(key));
    return context_->Forward(Record<K, Change<V>>{
        key, std::move(buffered->change), buffered->record_time_ms, {}});
  }

  const std::string node_name_;
  const std::string store_name_;
  const int64_t limit_ms_;
  const SerdePtr<K> key_serde_;
  const SerdePtr<SuppressedUpdate<V>> value_serde_;
  const BufferLimits limits_;
  ProcessorContext<K, Change<V>>* context_ = nullptr;
  Store* store_ = nullptr;
  SuppressBufferUsage<K> buffer_;
  int64_t observed_ms_ = -1;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_TIME_LIMIT_SUPPRESS_H_
