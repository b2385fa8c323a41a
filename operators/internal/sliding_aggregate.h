// SlidingWindowAggregateProcessor: windowed count, reduce and aggregate over
// sliding windows (KGroupedStream::WindowedBy(SlidingWindows)), with Kafka
// Streams' semantics (KIP-450). A window is [start, start + d], both ends
// inclusive (d: the time difference), and exists only where records
// define one: each record at t has a left window [t - d, t], and a right
// window [t + 1, t + 1 + d] once a later record falls in it. So every
// distinct set of a key's records that fit within d gets exactly one
// window, and the aggregates never need the raw records: the store keeps
// per window the aggregate and the largest record timestamp in it, from
// which a new window's aggregate is taken (a window holding exactly the
// records the new one needs always exists; see Kafka Streams' KIP-450).
//
// Records with timestamps below d (near the epoch) would make windows with
// negative starts; as in Kafka Streams they share the window [0, d].
//
// Each update carries the window's largest record timestamp, as in Kafka
// Streams 3.9.1. Records with a null key or value are dropped and counted
// (Kafka Streams 3.9.1's KStreamSlidingWindowAggregate drops both).
//
// A record is dropped (window-closed) when even its right window is closed:
// t + 1 + d <= stream time - grace. Otherwise each window it would update
// whose end is before stream time - grace counts one dropped record.
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_SLIDING_AGGREGATE_H_
#define BROOK_OPERATORS_INTERNAL_SLIDING_AGGREGATE_H_

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/operators/internal/aggregate.h"
#include "brook/operators/internal/change.h"
#include "brook/operators/internal/timestamped_aggregate.h"
#include "brook/operators/internal/window_aggregate.h"
#include "brook/operators/windows.h"
#include "brook/runtime/processor.h"
#include "brook/runtime/window_store.h"
#include "brook/runtime/windowed.h"

namespace brook::internal {

template <typename K, typename V, typename VR>
class SlidingWindowAggregateProcessor final
    : public Processor<K, V, Windowed<K>, Change<VR>> {
 public:
  SlidingWindowAggregateProcessor(std::string store_name,
                                  SlidingWindows windows,
                                  AggregateFn<K, V, VR> fn)
      : store_name_(std::move(store_name)),
        d_(windows.time_difference_ms),
        grace_(windows.grace_ms),
        fn_(std::move(fn)) {}

  absl::Status Init(
      ProcessorContext<Windowed<K>, Change<VR>>& context) override {
    context_ = &context;
    BROOK_ASSIGN_OR_RETURN(store_,
                           context.template GetStateStore<Store>(store_name_));
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, V>& record) override {
    if (DropNulls(record, *context_)) return absl::OkStatus();
    const int64_t t = record.timestamp_ms;
    observed_ms_ = std::max(observed_ms_, t);
    const int64_t close = observed_ms_ - grace_;
    if (t + 1 + d_ <= close) {
      context_->RecordDropped(DroppedRecordReason::kWindowClosed);
      return absl::OkStatus();
    }
    Call call{record, t, close};
    return t < d_ ? ProcessEarly(call) : ProcessInOrder(call);
  }

 private:
  using Agg = TimestampedAggregate<VR>;
  using Store = WindowStore<K, Agg>;
  struct Call {
    const Record<K, V>& record;
    int64_t t;
    int64_t close;
  };
  struct Found {
    int64_t start;
    Agg agg;
  };

  absl::StatusOr<std::vector<Found>> Windows(const K& key, int64_t from,
                                             int64_t to) {
    std::vector<Found> found;
    BROOK_RETURN_IF_ERROR(store_->Fetch(
        key, from, to, [&](const K&, int64_t start, const Agg& agg) {
          found.push_back(Found{start, agg});
          return absl::OkStatus();
        }));
    return found;
  }

  absl::Status Unexpected(int64_t start, int64_t t) const {
    return absl::InternalError(absl::StrCat(
        "sliding window store '", store_name_, "' holds a window at ", start,
        " that cannot exist beside a record at ", t));
  }

  absl::Status ProcessInOrder(const Call& c) {
    const K& key = *c.record.key;
    BROOK_ASSIGN_OR_RETURN(
        std::vector<Found> windows,
        Windows(key, std::max<int64_t>(0, c.t - 2 * d_), c.t + 1));
    absl::flat_hash_set<int64_t> starts;
    std::optional<Agg> left_source, right_source;
    bool left_exists = false, right_exists = false;
    std::optional<int64_t> previous;  // the key's latest record before t
    for (Found& w : windows) {
      starts.insert(w.start);
      const int64_t end = w.start + d_;
      if (end < c.t) {
        left_source = w.agg;
        previous = w.agg.max_timestamp_ms;
      } else if (end == c.t) {
        left_exists = true;
        if (w.agg.max_timestamp_ms < c.t) previous = w.agg.max_timestamp_ms;
        BROOK_RETURN_IF_ERROR(Update(c, w.start, w.agg));
      } else if (w.start <= c.t) {
        right_source = w.agg;
        BROOK_RETURN_IF_ERROR(Update(c, w.start, w.agg));
      } else if (w.start == c.t + 1) {
        right_exists = true;
      } else {
        return Unexpected(w.start, c.t);
      }
    }
    // The previous record's right window, if t falls in it.
    if (previous.has_value() && !starts.contains(*previous + 1) &&
        *previous + 1 + d_ >= c.t) {
      BROOK_RETURN_IF_ERROR(Update(c, *previous + 1, std::nullopt));
    }
    if (!left_exists) {
      std::optional<Agg> base;
      if (previous.has_value() && c.t - d_ <= *previous) base = left_source;
      BROOK_RETURN_IF_ERROR(Update(c, c.t - d_, base, /*created=*/true));
    }
    if (!right_exists) return CreateRightWindow(c, right_source);
    return absl::OkStatus();
  }

  // t < d: the record's left window would start before 0; records there
  // share [0, d].
  absl::Status ProcessEarly(const Call& c) {
    const K& key = *c.record.key;
    BROOK_ASSIGN_OR_RETURN(std::vector<Found> windows,
                           Windows(key, 0, c.t + 1));
    absl::flat_hash_set<int64_t> starts;
    std::optional<Agg> combined, right_source;
    bool right_exists = false;
    std::optional<int64_t> previous;
    for (Found& w : windows) {
      starts.insert(w.start);
      if (w.start == 0) {
        combined = w.agg;
        if (w.agg.max_timestamp_ms < c.t) previous = w.agg.max_timestamp_ms;
      } else if (w.start <= c.t) {
        right_source = w.agg;
        BROOK_RETURN_IF_ERROR(Update(c, w.start, w.agg));
      } else if (w.start == c.t + 1) {
        right_exists = true;
      } else {
        return Unexpected(w.start, c.t);
      }
    }
    // Only later records in [0, d]: they are exactly the right window's.
    if (!right_source.has_value() && combined.has_value() &&
        combined->max_timestamp_ms > c.t) {
      right_source = combined;
    }
    if (!right_exists)
      BROOK_RETURN_IF_ERROR(CreateRightWindow(c, right_source));
    if (previous.has_value() && !starts.contains(*previous + 1)) {
      BROOK_RETURN_IF_ERROR(Update(c, *previous + 1, std::nullopt));
    }
    return Update(c, 0, combined, /*created=*/!combined.has_value());
  }

  // The record's right window [t + 1, t + 1 + d] holds the records of
  // `source` after t (none: no window), without the record itself.
  absl::Status CreateRightWindow(const Call& c,
                                 const std::optional<Agg>& source) {
    if (!source.has_value() || source->max_timestamp_ms <= c.t) {
      return absl::OkStatus();
    }
    const int64_t start = c.t + 1;
    BROOK_ASSIGN_OR_RETURN(bool written,
                           store_->Put(*c.record.key, start, *source));
    if (!written) return absl::OkStatus();
    // Kafka Streams 3.9.1 (createCurrentRecordRightWindow): the source
    // window's largest timestamp, which is the right window's too.
    return context_->Forward(Record<Windowed<K>, Change<VR>>{
        Windowed<K>{*c.record.key, start, start + d_},
        Change<VR>{source->value, std::nullopt}, source->max_timestamp_ms,
        c.record.headers});
  }

  // Folds the record into the window at `start`, whose aggregate so far is
  // `existing` (nullopt: empty). A window created here forwards no old
  // value even when it starts from another window's aggregate.
  absl::Status Update(const Call& c, int64_t start,
                      const std::optional<Agg>& existing,
                      bool created = false) {
    if (start + d_ < c.close) {
      context_->RecordDropped(DroppedRecordReason::kWindowClosed);
      return absl::OkStatus();
    }
    std::optional<VR> old;
    if (existing.has_value()) old = existing->value;
    Agg updated{
        fn_(*c.record.key, *c.record.value, old),
        existing.has_value() ? std::max(c.t, existing->max_timestamp_ms) : c.t};
    BROOK_ASSIGN_OR_RETURN(bool written,
                           store_->Put(*c.record.key, start, updated));
    if (!written) {  // older than the store's retention
      context_->RecordDropped(DroppedRecordReason::kWindowClosed);
      return absl::OkStatus();
    }
    if (created) old.reset();
    // The window's largest record timestamp, as Kafka Streams 3.9.1
    // (updateWindowAndForward).
    return context_->Forward(Record<Windowed<K>, Change<VR>>{
        Windowed<K>{*c.record.key, start, start + d_},
        Change<VR>{std::move(updated.value), std::move(old)},
        updated.max_timestamp_ms, c.record.headers});
  }

  const std::string store_name_;
  const int64_t d_;
  const int64_t grace_;
  AggregateFn<K, V, VR> fn_;
  ProcessorContext<Windowed<K>, Change<VR>>* context_ = nullptr;
  Store* store_ = nullptr;
  int64_t observed_ms_ = -1;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_SLIDING_AGGREGATE_H_
