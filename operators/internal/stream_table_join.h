// StreamTableJoinProcessor: KStream::Join and LeftJoin with a KTable. Each
// stream record looks its key up in the table's store and forwards
// joiner(value, table value) (or joiner(key, value, table value)) with the
// stream record's key, timestamp and headers. Table updates forward nothing:
// the table side is the latest value per key at the moment the stream record
// is processed (Kafka Streams' non-versioned stream-table join).
//
// Records with a null value are dropped and counted (dropped-records,
// null-value). A null key is dropped and counted (null-key) by the inner
// join; the left join joins it with a null table value (Kafka Streams 3.7+,
// KIP-962) if the joiner takes the key as std::optional or not at all, and
// otherwise drops and counts it (Kafka Streams would pass a null key). The
// inner join drops a record whose key the table does not hold; the left join
// calls the joiner with std::nullopt for the table value.
//
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_STREAM_TABLE_JOIN_H_
#define BROOK_OPERATORS_INTERNAL_STREAM_TABLE_JOIN_H_

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "brook/base/status_macros.h"
#include "brook/operators/internal/functions.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/processor.h"

namespace brook::internal {

// The table value a joiner takes: VT for the inner join, std::optional<VT>
// for the left join.
template <typename VT, bool kLeft>
using JoinTableArg =
    std::conditional_t<kLeft, const std::optional<VT>&, const VT&>;

template <typename K, typename V, typename VT, typename J, bool kLeft>
inline constexpr bool kJoinerTakesKey =
    std::is_invocable_v<J&, const K&, const V&, JoinTableArg<VT, kLeft>> ||
    std::is_invocable_v<J&, const std::optional<K>&, const V&,
                        JoinTableArg<VT, kLeft>>;

template <typename K, typename V, typename VT, typename J, bool kLeft>
inline constexpr bool kJoinerTakesValues =
    std::is_invocable_v<J&, const V&, JoinTableArg<VT, kLeft>>;

template <typename K, typename V, typename VT, typename J, bool kLeft>
constexpr auto JoinResultType() {
  using T = JoinTableArg<VT, kLeft>;
  if constexpr (kJoinerTakesValues<K, V, VT, J, kLeft>) {
    return std::type_identity<std::invoke_result_t<J&, const V&, T>>{};
  } else if constexpr (std::is_invocable_v<J&, const K&, const V&, T>) {
    return std::type_identity<
        std::invoke_result_t<J&, const K&, const V&, T>>{};
  } else {
    return std::type_identity<
        std::invoke_result_t<J&, const std::optional<K>&, const V&, T>>{};
  }
}

// The joined value type (a joiner may return std::optional for a null).
template <typename K, typename V, typename VT, typename J, bool kLeft>
using JoinResult = UnwrapT<std::decay_t<
    typename decltype(JoinResultType<K, V, VT, J, kLeft>())::type>>;

template <typename K, typename V, typename VT, typename VR, typename J,
          bool kLeft>
class StreamTableJoinProcessor final : public Processor<K, V, K, VR> {
 public:
  StreamTableJoinProcessor(std::string store_name, J joiner)
      : store_name_(std::move(store_name)), joiner_(std::move(joiner)) {}

  absl::Status Init(ProcessorContext<K, VR>& context) override {
    context_ = &context;
    using Store = KeyValueStore<K, VT>;
    BROOK_ASSIGN_OR_RETURN(store_,
                           context.template GetStateStore<Store>(store_name_));
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, V>& record) override {
    // Kafka Streams 3.9.1 (KStreamKTableJoinProcessor.maybeDropRecord)
    // drops and counts a null value, and a null key unless it is a left
    // join's (KIP-962).
    if (!record.value.has_value()) {
      context_->RecordDropped(DroppedRecordReason::kNullValue);
      return absl::OkStatus();
    }
    std::optional<VT> table;
    if (record.key.has_value()) {
      BROOK_ASSIGN_OR_RETURN(table, store_->Get(*record.key));
    } else if (!kLeft) {
      context_->RecordDropped(DroppedRecordReason::kNullKey);
      return absl::OkStatus();
    }
    if constexpr (!kLeft) {
      if (!table.has_value()) return absl::OkStatus();
    }
    std::optional<VR> joined;
    if constexpr (kJoinerTakesValues<K, V, VT, J, kLeft>) {
      joined = ToOptional(Call(*record.value, table));
    } else if constexpr (std::is_invocable_v<J&, const K&, const V&,
                                             JoinTableArg<VT, kLeft>>) {
      // The joiner takes the key plainly: a null key cannot be joined (Kafka
      // Streams would pass the joiner a null key); dropped and counted.
      if (!record.key.has_value()) {
        context_->RecordDropped(DroppedRecordReason::kNullKey);
        return absl::OkStatus();
      }
      joined = ToOptional(CallWithKey(*record.key, *record.value, table));
    } else {
      joined = ToOptional(CallWithKey(record.key, *record.value, table));
    }
    return context_->Forward(Record<K, VR>{
        record.key, std::move(joined), record.timestamp_ms, record.headers});
  }

 private:
  auto Call(const V& value, const std::optional<VT>& table) {
    if constexpr (kLeft) {
      return joiner_(value, table);
    } else {
      return joiner_(value, *table);
    }
  }
  template <typename KeyArg>
  auto CallWithKey(const KeyArg& key, const V& value,
                   const std::optional<VT>& table) {
    if constexpr (kLeft) {
      return joiner_(key, value, table);
    } else {
      return joiner_(key, value, *table);
    }
  }

  const std::string store_name_;
  J joiner_;
  ProcessorContext<K, VR>* context_ = nullptr;
  KeyValueStore<K, VT>* store_ = nullptr;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_STREAM_TABLE_JOIN_H_
