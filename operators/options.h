// The options of the DSL's operators, as in Kafka Streams: Consumed (how a
// source reads), Produced (how a sink writes), Grouped (how a grouping
// repartitions), Materialized (the store behind a table) and Named (a node's
// name). Each is a plain struct; an unset serde (nullptr) means "the serde
// the stream already has, else the default serde of the type" (see
// DefaultSerde), and Build() names the operator when neither exists.
//
//   builder.Stream<std::string, std::string>("lines")
//       .GroupBy([](const std::string&, const std::string& v) { return v; })
//       .Count(Materialized<std::string, int64_t>::As("counts"));
//
// Threading model: plain values.
#ifndef BROOK_OPERATORS_OPTIONS_H_
#define BROOK_OPERATORS_OPTIONS_H_

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"

#include "brook/runtime/record.h"
#include "brook/runtime/serde.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/timestamp_extractor.h"
#include "brook/runtime/topology.h"

namespace brook {

// The built-in serde of T: String() for std::string, Int64() for int64_t,
// Int32() for int32_t, Protobuf<T>() for a protobuf message; nullptr for any
// other type, which must then be given a serde explicitly.
template <typename T>
SerdePtr<T> DefaultSerde() {
  if constexpr (std::is_same_v<T, std::string>) {
    return Serdes::String();
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return Serdes::Int64();
  } else if constexpr (std::is_same_v<T, int32_t>) {
    return Serdes::Int32();
  } else if constexpr (requires { T::descriptor(); }) {
    return Serdes::Protobuf<T>();
  } else {
    return nullptr;
  }
}

namespace internal {
// `same` if T2 is T, else T2's default serde.
template <typename T2, typename T>
SerdePtr<T2> SameOrDefault(const SerdePtr<T>& same) {
  if constexpr (std::is_same_v<T2, T>) {
    return same;
  } else {
    return DefaultSerde<T2>();
  }
}
}  // namespace internal

// A user-given name for the node an operator adds (instead of a generated
// KSTREAM-FILTER-0000000003). Empty: generate one.
struct Named {
  std::string name;
  static Named As(std::string name) { return Named{std::move(name)}; }
};

template <typename K, typename V>
struct Consumed {
  SerdePtr<K> key_serde;
  SerdePtr<V> value_serde;
  // Empty: the application's default extractor.
  TimestampExtractor timestamp_extractor;
  // Name of the source node; empty: KSTREAM-SOURCE-<n>.
  std::string name;

  static Consumed With(SerdePtr<K> key_serde, SerdePtr<V> value_serde) {
    return Consumed{std::move(key_serde), std::move(value_serde)};
  }
};

template <typename K, typename V>
struct Produced {
  SerdePtr<K> key_serde;
  SerdePtr<V> value_serde;
  // Chooses the output partition; empty: the producer's partitioner
  // (murmur2 of the key bytes, as Java's).
  StreamPartitioner<K, V> partitioner;
  // Name of the sink node; empty: KSTREAM-SINK-<n>.
  std::string name;

  static Produced With(SerdePtr<K> key_serde, SerdePtr<V> value_serde) {
    return Produced{std::move(key_serde), std::move(value_serde)};
  }
};

// What a topic name extractor (KStream::To) knows of the record besides its
// key and value: where the input record came from (empty topic and -1 in a
// punctuator), and the record's timestamp and headers (Kafka Streams'
// RecordContext).
struct RecordContext {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp_ms = 0;
  absl::Span<const Header> headers;
};

// How a grouped stream is repartitioned when its key may have changed.
template <typename K, typename V>
struct Grouped {
  // Serdes of the repartition topic (and defaults for the store).
  SerdePtr<K> key_serde;
  SerdePtr<V> value_serde;
  // Names the repartition topic "<name>-repartition" and its nodes; empty:
  // they are named after the aggregation's store.
  std::string name;

  static Grouped With(SerdePtr<K> key_serde, SerdePtr<V> value_serde) {
    return Grouped{std::move(key_serde), std::move(value_serde)};
  }
  static Grouped As(std::string name) {
    return Grouped{nullptr, nullptr, name};
  }
};

// How KStream::Repartition writes its stream through an internal topic.
template <typename K, typename V>
struct Repartitioned {
  // Names the topic "<name>-repartition" and its nodes <name>-repartition-
  // sink and -source; empty: KSTREAM-REPARTITION-<n>.
  std::string name;
  // Partitions of the topic; 0 (the default): the largest partition count
  // among the inputs of the sub-topology that writes it, as for grouping.
  int32_t number_of_partitions = 0;
  // Serdes of the topic; unset: the stream's.
  SerdePtr<K> key_serde;
  SerdePtr<V> value_serde;
  // Chooses the partition of each record; empty: murmur2 of the key bytes.
  StreamPartitioner<K, V> partitioner;

  static Repartitioned As(std::string name) {
    Repartitioned r;
    r.name = std::move(name);
    return r;
  }
  static Repartitioned With(SerdePtr<K> key_serde, SerdePtr<V> value_serde) {
    Repartitioned r;
    r.key_serde = std::move(key_serde);
    r.value_serde = std::move(value_serde);
    return r;
  }
  Repartitioned& WithNumberOfPartitions(int32_t n) {
    number_of_partitions = n;
    return *this;
  }
};

enum class StoreType {
  kRocksDB,   // on disk; survives restarts and restores only the tail
  kInMemory,  // restores its whole changelog after every restart
};

// The key-value store behind a table.
template <typename K, typename V>
struct Materialized {
  // Store name, also the changelog's "<application.id>-<name>-changelog";
  // empty: KSTREAM-AGGREGATE-STATE-STORE-<n>.
  std::string name;
  SerdePtr<K> key_serde;
  SerdePtr<V> value_serde;
  // RocksDB by default, as in Kafka Streams.
  StoreType store_type = StoreType::kRocksDB;
  // Without a changelog the store is not fault-tolerant: its data is lost
  // with the state directory and does not move with its task.
  bool logging_enabled = true;
  // Whether a record cache holds the table's updates until commit, once
  // statestore.cache.max.bytes (StreamsConfig) gives caches a budget; off,
  // every input record gives its own update downstream whatever the budget.
  bool caching_enabled = true;
  // Windowed aggregations only: how long windows are kept in the store (and
  // readable through it) after their start (time windows) or end (sessions).
  // 0: window size + grace (sessions: gap + grace), the least that works; a
  // smaller value is a Build() error.
  int64_t retention_ms = 0;

  static Materialized As(std::string name) {
    Materialized m;
    m.name = std::move(name);
    return m;
  }
  static Materialized With(SerdePtr<K> key_serde, SerdePtr<V> value_serde) {
    Materialized m;
    m.key_serde = std::move(key_serde);
    m.value_serde = std::move(value_serde);
    return m;
  }
  Materialized& WithStoreType(StoreType type) {
    store_type = type;
    return *this;
  }
  Materialized& WithCachingDisabled() {
    caching_enabled = false;
    return *this;
  }
  Materialized& WithCachingEnabled() {
    caching_enabled = true;
    return *this;
  }
  Materialized& WithRetention(absl::Duration retention) {
    retention_ms = absl::ToInt64Milliseconds(retention);
    return *this;
  }
};

}  // namespace brook

#endif  // BROOK_OPERATORS_OPTIONS_H_
