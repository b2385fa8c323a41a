// TopologyPlan: a validated Topology split into sub-topologies, with what the
// runtime needs to subscribe, make tasks and route records.
// Threading model: immutable after Build(); shared by all stream threads.
#ifndef BROOK_RUNTIME_INTERNAL_TOPOLOGY_PLAN_H_
#define BROOK_RUNTIME_INTERNAL_TOPOLOGY_PLAN_H_

#include <regex.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

#include "brook/runtime/internal/node_spec.h"
#include "brook/runtime/topology.h"

namespace brook::internal {

struct SubTopologyPlan {
  int32_t id = 0;
  // Indices into TopologyPlan::nodes(), parents before children.
  std::vector<int> nodes;
  std::vector<std::string> source_topics;    // named topics
  std::vector<std::string> source_patterns;  // regexes
  std::vector<std::string> sink_topics;
  std::vector<std::string> stores;
};

class TopologyPlan {
 public:
  // Validates `topology` (see Topology::Validate) and plans it. With an
  // `application_id`, sources and sinks of internal topics use the full
  // names "<application_id>-<name>"; without, the short names (Describe()).
  static absl::StatusOr<std::shared_ptr<const TopologyPlan>> Build(
      const Topology& topology, absl::string_view application_id = {});

  const std::vector<NodeSpec>& nodes() const { return nodes_; }
  const std::vector<SubTopologyPlan>& subtopologies() const { return subs_; }
  const std::map<std::string, std::shared_ptr<const StoreBuilder>>& stores()
      const {
    return stores_;
  }

  // The internal topics by full name (short name without an application
  // id); Brook creates them at start.
  const std::map<std::string, InternalTopicOptions>& internal_topics() const {
    return internal_topics_;
  }

  // The sub-topology and source node that read `topic`, if any.
  struct Route {
    int32_t subtopology;
    int node;
  };
  std::optional<Route> RouteFor(const std::string& topic) const;

  // What the consumer subscribes to: named topics, and each pattern as a
  // librdkafka regex entry ("^...$").
  std::vector<std::string> Subscription() const;
  bool has_patterns() const { return !patterns_.empty(); }

  // Is `store` connected to the node named `node`?
  bool IsConnected(const std::string& node, absl::string_view store) const;

  std::string Describe() const;
  std::string ToMermaid() const;
  std::string ToDot() const;

 private:
  TopologyPlan() = default;

  std::vector<NodeSpec> nodes_;
  std::map<std::string, std::shared_ptr<const StoreBuilder>> stores_;
  std::vector<SubTopologyPlan> subs_;
  std::map<std::string, InternalTopicOptions> internal_topics_;
  absl::flat_hash_map<std::string, Route> topic_routes_;
  // POSIX extended regexes, as librdkafka matches subscription patterns.
  struct PatternRoute {
    std::shared_ptr<regex_t> regex;
    Route route;
  };
  std::vector<PatternRoute> patterns_;
};

// "<application_id>-<name>", or `name` if application_id is empty.
std::string InternalTopicName(absl::string_view application_id,
                              absl::string_view name);

// The sub-topologies as a Mermaid flowchart (see Topology::ToMermaid).
std::string MermaidNodes(const std::vector<NodeSpec>& nodes,
                         const std::vector<SubTopologyPlan>& subs);

// The sub-topologies as a Graphviz digraph (see Topology::ToDot).
std::string DotNodes(const std::vector<NodeSpec>& nodes,
                     const std::vector<SubTopologyPlan>& subs);

// Describes nodes in Kafka Streams' text format; used for valid and invalid
// topologies alike.
std::string DescribeNodes(const std::vector<NodeSpec>& nodes,
                          const std::vector<SubTopologyPlan>& subs);

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_TOPOLOGY_PLAN_H_
