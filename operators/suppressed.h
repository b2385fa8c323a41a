// Suppressed: final results of a windowed aggregation (Kafka Streams'
// suppress(Suppressed.untilWindowCloses(unbounded()))).
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
// others) forward nothing. The buffer is an in-memory key-value store
// (KTABLE-SUPPRESS-STATE-STORE-<n>, or Suppressed::name + "-store") with a
// changelog, restored in full after a restart; forwarding a final result
// and removing it from the buffer commit together, so under exactly-once
// each window and key gets exactly one final result, also across crashes.
// The buffer is unbounded (Kafka Streams' BufferConfig.unbounded()).
//
// Stream time here is the highest timestamp the suppress node has seen: a
// window's result comes out when a later record (of any key of the task)
// moves it past the close, not on wall-clock time.
//
// Threading model: plain values; build on one thread.
#ifndef BROOK_OPERATORS_SUPPRESSED_H_
#define BROOK_OPERATORS_SUPPRESSED_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "operators/internal/suppress.h"
#include "operators/ktable.h"
#include "runtime/stores.h"

namespace brook {

struct Suppressed {
  // The node's name (KTABLE-SUPPRESS-<n> if empty); the buffer store is
  // "<name>-store".
  std::string name;

  static Suppressed UntilWindowCloses() { return Suppressed{}; }
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

template <typename K, typename V>
template <typename S>
KTable<K, V> KTable<K, V>::Suppress(const S& suppressed,
                                    const Named& named) const {
  static_assert(std::is_same_v<S, Suppressed>,
                "KTable::Suppress takes a Suppressed");
  static_assert(internal::WindowedKeyOf<K>::kIsWindowed,
                "KTable::Suppress(Suppressed::UntilWindowCloses()) needs a "
                "windowed table, KTable<Windowed<K>, V>");
  using KK = typename internal::WindowedKeyOf<K>::Key;
  const std::string name = !suppressed.name.empty()
                               ? suppressed.name
                               : graph_->NameOr(named.name, "KTABLE-SUPPRESS-");
  const std::string store =
      !suppressed.name.empty()
          ? suppressed.name + "-store"
          : graph_->NewName("KTABLE-SUPPRESS-STATE-STORE-");
  if (window_close_delay_ms_ < 0) {
    graph_->AddError(absl::InvalidArgumentError(absl::StrCat(
        "suppress '", name,
        "': UntilWindowCloses needs the table of a windowed aggregation "
        "(Count, Reduce or Aggregate after WindowedBy) directly upstream")));
  }
  internal::CheckSerdes<K, V>(*graph_, key_serde_, value_serde_,
                              absl::StrCat("suppress '", name, "'"),
                              "Materialized of the aggregation");
  internal::DslNode node;
  node.kind = internal::DslNode::Kind::kProcessor;
  node.name = name;
  node.parents = {node_};
  node.input = node.output =
      internal::RecordTypes::Of<K, internal::Change<V>>();
  node.add = [store, delay = window_close_delay_ms_, ks = key_serde_](
                 Topology& t, const std::string& name,
                 std::vector<std::string> parents) {
    t.AddProcessor<K, internal::Change<V>, K, internal::Change<V>>(
        name,
        [store, delay, ks] {
          return std::make_unique<internal::WindowSuppressProcessor<KK, V>>(
              store, delay, ks);
        },
        std::move(parents));
  };
  if (key_serde_ && value_serde_) {
    node.stores.push_back(
        Stores::KeyValueStoreBuilder<K, internal::BufferedValue<V>>(
            store, key_serde_,
            std::make_shared<internal::TimestampedAggregateSerde<V>>(
                value_serde_),
            StoreOptions{.persistent = false, .logging_enabled = true}));
  }
  const int id = graph_->Add(std::move(node));
  KTable<K, V> out(graph_, id, key_serde_, value_serde_, "");
  return out;
}

}  // namespace brook

#endif  // BROOK_OPERATORS_SUPPRESSED_H_
