// Topology::ToDot(): the Graphviz digraph of a DSL topology with a
// repartition topic and a store, read back as edges and clusters; rendered
// by `dot` when graphviz is installed.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/streams_builder.h"
#include "brook/runtime/stores.h"
#include "brook/runtime/topology.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::MustBuild;
using ::brook::testing::WordCountTopology;
using ::testing::HasSubstr;
using S = std::string;

// What a DOT text says: node id -> label and shape, node id -> cluster, and
// the edges as "from -> to" with the attributes after them.
struct Dot {
  std::map<S, S> label;
  std::map<S, S> shape;
  std::map<S, S> cluster;
  std::map<S, S> cluster_label;
  std::set<std::pair<S, S>> edges;
  std::set<std::pair<S, S>> store_edges;  // dashed, undirected
};

S Attribute(const S& attrs, const S& name) {
  const size_t at = attrs.find(name + "=");
  if (at == S::npos) return "";
  S rest = attrs.substr(at + name.size() + 1);
  if (!rest.empty() && rest[0] == '"') {
    return rest.substr(1, rest.find('"', 1) - 1);
  }
  return rest.substr(0, rest.find_first_of(",]"));
}

Dot Parse(const S& text) {
  Dot dot;
  S cluster;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    S line(absl::StripAsciiWhitespace(raw));
    if (absl::ConsumePrefix(&raw, "  subgraph ")) {
      cluster = S(raw.substr(0, raw.find(' ')));
      continue;
    }
    if (line == "}") {
      cluster.clear();
      continue;
    }
    if (absl::StartsWith(line, "label=")) {
      dot.cluster_label[cluster] = Attribute(line, "label");
      continue;
    }
    const size_t arrow = line.find(" -> ");
    if (arrow != S::npos) {
      S from = line.substr(0, arrow);
      S to = line.substr(arrow + 4);
      to = to.substr(0, to.find_first_of(" ;"));
      if (line.find("style=dashed") != S::npos) {
        dot.store_edges.emplace(from, to);
      } else {
        dot.edges.emplace(from, to);
      }
      continue;
    }
    const size_t bracket = line.find(" [");
    if (bracket != S::npos && line.find("label=") != S::npos) {
      const S id = line.substr(0, bracket);
      dot.label[id] = Attribute(line, "label");
      dot.shape[id] = Attribute(line, "shape");
      if (!cluster.empty()) dot.cluster[id] = cluster;
    }
  }
  return dot;
}

// The id of the node labelled `label`, or "" if none.
S IdOf(const Dot& dot, const S& label) {
  for (const auto& [id, l] : dot.label) {
    if (l == label) return id;
  }
  return "";
}

Topology WordCount() { return WordCountTopology(); }

TEST(DotTest, WordCountHasTwoClustersLinkedByTheRepartitionTopic) {
  const S text = WordCount().ToDot();
  ASSERT_TRUE(absl::StartsWith(text, "digraph topology {\n")) << text;
  ASSERT_TRUE(absl::EndsWith(text, "}\n")) << text;
  const Dot dot = Parse(text);

  EXPECT_EQ(dot.cluster_label.at("cluster_sub0"), "Sub-topology: 0") << text;
  EXPECT_EQ(dot.cluster_label.at("cluster_sub1"), "Sub-topology: 1") << text;

  const S lines = IdOf(dot, "lines");
  const S repartition = IdOf(dot, "counts-repartition");
  const S out = IdOf(dot, "word-counts");
  const S source = IdOf(dot, "KSTREAM-SOURCE-0000000000");
  const S rsink = IdOf(dot, "counts-repartition-sink");
  const S rsource = IdOf(dot, "counts-repartition-source");
  const S aggregate = IdOf(dot, "KSTREAM-AGGREGATE-0000000003");
  const S store = IdOf(dot, "counts");
  const S sink = IdOf(dot, "KSTREAM-SINK-0000000005");
  for (const S& id : {lines, repartition, out, source, rsink, rsource,
                      aggregate, store, sink}) {
    ASSERT_FALSE(id.empty()) << text;
  }

  // Topics are parallelograms outside every cluster.
  for (const S& topic : {lines, repartition, out}) {
    EXPECT_EQ(dot.shape.at(topic), "parallelogram") << topic;
    EXPECT_FALSE(dot.cluster.contains(topic)) << topic;
  }
  EXPECT_EQ(dot.shape.at(source), "ellipse");
  EXPECT_EQ(dot.shape.at(aggregate), "box");
  EXPECT_EQ(dot.shape.at(store), "cylinder");

  // Which cluster each node lives in.
  EXPECT_EQ(dot.cluster.at(source), "cluster_sub0");
  EXPECT_EQ(dot.cluster.at(rsink), "cluster_sub0");
  EXPECT_EQ(dot.cluster.at(rsource), "cluster_sub1");
  EXPECT_EQ(dot.cluster.at(aggregate), "cluster_sub1");
  EXPECT_EQ(dot.cluster.at(store), "cluster_sub1");

  // The repartition topic links the sub-topology that writes it to the one
  // that reads it; the store hangs off the aggregate only.
  EXPECT_TRUE(dot.edges.contains({lines, source})) << text;
  EXPECT_TRUE(dot.edges.contains({rsink, repartition})) << text;
  EXPECT_TRUE(dot.edges.contains({repartition, rsource})) << text;
  EXPECT_TRUE(dot.edges.contains({rsource, aggregate})) << text;
  EXPECT_TRUE(dot.edges.contains({sink, out})) << text;
  EXPECT_EQ(dot.store_edges, (std::set<std::pair<S, S>>{{aggregate, store}}))
      << text;
  // Every edge joins declared nodes; nine data edges in all.
  for (const auto& [from, to] : dot.edges) {
    EXPECT_TRUE(dot.label.contains(from)) << from;
    EXPECT_TRUE(dot.label.contains(to)) << to;
  }
  EXPECT_EQ(dot.edges.size(), 9u) << text;
}

TEST(DotTest, EscapesQuotesInLabels) {
  Topology t;
  t.AddSource<S, S>("in \"raw\"", {"orders"}, Serdes::String(),
                    Serdes::String())
      .AddSink<S, S>("out", "orders-copy", Serdes::String(), Serdes::String(),
                     {"in \"raw\""});
  EXPECT_THAT(t.ToDot(), HasSubstr("n0 [label=\"in \\\"raw\\\"\""));
}

TEST(DotTest, AnInvalidTopologyIsAComment) {
  Topology t;
  t.AddSink<S, S>("out", "x", Serdes::String(), Serdes::String(), {"nope"});
  EXPECT_THAT(t.ToDot(), HasSubstr("/* Invalid topology: "));
}

// Graphviz accepts the output. Not part of setup: skipped without `dot`.
TEST(DotTest, GraphvizRendersIt) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "graphviz 'dot' is not installed";
  }
  const S path = absl::StrCat(::testing::TempDir(), "/word_count.dot");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  const S text = WordCount().ToDot();
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  EXPECT_EQ(std::system(("dot -Tsvg -o /dev/null " + path).c_str()), 0) << text;
}

}  // namespace
}  // namespace brook
