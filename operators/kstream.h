// KStream<K, V>: a stream of records, each an independent fact, as in Kafka
// Streams. A KStream is a small typed handle on its StreamsBuilder's graph:
// each operator adds a node and returns a new handle; nothing runs until the
// Topology from StreamsBuilder::Build() runs in a KafkaStreams.
//
//   builder.Stream<std::string, std::string>("lines")
//       .FlatMapValues([](const std::string& line) { return Split(line); })
//       .Filter([](const auto&, const std::string& w) { return !w.empty(); })
//       .To("words");
//
// User functions take the key and value as `const K&, const V&`, or either
// as `const std::optional<...>&` to see nulls; a function that takes a field
// plainly is not called for records where it is null, and the operator drops
// such records (Peek and Foreach skip the call and pass them on). Each task
// calls its own copy of a function; functions that share state through
// references must synchronize it, as several stream threads run tasks.
//
// Consecutive stateless operators (Filter, FilterNot, Map, MapValues,
// FlatMap, FlatMapValues, SelectKey, Peek, Foreach, Merge, ToStream) run in
// one processor node; Process runs a user Processor in a node of its own, named
// by their names joined with '+' (see FusedNode).
//
// Serdes: an operator that keeps a type keeps its serde; a new type gets
// DefaultSerde<T>(); To(), grouping and aggregation take explicit serdes
// (Produced, Grouped, Materialized) where there is none, and Build() fails
// naming the operator and type when one is missing.
//
// Threading model: build on one thread.
#ifndef BROOK_OPERATORS_KSTREAM_H_
#define BROOK_OPERATORS_KSTREAM_H_

#include <concepts>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/operators/async_options.h"
#include "brook/operators/branched_kstream.h"
#include "brook/operators/internal/async_map_values.h"
#include "brook/operators/internal/fixed_key.h"
#include "brook/operators/internal/functions.h"
#include "brook/operators/internal/graph.h"
#include "brook/operators/internal/stream_stream_join.h"
#include "brook/operators/internal/stream_table_join.h"
#include "brook/operators/join_windows.h"
#include "brook/operators/key_state.h"
#include "brook/operators/kgrouped_stream.h"
#include "brook/operators/ktable.h"
#include "brook/operators/options.h"
#include "brook/operators/stream_joined.h"
#include "brook/runtime/processor.h"

namespace brook {

class StreamsBuilder;
template <typename K, typename V>
class KGroupedStream;
template <typename K, typename V>
class KTable;

template <typename K, typename V>
class KStream {
 public:
  using KeyType = K;
  using ValueType = V;

  // Keeps the records for which predicate(key, value) is true.
  template <typename P>
  KStream Filter(P predicate, const Named& named = {}) const {
    static_assert(internal::kTakesKeyValue<K, V, P>,
                  "Filter: the predicate must be callable as "
                  "bool(const K&, const V&) (either may be std::optional)");
    return Where<P, true>(std::move(predicate), named, "KSTREAM-FILTER-");
  }

  // Keeps the records for which predicate(key, value) is false.
  template <typename P>
  KStream FilterNot(P predicate, const Named& named = {}) const {
    static_assert(internal::kTakesKeyValue<K, V, P>,
                  "FilterNot: the predicate must be callable as "
                  "bool(const K&, const V&) (either may be std::optional)");
    return Where<P, false>(std::move(predicate), named, "KSTREAM-FILTER-");
  }

  // Replaces each record by mapper(key, value), a std::pair<K2, V2>. May
  // change the key: a later aggregation repartitions.
  template <typename F>
  auto Map(F mapper, const Named& named = {}) const {
    static_assert(internal::kTakesKeyValue<K, V, F>,
                  "Map: the mapper must be callable as "
                  "std::pair<K2, V2>(const K&, const V&)");
    using R = std::decay_t<internal::KeyValueResult<K, V, F>>;
    static_assert(internal::IsPair<R>::value,
                  "Map: the mapper must return a std::pair<K2, V2>");
    using K2 = internal::UnwrapT<typename R::first_type>;
    using V2 = internal::UnwrapT<typename R::second_type>;
    internal::Step step = [mapper](const void* in,
                                   const internal::Next& next) mutable {
      const auto& r = *static_cast<const Record<K, V>*>(in);
      if (!internal::CanCallKeyValue<K, V, F>(r)) return absl::OkStatus();
      R kv = internal::CallKeyValue<K, V>(mapper, r);
      Record<K2, V2> out{internal::ToOptional(std::move(kv.first)),
                         internal::ToOptional(std::move(kv.second)),
                         r.timestamp_ms, internal::TakeHeaders(r, next)};
      return next.Temporary(&out);
    };
    return Then<K2, V2>(graph_->NameOr(named.name, "KSTREAM-MAP-"),
                        std::move(step), KeyChange::kMayChange);
  }

  // Replaces each value by mapper(value) or mapper(key, value); keeps the
  // key.
  template <typename F>
  auto MapValues(F mapper, const Named& named = {}) const {
    static_assert(
        internal::kTakesValue<V, F> || internal::kTakesKeyValue<K, V, F>,
        "MapValues: the mapper must be callable as "
        "V2(const V&) or V2(const K&, const V&)");
    using V2 = internal::UnwrapT<internal::ValueOrKeyValueResult<K, V, F>>;
    internal::Step step = [mapper](const void* in,
                                   const internal::Next& next) mutable {
      const auto& r = *static_cast<const Record<K, V>*>(in);
      if (!internal::CanCallValueOrKeyValue<K, V, F>(r)) {
        return absl::OkStatus();
      }
      // The mapper may read the key: call it before the key is taken.
      std::optional<V2> value =
          internal::ToOptional(internal::CallValueOrKeyValue<K, V>(mapper, r));
      Record<K, V2> out{internal::TakeKey(r, next), std::move(value),
                        r.timestamp_ms, internal::TakeHeaders(r, next)};
      return next.Temporary(&out);
    };
    return Then<K, V2>(graph_->NameOr(named.name, "KSTREAM-MAPVALUES-"),
                       std::move(step), KeyChange::kKeeps);
  }

  // Replaces each record by the pairs in mapper(key, value), an iterable of
  // std::pair<K2, V2> (zero or more records). May change the key.
  template <typename F>
  auto FlatMap(F mapper, const Named& named = {}) const {
    static_assert(internal::kTakesKeyValue<K, V, F>,
                  "FlatMap: the mapper must be callable as "
                  "std::vector<std::pair<K2, V2>>(const K&, const V&)");
    using R = std::decay_t<internal::KeyValueResult<K, V, F>>;
    using E = std::decay_t<decltype(*std::begin(std::declval<R&>()))>;
    static_assert(internal::IsPair<E>::value,
                  "FlatMap: the mapper must return an iterable of "
                  "std::pair<K2, V2>");
    using K2 = internal::UnwrapT<typename E::first_type>;
    using V2 = internal::UnwrapT<typename E::second_type>;
    internal::Step step = [mapper](const void* in,
                                   const internal::Next& next) mutable {
      const auto& r = *static_cast<const Record<K, V>*>(in);
      if (!internal::CanCallKeyValue<K, V, F>(r)) return absl::OkStatus();
      R many = internal::CallKeyValue<K, V>(mapper, r);
      for (auto& kv : many) {
        Record<K2, V2> out{internal::ToOptional(std::move(kv.first)),
                           internal::ToOptional(std::move(kv.second)),
                           r.timestamp_ms, internal::CopyHeaders(r)};
        BROOK_RETURN_IF_ERROR(next.Temporary(&out));
      }
      return absl::OkStatus();
    };
    return Then<K2, V2>(graph_->NameOr(named.name, "KSTREAM-FLATMAP-"),
                        std::move(step), KeyChange::kMayChange);
  }

  // Replaces each record by one record per value in mapper(value) or
  // mapper(key, value), an iterable of V2, with the same key.
  template <typename F>
  auto FlatMapValues(F mapper, const Named& named = {}) const {
    static_assert(
        internal::kTakesValue<V, F> || internal::kTakesKeyValue<K, V, F>,
        "FlatMapValues: the mapper must be callable as "
        "std::vector<V2>(const V&) or (const K&, const V&)");
    using R = std::decay_t<internal::ValueOrKeyValueResult<K, V, F>>;
    using V2 = internal::UnwrapT<decltype(*std::begin(std::declval<R&>()))>;
    internal::Step step = [mapper](const void* in,
                                   const internal::Next& next) mutable {
      const auto& r = *static_cast<const Record<K, V>*>(in);
      if (!internal::CanCallValueOrKeyValue<K, V, F>(r)) {
        return absl::OkStatus();
      }
      R many = internal::CallValueOrKeyValue<K, V>(mapper, r);
      for (auto& v : many) {
        Record<K, V2> out{r.key, internal::ToOptional(std::move(v)),
                          r.timestamp_ms, internal::CopyHeaders(r)};
        BROOK_RETURN_IF_ERROR(next.Temporary(&out));
      }
      return absl::OkStatus();
    };
    return Then<K, V2>(graph_->NameOr(named.name, "KSTREAM-FLATMAPVALUES-"),
                       std::move(step), KeyChange::kKeeps);
  }

  // Sets each record's key to selector(key, value).
  template <typename F>
  auto SelectKey(F selector, const Named& named = {}) const {
    static_assert(internal::kTakesKeyValue<K, V, F>,
                  "SelectKey: the selector must be callable as "
                  "K2(const K&, const V&)");
    using K2 = internal::UnwrapT<internal::KeyValueResult<K, V, F>>;
    return Then<K2, V>(graph_->NameOr(named.name, "KSTREAM-KEY-SELECT-"),
                       KeySelectStep<K2>(std::move(selector)),
                       KeyChange::kMayChange);
  }

  // Calls action(key, value) for each record and passes it on unchanged.
  template <typename F>
  KStream Peek(F action, const Named& named = {}) const {
    static_assert(internal::kTakesKeyValue<K, V, F>,
                  "Peek: the action must be callable as "
                  "void(const K&, const V&)");
    internal::Step step = [action](const void* in,
                                   const internal::Next& next) mutable {
      const auto& r = *static_cast<const Record<K, V>*>(in);
      if (internal::CanCallKeyValue<K, V, F>(r)) {
        internal::CallKeyValue<K, V>(action, r);
      }
      return next.Pass(in);
    };
    return Then<K, V>(graph_->NameOr(named.name, "KSTREAM-PEEK-"),
                      std::move(step), KeyChange::kKeeps);
  }

  // Calls action(key, value) for each record; the stream ends here.
  template <typename F>
  void Foreach(F action, const Named& named = {}) const {
    static_assert(internal::kTakesKeyValue<K, V, F>,
                  "Foreach: the action must be callable as "
                  "void(const K&, const V&)");
    internal::Step step = [action](const void* in,
                                   const internal::Next&) mutable {
      const auto& r = *static_cast<const Record<K, V>*>(in);
      if (internal::CanCallKeyValue<K, V, F>(r)) {
        internal::CallKeyValue<K, V>(action, r);
      }
      return absl::OkStatus();
    };
    Then<K, V>(graph_->NameOr(named.name, "KSTREAM-FOREACH-"), std::move(step),
               KeyChange::kKeeps);
  }

  // The records of this stream and of `other`, interleaved as they come.
  // REQUIRES: both come from the same StreamsBuilder (else Build() fails).
  KStream Merge(const KStream& other, const Named& named = {}) const {
    const std::string name = graph_->NameOr(named.name, "KSTREAM-MERGE-");
    if (other.graph_ != graph_) {
      graph_->AddError(absl::InvalidArgumentError(absl::StrCat(
          "Merge '", name, "': the streams come from different builders")));
      return *this;
    }
    internal::Step step = [](const void* in, const internal::Next& next) {
      return next(in);
    };
    KStream merged = Then<K, V>(name, std::move(step), KeyChange::kKeeps,
                                {node_, other.node_});
    merged.repartition_required_ =
        repartition_required_ || other.repartition_required_;
    return merged;
  }

  // Splits the stream into branches by predicate (see branched_kstream.h).
  // Branch names start with named.name, else "KSTREAM-BRANCH-<n>-".
  BranchedKStream<K, V> Split(const Named& named = {}) const {
    return BranchedKStream<K, V>(*this,
                                 graph_->NameOr(named.name, "KSTREAM-BRANCH-") +
                                     (named.name.empty() ? "-" : ""));
  }

  // Runs a processor-API Processor on each record (KSTREAM-PROCESSOR-<n>),
  // with access to `stores` (added with StreamsBuilder::AddStateStore).
  // What it forwards is the new stream; it may change the key, so a later
  // aggregation repartitions. Output serdes: the types' defaults.
  template <typename KOut, typename VOut>
  KStream<KOut, VOut> Process(ProcessorSupplier<K, V, KOut, VOut> supplier,
                              std::vector<std::string> stores = {},
                              const Named& named = {}) const {
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kProcessor;
    node.name = graph_->NameOr(named.name, "KSTREAM-PROCESSOR-");
    node.parents = {node_};
    node.input = internal::RecordTypes::Of<K, V>();
    node.output = internal::RecordTypes::Of<KOut, VOut>();
    node.store_names = std::move(stores);
    node.add = [supplier = std::move(supplier)](
                   Topology& t, const std::string& name,
                   std::vector<std::string> parents) {
      t.AddProcessor<K, V, KOut, VOut>(name, supplier, std::move(parents));
    };
    const int id = graph_->Add(std::move(node));
    return KStream<KOut, VOut>(graph_, id, DefaultSerde<KOut>(),
                               DefaultSerde<VOut>(), true);
  }

  // Replaces each value by fn(key, value), an absl::StatusOr<VR>, computed
  // off the stream thread on options.parallelism worker threads
  // (KSTREAM-MAPVALUESASYNC-<n>): the answer to a slow function (a remote
  // call) on few partitions. Records of one key run one at a time, in input
  // order; different keys run at once. Null keys share one lane (one at a
  // time); a function that takes the key or value plainly is not called for
  // a null one and the record is dropped, as in MapValues. The stream
  // thread keeps polling (and so stays in the group) while workers run,
  // and forwards each result itself, with the input's key, timestamp and
  // headers, in completion order (per key: input order).
  //
  // Exactly once: each commit waits, forwarding results as they come,
  // until the node holds no record of the task, so a committed transaction
  // holds the outputs of exactly the records whose offsets it commits. The
  // wait lasts up to about max_in_flight x the function's latency /
  // parallelism (x parallelism more when all records share a key); keep it
  // well below max.poll.interval.ms, and raise commit.interval.ms when it
  // is a large part of the interval, since workers idle during it.
  // At options.max_in_flight records held, the task stops taking input
  // (its partitions are paused, other tasks go on).
  //
  // fn is called from several workers at once (for different keys): it
  // must be thread-safe, must not throw, and must not touch the task's
  // stores (the overload below gives it its key's entry of one). An error
  // it returns fails the task as a processor's error does, and so does a
  // call running longer than options.timeout. Output value serde: the stream's
  // if the type stays, else the type's default.
  template <typename F>
  auto MapValuesAsync(F fn, AsyncOptions options = {},
                      const Named& named = {}) const {
    static_assert(internal::kTakesKeyValue<K, V, F>,
                  "MapValuesAsync: the function must be callable as "
                  "absl::StatusOr<VR>(const K&, const V&) (either may be "
                  "std::optional)");
    return AddAsync<void>(std::move(fn), "", options, named);
  }

  // The same with a key-value store (a KeyValueStore<K, VS> added with
  // StreamsBuilder::AddStateStore): fn(key, value, KeyState<VS>& state)
  // gets the record's key's entry, as the key's earlier records left it,
  // and may Put or Delete it. The stream thread reads the entry before the
  // call and writes it back when it forwards the result, in the task's
  // transaction (see operators/key_state.h): workers never touch the store,
  // and no other key can be read. A record with a null key is dropped. A
  // store of another type fails the task at start, naming the node.
  //   stream.MapValuesAsync<int64_t>(
  //       [](const std::string& user, const std::string& event,
  //          KeyState<int64_t>& seen) -> absl::StatusOr<std::string> {
  //         seen.Put(seen.Get().value_or(0) + 1);
  //         return Lookup(user, event);  // a slow remote call
  //       },
  //       "seen-per-user", AsyncOptions{.parallelism = 16});
  template <typename VS, typename F>
  auto MapValuesAsync(F fn, std::string store_name, AsyncOptions options = {},
                      const Named& named = {}) const {
    static_assert(
        internal::kTakesKeyValue<K, V,
                                 internal::BindLastMutable<F, KeyState<VS>>>,
        "MapValuesAsync with a store: the function must be callable as "
        "absl::StatusOr<VR>(const K&, const V&, KeyState<VS>&) (the value "
        "may be std::optional)");
    return AddAsync<VS>(std::move(fn), std::move(store_name), options, named);
  }

  // Runs a processor-API Processor that keeps each record's key and may
  // change its value (Kafka Streams' processValues;
  // KSTREAM-PROCESSVALUES-<n>), with access to `stores`. Unlike Process,
  // the stream is not marked as key-changed, so a later GroupByKey does not
  // repartition. The promise is checked: a record forwarded with another
  // key than its input's, or from outside Process() (a punctuator), fails
  // the task with kFailedPrecondition naming the node. Output value serde:
  // the stream's if the type stays, else the type's default.
  template <typename VOut>
  KStream<K, VOut> ProcessValues(ProcessorSupplier<K, V, K, VOut> supplier,
                                 std::vector<std::string> stores = {},
                                 const Named& named = {}) const {
    static_assert(std::equality_comparable<K>,
                  "ProcessValues: the key type must have operator==, to "
                  "check that the processor keeps the key");
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kProcessor;
    node.name = graph_->NameOr(named.name, "KSTREAM-PROCESSVALUES-");
    node.parents = {node_};
    node.input = internal::RecordTypes::Of<K, V>();
    node.output = internal::RecordTypes::Of<K, VOut>();
    node.store_names = std::move(stores);
    node.add = [supplier = std::move(supplier)](
                   Topology& t, const std::string& name,
                   std::vector<std::string> parents) {
      t.AddProcessor<K, V, K, VOut>(
          name,
          [supplier, name]() -> std::unique_ptr<Processor<K, V, K, VOut>> {
            return std::make_unique<internal::FixedKeyProcessor<K, V, VOut>>(
                name, supplier());
          },
          std::move(parents));
    };
    const int id = graph_->Add(std::move(node));
    return KStream<K, VOut>(graph_, id, key_serde_,
                            internal::SameOrDefault<VOut, V>(value_serde_),
                            repartition_required_);
  }

  // Joins each record with the table's value for its key (Kafka Streams'
  // KStream-KTable join; KSTREAM-JOIN-<n>): forwards joiner(value,
  // table value) or joiner(key, value, table value) with the record's key,
  // timestamp and headers; a record whose key the table does not hold is
  // dropped. Table updates forward nothing: the stream record sees the
  // table as it is when the record is processed. A record with a null key
  // or value is dropped. The table must be materialized (a table from
  // StreamsBuilder::Table or an aggregation) and co-partitioned with the
  // stream (checked at start); a stream whose key may have changed is
  // repartitioned first, as Kafka Streams does. The joiner may return
  // std::optional to forward a null value.
  template <typename VT, typename J>
  auto Join(const KTable<K, VT>& table, J joiner,
            const Named& named = {}) const {
    static_assert(internal::kJoinerTakesValues<K, V, VT, J, false> ||
                      internal::kJoinerTakesKey<K, V, VT, J, false>,
                  "Join: the joiner must be callable as VR(const V&, const "
                  "VT&) or VR(const K&, const V&, const VT&)");
    return JoinTable<VT, J, false>(table, std::move(joiner), named);
  }

  // As Join, but a record whose key the table does not hold is joined with
  // a null: the joiner takes the table value as const std::optional<VT>&.
  // A record with a null key is joined with a null too if the joiner takes
  // no key or takes it as std::optional (Kafka Streams 3.7+); a null value
  // is dropped.
  template <typename VT, typename J>
  auto LeftJoin(const KTable<K, VT>& table, J joiner,
                const Named& named = {}) const {
    static_assert(internal::kJoinerTakesValues<K, V, VT, J, true> ||
                      internal::kJoinerTakesKey<K, V, VT, J, true>,
                  "LeftJoin: the joiner must be callable as VR(const V&, "
                  "const std::optional<VT>&) or VR(const K&, const V&, const "
                  "std::optional<VT>&)");
    return JoinTable<VT, J, true>(table, std::move(joiner), named);
  }

  // Joins each record with the records of `other` of the same key within
  // `windows` (Kafka Streams' windowed KStream-KStream join;
  // KSTREAM-JOIN-<n>, see operators/internal/stream_stream_join.h for the
  // semantics): forwards joiner(value, other value) or joiner(key, value,
  // other value) for every pair, with the later of the two timestamps. Both
  // streams are buffered in changelogged window stores (StreamJoined names
  // them and gives serdes where the streams have none); streams whose key
  // may have changed are repartitioned first, and both must be
  // co-partitioned (checked at start). Records later than their window's
  // end + grace are dropped and counted (dropped-records, window-closed).
  template <typename VO, typename J>
  auto Join(const KStream<K, VO>& other, J joiner, const JoinWindows& windows,
            StreamJoined<K, V, VO> joined = {}) const {
    constexpr auto kKind = internal::JoinKind::kInner;
    static_assert(internal::kStreamJoinerTakesValues<K, V, VO, J, kKind> ||
                      internal::kStreamJoinerTakesKey<K, V, VO, J, kKind>,
                  "Join: the joiner must be callable as VR(const V&, const "
                  "VO&) or VR(const K&, const V&, const VO&)");
    return JoinStream<VO, J, kKind>(other, std::move(joiner), windows,
                                    std::move(joined));
  }

  // As Join, but a record of this stream that joins nothing is forwarded
  // with a null once its window has closed (stream time past t + before +
  // after + grace): joiner(value, std::optional<VO>()).
  template <typename VO, typename J>
  auto LeftJoin(const KStream<K, VO>& other, J joiner,
                const JoinWindows& windows,
                StreamJoined<K, V, VO> joined = {}) const {
    constexpr auto kKind = internal::JoinKind::kLeft;
    static_assert(internal::kStreamJoinerTakesValues<K, V, VO, J, kKind> ||
                      internal::kStreamJoinerTakesKey<K, V, VO, J, kKind>,
                  "LeftJoin: the joiner must be callable as VR(const V&, "
                  "const std::optional<VO>&) (optionally with const K& "
                  "first)");
    return JoinStream<VO, J, kKind>(other, std::move(joiner), windows,
                                    std::move(joined));
  }

  // As LeftJoin, for the records of both streams: joiner(const
  // std::optional<V>&, const std::optional<VO>&).
  template <typename VO, typename J>
  auto OuterJoin(const KStream<K, VO>& other, J joiner,
                 const JoinWindows& windows,
                 StreamJoined<K, V, VO> joined = {}) const {
    constexpr auto kKind = internal::JoinKind::kOuter;
    static_assert(internal::kStreamJoinerTakesValues<K, V, VO, J, kKind> ||
                      internal::kStreamJoinerTakesKey<K, V, VO, J, kKind>,
                  "OuterJoin: the joiner must be callable as VR(const "
                  "std::optional<V>&, const std::optional<VO>&) (optionally "
                  "with const K& first)");
    return JoinStream<VO, J, kKind>(other, std::move(joiner), windows,
                                    std::move(joined));
  }

  // Writes the stream through an internal topic and reads it back
  // (Kafka Streams' repartition()): "<application.id>-<name>-repartition",
  // name from Repartitioned, else KSTREAM-REPARTITION-<n>, with the nodes
  // <name>-repartition-sink and -source. Use it to spread a stream over
  // more (or fewer) tasks, or to co-partition it by a new key before a
  // Process. The topic gets Repartitioned::number_of_partitions partitions
  // (0: the upstream input's count). Records with a null key are kept (they
  // go to a partition the producer picks at random), unlike the repartition
  // before an aggregation, which drops them. The result counts as
  // partitioned by its key: a later GroupByKey does not repartition again.
  // `named` names the two nodes, <named>-sink and <named>-source, and, when
  // Repartitioned has no name, the topic too (<named>-repartition).
  KStream Repartition(Repartitioned<K, V> repartitioned = {},
                      const Named& named = {}) const {
    const std::string base = graph_->NameOr(
        repartitioned.name.empty() ? named.name : repartitioned.name,
        "KSTREAM-REPARTITION-");
    const std::string topic = base + "-repartition";
    const std::string nodes = named.name.empty() ? topic : named.name;
    SerdePtr<K> ks =
        repartitioned.key_serde ? repartitioned.key_serde : key_serde_;
    SerdePtr<V> vs =
        repartitioned.value_serde ? repartitioned.value_serde : value_serde_;
    if (repartitioned.number_of_partitions < 0) {
      graph_->AddError(absl::InvalidArgumentError(absl::StrCat(
          "Repartition '", topic, "': number_of_partitions is ",
          repartitioned.number_of_partitions, "; give 0 (derive) or more")));
      return *this;
    }
    if (!CheckSerdes(ks, vs, absl::StrCat("repartition topic '", topic, "'"),
                     "Repartitioned")) {
      return *this;
    }
    InternalTopicOptions options{.partitions =
                                     repartitioned.number_of_partitions};
    internal::DslNode sink;
    sink.kind = internal::DslNode::Kind::kSink;
    sink.name = nodes + "-sink";
    sink.parents = {node_};
    sink.input = internal::RecordTypes::Of<K, V>();
    sink.internal_topic = topic;
    sink.internal_topic_options = options;
    sink.add = [topic, ks, vs, partitioner = repartitioned.partitioner](
                   Topology& t, const std::string& name,
                   std::vector<std::string> parents) {
      t.AddSink<K, V>(name, topic, ks, vs, std::move(parents), partitioner);
    };
    graph_->Add(std::move(sink));
    internal::DslNode source;
    source.kind = internal::DslNode::Kind::kSource;
    source.name = nodes + "-source";
    source.output = internal::RecordTypes::Of<K, V>();
    source.internal_topic = topic;
    source.internal_topic_options = options;
    source.add = [topic, ks, vs](Topology& t, const std::string& name,
                                 std::vector<std::string>) {
      t.AddSource<K, V>(name, {topic}, ks, vs);
    };
    const int id = graph_->Add(std::move(source));
    return KStream(graph_, id, ks, vs, false);
  }
  KStream Repartition(const Named& named) const {
    return Repartition(Repartitioned<K, V>{}, named);
  }

  // Writes each record to the topic extractor(key, value, context) names
  // (Kafka Streams' TopicNameExtractor; KSTREAM-SINK-<n>); `context` is a
  // RecordContext. Every topic must exist: the first record for a topic
  // that does not fails the task with kNotFound naming the topic. The key
  // and value may be taken plainly or as std::optional; a record with a
  // null the extractor cannot take fails with kInvalidArgument rather than
  // vanish, since a sink has nowhere to drop it to.
  template <typename F>
  void To(F extractor, Produced<K, V> produced = {}) const
      requires(!std::is_convertible_v<F, std::string>) {
    using Bound = internal::BindLast<F, RecordContext>;
    static_assert(internal::kTakesKeyValue<K, V, Bound>,
                  "To: the topic name extractor must be callable as "
                  "std::string(const K&, const V&, const RecordContext&) "
                  "(key and value may be std::optional)");
    const std::string name = graph_->NameOr(produced.name, "KSTREAM-SINK-");
    SerdePtr<K> ks = produced.key_serde ? produced.key_serde : key_serde_;
    SerdePtr<V> vs = produced.value_serde ? produced.value_serde : value_serde_;
    if (!CheckSerdes(ks, vs,
                     absl::StrCat("sink '", name, "' (To topic extractor)"),
                     "Produced")) {
      return;
    }
    TopicNameExtractor<K, V> topic_of =
        [extractor](const Record<K, V>& r,
                    const std::optional<RecordMetadata>& metadata) mutable
        -> absl::StatusOr<std::string> {
      if (!internal::CanCallKeyValue<K, V, Bound>(r)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "a record has a null ", r.key.has_value() ? "value" : "key",
            " but the topic name extractor takes it plainly; take "
            "std::optional to choose a topic for such records"));
      }
      RecordContext context;
      if (metadata.has_value()) {
        context.topic = metadata->topic;
        context.partition = metadata->partition;
        context.offset = metadata->offset;
      }
      context.timestamp_ms = r.timestamp_ms;
      context.headers = r.headers;
      Bound bound{extractor, context};
      return std::string(internal::CallKeyValue<K, V>(bound, r));
    };
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kSink;
    node.name = name;
    node.parents = {node_};
    node.input = internal::RecordTypes::Of<K, V>();
    node.add = [topic_of, ks, vs, partitioner = produced.partitioner](
                   Topology& t, const std::string& name,
                   std::vector<std::string> parents) {
      t.AddSink<K, V>(name, topic_of, ks, vs, std::move(parents), partitioner);
    };
    graph_->Add(std::move(node));
  }

  // Writes every record to `topic`, which must exist.
  void To(const std::string& topic, Produced<K, V> produced = {}) const {
    const std::string name = graph_->NameOr(produced.name, "KSTREAM-SINK-");
    SerdePtr<K> ks = produced.key_serde ? produced.key_serde : key_serde_;
    SerdePtr<V> vs = produced.value_serde ? produced.value_serde : value_serde_;
    if (!CheckSerdes(ks, vs, absl::StrCat("sink '", name, "' (To ", topic, ")"),
                     "Produced")) {
      return;
    }
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kSink;
    node.name = name;
    node.parents = {node_};
    node.input = internal::RecordTypes::Of<K, V>();
    node.add = [topic, ks, vs, partitioner = produced.partitioner](
                   Topology& t, const std::string& name,
                   std::vector<std::string> parents) {
      t.AddSink<K, V>(name, topic, ks, vs, std::move(parents), partitioner);
    };
    graph_->Add(std::move(node));
  }

  // Groups by the current key, for an aggregation. If an earlier operator
  // may have changed the key, the aggregation reads through a repartition
  // topic, written with Grouped's serdes (else this stream's).
  KGroupedStream<K, V> GroupByKey(Grouped<K, V> grouped = {}) const {
    return KGroupedStream<K, V>(
        graph_, node_, grouped.key_serde ? grouped.key_serde : key_serde_,
        grouped.value_serde ? grouped.value_serde : value_serde_,
        repartition_required_, grouped.name);
  }

  // Groups by selector(key, value): a new key, so the aggregation always
  // reads through a repartition topic.
  template <typename F,
            typename K2 = internal::UnwrapT<internal::KeyValueResult<K, V, F>>>
  KGroupedStream<K2, V> GroupBy(F selector, Grouped<K2, V> grouped = {}) const {
    KStream<K2, V> rekeyed = SelectKey(std::move(selector));
    return rekeyed.GroupByKey(std::move(grouped));
  }

  // The serdes records of this stream are written with where none is given;
  // nullptr if the type has no default serde.
  const SerdePtr<K>& key_serde() const { return key_serde_; }
  const SerdePtr<V>& value_serde() const { return value_serde_; }

 private:
  // MapValuesAsync, with a store when VS is not void.
  template <typename VS, typename F>
  auto AddAsync(F fn, std::string store_name, AsyncOptions options,
                const Named& named) const {
    using Bound =
        std::conditional_t<std::is_void_v<VS>, F,
                           internal::BindLastMutable<F, KeyState<VS>>>;
    using R = std::decay_t<internal::KeyValueResult<K, V, Bound>>;
    static_assert(
        internal::IsStatusOr<R>::value,
        "MapValuesAsync: the function must return absl::StatusOr<VR>");
    using VR = typename R::value_type;
    const std::string name =
        graph_->NameOr(named.name, "KSTREAM-MAPVALUESASYNC-");
    if (absl::Status s = options.Validate(); !s.ok()) {
      graph_->AddError(
          absl::InvalidArgumentError(absl::StrCat(name, ": ", s.message())));
    }
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kProcessor;
    node.name = name;
    node.parents = {node_};
    node.input = internal::RecordTypes::Of<K, V>();
    node.output = internal::RecordTypes::Of<K, VR>();
    if (!store_name.empty()) node.store_names = {store_name};
    node.add = [fn = std::make_shared<F>(std::move(fn)),
                pool = std::make_shared<internal::SharedWorkerPool>(
                    std::max(options.parallelism, 1)),
                options, store_name](Topology& t, const std::string& node_name,
                                     std::vector<std::string> parents) {
      t.AddProcessor<K, V, K, VR>(
          node_name,
          [fn, pool, options, node_name, store_name]() {
            return std::make_unique<
                internal::AsyncMapValuesProcessor<K, V, VR, VS, F>>(
                node_name, fn, pool, options, store_name);
          },
          std::move(parents));
    };
    const int id = graph_->Add(std::move(node));
    return KStream<K, VR>(graph_, id, key_serde_,
                          internal::SameOrDefault<VR, V>(value_serde_),
                          repartition_required_);
  }

  friend class StreamsBuilder;
  template <typename, typename>
  friend class KStream;
  template <typename, typename>
  friend class KTable;
  template <typename, typename>
  friend class KGroupedStream;
  template <typename, typename>
  friend class BranchedKStream;

  enum class KeyChange { kKeeps, kMayChange };

  KStream(std::shared_ptr<internal::DslGraph> graph, int node,
          SerdePtr<K> key_serde, SerdePtr<V> value_serde,
          bool repartition_required)
      : graph_(std::move(graph)),
        node_(node),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        repartition_required_(repartition_required) {}

  // Adds a stateless node after this one (or after `parents`).
  template <typename K2, typename V2>
  KStream<K2, V2> Then(std::string name, internal::Step step, KeyChange change,
                       std::vector<int> parents = {}) const {
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kStateless;
    node.name = std::move(name);
    node.parents = parents.empty() ? std::vector<int>{node_} : parents;
    node.input = internal::RecordTypes::Of<K, V>();
    node.output = internal::RecordTypes::Of<K2, V2>();
    node.step = std::move(step);
    const int id = graph_->Add(std::move(node));
    SerdePtr<K2> ks = change == KeyChange::kKeeps
                          ? internal::SameOrDefault<K2, K>(key_serde_)
                          : DefaultSerde<K2>();
    return KStream<K2, V2>(
        graph_, id, std::move(ks), internal::SameOrDefault<V2, V>(value_serde_),
        repartition_required_ || change == KeyChange::kMayChange);
  }

  template <typename P, bool kKeepIf>
  KStream Where(P predicate, const Named& named,
                absl::string_view prefix) const {
    internal::Step step = [predicate](const void* in,
                                      const internal::Next& next) mutable {
      const auto& r = *static_cast<const Record<K, V>*>(in);
      if (!internal::CanCallKeyValue<K, V, P>(r)) return absl::OkStatus();
      if (static_cast<bool>(internal::CallKeyValue<K, V>(predicate, r)) ==
          kKeepIf) {
        return next.Pass(in);
      }
      return absl::OkStatus();
    };
    return Then<K, V>(graph_->NameOr(named.name, prefix), std::move(step),
                      KeyChange::kKeeps);
  }

  template <typename K2, typename F>
  internal::Step KeySelectStep(F selector) const {
    return [selector](const void* in, const internal::Next& next) mutable {
      const auto& r = *static_cast<const Record<K, V>*>(in);
      if (!internal::CanCallKeyValue<K, V, F>(r)) return absl::OkStatus();
      // The selector reads the value: call it before the value is taken.
      std::optional<K2> key =
          internal::ToOptional(internal::CallKeyValue<K, V>(selector, r));
      Record<K2, V> out{std::move(key), internal::TakeValue(r, next),
                        r.timestamp_ms, internal::TakeHeaders(r, next)};
      return next.Temporary(&out);
    };
  }

  template <typename VT, typename J, bool kLeft>
  auto JoinTable(const KTable<K, VT>& table, J joiner,
                 const Named& named) const {
    using VR = internal::JoinResult<K, V, VT, J, kLeft>;
    const std::string name = graph_->NameOr(
        named.name, kLeft ? "KSTREAM-LEFTJOIN-" : "KSTREAM-JOIN-");
    if (table.graph_ != graph_) {
      graph_->AddError(absl::InvalidArgumentError(
          absl::StrCat(name, ": the table comes from another StreamsBuilder")));
    } else if (table.store_name().empty()) {
      graph_->AddError(absl::InvalidArgumentError(absl::StrCat(
          name,
          ": the table is not materialized (a KTable from Filter or "
          "MapValues has no store); join with a table from "
          "StreamsBuilder::Table or an aggregation")));
    }
    // A stream whose key may have changed is repartitioned first, so that
    // each key meets its table partition.
    const KStream source =
        repartition_required_
            ? Repartition(Repartitioned<K, V>::As(name + "-left"))
            : *this;
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kProcessor;
    node.name = name;
    node.parents = {source.node_};
    node.input = internal::RecordTypes::Of<K, V>();
    node.output = internal::RecordTypes::Of<K, VR>();
    node.store_names = {table.store_name()};
    node.add = [store = table.store_name(), joiner = std::move(joiner)](
                   Topology& t, const std::string& node_name,
                   std::vector<std::string> parents) {
      t.AddProcessor<K, V, K, VR>(
          node_name,
          [store, joiner]() {
            return std::make_unique<
                internal::StreamTableJoinProcessor<K, V, VT, VR, J, kLeft>>(
                store, joiner);
          },
          std::move(parents));
    };
    const int id = graph_->Add(std::move(node));
    return KStream<K, VR>(graph_, id, key_serde_, DefaultSerde<VR>(), false);
  }

  template <typename VO, typename J, internal::JoinKind kKind>
  auto JoinStream(const KStream<K, VO>& other, J joiner,
                  const JoinWindows& windows,
                  StreamJoined<K, V, VO> joined) const {
    using VR = internal::StreamJoinResult<K, V, VO, J, kKind>;
    const std::string name = graph_->NameOr(
        joined.name, kKind == internal::JoinKind::kInner ? "KSTREAM-JOIN-"
                     : kKind == internal::JoinKind::kLeft
                         ? "KSTREAM-LEFTJOIN-"
                         : "KSTREAM-OUTERJOIN-");
    KStream<K, VR> result(graph_, node_, key_serde_, DefaultSerde<VR>(), false);
    if (other.graph_ != graph_) {
      graph_->AddError(absl::InvalidArgumentError(
          absl::StrCat(name, ": the streams come from different builders")));
      return result;
    }
    if (absl::Status s = windows.Validate(); !s.ok()) {
      graph_->AddError(
          absl::InvalidArgumentError(absl::StrCat(name, ": ", s.message())));
      return result;
    }
    SerdePtr<K> ks = joined.key_serde ? joined.key_serde : key_serde_;
    SerdePtr<V> vs = joined.value_serde ? joined.value_serde : value_serde_;
    SerdePtr<VO> vos = joined.other_value_serde ? joined.other_value_serde
                                                : other.value_serde_;
    if (!CheckSerdes(ks, vs, absl::StrCat(name, " (this side)"),
                     "StreamJoined") ||
        !internal::CheckSerdes<K, VO>(*graph_, ks, vos,
                                      absl::StrCat(name, " (other side)"),
                                      "StreamJoined")) {
      return result;
    }
    // Streams whose key may have changed are repartitioned first, so that
    // each key's records of both sides meet in one task.
    const KStream left =
        repartition_required_
            ? Repartition(RepartitionedAs<V>(name + "-left", ks, vs))
            : *this;
    const KStream<K, VO> right =
        other.repartition_required_
            ? other.Repartition(RepartitionedAs<VO>(name + "-right", ks, vos))
            : other;
    const int id = internal::AddStreamStreamJoin<K, V, VO, VR, J, kKind>(
        *graph_, left.node_, right.node_, name,
        joined.store_name.empty() ? name : joined.store_name, windows, ks, vs,
        vos, joined.logging_enabled, std::move(joiner));
    return KStream<K, VR>(graph_, id, ks, DefaultSerde<VR>(), false);
  }

  template <typename VX>
  static Repartitioned<K, VX> RepartitionedAs(std::string name, SerdePtr<K> ks,
                                              SerdePtr<VX> vs) {
    Repartitioned<K, VX> r =
        Repartitioned<K, VX>::With(std::move(ks), std::move(vs));
    r.name = std::move(name);
    return r;
  }

  // Records an error naming `what` if a serde is missing.
  bool CheckSerdes(const SerdePtr<K>& ks, const SerdePtr<V>& vs,
                   const std::string& what, absl::string_view option) const {
    return internal::CheckSerdes<K, V>(*graph_, ks, vs, what, option);
  }

  std::shared_ptr<internal::DslGraph> graph_;
  int node_;
  SerdePtr<K> key_serde_;
  SerdePtr<V> value_serde_;
  // An operator upstream may have changed the key since the last
  // repartition (or source): an aggregation must repartition first.
  bool repartition_required_;
};

}  // namespace brook

#endif  // BROOK_OPERATORS_KSTREAM_H_
