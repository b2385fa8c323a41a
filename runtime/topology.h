// Topology: the processor API's description of a DAG of sources, processors
// and sinks, each named. Kafka Streams' Topology, with typed nodes.
//
//   Topology t;
//   t.AddSource<std::string, std::string>("in", {"orders"}, Serdes::String(),
//                                         Serdes::String())
//    .AddProcessor<std::string, std::string, std::string, std::string>(
//        "upper", [] { return std::make_unique<Upper>(); }, {"in"})
//    .AddSink<std::string, std::string>("out", "orders-upper",
//                                       Serdes::String(), Serdes::String(),
//                                       {"upper"});
//
// Nodes may be added in any order; mistakes (a duplicate name, an unknown
// parent, a cycle, mismatched record types between a parent and a child, an
// unknown store) are collected and reported by Validate(), which
// KafkaStreams::Create() calls. Describe() prints the sub-topologies: the
// connected parts of the DAG, each of which runs as one task per partition.
//
// Threading model: build on one thread; once handed to KafkaStreams it is
// only read.
#ifndef BROOK_RUNTIME_TOPOLOGY_H_
#define BROOK_RUNTIME_TOPOLOGY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

#include "brook/runtime/internal/node_spec.h"
#include "brook/runtime/internal/processor_node.h"
#include "brook/runtime/processor.h"
#include "brook/runtime/serde.h"
#include "brook/runtime/timestamp_extractor.h"
#include "brook/state/state_store.h"

namespace brook {

using internal::StreamPartitioner;
using internal::TopicNameExtractor;

// An internal topic: one the application owns, such as a repartition topic
// that one sub-topology writes and another reads. Sources and sinks name it
// by its short name; when the application runs, the topic is
// "<application.id>-<name>", created by Brook at start (and validated when
// it exists), as changelog topics are.
struct InternalTopicOptions {
  // Partition count. 0 (the default) takes the largest partition count
  // among the source topics of the sub-topologies that write the topic, as
  // Kafka Streams does, so that a repartition keeps the input's parallelism.
  int32_t partitions = 0;
  // Topic configs applied at creation, e.g. {"retention.ms", "-1"}.
  std::map<std::string, std::string> configs;
};

class Topology {
 public:
  // A source reading `topics`. All source topics of one sub-topology must
  // have the same partition count (they are co-partitioned).
  template <typename K, typename V>
  Topology& AddSource(const std::string& name, std::vector<std::string> topics,
                      SerdePtr<K> key_serde, SerdePtr<V> value_serde,
                      TimestampExtractor extractor = nullptr) {
    internal::NodeSpec spec = SourceSpec<K, V>(name, key_serde, value_serde);
    spec.topics = std::move(topics);
    spec.timestamp_extractor = std::move(extractor);
    return Add(std::move(spec));
  }

  // A source reading every topic whose name matches the POSIX extended
  // regex `pattern` (a full match), including topics created later. The
  // dialect is librdkafka's for subscription patterns (regcomp with
  // REG_EXTENDED), not Java's: no \d, no lookaround; write [0-9].
  template <typename K, typename V>
  Topology& AddSourcePattern(const std::string& name,
                             const std::string& pattern, SerdePtr<K> key_serde,
                             SerdePtr<V> value_serde,
                             TimestampExtractor extractor = nullptr) {
    internal::NodeSpec spec = SourceSpec<K, V>(name, key_serde, value_serde);
    spec.pattern = pattern;
    spec.timestamp_extractor = std::move(extractor);
    return Add(std::move(spec));
  }

  template <typename KIn, typename VIn, typename KOut, typename VOut>
  Topology& AddProcessor(const std::string& name,
                         ProcessorSupplier<KIn, VIn, KOut, VOut> supplier,
                         std::vector<std::string> parents) {
    internal::NodeSpec spec;
    spec.kind = internal::NodeSpec::Kind::kProcessor;
    spec.name = name;
    spec.parents = std::move(parents);
    spec.input = internal::RecordTypes::Of<KIn, VIn>();
    spec.output = internal::RecordTypes::Of<KOut, VOut>();
    spec.make = [name, supplier = std::move(supplier)]()
        -> std::unique_ptr<internal::ProcessorNode> {
      return std::make_unique<
          internal::ProcessorNodeImpl<KIn, VIn, KOut, VOut>>(name, supplier());
    };
    return Add(std::move(spec));
  }

  template <typename K, typename V>
  Topology& AddSink(const std::string& name, const std::string& topic,
                    SerdePtr<K> key_serde, SerdePtr<V> value_serde,
                    std::vector<std::string> parents,
                    StreamPartitioner<K, V> partitioner = nullptr) {
    internal::NodeSpec spec;
    spec.kind = internal::NodeSpec::Kind::kSink;
    spec.name = name;
    spec.parents = std::move(parents);
    spec.input = internal::RecordTypes::Of<K, V>();
    spec.topics = {topic};
    spec.make = [=]() -> std::unique_ptr<internal::ProcessorNode> {
      return std::make_unique<internal::SinkNode<K, V>>(
          name, topic, key_serde, value_serde, partitioner);
    };
    return Add(std::move(spec));
  }

  // A sink that writes each record to the topic extractor(record, metadata)
  // chooses (see TopicNameExtractor); Describe() shows "(topic extractor)".
  // Start-up cannot validate these topics, so the sink checks each the
  // first time it sees it and fails naming a topic that does not exist.
  template <typename K, typename V>
  Topology& AddSink(const std::string& name, TopicNameExtractor<K, V> extractor,
                    SerdePtr<K> key_serde, SerdePtr<V> value_serde,
                    std::vector<std::string> parents,
                    StreamPartitioner<K, V> partitioner = nullptr) {
    internal::NodeSpec spec;
    spec.kind = internal::NodeSpec::Kind::kSink;
    spec.name = name;
    spec.parents = std::move(parents);
    spec.input = internal::RecordTypes::Of<K, V>();
    spec.make = [=]() -> std::unique_ptr<internal::ProcessorNode> {
      return std::make_unique<internal::SinkNode<K, V>>(
          name, "", key_serde, value_serde, partitioner, extractor);
    };
    return Add(std::move(spec));
  }

  // Declares `name` an internal topic (see InternalTopicOptions). Sources
  // and sinks that name it read and write "<application.id>-<name>" when the
  // application runs; Describe() shows the short name.
  Topology& AddInternalTopic(const std::string& name,
                             InternalTopicOptions options = {});

  // Adds a node as the runtime stores it. For libraries built on the
  // processor API, such as Brook's DSL (operators/), which run several
  // operators in one node. REQUIRES: `spec.make` makes a node that accepts
  // records of `spec.input` and forwards records of `spec.output`; the
  // topology cannot check that.
  Topology& AddNodeSpec(internal::NodeSpec spec) {
    return Add(std::move(spec));
  }

  // Attaches a store, made per task by `builder`, to the named processors.
  Topology& AddStateStore(std::shared_ptr<const StoreBuilder> builder,
                          std::vector<std::string> processors);

  // Gives the named processor access to stores already added for other
  // processors (Kafka Streams' connectProcessorAndStateStores), e.g. a join
  // reading a table's store. Nodes that share a store run in one task.
  Topology& ConnectProcessorAndStateStores(const std::string& processor,
                                           std::vector<std::string> stores);

  // Collected construction errors, then whole-graph checks. OK means the
  // topology can run.
  absl::Status Validate() const;

  // The sub-topologies as text, in Kafka Streams' format. Describes an
  // invalid topology as far as it can and names the first error.
  std::string Describe() const;

  // The sub-topologies as a Mermaid flowchart, to paste into Markdown (a
  // ```mermaid block) or mermaid.live: each sub-topology a subgraph of its
  // nodes (processors square, sources and sinks round) and stores
  // (cylinders, dotted to their processors); topics are parallelograms
  // outside the subgraphs, so a repartition topic links the sub-topology
  // that writes it to the one that reads it. The same for DSL and
  // processor-API topologies. An invalid topology gives a flowchart with
  // the error as a comment.
  std::string ToMermaid() const;

  // The sub-topologies as a Graphviz digraph (`dot -Tsvg`): the same graph
  // as ToMermaid(), each sub-topology a cluster "cluster_sub<id>" of its
  // nodes (processors boxes, sources and sinks ellipses) and stores
  // (cylinders, dashed undirected edges to their processors); topics are
  // parallelograms outside the clusters. An invalid topology gives an
  // empty digraph with the error as a comment.
  std::string ToDot() const;

  const std::vector<internal::NodeSpec>& nodes() const { return nodes_; }
  const std::map<std::string, std::shared_ptr<const StoreBuilder>>& stores()
      const {
    return stores_;
  }
  const std::map<std::string, InternalTopicOptions>& internal_topics() const {
    return internal_topics_;
  }

 private:
  template <typename K, typename V>
  static internal::NodeSpec SourceSpec(const std::string& name,
                                       SerdePtr<K> key_serde,
                                       SerdePtr<V> value_serde) {
    internal::NodeSpec spec;
    spec.kind = internal::NodeSpec::Kind::kSource;
    spec.name = name;
    spec.output = internal::RecordTypes::Of<K, V>();
    spec.make = [=]() -> std::unique_ptr<internal::ProcessorNode> {
      return std::make_unique<internal::SourceNode<K, V>>(name, key_serde,
                                                          value_serde);
    };
    return spec;
  }

  Topology& Add(internal::NodeSpec spec);

  std::vector<internal::NodeSpec> nodes_;
  std::map<std::string, std::shared_ptr<const StoreBuilder>> stores_;
  std::map<std::string, InternalTopicOptions> internal_topics_;
  absl::Status first_error_;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_TOPOLOGY_H_
