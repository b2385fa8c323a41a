// TimeWindowedKStream<K, V>: a grouped stream cut into time windows
// (KGroupedStream::WindowedBy(TimeWindows)) or sliding windows
// (WindowedBy(SlidingWindows), as in Kafka Streams; see
// internal/sliding_aggregate.h for how sliding windows are made). Count, Reduce
// and Aggregate keep one aggregate per key and window in a window store
// (RocksDB unless Materialized says otherwise; changelogged; retention window
// size + grace unless Materialized::WithRetention) and produce a
// KTable<Windowed<K>, VR>: each record forwards the new aggregate of every
// window it updates. Its key serde is the time-windowed serde of K (Kafka
// Streams' format, see runtime/windowed.h), so ToStream().To(topic) writes what
// a Java TimeWindowedDeserializer reads.
//
// Records with a null key are dropped and counted (dropped-records,
// null-key); so is each window a record comes too late for
// (window-closed): see operators/windows.h for grace. Null values: see
// Count, Reduce and Aggregate. The store (a window store of
// internal::TimestampedAggregate<VR>) keeps each window's aggregate with its
// largest record timestamp, in Kafka Streams' timestamped window store
// layout.
//
//   builder.Stream<std::string, std::string>("clicks")
//       .GroupByKey()
//       .WindowedBy(TimeWindows::OfSizeWithNoGrace(absl::Minutes(1)))
//       .Count()
//       .ToStream()
//       .To("clicks-per-minute");
//
// Each update carries the window's largest record timestamp so far, as in
// Kafka Streams 3.x. Difference from Kafka Streams: every update is
// forwarded (no record cache).
//
// Threading model: build on one thread.
#ifndef BROOK_OPERATORS_TIME_WINDOWED_KSTREAM_H_
#define BROOK_OPERATORS_TIME_WINDOWED_KSTREAM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "brook/operators/internal/sliding_aggregate.h"
#include "brook/operators/internal/window_aggregate.h"
#include "brook/operators/internal/windowed_fold.h"
#include "brook/operators/ktable.h"
#include "brook/operators/options.h"
#include "brook/operators/windows.h"
#include "brook/runtime/windowed.h"

namespace brook {

template <typename K, typename V>
class KGroupedStream;

template <typename K, typename V>
class TimeWindowedKStream {
 public:
  // Records per key and window (KSTREAM-AGGREGATE-<n>). Time windows count
  // records with a null value too, as Kafka Streams 3.9.1 does; sliding
  // windows drop them (null-value), as it does.
  KTable<Windowed<K>, int64_t> Count(Materialized<K, int64_t> materialized = {},
                                     const Named& named = {}) const {
    return Fold<int64_t>(
        "KSTREAM-AGGREGATE-",
        {[](const K&, const V*, const std::optional<int64_t>& count) {
           return count.value_or(0) + 1;
         },
         internal::NullValues::kAggregate},
        std::move(materialized), named);
  }

  // The first value of each window as it is, then reducer(aggregate, value)
  // (KSTREAM-REDUCE-<n>). Null values are dropped (null-value).
  template <typename F>
  KTable<Windowed<K>, V> Reduce(F reducer, Materialized<K, V> materialized = {},
                                const Named& named = {}) const {
    static_assert(std::is_invocable_r_v<V, F&, const V&, const V&>,
                  "TimeWindowedKStream::Reduce: the reducer must be callable "
                  "as V(const V& aggregate, const V& value)");
    return Fold<V>("KSTREAM-REDUCE-",
                   {[reducer](const K&, const V* value,
                              const std::optional<V>& aggregate) mutable -> V {
                      if (!aggregate.has_value()) return *value;
                      return reducer(*aggregate, *value);
                    },
                    internal::NullValues::kDrop},
                   std::move(materialized), named);
  }

  // aggregator(key, value, aggregate) from initializer() in each window
  // (KSTREAM-AGGREGATE-<n>). An aggregator that takes the value as
  // `const std::optional<V>&` also gets records with a null value (time
  // windows; as Kafka Streams 3.9.1 passes them to its aggregator); one that
  // takes `const V&` cannot, and those records are dropped (null-value).
  // Sliding windows drop them either way, as Kafka Streams does.
  template <typename I, typename A,
            typename VR = std::decay_t<std::invoke_result_t<I&>>>
  KTable<Windowed<K>, VR> Aggregate(I initializer, A aggregator,
                                    Materialized<K, VR> materialized = {},
                                    const Named& named = {}) const {
    constexpr bool kTakesNull =
        std::is_invocable_r_v<VR, A&, const K&, const std::optional<V>&,
                              const VR&>;
    static_assert(
        kTakesNull ||
            std::is_invocable_r_v<VR, A&, const K&, const V&, const VR&>,
        "TimeWindowedKStream::Aggregate: the aggregator must be callable as "
        "VR(const K& key, const V& value, const VR& aggregate) or VR(const "
        "K& key, const std::optional<V>& value, const VR& aggregate), VR "
        "being what the initializer returns");
    return Fold<VR>(
        "KSTREAM-AGGREGATE-",
        {[initializer, aggregator](
             const K& key, const V* value,
             const std::optional<VR>& aggregate) mutable -> VR {
           auto call = [&](const VR& agg) -> VR {
             if constexpr (kTakesNull) {
               return aggregator(
                   key, value ? std::optional<V>(*value) : std::nullopt, agg);
             } else {
               return aggregator(key, *value, agg);
             }
           };
           if (aggregate.has_value()) return call(*aggregate);
           return call(initializer());
         },
         kTakesNull ? internal::NullValues::kAggregate
                    : internal::NullValues::kDrop},
        std::move(materialized), named);
  }

 private:
  template <typename, typename>
  friend class KGroupedStream;

  TimeWindowedKStream(internal::WindowedFold<K, V> fold,
                      std::variant<TimeWindows, SlidingWindows> windows)
      : fold_(std::move(fold)), windows_(windows) {}

  template <typename VR>
  KTable<Windowed<K>, VR> Fold(const std::string& prefix,
                               internal::WindowedAggregateFn<K, V, VR> fn,
                               Materialized<K, VR> materialized,
                               const Named& named) const {
    typename internal::WindowedFold<K, V>::template Spec<VR> spec;
    spec.prefix = prefix;
    spec.materialized = std::move(materialized);
    spec.named = named;
    if (const auto* sliding = std::get_if<SlidingWindows>(&windows_)) {
      return FoldSliding(*sliding, std::move(spec), fn.NonNull());
    }
    const TimeWindows& windows = std::get<TimeWindows>(windows_);
    spec.windows_valid = windows.Validate();
    spec.min_retention_ms = windows.size_ms + windows.grace_ms;
    spec.close_delay_ms = windows.grace_ms;
    spec.windowed_serde = [size = windows.size_ms](SerdePtr<K> ks) {
      return WindowedSerdes::TimeWindowed<K>(std::move(ks), size);
    };
    spec.store_builder = [](std::string name, int64_t retention, SerdePtr<K> ks,
                            SerdePtr<VR> vs, StoreOptions options) {
      using Agg = internal::TimestampedAggregate<VR>;
      return Stores::WindowStoreBuilder<K, Agg>(
          std::move(name), retention, std::move(ks),
          std::make_shared<internal::TimestampedAggregateSerde<VR>>(
              std::move(vs)),
          options);
    };
    spec.processor = [windows, fn](const std::string& store) {
      return std::make_unique<internal::TimeWindowAggregateProcessor<K, V, VR>>(
          store, windows, fn);
    };
    return fold_.Fold(std::move(spec));
  }

  // Sliding windows: the store keeps each window's aggregate with its
  // largest record timestamp; retention 2 * difference + grace, as Kafka
  // Streams (a record looks back up to 2 * difference for the windows it
  // derives new ones from).
  template <typename VR>
  KTable<Windowed<K>, VR> FoldSliding(
      const SlidingWindows& windows,
      typename internal::WindowedFold<K, V>::template Spec<VR> spec,
      internal::AggregateFn<K, V, VR> fn) const {
    spec.windows_valid = windows.Validate();
    spec.min_retention_ms = 2 * windows.time_difference_ms + windows.grace_ms;
    spec.close_delay_ms = windows.grace_ms + 1;
    spec.windowed_serde = [size = windows.time_difference_ms](SerdePtr<K> ks) {
      return WindowedSerdes::TimeWindowed<K>(std::move(ks), size);
    };
    spec.store_builder = [](std::string name, int64_t retention, SerdePtr<K> ks,
                            SerdePtr<VR> vs, StoreOptions options) {
      using Agg = internal::TimestampedAggregate<VR>;
      return Stores::WindowStoreBuilder<K, Agg>(
          std::move(name), retention, std::move(ks),
          std::make_shared<internal::TimestampedAggregateSerde<VR>>(
              std::move(vs)),
          options);
    };
    spec.processor = [windows, fn](const std::string& store) {
      return std::make_unique<
          internal::SlidingWindowAggregateProcessor<K, V, VR>>(store, windows,
                                                               fn);
    };
    return fold_.Fold(std::move(spec));
  }

  internal::WindowedFold<K, V> fold_;
  std::variant<TimeWindows, SlidingWindows> windows_;
};

}  // namespace brook

#endif  // BROOK_OPERATORS_TIME_WINDOWED_KSTREAM_H_
