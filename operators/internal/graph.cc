#include "brook/operators/internal/graph.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include "brook/base/logging.h"

namespace brook::internal {

int DslGraph::Add(DslNode node) {
  for (int p : node.parents) {
    CHECK(p >= 0 && p < static_cast<int>(nodes_.size()))
        << "DSL node '" << node.name << "' has unknown parent " << p;
  }
  nodes_.push_back(std::move(node));
  return static_cast<int>(nodes_.size()) - 1;
}

std::string DslGraph::NewName(absl::string_view prefix) {
  return absl::StrFormat("%s%010d", prefix, next_index_++);
}

std::string DslGraph::NameOr(const std::string& given,
                             absl::string_view prefix) {
  return given.empty() ? NewName(prefix) : given;
}

void DslGraph::AddStateStore(std::shared_ptr<const StoreBuilder> builder) {
  named_stores_.push_back(std::move(builder));
}

bool DslGraph::StoreReadByName(const std::string& store) const {
  for (const DslNode& n : nodes_) {
    for (const std::string& name : n.store_names) {
      if (name == store) return true;
    }
  }
  return false;
}

void DslGraph::AddError(absl::Status error) {
  if (first_error_.ok()) first_error_ = std::move(error);
}

absl::StatusOr<Topology> DslGraph::Build(const BuildOptions& options) const {
  if (!first_error_.ok()) return first_error_;
  if (nodes_.empty()) {
    return absl::InvalidArgumentError(
        "the StreamsBuilder is empty: add a stream with Stream()");
  }
  using Kind = DslNode::Kind;
  const int n = static_cast<int>(nodes_.size());
  std::vector<int> child_count(n, 0);
  for (const DslNode& node : nodes_) {
    for (int p : node.parents) ++child_count[p];
  }
  // Chains of stateless nodes: a node joins its parent's chain if it is the
  // only child of its only parent, and both are stateless. Ids are in
  // creation order, so parents come first.
  std::vector<int> chain_of(n, -1);
  std::vector<std::vector<int>> chains;
  for (int id = 0; id < n; ++id) {
    const DslNode& node = nodes_[id];
    if (node.kind != Kind::kStateless) continue;
    if (options.fuse_stateless && node.parents.size() == 1) {
      const int p = node.parents[0];
      if (nodes_[p].kind == Kind::kStateless && child_count[p] == 1) {
        chain_of[id] = chain_of[p];
        chains[chain_of[id]].push_back(id);
        continue;
      }
    }
    chain_of[id] = static_cast<int>(chains.size());
    chains.push_back({id});
  }
  std::vector<std::string> chain_names;
  for (const std::vector<int>& chain : chains) {
    std::vector<std::string> names;
    for (int id : chain) names.push_back(nodes_[id].name);
    chain_names.push_back(absl::StrJoin(names, "+"));
  }
  auto topology_name = [&](int id) -> const std::string& {
    return chain_of[id] >= 0 ? chain_names[chain_of[id]] : nodes_[id].name;
  };
  auto parent_names = [&](const DslNode& node) {
    std::vector<std::string> names;
    for (int p : node.parents) names.push_back(topology_name(p));
    return names;
  };

  Topology topology;
  std::set<std::string> internal_topics;
  for (int id = 0; id < n; ++id) {
    const DslNode& node = nodes_[id];
    if (!node.internal_topic.empty() &&
        internal_topics.insert(node.internal_topic).second) {
      topology.AddInternalTopic(node.internal_topic,
                                node.internal_topic_options);
    }
    if (node.kind != Kind::kStateless) {
      node.add(topology, node.name, parent_names(node));
      for (const auto& store : node.stores) {
        topology.AddStateStore(store, {node.name});
      }
      continue;
    }
    const std::vector<int>& chain = chains[chain_of[id]];
    if (chain.front() != id) continue;  // added with its chain's head
    NodeSpec spec;
    spec.kind = NodeSpec::Kind::kProcessor;
    spec.name = topology_name(id);
    spec.parents = parent_names(node);
    spec.input = node.input;
    spec.output = nodes_[chain.back()].output;
    std::vector<Step> steps;
    for (int member : chain) steps.push_back(nodes_[member].step);
    // Each task gets its own copy of the steps (and of what the user's
    // functions captured).
    spec.make = [name = spec.name,
                 steps = std::move(steps)]() -> std::unique_ptr<ProcessorNode> {
      return std::make_unique<FusedNode>(name, steps);
    };
    topology.AddNodeSpec(std::move(spec));
  }
  for (const auto& builder : named_stores_) {
    std::vector<std::string> users;
    for (const DslNode& node : nodes_) {
      for (const std::string& s : node.store_names) {
        if (s == builder->name()) users.push_back(node.name);
      }
    }
    topology.AddStateStore(builder, users);
  }
  for (const DslNode& node : nodes_) {
    for (const std::string& s : node.store_names) {
      bool known = false;
      for (const auto& builder : named_stores_) known |= builder->name() == s;
      if (known) continue;
      // A store another operator owns (a table's, for a join).
      for (const DslNode& owner : nodes_) {
        for (const auto& store : owner.stores) known |= store->name() == s;
      }
      if (known) {
        topology.ConnectProcessorAndStateStores(node.name, {s});
        continue;
      }
      {
        return absl::InvalidArgumentError(absl::StrCat(
            "processor '", node.name, "' uses state store '", s,
            "', which was not added with StreamsBuilder::AddStateStore"));
      }
    }
  }
  return topology;
}

}  // namespace brook::internal
