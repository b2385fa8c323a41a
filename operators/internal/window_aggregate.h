// The processors behind windowed count, reduce and aggregate
// (TimeWindowedKStream, SessionWindowedKStream). Each keeps its aggregates in
// a typed window or session store and forwards every window it updates as
// Change<VR> (new and old aggregate) keyed by Windowed<K>, with Kafka Streams
// 3.9.1's timestamps: a time window's update carries the largest record
// timestamp in the window so far (its store keeps it beside the aggregate,
// as Kafka Streams' timestamped window store does), a session's update and
// delete the session's end.
//
// Null values: Kafka Streams 3.9.1 drops only null keys here and hands a
// null value to the aggregator (KStreamWindowAggregate,
// KStreamSessionWindowAggregate), so a windowed count counts it. Brook does
// the same where the aggregation can take a null (WindowedAggregateFn,
// NullValues::kAggregate: Count, and Aggregate with an aggregator taking
// `const std::optional<V>&`); otherwise (Reduce, an aggregator taking
// `const V&`) the record is dropped and counted (null-value).
//
// Stream time, for closing windows, is the highest record timestamp the
// processor has seen (Kafka Streams' observedStreamTime), including the
// record being processed. It is not stored: after a restart it starts again
// from the records replayed from the last commit.
//
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_WINDOW_AGGREGATE_H_
#define BROOK_OPERATORS_INTERNAL_WINDOW_AGGREGATE_H_

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "brook/base/status_macros.h"
#include "brook/operators/internal/aggregate.h"
#include "brook/operators/internal/change.h"
#include "brook/operators/internal/timestamped_aggregate.h"
#include "brook/operators/windows.h"
#include "brook/runtime/processor.h"
#include "brook/runtime/session_store.h"
#include "brook/runtime/window_store.h"
#include "brook/runtime/windowed.h"

namespace brook::internal {

// Drops records without key or value, counting them; true if it did.
template <typename K, typename V, typename C>
bool DropNulls(const Record<K, V>& record, C& context) {
  if (record.key.has_value() && record.value.has_value()) return false;
  context.RecordDropped(record.key.has_value() ? DroppedRecordReason::kNullValue
                                               : DroppedRecordReason::kNullKey);
  return true;
}

// Whether a windowed aggregation folds in records with a null value.
enum class NullValues {
  kDrop,       // dropped and counted (null-value)
  kAggregate,  // the function gets a null value (Kafka Streams 3.9.1)
};

// Drops records without key, and without value unless `nulls` says to
// aggregate them, counting them; true if it did.
template <typename K, typename V, typename C>
bool DropNulls(const Record<K, V>& record, NullValues nulls, C& context) {
  if (nulls == NullValues::kAggregate && record.key.has_value()) return false;
  return DropNulls(record, context);
}

// The new aggregate from the key, the record's value (nullptr: a null
// value, only with NullValues::kAggregate) and the old aggregate (nullopt:
// the window's first record).
template <typename K, typename V, typename VR>
struct WindowedAggregateFn {
  std::function<VR(const K& key, const V* value, const std::optional<VR>&)> fn;
  NullValues null_values = NullValues::kDrop;

  // For processors that drop null values (sliding windows).
  AggregateFn<K, V, VR> NonNull() const {
    return [f = fn](const K& key, const V& value,
                    const std::optional<VR>& aggregate) {
      return f(key, &value, aggregate);
    };
  }
};

// The value's address, nullptr if it is null.
template <typename V>
const V* ValueOrNull(const std::optional<V>& value) {
  return value.has_value() ? &*value : nullptr;
}

// Tumbling and hopping windows: each record updates every window that
// contains it and is still open (end + grace > stream time). A window that
// has closed counts one dropped record (as Kafka Streams counts per window).
// The store keeps each window's aggregate with its largest record timestamp
// (8 bytes big-endian, then the aggregate: Kafka Streams' timestamped
// window store layout), which each update carries.
template <typename K, typename V, typename VR>
class TimeWindowAggregateProcessor final
    : public Processor<K, V, Windowed<K>, Change<VR>> {
 public:
  TimeWindowAggregateProcessor(std::string store_name, TimeWindows windows,
                               WindowedAggregateFn<K, V, VR> fn)
      : store_name_(std::move(store_name)),
        windows_(windows),
        fn_(std::move(fn)) {}

  absl::Status Init(
      ProcessorContext<Windowed<K>, Change<VR>>& context) override {
    context_ = &context;
    BROOK_ASSIGN_OR_RETURN(store_,
                           context.template GetStateStore<Store>(store_name_));
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, V>& record) override {
    if (DropNulls(record, fn_.null_values, *context_)) {
      return absl::OkStatus();
    }
    const int64_t ts = record.timestamp_ms;
    observed_ms_ = std::max(observed_ms_, ts);
    const int64_t close_ms = observed_ms_ - windows_.grace_ms;
    for (int64_t start : windows_.WindowStartsFor(ts)) {
      const int64_t end = start + windows_.size_ms;
      if (end <= close_ms) {
        context_->RecordDropped(DroppedRecordReason::kWindowClosed);
        continue;
      }
      BROOK_ASSIGN_OR_RETURN(std::optional<Agg> stored,
                             store_->Fetch(*record.key, start));
      std::optional<VR> old;
      int64_t max_ts = ts;
      if (stored.has_value()) {
        old = std::move(stored->value);
        max_ts = std::max(ts, stored->max_timestamp_ms);
      }
      Agg aggregate{fn_.fn(*record.key, ValueOrNull(record.value), old),
                    max_ts};
      BROOK_ASSIGN_OR_RETURN(bool written,
                             store_->Put(*record.key, start, aggregate));
      if (!written) {  // older than the store's retention
        context_->RecordDropped(DroppedRecordReason::kWindowClosed);
        continue;
      }
      BROOK_RETURN_IF_ERROR(context_->Forward(Record<Windowed<K>, Change<VR>>{
          Windowed<K>{*record.key, start, end},
          Change<VR>{std::move(aggregate.value), std::move(old)}, max_ts,
          record.headers}));
    }
    return absl::OkStatus();
  }

 private:
  using Agg = TimestampedAggregate<VR>;
  using Store = WindowStore<K, Agg>;
  const std::string store_name_;
  const TimeWindows windows_;
  WindowedAggregateFn<K, V, VR> fn_;
  ProcessorContext<Windowed<K>, Change<VR>>* context_ = nullptr;
  Store* store_ = nullptr;
  int64_t observed_ms_ = -1;
};

// How a session aggregation combines values.
template <typename K, typename V, typename VR>
struct SessionFns {
  // The aggregate a merge starts from: the initializer's value for
  // Aggregate; nullopt for Count and Reduce (the first session's value).
  std::function<std::optional<VR>()> initial;
  // Two sessions' aggregates into one (Kafka Streams' Merger).
  std::function<VR(const K& key, const VR& a, const VR& b)> merge;
  // The record folded into the (merged) aggregate; nullopt: none yet.
  WindowedAggregateFn<K, V, VR> add;
};

// Session windows: a record at t joins every session of its key that ends
// at or after t - gap and starts at or before t + gap; they are merged into
// one session [min start, max end] (each merged session forwards a delete,
// (null, old)), the record is added and the new session forwarded as
// (new, null); each forward's timestamp is its session's end. If the merged
// session's end + grace is before stream time, the record is dropped
// (window-closed) and nothing changes.
template <typename K, typename V, typename VR>
class SessionWindowAggregateProcessor final
    : public Processor<K, V, Windowed<K>, Change<VR>> {
 public:
  SessionWindowAggregateProcessor(std::string store_name,
                                  SessionWindows windows,
                                  SessionFns<K, V, VR> fns)
      : store_name_(std::move(store_name)),
        windows_(windows),
        fns_(std::move(fns)) {}

  absl::Status Init(
      ProcessorContext<Windowed<K>, Change<VR>>& context) override {
    context_ = &context;
    BROOK_ASSIGN_OR_RETURN(store_,
                           context.template GetStateStore<Store>(store_name_));
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, V>& record) override {
    if (DropNulls(record, fns_.add.null_values, *context_)) {
      return absl::OkStatus();
    }
    const K& key = *record.key;
    const int64_t ts = record.timestamp_ms;
    observed_ms_ = std::max(observed_ms_, ts);
    const int64_t close_ms = observed_ms_ - windows_.grace_ms;

    struct Session {
      int64_t start, end;
      VR value;
    };
    std::vector<Session> merged;
    std::optional<VR> aggregate = fns_.initial();
    int64_t start = ts, end = ts;
    BROOK_RETURN_IF_ERROR(store_->FindSessions(
        key, ts - windows_.gap_ms, ts + windows_.gap_ms,
        [&](const K&, int64_t s, int64_t e, const VR& v) {
          aggregate =
              aggregate.has_value() ? fns_.merge(key, *aggregate, v) : v;
          start = std::min(start, s);
          end = std::max(end, e);
          merged.push_back(Session{s, e, v});
          return absl::OkStatus();
        }));
    if (end < close_ms) {
      context_->RecordDropped(DroppedRecordReason::kWindowClosed);
      return absl::OkStatus();
    }
    if (start != ts || end != ts) {
      for (Session& s : merged) {
        BROOK_RETURN_IF_ERROR(
            store_->Put(key, s.start, s.end, std::nullopt).status());
        BROOK_RETURN_IF_ERROR(context_->Forward(Record<Windowed<K>, Change<VR>>{
            Windowed<K>{key, s.start, s.end},
            Change<VR>{std::nullopt, std::move(s.value)}, s.end,
            record.headers}));
      }
    }
    VR result = fns_.add.fn(key, ValueOrNull(record.value), aggregate);
    BROOK_ASSIGN_OR_RETURN(bool written, store_->Put(key, start, end, result));
    if (!written) {  // older than the store's retention
      context_->RecordDropped(DroppedRecordReason::kWindowClosed);
      return absl::OkStatus();
    }
    return context_->Forward(Record<Windowed<K>, Change<VR>>{
        Windowed<K>{key, start, end},
        Change<VR>{std::move(result), std::nullopt}, end, record.headers});
  }

 private:
  using Store = SessionStore<K, VR>;
  const std::string store_name_;
  const SessionWindows windows_;
  SessionFns<K, V, VR> fns_;
  ProcessorContext<Windowed<K>, Change<VR>>* context_ = nullptr;
  Store* store_ = nullptr;
  int64_t observed_ms_ = -1;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_WINDOW_AGGREGATE_H_
