// StreamStreamJoinProcessor: KStream::Join, LeftJoin and OuterJoin with
// another KStream within JoinWindows (Kafka Streams' KStreamKStreamJoin).
//
// Both streams feed one processor: a stateless step on each side wraps the
// record's value in a JoinInput saying which side it came from. Each side's
// records are kept in a window store (window start = record timestamp; a
// list of values per key and timestamp, so duplicates are kept); left and
// outer joins also keep the records that have not joined yet in one shared
// "outer" window store (key = side + key), as Kafka Streams does.
//
// For a record of key k at time t (after nulls and late records are
// handled, see below):
//   1. it is added to its side's store;
//   2. unjoined records whose window has closed are forwarded with a null
//      for the other side (left join: left records only; outer join: both),
//      key and timestamp their own, oldest first, and removed;
//   3. it is joined with every record of the other side of key k in its
//      window (left record: right records in [t - before, t + after]; right
//      record: left records in [t - after, t + before]): joiner(left,
//      right) with timestamp max(t, other's), and each such other record
//      leaves the outer store;
//   4. if nothing joined and its side emits unjoined records, it enters the
//      outer store.
//
// Time. Stream time S is the highest timestamp either side has accepted;
// it is recovered after a restart from the two side stores (whose observed
// time is committed with their data), so it never goes back. A record is
// late when S > t + after + grace (left) or S > t + before + grace (right):
// its own window has ended more than grace ago. On a side that emits
// unjoined records (left join: left; outer join: both) a late record is
// handled as Kafka Streams 3.9.1 does (KStreamKStreamJoin, `timeTo <
// streamTime`): stored, joined with the other side's records still held,
// and if none joins, forwarded joined with null at once, not counted as
// dropped. On the other sides (inner joins; a left join's right side) it
// is dropped and counted (dropped-records, window-closed), where Kafka
// Streams still joins it until its store's retention drops it: Brook
// keeps a right record that comes too late from joining a left record
// whose left result may already be out. An unjoined record is emitted once
// S > t + before + after + grace: from then on every record that could
// still join it is too late, so a left/outer result is never followed by
// an inner result for the same record (no spurious results). For joins
// with before = 0 (or after = 0 for right records) this is exactly Kafka
// Streams 3.x's time (window end + grace); otherwise Brook waits the other
// direction's difference longer, where Kafka Streams may emit a left result
// and later an inner one for the same record. Kafka Streams also throttles
// the emission to once a second of wall-clock time; Brook checks on every
// record, and skips the scan while a lower bound on the oldest unjoined
// record says nothing can have closed (after a scan the bound is the
// closing edge, so a buffer that holds entries is scanned again each time
// stream time advances; the scan reads only closed entries).
//
// Nulls: a record with a null value is dropped (null-value). A null key is
// dropped (null-key), except on the outer side of a left or outer join
// whose joiner takes no key: then it is forwarded at once joined with a
// null (Kafka Streams 3.7+, KIP-962).
//
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_STREAM_STREAM_JOIN_H_
#define BROOK_OPERATORS_INTERNAL_STREAM_STREAM_JOIN_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/operators/internal/functions.h"
#include "brook/operators/internal/graph.h"
#include "brook/operators/internal/join_serdes.h"
#include "brook/operators/join_windows.h"
#include "brook/runtime/processor.h"
#include "brook/runtime/serde.h"
#include "brook/runtime/stores.h"
#include "brook/runtime/window_store.h"

namespace brook::internal {

enum class JoinKind { kInner, kLeft, kOuter };

// What each side's wrapping step forwards to the join processor.
template <typename V1, typename V2>
struct JoinInput {
  bool left = true;
  std::optional<V1> left_value;
  std::optional<V2> right_value;
};

// The value arguments a joiner takes for each kind of join: inner (const
// V1&, const V2&), left (const V1&, const std::optional<V2>&), outer (const
// std::optional<V1>&, const std::optional<V2>&).
template <typename V1, JoinKind kKind>
using JoinLeftArg = std::conditional_t<kKind == JoinKind::kOuter,
                                       const std::optional<V1>&, const V1&>;
template <typename V2, JoinKind kKind>
using JoinRightArg = std::conditional_t<kKind == JoinKind::kInner, const V2&,
                                        const std::optional<V2>&>;

template <typename K, typename V1, typename V2, typename J, JoinKind kKind>
inline constexpr bool kStreamJoinerTakesValues =
    std::is_invocable_v<J&, JoinLeftArg<V1, kKind>, JoinRightArg<V2, kKind>>;
template <typename K, typename V1, typename V2, typename J, JoinKind kKind>
inline constexpr bool kStreamJoinerTakesKey =
    std::is_invocable_v<J&, const K&, JoinLeftArg<V1, kKind>,
                        JoinRightArg<V2, kKind>>;

template <typename K, typename V1, typename V2, typename J, JoinKind kKind>
constexpr auto StreamJoinResultType() {
  using L = JoinLeftArg<V1, kKind>;
  using R = JoinRightArg<V2, kKind>;
  if constexpr (kStreamJoinerTakesValues<K, V1, V2, J, kKind>) {
    return std::type_identity<std::invoke_result_t<J&, L, R>>{};
  } else {
    return std::type_identity<std::invoke_result_t<J&, const K&, L, R>>{};
  }
}

template <typename K, typename V1, typename V2, typename J, JoinKind kKind>
using StreamJoinResult = UnwrapT<std::decay_t<
    typename decltype(StreamJoinResultType<K, V1, V2, J, kKind>())::type>>;

// The names of a join's stores, from its base name.
inline std::string ThisJoinStore(const std::string& base) {
  return base + "-this-join-store";
}
inline std::string OtherJoinStore(const std::string& base) {
  return base + "-other-join-store";
}
inline std::string OuterJoinStore(const std::string& base) {
  return base + "-outer-shared-join-store";
}

template <typename K, typename V1, typename V2, typename VR, typename J,
          JoinKind kKind>
class StreamStreamJoinProcessor final
    : public Processor<K, JoinInput<V1, V2>, K, VR> {
 public:
  StreamStreamJoinProcessor(std::string store_base, JoinWindows windows,
                            J joiner)
      : store_base_(std::move(store_base)),
        windows_(windows),
        joiner_(std::move(joiner)) {}

  absl::Status Init(ProcessorContext<K, VR>& context) override {
    context_ = &context;
    BROOK_ASSIGN_OR_RETURN(left_, context.template GetStateStore<LeftStore>(
                                      ThisJoinStore(store_base_)));
    BROOK_ASSIGN_OR_RETURN(right_, context.template GetStateStore<RightStore>(
                                       OtherJoinStore(store_base_)));
    if constexpr (kKind != JoinKind::kInner) {
      BROOK_ASSIGN_OR_RETURN(outer_, context.template GetStateStore<OuterStore>(
                                         OuterJoinStore(store_base_)));
    }
    // Stream time survives restarts: it is the highest timestamp either
    // side store has accepted, committed with the stores.
    stream_time_ = std::max(left_->observed_stream_time_ms().value_or(-1),
                            right_->observed_stream_time_ms().value_or(-1));
    return absl::OkStatus();
  }

  absl::Status Process(const Record<K, JoinInput<V1, V2>>& record) override {
    const JoinInput<V1, V2>& in = *record.value;
    const bool left = in.left;
    if (left ? !in.left_value.has_value() : !in.right_value.has_value()) {
      context_->RecordDropped(DroppedRecordReason::kNullValue);
      return absl::OkStatus();
    }
    if (!record.key.has_value()) return NullKey(record, in);
    const K& key = *record.key;
    const int64_t t = record.timestamp_ms;
    stream_time_ = std::max(stream_time_, t);
    const int64_t own_after = left ? windows_.after_ms : windows_.before_ms;
    // Later than its window's end + grace. On a side that emits unjoined
    // records this is Kafka Streams 3.9.1's case `timeTo < streamTime` for a
    // record that found no partner: it is joined with what the other side
    // still holds, or else with null at once, and counted nowhere. On the
    // other sides Brook drops it, so that nothing joins a record whose
    // unjoined result may already be out.
    const bool late = stream_time_ > t + own_after + windows_.grace_ms;
    if (late && !EmitsUnjoined(left)) {
      context_->RecordDropped(DroppedRecordReason::kWindowClosed);
      return absl::OkStatus();
    }
    bool stored;
    if (left) {
      BROOK_ASSIGN_OR_RETURN(stored, Append(*left_, key, t, *in.left_value));
    } else {
      BROOK_ASSIGN_OR_RETURN(stored, Append(*right_, key, t, *in.right_value));
    }
    if (!stored) {  // older than the store's retention
      context_->RecordDropped(DroppedRecordReason::kWindowClosed);
      // Kafka Streams' window store drops it and counts it the same way,
      // and its join processor still joins it (a late outer-side record).
      if (!late) return absl::OkStatus();
    }
    if constexpr (kKind != JoinKind::kInner) {
      BROOK_RETURN_IF_ERROR(EmitClosed(record));
    }

    bool joined = false;
    if (left) {
      const int64_t from = std::max<int64_t>(0, t - windows_.before_ms);
      const int64_t to = std::max<int64_t>(0, t + windows_.after_ms);
      BROOK_RETURN_IF_ERROR(right_->Fetch(
          key, from, to,
          [&](const K&, int64_t other_t, const std::vector<V2>& values) {
            joined = true;
            BROOK_RETURN_IF_ERROR(Unbuffer(false, key, other_t));
            for (const V2& v : values) {
              BROOK_RETURN_IF_ERROR(
                  Emit(record.key, std::optional<V1>(in.left_value),
                       std::optional<V2>(v), std::max(t, other_t), record));
            }
            return absl::OkStatus();
          }));
    } else {
      const int64_t from = std::max<int64_t>(0, t - windows_.after_ms);
      const int64_t to = std::max<int64_t>(0, t + windows_.before_ms);
      BROOK_RETURN_IF_ERROR(left_->Fetch(
          key, from, to,
          [&](const K&, int64_t other_t, const std::vector<V1>& values) {
            joined = true;
            BROOK_RETURN_IF_ERROR(Unbuffer(true, key, other_t));
            for (const V1& v : values) {
              BROOK_RETURN_IF_ERROR(Emit(record.key, std::optional<V1>(v),
                                         std::optional<V2>(in.right_value),
                                         std::max(t, other_t), record));
            }
            return absl::OkStatus();
          }));
    }
    if (!joined && late) {
      return Emit(
          record.key, left ? in.left_value : std::optional<V1>(std::nullopt),
          left ? std::optional<V2>(std::nullopt) : in.right_value, t, record);
    }
    if (!joined && EmitsUnjoined(left)) {
      BROOK_ASSIGN_OR_RETURN(Pending pending,
                             outer_->Fetch(SideKey<K>{left, key}, t));
      Unjoined<V1, V2> u = pending.value_or(Unjoined<V1, V2>{});
      if (left) {
        u.left.push_back(*in.left_value);
      } else {
        u.right.push_back(*in.right_value);
      }
      BROOK_ASSIGN_OR_RETURN(bool put,
                             outer_->Put(SideKey<K>{left, key}, t, u));
      if (!put) {
        return absl::InternalError(
            absl::StrCat("join store '", OuterJoinStore(store_base_),
                         "' refused a record at ", t, " within its retention"));
      }
      if (!oldest_unjoined_.has_value() || t < *oldest_unjoined_) {
        oldest_unjoined_ = t;
      }
    }
    return absl::OkStatus();
  }

 private:
  using LeftStore = WindowStore<K, std::vector<V1>>;
  using RightStore = WindowStore<K, std::vector<V2>>;
  using OuterStore = WindowStore<SideKey<K>, Unjoined<V1, V2>>;
  using Pending = std::optional<Unjoined<V1, V2>>;

  static constexpr bool EmitsUnjoined(bool left) {
    return kKind == JoinKind::kOuter || (kKind == JoinKind::kLeft && left);
  }

  // The time after which nothing can join a record at `t` any more.
  int64_t ClosesAt(int64_t t) const {
    return t + windows_.before_ms + windows_.after_ms + windows_.grace_ms;
  }

  template <typename Store, typename V>
  absl::StatusOr<bool> Append(Store& store, const K& key, int64_t t,
                              const V& value) {
    BROOK_ASSIGN_OR_RETURN(std::optional<std::vector<V>> values,
                           store.Fetch(key, t));
    std::vector<V> list = values.value_or(std::vector<V>{});
    list.push_back(value);
    return store.Put(key, t, list);
  }

  // The other side's records of `key` at `t` have joined: they leave the
  // outer store.
  absl::Status Unbuffer(bool left, const K& key, int64_t t) {
    if constexpr (kKind == JoinKind::kInner) {
      return absl::OkStatus();
    } else {
      if (!EmitsUnjoined(left)) return absl::OkStatus();
      BROOK_ASSIGN_OR_RETURN(Pending pending,
                             outer_->Fetch(SideKey<K>{left, key}, t));
      if (!pending.has_value()) return absl::OkStatus();
      return outer_->Put(SideKey<K>{left, key}, t, std::nullopt).status();
    }
  }

  // Forwards, oldest first, every unjoined record whose window has closed.
  template <typename In>
  absl::Status EmitClosed(const Record<K, In>& current) {
    if (oldest_unjoined_.has_value() &&
        ClosesAt(*oldest_unjoined_) >= stream_time_) {
      return absl::OkStatus();
    }
    // Every record at t <= last has closed.
    const int64_t last = stream_time_ - (ClosesAt(0) + 1);
    oldest_unjoined_ = std::max<int64_t>(0, last + 1);
    if (last < 0) return absl::OkStatus();
    struct Closed {
      SideKey<K> key;
      int64_t t;
      Unjoined<V1, V2> values;
    };
    std::vector<Closed> closed;
    BROOK_RETURN_IF_ERROR(outer_->FetchAll(
        0, last,
        [&](const SideKey<K>& k, int64_t t, const Unjoined<V1, V2>& u) {
          closed.push_back(Closed{k, t, u});
          return absl::OkStatus();
        }));
    for (Closed& c : closed) {
      for (V1& v : c.values.left) {
        BROOK_RETURN_IF_ERROR(Emit(c.key.key, std::optional<V1>(std::move(v)),
                                   std::nullopt, c.t, current));
      }
      for (V2& v : c.values.right) {
        BROOK_RETURN_IF_ERROR(Emit(c.key.key, std::nullopt,
                                   std::optional<V2>(std::move(v)), c.t,
                                   current));
      }
      BROOK_RETURN_IF_ERROR(outer_->Put(c.key, c.t, std::nullopt).status());
    }
    return absl::OkStatus();
  }

  absl::Status NullKey(const Record<K, JoinInput<V1, V2>>& record,
                       const JoinInput<V1, V2>& in) {
    if constexpr (kStreamJoinerTakesValues<K, V1, V2, J, kKind>) {
      if (EmitsUnjoined(in.left)) {
        return Emit(std::nullopt, in.left ? in.left_value : std::nullopt,
                    in.left ? std::nullopt : in.right_value,
                    record.timestamp_ms, record);
      }
    }
    context_->RecordDropped(DroppedRecordReason::kNullKey);
    return absl::OkStatus();
  }

  // Forwards joiner(left, right) (either may be null where the join kind
  // allows it).
  template <typename In>
  absl::Status Emit(const std::optional<K>& key, const std::optional<V1>& l,
                    const std::optional<V2>& r, int64_t timestamp_ms,
                    const Record<K, In>& current) {
    std::optional<VR> joined;
    if constexpr (kStreamJoinerTakesValues<K, V1, V2, J, kKind>) {
      joined = ToOptional(joiner_(LeftArg(l), RightArg(r)));
    } else {
      joined = ToOptional(joiner_(*key, LeftArg(l), RightArg(r)));
    }
    return context_->Forward(
        Record<K, VR>{key, std::move(joined), timestamp_ms, current.headers});
  }
  static JoinLeftArg<V1, kKind> LeftArg(const std::optional<V1>& l) {
    if constexpr (kKind == JoinKind::kOuter) {
      return l;
    } else {
      return *l;
    }
  }
  static JoinRightArg<V2, kKind> RightArg(const std::optional<V2>& r) {
    if constexpr (kKind == JoinKind::kInner) {
      return *r;
    } else {
      return r;
    }
  }

  const std::string store_base_;
  const JoinWindows windows_;
  J joiner_;
  ProcessorContext<K, VR>* context_ = nullptr;
  LeftStore* left_ = nullptr;
  RightStore* right_ = nullptr;
  OuterStore* outer_ = nullptr;
  int64_t stream_time_ = -1;
  // No unjoined record is older than this; nullopt: unknown (scan).
  std::optional<int64_t> oldest_unjoined_;
};

// Adds a join of `left_node` and `right_node` to `graph`: a wrapping step on
// each side ("<name>-left", "<name>-right"), then the join processor
// `name` with its stores. Returns the join's node id.
template <typename K, typename V1, typename V2, typename VR, typename J,
          JoinKind kKind>
int AddStreamStreamJoin(DslGraph& graph, int left_node, int right_node,
                        const std::string& name, const std::string& store_base,
                        const JoinWindows& windows, SerdePtr<K> key_serde,
                        SerdePtr<V1> left_serde, SerdePtr<V2> right_serde,
                        bool logging_enabled, J joiner) {
  using In = JoinInput<V1, V2>;
  auto wrap = [&](int parent, bool left, const std::string& suffix) {
    DslNode node;
    node.kind = DslNode::Kind::kStateless;
    node.name = name + suffix;
    node.parents = {parent};
    if (left) {
      node.input = RecordTypes::Of<K, V1>();
    } else {
      node.input = RecordTypes::Of<K, V2>();
    }
    node.output = RecordTypes::Of<K, In>();
    node.step = [left](const void* in, const Next& next) {
      In value;
      value.left = left;
      std::optional<K> key;
      int64_t ts;
      std::vector<Header> headers;
      if (left) {
        const auto& r = *static_cast<const Record<K, V1>*>(in);
        key = r.key;
        value.left_value = r.value;
        ts = r.timestamp_ms;
        headers = r.headers;
      } else {
        const auto& r = *static_cast<const Record<K, V2>*>(in);
        key = r.key;
        value.right_value = r.value;
        ts = r.timestamp_ms;
        headers = r.headers;
      }
      Record<K, In> out{std::move(key), std::move(value), ts,
                        std::move(headers)};
      return next.Temporary(&out);
    };
    return graph.Add(std::move(node));
  };
  const int l = wrap(left_node, true, "-left");
  const int r = wrap(right_node, false, "-right");

  const int64_t retention = windows.size_ms() + windows.grace_ms + 1;
  StoreOptions options;
  options.logging_enabled = logging_enabled;
  // A record's reads (its own list at its time, the other side's windows
  // within [t - before, t + after]) fall within a window size of the stream
  // time when records arrive in order; twice that, plus a second, leaves
  // room for disorder. Older reads go to RocksDB.
  options.recent_windows_ms = 2 * windows.size_ms() + 1000;
  DslNode node;
  node.kind = DslNode::Kind::kProcessor;
  node.name = name;
  node.parents = {l, r};
  node.input = RecordTypes::Of<K, In>();
  node.output = RecordTypes::Of<K, VR>();
  node.stores.push_back(Stores::WindowStoreBuilder<K, std::vector<V1>>(
      ThisJoinStore(store_base), retention, key_serde,
      std::make_shared<ListSerde<V1>>(left_serde), options));
  node.stores.push_back(Stores::WindowStoreBuilder<K, std::vector<V2>>(
      OtherJoinStore(store_base), retention, key_serde,
      std::make_shared<ListSerde<V2>>(right_serde), options));
  if (kKind != JoinKind::kInner) {
    node.stores.push_back(
        Stores::WindowStoreBuilder<SideKey<K>, Unjoined<V1, V2>>(
            OuterJoinStore(store_base), retention,
            std::make_shared<SideKeySerde<K>>(key_serde),
            std::make_shared<UnjoinedSerde<V1, V2>>(left_serde, right_serde),
            options));
  }
  node.add = [store_base, windows, joiner = std::move(joiner)](
                 Topology& t, const std::string& node_name,
                 std::vector<std::string> parents) {
    t.AddProcessor<K, In, K, VR>(
        node_name,
        [store_base, windows, joiner]() {
          return std::make_unique<
              StreamStreamJoinProcessor<K, V1, V2, VR, J, kKind>>(
              store_base, windows, joiner);
        },
        std::move(parents));
  };
  return graph.Add(std::move(node));
}

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_STREAM_STREAM_JOIN_H_
