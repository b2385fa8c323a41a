#include "brook/runtime/internal/topology_plan.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"

namespace brook::internal {
namespace {

using Kind = NodeSpec::Kind;

absl::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kSource:
      return "source";
    case Kind::kProcessor:
      return "processor";
    case Kind::kSink:
      return "sink";
  }
  return "?";
}

class UnionFind {
 public:
  explicit UnionFind(int n) : parent_(n) {
    std::iota(parent_.begin(), parent_.end(), 0);
  }
  int Find(int x) {
    return parent_[x] == x ? x : parent_[x] = Find(parent_[x]);
  }
  void Union(int a, int b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<int> parent_;
};

// Checks each node on its own and against its parents.
absl::Status CheckEdges(const std::vector<NodeSpec>& nodes,
                        const absl::flat_hash_map<std::string, int>& index) {
  for (const NodeSpec& n : nodes) {
    if (n.kind == Kind::kSource) {
      if (!n.parents.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("source '", n.name, "' cannot have parents"));
      }
      if (n.topics.empty() && n.pattern.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("source '", n.name, "' reads no topic"));
      }
      continue;
    }
    if (n.parents.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(KindName(n.kind), " '", n.name,
                       "' has no parent, so it gets no records"));
    }
    for (const std::string& p : n.parents) {
      auto it = index.find(p);
      if (it == index.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(KindName(n.kind), " '", n.name,
                         "' names unknown parent '", p, "'"));
      }
      const NodeSpec& parent = nodes[it->second];
      if (parent.kind == Kind::kSink) {
        return absl::InvalidArgumentError(absl::StrCat(
            "sink '", p, "' cannot be the parent of '", n.name, "'"));
      }
      if (!(parent.output == n.input)) {
        return absl::InvalidArgumentError(absl::StrCat(
            KindName(n.kind), " '", n.name, "' takes records ", n.input.name,
            " but its parent '", p, "' forwards ", parent.output.name));
      }
    }
  }
  return absl::OkStatus();
}

// Kahn's algorithm: parents before children, or the names on a cycle.
absl::StatusOr<std::vector<int>> TopologicalOrder(
    const std::vector<NodeSpec>& nodes,
    const absl::flat_hash_map<std::string, int>& index) {
  std::vector<int> indegree(nodes.size(), 0);
  std::vector<std::vector<int>> children(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const std::string& p : nodes[i].parents) {
      children[index.at(p)].push_back(static_cast<int>(i));
      ++indegree[i];
    }
  }
  std::vector<int> order;
  std::vector<int> ready;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (indegree[i] == 0) ready.push_back(static_cast<int>(i));
  }
  while (!ready.empty()) {
    std::sort(ready.begin(), ready.end(), std::greater<int>());
    int n = ready.back();
    ready.pop_back();
    order.push_back(n);
    for (int c : children[n]) {
      if (--indegree[c] == 0) ready.push_back(c);
    }
  }
  if (order.size() != nodes.size()) {
    // Kahn's algorithm leaves the nodes on a cycle and also every node
    // downstream of one. Peel off the nodes none of whose children are left,
    // so that the error names the cycle and not the nodes stuck behind it.
    std::vector<bool> left(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) left[i] = indegree[i] > 0;
    for (bool peeled = true; peeled;) {
      peeled = false;
      for (size_t i = 0; i < nodes.size(); ++i) {
        if (!left[i]) continue;
        if (std::none_of(children[i].begin(), children[i].end(),
                         [&left](int c) { return left[c]; })) {
          left[i] = false;
          peeled = true;
        }
      }
    }
    std::vector<std::string> on_cycle;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (left[i]) on_cycle.push_back(nodes[i].name);
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "the topology has a cycle through ", absl::StrJoin(on_cycle, ", ")));
  }
  return order;
}

}  // namespace

namespace {

// Renames the internal topics that sources and sinks name to
// "<application_id>-<name>". A sink's node is made with the short name, so
// its factory is wrapped to set the full one.
void ResolveInternalTopics(
    const std::map<std::string, InternalTopicOptions>& internal,
    absl::string_view application_id, std::vector<NodeSpec>& nodes) {
  for (NodeSpec& n : nodes) {
    bool renamed = false;
    for (std::string& t : n.topics) {
      if (!internal.contains(t)) continue;
      t = InternalTopicName(application_id, t);
      renamed = true;
    }
    if (!renamed || n.kind != Kind::kSink) continue;
    n.make = [make = std::move(n.make),
              topic = n.topics[0]]() -> std::unique_ptr<ProcessorNode> {
      std::unique_ptr<ProcessorNode> node = make();
      auto* sink = dynamic_cast<SinkNodeBase*>(node.get());
      CHECK(sink != nullptr)
          << "sink '" << node->name() << "' is not a SinkNodeBase";
      sink->set_topic(topic);
      return node;
    };
  }
}

}  // namespace

std::string InternalTopicName(absl::string_view application_id,
                              absl::string_view name) {
  if (application_id.empty()) return std::string(name);
  return absl::StrCat(application_id, "-", name);
}

absl::StatusOr<std::shared_ptr<const TopologyPlan>> TopologyPlan::Build(
    const Topology& topology, absl::string_view application_id) {
  const std::vector<NodeSpec>& nodes = topology.nodes();
  if (nodes.empty()) {
    return absl::InvalidArgumentError("the topology is empty: add a source");
  }
  absl::flat_hash_map<std::string, int> index;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!index.emplace(nodes[i].name, static_cast<int>(i)).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "topology node name '", nodes[i].name, "' is used twice"));
    }
  }
  BROOK_RETURN_IF_ERROR(CheckEdges(nodes, index));
  BROOK_ASSIGN_OR_RETURN(std::vector<int> order,
                         TopologicalOrder(nodes, index));
  for (const NodeSpec& n : nodes) {
    for (const std::string& s : n.stores) {
      if (!topology.stores().contains(s)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "processor '", n.name, "' uses unknown state store '", s, "'"));
      }
    }
  }

  // Sub-topologies: nodes joined by edges or by a shared store.
  UnionFind components(static_cast<int>(nodes.size()));
  absl::flat_hash_map<std::string, int> store_owner;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const std::string& p : nodes[i].parents) {
      components.Union(static_cast<int>(i), index.at(p));
    }
    for (const std::string& s : nodes[i].stores) {
      auto [it, inserted] = store_owner.emplace(s, static_cast<int>(i));
      if (!inserted) components.Union(static_cast<int>(i), it->second);
    }
  }
  std::shared_ptr<TopologyPlan> plan(new TopologyPlan());
  plan->nodes_ = nodes;
  plan->stores_ = topology.stores();
  for (const auto& [name, options] : topology.internal_topics()) {
    plan->internal_topics_[InternalTopicName(application_id, name)] = options;
  }
  ResolveInternalTopics(topology.internal_topics(), application_id,
                        plan->nodes_);
  absl::flat_hash_map<int, int32_t> sub_of_root;
  for (int n = 0; n < static_cast<int>(nodes.size()); ++n) {
    int root = components.Find(n);
    if (!sub_of_root.contains(root)) {
      int32_t id = static_cast<int32_t>(plan->subs_.size());
      sub_of_root[root] = id;
      plan->subs_.push_back(SubTopologyPlan{.id = id});
    }
  }
  for (int n : order) {
    SubTopologyPlan& sub = plan->subs_[sub_of_root[components.Find(n)]];
    sub.nodes.push_back(n);
    const NodeSpec& spec = plan->nodes_[n];
    if (spec.kind == Kind::kSink && !spec.topics.empty()) {
      sub.sink_topics.push_back(spec.topics[0]);
    }
    for (const std::string& s : spec.stores) {
      if (std::find(sub.stores.begin(), sub.stores.end(), s) ==
          sub.stores.end()) {
        sub.stores.push_back(s);
      }
    }
    if (spec.kind != Kind::kSource) continue;
    Route route{sub.id, n};
    for (const std::string& t : spec.topics) {
      auto [it, inserted] = plan->topic_routes_.emplace(t, route);
      if (!inserted) {
        // Name both sources: Validate() errors name the nodes at fault.
        return absl::InvalidArgumentError(
            absl::StrCat("topic '", t, "' is read by two sources, '",
                         nodes[it->second.node].name, "' and '", spec.name,
                         "'; read it once and fan out"));
      }
      sub.source_topics.push_back(t);
    }
    if (!spec.pattern.empty()) {
      auto raw = std::make_unique<regex_t>();
      const std::string anchored = absl::StrCat("^(", spec.pattern, ")$");
      if (int rc =
              regcomp(raw.get(), anchored.c_str(), REG_EXTENDED | REG_NOSUB);
          rc != 0) {
        char reason[256];
        regerror(rc, raw.get(), reason, sizeof(reason));
        return absl::InvalidArgumentError(
            absl::StrCat("source '", spec.name, "' has an invalid pattern '",
                         spec.pattern, "': ", reason));
      }
      std::shared_ptr<regex_t> regex(raw.release(), [](regex_t* r) {
        regfree(r);
        delete r;
      });
      plan->patterns_.push_back({std::move(regex), route});
      sub.source_patterns.push_back(spec.pattern);
    }
  }
  return std::shared_ptr<const TopologyPlan>(std::move(plan));
}

std::optional<TopologyPlan::Route> TopologyPlan::RouteFor(
    const std::string& topic) const {
  if (auto it = topic_routes_.find(topic); it != topic_routes_.end()) {
    return it->second;
  }
  for (const PatternRoute& p : patterns_) {
    if (regexec(p.regex.get(), topic.c_str(), 0, nullptr, 0) == 0)
      return p.route;
  }
  return std::nullopt;
}

std::vector<std::string> TopologyPlan::Subscription() const {
  std::vector<std::string> topics;
  for (const SubTopologyPlan& sub : subs_) {
    for (const std::string& t : sub.source_topics) topics.push_back(t);
    for (const std::string& p : sub.source_patterns) {
      topics.push_back(absl::StrCat("^(", p, ")$"));
    }
  }
  return topics;
}

bool TopologyPlan::IsConnected(const std::string& node,
                               absl::string_view store) const {
  for (const NodeSpec& n : nodes_) {
    if (n.name != node) continue;
    return std::find(n.stores.begin(), n.stores.end(), store) != n.stores.end();
  }
  return false;
}

std::string TopologyPlan::Describe() const {
  return DescribeNodes(nodes_, subs_);
}

std::string TopologyPlan::ToMermaid() const {
  return MermaidNodes(nodes_, subs_);
}

std::string TopologyPlan::ToDot() const { return DotNodes(nodes_, subs_); }

namespace {

// A Mermaid label: quoted, with the characters that end a label escaped.
std::string MermaidLabel(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') {
      out += "#quot;";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A DOT string: quoted, with quotes and backslashes escaped.
std::string DotLabel(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// How one graph language writes each part of the drawing. GraphNodes walks
// the topology once and asks the dialect for the text of each part.
struct GraphDialect {
  std::string header;
  std::string footer;
  std::string (*subgraph_open)(int id);
  std::string subgraph_close;
  // A processor (box) or a source or sink (rounded).
  std::string (*node)(const std::string& id, const std::string& label,
                      bool processor);
  std::string (*topic)(const std::string& id, const std::string& label);
  std::string (*store)(const std::string& id, const std::string& label);
  std::string (*edge)(const std::string& from, const std::string& to);
  std::string (*store_edge)(const std::string& node, const std::string& store);
};

const GraphDialect& Mermaid() {
  static const GraphDialect* const dialect = new GraphDialect{
      .header = "flowchart TD\n",
      .footer = "",
      .subgraph_open =
          [](int id) {
            return absl::StrCat(
                "  subgraph sub", id, "[",
                MermaidLabel(absl::StrCat("Sub-topology: ", id)), "]\n");
          },
      .subgraph_close = "  end\n",
      .node =
          [](const std::string& id, const std::string& label, bool processor) {
            return processor ? absl::StrCat("    ", id, "[",
                                            MermaidLabel(label), "]\n")
                             : absl::StrCat("    ", id, "(",
                                            MermaidLabel(label), ")\n");
          },
      .topic =
          [](const std::string& id, const std::string& label) {
            return absl::StrCat("  ", id, "[/", MermaidLabel(label), "/]\n");
          },
      .store =
          [](const std::string& id, const std::string& label) {
            return absl::StrCat("    ", id, "[(", MermaidLabel(label), ")]\n");
          },
      .edge =
          [](const std::string& from, const std::string& to) {
            return absl::StrCat("  ", from, " --> ", to, "\n");
          },
      .store_edge =
          [](const std::string& node, const std::string& store) {
            return absl::StrCat("  ", node, " -.- ", store, "\n");
          },
  };
  return *dialect;
}

const GraphDialect& Dot() {
  static const GraphDialect* const dialect = new GraphDialect{
      .header = "digraph topology {\n  rankdir=TB;\n",
      .footer = "}\n",
      .subgraph_open =
          [](int id) {
            return absl::StrCat(
                "  subgraph cluster_sub", id, " {\n",
                "    label=", DotLabel(absl::StrCat("Sub-topology: ", id)),
                ";\n");
          },
      .subgraph_close = "  }\n",
      .node =
          [](const std::string& id, const std::string& label, bool processor) {
            return absl::StrCat("    ", id, " [label=", DotLabel(label),
                                processor ? ", shape=box" : ", shape=ellipse",
                                "];\n");
          },
      .topic =
          [](const std::string& id, const std::string& label) {
            return absl::StrCat("  ", id, " [label=", DotLabel(label),
                                ", shape=parallelogram];\n");
          },
      .store =
          [](const std::string& id, const std::string& label) {
            return absl::StrCat("    ", id, " [label=", DotLabel(label),
                                ", shape=cylinder];\n");
          },
      .edge =
          [](const std::string& from, const std::string& to) {
            return absl::StrCat("  ", from, " -> ", to, ";\n");
          },
      .store_edge =
          [](const std::string& node, const std::string& store) {
            return absl::StrCat("  ", node, " -> ", store,
                                " [style=dashed, dir=none];\n");
          },
  };
  return *dialect;
}

// Draws the topology in `dialect`: one subgraph per sub-topology holding its
// nodes and stores, then the topics, then every edge. Ids: n<i> for nodes
// (by index), t<j> for topics and s<k> for stores in order of first
// appearance, so that the output is stable.
std::string GraphNodes(const std::vector<NodeSpec>& nodes,
                       const std::vector<SubTopologyPlan>& subs,
                       const GraphDialect& dialect) {
  std::map<std::string, std::string> topic_ids;
  std::vector<std::string> topic_lines;
  auto topic_id = [&](const std::string& label) {
    auto [it, inserted] = topic_ids.emplace(
        label, absl::StrCat("t", static_cast<int>(topic_ids.size())));
    if (inserted) topic_lines.push_back(dialect.topic(it->second, label));
    return it->second;
  };
  absl::flat_hash_map<std::string, int> index;
  for (size_t i = 0; i < nodes.size(); ++i) {
    index[nodes[i].name] = static_cast<int>(i);
  }
  std::string out = dialect.header;
  std::string edges;
  int next_store = 0;
  for (const SubTopologyPlan& sub : subs) {
    out += dialect.subgraph_open(sub.id);
    std::map<std::string, std::string> store_ids;
    for (int i : sub.nodes) {
      const NodeSpec& n = nodes[i];
      const std::string id = absl::StrCat("n", i);
      out += dialect.node(id, n.name, n.kind == Kind::kProcessor);
      for (const std::string& p : n.parents) {
        if (auto it = index.find(p); it != index.end()) {
          edges += dialect.edge(absl::StrCat("n", it->second), id);
        }
      }
      if (n.kind == Kind::kSource) {
        for (const std::string& t : n.topics) {
          edges += dialect.edge(topic_id(t), id);
        }
        if (!n.pattern.empty()) {
          edges += dialect.edge(topic_id("pattern: " + n.pattern), id);
        }
      } else if (n.kind == Kind::kSink) {
        const std::string t = n.topics.empty()
                                  ? absl::StrCat("topic extractor of ", n.name)
                                  : n.topics[0];
        edges += dialect.edge(id, topic_id(t));
      }
      for (const std::string& store : n.stores) {
        auto [it, inserted] =
            store_ids.emplace(store, absl::StrCat("s", next_store));
        if (inserted) {
          ++next_store;
          out += dialect.store(it->second, store);
        }
        edges += dialect.store_edge(id, it->second);
      }
    }
    out += dialect.subgraph_close;
  }
  for (const std::string& line : topic_lines) out += line;
  return out + edges + dialect.footer;
}

}  // namespace

std::string MermaidNodes(const std::vector<NodeSpec>& nodes,
                         const std::vector<SubTopologyPlan>& subs) {
  return GraphNodes(nodes, subs, Mermaid());
}

std::string DotNodes(const std::vector<NodeSpec>& nodes,
                     const std::vector<SubTopologyPlan>& subs) {
  return GraphNodes(nodes, subs, Dot());
}

std::string DescribeNodes(const std::vector<NodeSpec>& nodes,
                          const std::vector<SubTopologyPlan>& subs) {
  std::vector<std::vector<std::string>> children(nodes.size());
  absl::flat_hash_map<std::string, int> index;
  for (size_t i = 0; i < nodes.size(); ++i)
    index[nodes[i].name] = static_cast<int>(i);
  for (const NodeSpec& n : nodes) {
    for (const std::string& p : n.parents) {
      if (auto it = index.find(p); it != index.end()) {
        children[it->second].push_back(n.name);
      }
    }
  }
  auto describe_node = [&](int i, std::string* out) {
    const NodeSpec& n = nodes[i];
    switch (n.kind) {
      case Kind::kSource:
        if (n.pattern.empty()) {
          absl::StrAppend(out, "    Source: ", n.name, " (topics: [",
                          absl::StrJoin(n.topics, ", "), "])\n");
        } else {
          absl::StrAppend(out, "    Source: ", n.name,
                          " (topic pattern: ", n.pattern, ")\n");
        }
        break;
      case Kind::kProcessor:
        absl::StrAppend(out, "    Processor: ", n.name, " (stores: [",
                        absl::StrJoin(n.stores, ", "), "])\n");
        break;
      case Kind::kSink:
        if (n.topics.empty()) {
          absl::StrAppend(out, "    Sink: ", n.name, " (topic extractor)\n");
        } else {
          absl::StrAppend(out, "    Sink: ", n.name, " (topic: ", n.topics[0],
                          ")\n");
        }
        break;
    }
    // As Kafka Streams prints them: sources and processors always list
    // their children and processors and sinks their parents, "none" when
    // there are none.
    auto names = [](const std::vector<std::string>& v) {
      return v.empty() ? std::string("none") : absl::StrJoin(v, ", ");
    };
    if (n.kind != Kind::kSink) {
      absl::StrAppend(out, "      --> ", names(children[i]), "\n");
    }
    if (n.kind != Kind::kSource) {
      absl::StrAppend(out, "      <-- ", names(n.parents), "\n");
    }
  };
  std::string out = "Topologies:\n";
  if (subs.empty()) {
    for (size_t i = 0; i < nodes.size(); ++i)
      describe_node(static_cast<int>(i), &out);
    return out;
  }
  // Kafka Streams' layout: a blank line ends each sub-topology, and the
  // first is indented by three spaces, the others by two.
  for (const SubTopologyPlan& sub : subs) {
    absl::StrAppend(&out, sub.id == 0 ? "   " : "  ", "Sub-topology: ", sub.id,
                    "\n");
    for (int n : sub.nodes) describe_node(n, &out);
    out += "\n";
  }
  return out;
}

}  // namespace brook::internal
