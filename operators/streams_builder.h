// StreamsBuilder: the entry point of Brook's DSL. Describe a pipeline with
// KStream, KGroupedStream and KTable operators, then Build() the Topology
// that KafkaStreams runs; the runtime sees only ordinary sources,
// processors, sinks, stores and internal topics.
//
//   StreamsBuilder builder;
//   builder.Stream<std::string, std::string>("lines")
//       .FlatMapValues([](const std::string& line) { return Words(line); })
//       .GroupBy([](const auto&, const std::string& word) { return word; })
//       .Count(Materialized<std::string, int64_t>::As("counts"))
//       .ToStream()
//       .To("word-counts");
//   absl::StatusOr<Topology> topology = builder.Build();
//
// Node names follow Kafka Streams (KSTREAM-SOURCE-0000000000, one counter in
// creation order) unless given with Named or an option's `name`. See
// docs/dsl.md for what exists and what does not yet.
//
// Threading model: build on one thread. The handles share the builder's
// graph, so they stay valid after the builder is gone.
#ifndef BROOK_OPERATORS_STREAMS_BUILDER_H_
#define BROOK_OPERATORS_STREAMS_BUILDER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "brook/operators/internal/graph.h"
#include "brook/operators/internal/table_source.h"
#include "brook/operators/kgrouped_stream.h"
#include "brook/operators/kstream.h"
#include "brook/operators/ktable.h"
#include "brook/operators/options.h"
#include "brook/runtime/stores.h"
#include "brook/runtime/topology.h"

namespace brook {

struct StreamsBuilderOptions {
  // Run chains of stateless operators in one processor node (one indirect
  // call and no record copy per filter or peek). Off, every operator is its
  // own node, as Kafka Streams describes them; useful to read Describe().
  bool fuse_stateless = true;
};

class StreamsBuilder {
 public:
  explicit StreamsBuilder(StreamsBuilderOptions options = {})
      : options_(options), graph_(std::make_shared<internal::DslGraph>()) {}

  // A stream of the records of `topics` (KSTREAM-SOURCE-<n>). Serdes:
  // Consumed's, else the types' defaults.
  template <typename K, typename V>
  KStream<K, V> Stream(std::vector<std::string> topics,
                       Consumed<K, V> consumed = {}) {
    const std::string name = graph_->NameOr(consumed.name, "KSTREAM-SOURCE-");
    SerdePtr<K> ks =
        consumed.key_serde ? consumed.key_serde : DefaultSerde<K>();
    SerdePtr<V> vs =
        consumed.value_serde ? consumed.value_serde : DefaultSerde<V>();
    internal::CheckSerdes<K, V>(
        *graph_, ks, vs,
        absl::StrCat("source '", name, "' (", absl::StrJoin(topics, ", "), ")"),
        "Consumed");
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kSource;
    node.name = name;
    node.output = internal::RecordTypes::Of<K, V>();
    node.add = [topics, ks, vs, extractor = consumed.timestamp_extractor](
                   Topology& t, const std::string& name,
                   std::vector<std::string>) {
      t.AddSource<K, V>(name, topics, ks, vs, extractor);
    };
    const int id = graph_->Add(std::move(node));
    return KStream<K, V>(graph_, id, std::move(ks), std::move(vs), false);
  }

  template <typename K, typename V>
  KStream<K, V> Stream(const std::string& topic, Consumed<K, V> consumed = {}) {
    return Stream<K, V>(std::vector<std::string>{topic}, std::move(consumed));
  }

  // The topic `topic` read as a table: the latest value per key, kept in a
  // key-value store (Materialized's name, else
  // "<topic>-STATE-STORE-<n>"), with a tombstone deleting its key
  // (KSTREAM-SOURCE-<n> then KTABLE-SOURCE-<n>). Records with a null key are
  // dropped. The store has its own changelog (Kafka Streams can reuse the
  // source topic instead; Brook does not yet).
  template <typename K, typename V>
  KTable<K, V> Table(const std::string& topic, Consumed<K, V> consumed = {},
                     Materialized<K, V> materialized = {}) {
    const std::string store =
        graph_->NameOr(materialized.name, topic + "-STATE-STORE-");
    KStream<K, V> source = Stream<K, V>(topic, std::move(consumed));
    SerdePtr<K> ks =
        materialized.key_serde ? materialized.key_serde : source.key_serde();
    SerdePtr<V> vs = materialized.value_serde ? materialized.value_serde
                                              : source.value_serde();
    internal::DslNode node;
    node.kind = internal::DslNode::Kind::kProcessor;
    node.name = graph_->NewName("KTABLE-SOURCE-");
    node.parents = {source.node_};
    node.input = internal::RecordTypes::Of<K, V>();
    node.output = internal::RecordTypes::Of<K, internal::Change<V>>();
    const internal::Caching caching = materialized.caching_enabled
                                          ? internal::Caching::kEnabled
                                          : internal::Caching::kDisabled;
    node.add = [store, caching, graph = graph_.get()](
                   Topology& t, const std::string& name,
                   std::vector<std::string> parents) {
      const internal::Caching c = graph->StoreReadByName(store)
                                      ? internal::Caching::kDisabled
                                      : caching;
      t.AddProcessor<K, V, K, internal::Change<V>>(
          name,
          [store, caching = c] {
            return std::make_unique<internal::TableSourceProcessor<K, V>>(
                store, caching);
          },
          std::move(parents));
    };
    if (ks && vs) {
      node.stores.push_back(Stores::KeyValueStoreBuilder<K, V>(
          store, ks, vs,
          StoreOptions{
              .persistent = materialized.store_type == StoreType::kRocksDB,
              .logging_enabled = materialized.logging_enabled}));
    }
    const int id = graph_->Add(std::move(node));
    return KTable<K, V>(graph_, id, std::move(ks), std::move(vs), store);
  }

  // Adds a store that processors of KStream::Process connect to by name
  // (see runtime/stores.h for the builders).
  StreamsBuilder& AddStateStore(std::shared_ptr<const StoreBuilder> builder) {
    graph_->AddStateStore(std::move(builder));
    return *this;
  }

  // The topology of everything described so far, or the first error an
  // operator recorded (a missing serde, merging streams of two builders) or
  // that Topology::Validate() finds.
  absl::StatusOr<Topology> Build() const;

 private:
  const StreamsBuilderOptions options_;
  std::shared_ptr<internal::DslGraph> graph_;
};

}  // namespace brook

#endif  // BROOK_OPERATORS_STREAMS_BUILDER_H_
