// DslGraph: the logical graph the DSL's handles (KStream, KTable, ...)
// record, and its compilation to a runtime Topology.
//
// Each DslNode is an operator with its parents, its record types and either
// a Step (stateless operators, which Build() fuses into chains) or a
// function that adds it to the topology (sources, sinks, stateful
// processors). The typed layer (kstream.h and friends) builds the nodes;
// everything here is untyped, so that each operator instantiates little
// code.
//
// Threading model: built on one thread (the user's StreamsBuilder); Build()
// copies what the topology needs, so the graph may be dropped afterwards.
#ifndef BROOK_OPERATORS_INTERNAL_GRAPH_H_
#define BROOK_OPERATORS_INTERNAL_GRAPH_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "brook/operators/internal/fused_node.h"
#include "brook/runtime/internal/node_spec.h"
#include "brook/runtime/serde.h"
#include "brook/runtime/topology.h"
#include "brook/state/state_store.h"

namespace brook::internal {

struct DslNode {
  enum class Kind {
    kSource,     // added by `add`, no parents
    kStateless,  // a Step; fused with stateless neighbours
    kProcessor,  // added by `add`; may use `stores`
    kSink,       // added by `add`
  };
  Kind kind = Kind::kStateless;
  std::string name;
  std::vector<int> parents;  // DslGraph node ids
  RecordTypes input;         // not for sources
  RecordTypes output;        // not for sinks
  Step step;                 // kStateless
  // Adds the node to `topology` as `name` with the given parent node names.
  std::function<void(Topology& topology, const std::string& name,
                     std::vector<std::string> parents)>
      add;
  std::vector<std::shared_ptr<const StoreBuilder>> stores;  // kProcessor
  // kProcessor: stores added with DslGraph::AddStateStore, by name.
  std::vector<std::string> store_names;
  // Sinks and sources of a repartition: the internal topic's short name,
  // and how to create it (taken from the first node that names it).
  std::string internal_topic;
  InternalTopicOptions internal_topic_options;
};

struct BuildOptions {
  // Fuse chains of stateless operators into one processor node (see
  // FusedNode). Off, each operator is its own node, as in Kafka Streams'
  // Describe() output.
  bool fuse_stateless = true;
};

class DslGraph {
 public:
  // Adds `node` and returns its id. Parents must already exist.
  int Add(DslNode node);
  const DslNode& node(int id) const { return nodes_[id]; }

  // "<prefix><10-digit counter>", the counter shared by every generated name
  // of the builder, in creation order (Kafka Streams' scheme).
  std::string NewName(absl::string_view prefix);
  // `given` if not empty, else NewName(prefix).
  std::string NameOr(const std::string& given, absl::string_view prefix);

  // A store that processors connect to by name (KStream::Process).
  void AddStateStore(std::shared_ptr<const StoreBuilder> builder);

  // True if a node reads `store` by name (DslNode::store_names: a
  // stream-table join, a Process). Such a store gets no record cache: its
  // held-back updates would be seen by its owner only.
  bool StoreReadByName(const std::string& store) const;

  // Records the first error of an operator call; Build() returns it.
  void AddError(absl::Status error);

  absl::StatusOr<Topology> Build(const BuildOptions& options) const;

 private:
  std::vector<DslNode> nodes_;
  std::vector<std::shared_ptr<const StoreBuilder>> named_stores_;
  int next_index_ = 0;
  absl::Status first_error_;
};

// True if both serdes are set; else records an error on `graph` that names
// `what` (the operator), the type without a serde and the option to give it.
template <typename K, typename V>
bool CheckSerdes(DslGraph& graph, const SerdePtr<K>& key_serde,
                 const SerdePtr<V>& value_serde, const std::string& what,
                 absl::string_view option) {
  if (key_serde && value_serde) return true;
  graph.AddError(absl::InvalidArgumentError(absl::StrCat(
      what, " has no serde for its ", key_serde ? "value" : "key", " type ",
      key_serde ? TypeName<V>() : TypeName<K>(), "; give one in ", option)));
  return false;
}

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_GRAPH_H_
