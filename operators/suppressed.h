// Suppressed: holds back a table's updates (Kafka Streams' suppress).
//
// Final results of a windowed aggregation
// (suppress(Suppressed.untilWindowCloses(unbounded()))):
//
//   builder.Stream<std::string, std::string>("views")
//       .GroupByKey()
//       .WindowedBy(TimeWindows::OfSizeAndGrace(absl::Minutes(1),
//                                               absl::Seconds(10)))
//       .Count()
//       .Suppress(Suppressed::UntilWindowCloses())
//       .ToStream()
//       .To("views-per-minute-final");
//
// Each window's updates are held in a buffer until stream time passes the
// window's close (end + grace; for sessions and sliding windows, whose end
// is inclusive, one ms later), then its last value is forwarded once, with
// the timestamp of that last update. Deleted windows (sessions merged into
// others) forward nothing.
//
// Rate limiting of any table (suppress(Suppressed.untilTimeLimit(...))):
//
//   table.Suppress(Suppressed::UntilTimeLimit(
//       absl::Minutes(5),
//       BufferConfig::MaxRecords(10'000).EmitEarlyWhenFull()))
//
// A key's first update enters the buffer at its timestamp t; later updates
// replace the buffered value but keep t; once stream time reaches t + limit,
// the latest value is forwarded (deletes too), with the timestamp of the
// latest update and, as old value, the key's value before t.
//
// The buffer is an in-memory key-value store (KTABLE-SUPPRESS-STATE-STORE-
// <n>, or Suppressed::name + "-store") with a changelog, restored in full
// after a restart; forwarding a result and removing it from the buffer
// commit together, so under exactly-once each buffered update is forwarded
// once, also across crashes.
//
// Its bound (BufferConfig) caps the keys held (MaxRecords) and/or their
// bytes (MaxBytes: serialized key + buffer entry). When a new update leaves
// the buffer over its bound after the due keys have left, EmitEarlyWhenFull
// forwards the oldest keys early until it fits (the default with a bound,
// as in Kafka Streams); ShutDownWhenFull fails the task with a
// kResourceExhausted status naming the node, the bound and the key count.
// UntilWindowCloses takes only strict configs (Unbounded(), or a bound with
// ShutDownWhenFull): an early result would not be final (a Build() error).
//
// Stream time here is the highest timestamp the suppress node has seen: a
// result comes out when a later record (of any key of the task) moves it
// forward, not on wall-clock time.
//
// Threading model: plain values; build on one thread.
#ifndef BROOK_OPERATORS_SUPPRESSED_H_
#define BROOK_OPERATORS_SUPPRESSED_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

#include "brook/operators/internal/suppress.h"
#include "brook/operators/internal/suppress_buffer.h"
#include "brook/operators/internal/time_limit_suppress.h"
#include "brook/operators/ktable.h"
#include "brook/runtime/stores.h"

namespace brook {

// Kafka Streams' Suppressed.BufferConfig.
struct BufferConfig {
  // How many keys / bytes the buffer may hold (kUnbounded: no bound).
  int64_t max_records = internal::BufferLimits::kUnbounded;
  int64_t max_bytes = internal::BufferLimits::kUnbounded;
  // What a full buffer does: forward its oldest keys early, or fail.
  enum class WhenFull { kEmitEarly, kShutDown };
  WhenFull when_full = WhenFull::kShutDown;

  // No bound (strict: never emits early).
  static BufferConfig Unbounded() { return BufferConfig{}; }
  // A bound that emits early when full, unless ShutDownWhenFull() follows.
  static BufferConfig MaxRecords(int64_t n) {
    return BufferConfig{n, internal::BufferLimits::kUnbounded,
                        WhenFull::kEmitEarly};
  }
  static BufferConfig MaxBytes(int64_t b) {
    return BufferConfig{internal::BufferLimits::kUnbounded, b,
                        WhenFull::kEmitEarly};
  }
  BufferConfig WithMaxRecords(int64_t n) const {
    BufferConfig c = *this;
    c.max_records = n;
    return c;
  }
  BufferConfig WithMaxBytes(int64_t b) const {
    BufferConfig c = *this;
    c.max_bytes = b;
    return c;
  }
  BufferConfig EmitEarlyWhenFull() const {
    BufferConfig c = *this;
    c.when_full = WhenFull::kEmitEarly;
    return c;
  }
  BufferConfig ShutDownWhenFull() const {
    BufferConfig c = *this;
    c.when_full = WhenFull::kShutDown;
    return c;
  }
};

struct Suppressed {
  enum class Kind { kUntilWindowCloses, kUntilTimeLimit };
  Kind kind = Kind::kUntilWindowCloses;
  // UntilTimeLimit: how long a key's updates are held.
  absl::Duration time_limit = absl::ZeroDuration();
  BufferConfig buffer;
  // The node's name (KTABLE-SUPPRESS-<n> if empty); the buffer store is
  // "<name>-store".
  std::string name;

  // REQUIRES (else a Build() error): `buffer` is strict (Unbounded() or
  // ShutDownWhenFull()).
  static Suppressed UntilWindowCloses(
      BufferConfig buffer = BufferConfig::Unbounded()) {
    return Suppressed{Kind::kUntilWindowCloses, absl::ZeroDuration(), buffer,
                      ""};
  }
  // REQUIRES (else a Build() error): limit >= 0, whole milliseconds.
  static Suppressed UntilTimeLimit(absl::Duration limit, BufferConfig buffer) {
    return Suppressed{Kind::kUntilTimeLimit, limit, buffer, ""};
  }
  Suppressed WithName(std::string n) const {
    Suppressed s = *this;
    s.name = std::move(n);
    return s;
  }
};

namespace internal {
template <typename K>
struct WindowedKeyOf {
  static constexpr bool kIsWindowed = false;
};
template <typename K>
struct WindowedKeyOf<Windowed<K>> {
  static constexpr bool kIsWindowed = true;
  using Key = K;
};
}  // namespace internal

namespace internal {

// The BufferConfig as the processors take it, or a Build() error.
inline absl::StatusOr<BufferLimits> LimitsOf(const Suppressed& s,
                                             const std::string& name) {
  const BufferConfig& b = s.buffer;
  if (b.max_records < 0 || b.max_bytes < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "suppress '", name, "': BufferConfig bounds must be >= 0, got ",
        "max_records ", b.max_records, ", max_bytes ", b.max_bytes));
  }
  BufferLimits limits{b.max_records, b.max_bytes,
                      b.when_full == BufferConfig::WhenFull::kEmitEarly};
  if (!limits.bounded()) limits.emit_early = false;
  if (s.kind == Suppressed::Kind::kUntilWindowCloses && limits.emit_early) {
    return absl::InvalidArgumentError(absl::StrCat(
        "suppress '", name,
        "': UntilWindowCloses needs a strict BufferConfig (Unbounded(), or a "
        "bound with ShutDownWhenFull()): emitting early would forward results "
        "that are not final"));
  }
  if (s.kind == Suppressed::Kind::kUntilTimeLimit &&
      (s.time_limit < absl::ZeroDuration() ||
       s.time_limit !=
           absl::Milliseconds(absl::ToInt64Milliseconds(s.time_limit)))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "suppress '", name, "': UntilTimeLimit needs a limit >= 0 in whole ",
        "milliseconds, got ", absl::FormatDuration(s.time_limit)));
  }
  return limits;
}

}  // namespace internal

template <typename K, typename V>
template <typename S>
KTable<K, V> KTable<K, V>::Suppress(const S& suppressed,
                                    const Named& named) const {
  static_assert(std::is_same_v<S, Suppressed>,
                "KTable::Suppress takes a Suppressed");
  constexpr bool kWindowed = internal::WindowedKeyOf<K>::kIsWindowed;
  const std::string name = !suppressed.name.empty()
                               ? suppressed.name
                               : graph_->NameOr(named.name, "KTABLE-SUPPRESS-");
  const std::string store =
      !suppressed.name.empty()
          ? suppressed.name + "-store"
          : graph_->NewName("KTABLE-SUPPRESS-STATE-STORE-");
  const bool until_closes =
      suppressed.kind == Suppressed::Kind::kUntilWindowCloses;
  if (until_closes && (!kWindowed || window_close_delay_ms_ < 0)) {
    graph_->AddError(absl::InvalidArgumentError(absl::StrCat(
        "suppress '", name,
        "': UntilWindowCloses needs the table of a windowed aggregation "
        "(Count, Reduce or Aggregate after WindowedBy) directly upstream")));
  }
  absl::StatusOr<internal::BufferLimits> limits =
      internal::LimitsOf(suppressed, name);
  if (!limits.ok()) graph_->AddError(limits.status());
  const internal::BufferLimits bounds =
      limits.ok() ? *limits : internal::BufferLimits{};
  internal::CheckSerdes<K, V>(*graph_, key_serde_, value_serde_,
                              absl::StrCat("suppress '", name, "'"),
                              "Materialized of the aggregation");
  internal::DslNode node;
  node.kind = internal::DslNode::Kind::kProcessor;
  node.name = name;
  node.parents = {node_};
  node.input = node.output =
      internal::RecordTypes::Of<K, internal::Change<V>>();
  if (until_closes) {
    if constexpr (kWindowed) {
      using KK = typename internal::WindowedKeyOf<K>::Key;
      auto buffered = std::make_shared<internal::TimestampedAggregateSerde<V>>(
          value_serde_);
      node.add = [store, delay = window_close_delay_ms_, ks = key_serde_,
                  buffered, bounds](Topology& t, const std::string& name,
                                    std::vector<std::string> parents) {
        t.AddProcessor<K, internal::Change<V>, K, internal::Change<V>>(
            name,
            [name, store, delay, ks, buffered, bounds] {
              return std::make_unique<internal::WindowSuppressProcessor<KK, V>>(
                  name, store, delay, ks, buffered, bounds);
            },
            std::move(parents));
      };
      if (key_serde_ && value_serde_) {
        node.stores.push_back(
            Stores::KeyValueStoreBuilder<K, internal::BufferedValue<V>>(
                store, key_serde_, buffered,
                StoreOptions{.persistent = false, .logging_enabled = true}));
      }
    }
  } else {
    auto updates =
        value_serde_
            ? std::make_shared<internal::SuppressedUpdateSerde<V>>(value_serde_)
            : nullptr;
    node.add = [store, limit = absl::ToInt64Milliseconds(suppressed.time_limit),
                ks = key_serde_, updates,
                bounds](Topology& t, const std::string& name,
                        std::vector<std::string> parents) {
      t.AddProcessor<K, internal::Change<V>, K, internal::Change<V>>(
          name,
          [name, store, limit, ks, updates, bounds] {
            return std::make_unique<internal::TimeLimitSuppressProcessor<K, V>>(
                name, store, limit, ks, updates, bounds);
          },
          std::move(parents));
    };
    if (key_serde_ && value_serde_) {
      node.stores.push_back(
          Stores::KeyValueStoreBuilder<K, internal::SuppressedUpdate<V>>(
              store, key_serde_, updates,
              StoreOptions{.persistent = false, .logging_enabled = true}));
    }
  }
  const int id = graph_->Add(std::move(node));
  KTable<K, V> out(graph_, id, key_serde_, value_serde_, "");
  return out;
}

}  // namespace brook

#endif  // BROOK_OPERATORS_SUPPRESSED_H_
