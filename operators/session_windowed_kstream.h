// SessionWindowedKStream<K, V>: a grouped stream cut into sessions of
// activity (KGroupedStream::WindowedBy(SessionWindows)). A session holds a
// key's records that follow each other within the inactivity gap; a record
// that falls within the gap of two sessions merges them. Count, Reduce and
// Aggregate (with a Merger that combines two sessions' aggregates) keep one
// aggregate per key and session in a session store (changelogged; retention
// gap + grace unless Materialized::WithRetention) and produce a
// KTable<Windowed<K>, VR> whose key serde is Kafka Streams' session-windowed
// format (runtime/windowed.h).
//
// Each record forwards, for every session it merges away, a delete
// (Change(null, old)) of that session's key, then the new session's
// aggregate as Change(new, null), as Kafka Streams does; ToStream() turns
// the deletes into tombstones. Each of them carries its session's end as
// timestamp (Kafka Streams 3.9.1). A record whose (merged) session ended
// more than grace before stream time is dropped and counted
// (window-closed); a null key is dropped and counted too, null values as
// Count, Reduce and Aggregate say.
//
// Threading model: build on one thread.
#ifndef BROOK_OPERATORS_SESSION_WINDOWED_KSTREAM_H_
#define BROOK_OPERATORS_SESSION_WINDOWED_KSTREAM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

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
class SessionWindowedKStream {
 public:
  // Records per key and session (KSTREAM-AGGREGATE-<n>), null values
  // included (as Kafka Streams 3.9.1 counts them); merged sessions add up.
  KTable<Windowed<K>, int64_t> Count(Materialized<K, int64_t> materialized = {},
                                     const Named& named = {}) const {
    internal::SessionFns<K, V, int64_t> fns;
    fns.initial = [] { return std::optional<int64_t>(); };
    fns.merge = [](const K&, const int64_t& a, const int64_t& b) {
      return a + b;
    };
    fns.add = {[](const K&, const V*, const std::optional<int64_t>& count) {
                 return count.value_or(0) + 1;
               },
               internal::NullValues::kAggregate};
    return Fold<int64_t>("KSTREAM-AGGREGATE-", std::move(fns),
                         std::move(materialized), named);
  }

  // reducer(aggregate, value) within a session, and reducer(a, b) to merge
  // two sessions (KSTREAM-REDUCE-<n>). Null values are dropped (null-value).
  template <typename F>
  KTable<Windowed<K>, V> Reduce(F reducer, Materialized<K, V> materialized = {},
                                const Named& named = {}) const {
    static_assert(std::is_invocable_r_v<V, F&, const V&, const V&>,
                  "SessionWindowedKStream::Reduce: the reducer must be "
                  "callable as V(const V& aggregate, const V& value)");
    internal::SessionFns<K, V, V> fns;
    fns.initial = [] { return std::optional<V>(); };
    fns.merge = [reducer](const K&, const V& a, const V& b) mutable -> V {
      return reducer(a, b);
    };
    fns.add = {[reducer](const K&, const V* value,
                         const std::optional<V>& aggregate) mutable -> V {
                 if (!aggregate.has_value()) return *value;
                 return reducer(*aggregate, *value);
               },
               internal::NullValues::kDrop};
    return Fold<V>("KSTREAM-REDUCE-", std::move(fns), std::move(materialized),
                   named);
  }

  // aggregator(key, value, aggregate) from initializer(); merging sessions
  // starts from initializer() and folds in each session's aggregate with
  // merger(key, aggregate, session aggregate) (KSTREAM-AGGREGATE-<n>). An
  // aggregator taking the value as `const std::optional<V>&` also gets null
  // values (as Kafka Streams 3.9.1's does); with `const V&` they are dropped
  // (null-value).
  template <typename I, typename A, typename M,
            typename VR = std::decay_t<std::invoke_result_t<I&>>>
  KTable<Windowed<K>, VR> Aggregate(I initializer, A aggregator, M merger,
                                    Materialized<K, VR> materialized = {},
                                    const Named& named = {}) const {
    constexpr bool kTakesNull =
        std::is_invocable_r_v<VR, A&, const K&, const std::optional<V>&,
                              const VR&>;
    static_assert(
        kTakesNull ||
            std::is_invocable_r_v<VR, A&, const K&, const V&, const VR&>,
        "SessionWindowedKStream::Aggregate: the aggregator must be callable "
        "as VR(const K& key, const V& value, const VR& aggregate) or "
        "VR(const K& key, const std::optional<V>& value, const VR& "
        "aggregate), VR being what the initializer returns");
    static_assert(std::is_invocable_r_v<VR, M&, const K&, const VR&, const VR&>,
                  "SessionWindowedKStream::Aggregate: the merger must be "
                  "callable as VR(const K& key, const VR& a, const VR& b)");
    internal::SessionFns<K, V, VR> fns;
    fns.initial = [initializer]() mutable {
      return std::optional<VR>(initializer());
    };
    fns.merge = [merger](const K& key, const VR& a, const VR& b) mutable -> VR {
      return merger(key, a, b);
    };
    fns.add = {[initializer, aggregator](
                   const K& key, const V* value,
                   const std::optional<VR>& aggregate) mutable -> VR {
                 auto call = [&](const VR& agg) -> VR {
                   if constexpr (kTakesNull) {
                     return aggregator(
                         key, value ? std::optional<V>(*value) : std::nullopt,
                         agg);
                   } else {
                     return aggregator(key, *value, agg);
                   }
                 };
                 if (aggregate.has_value()) return call(*aggregate);
                 return call(initializer());
               },
               kTakesNull ? internal::NullValues::kAggregate
                          : internal::NullValues::kDrop};
    return Fold<VR>("KSTREAM-AGGREGATE-", std::move(fns),
                    std::move(materialized), named);
  }

 private:
  template <typename, typename>
  friend class KGroupedStream;

  SessionWindowedKStream(internal::WindowedFold<K, V> fold,
                         SessionWindows windows)
      : fold_(std::move(fold)), windows_(windows) {}

  template <typename VR>
  KTable<Windowed<K>, VR> Fold(const std::string& prefix,
                               internal::SessionFns<K, V, VR> fns,
                               Materialized<K, VR> materialized,
                               const Named& named) const {
    typename internal::WindowedFold<K, V>::template Spec<VR> spec;
    spec.prefix = prefix;
    spec.materialized = std::move(materialized);
    spec.named = named;
    spec.windows_valid = windows_.Validate();
    spec.min_retention_ms = windows_.gap_ms + windows_.grace_ms;
    spec.close_delay_ms = windows_.grace_ms + 1;
    spec.windowed_serde = [](SerdePtr<K> ks) {
      return WindowedSerdes::SessionWindowed<K>(std::move(ks));
    };
    spec.store_builder = [](std::string name, int64_t retention, SerdePtr<K> ks,
                            SerdePtr<VR> vs, StoreOptions options) {
      return Stores::SessionStoreBuilder<K, VR>(
          std::move(name), retention, std::move(ks), std::move(vs), options);
    };
    spec.processor = [windows = windows_, fns](const std::string& store) {
      return std::make_unique<
          internal::SessionWindowAggregateProcessor<K, V, VR>>(store, windows,
                                                               fns);
    };
    return fold_.Fold(std::move(spec));
  }

  internal::WindowedFold<K, V> fold_;
  SessionWindows windows_;
};

}  // namespace brook

#endif  // BROOK_OPERATORS_SESSION_WINDOWED_KSTREAM_H_
