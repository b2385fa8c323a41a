// Topology::ToMermaid() for a DSL topology (word count, pinned whole) and a
// processor-API one.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/streams_builder.h"
#include "brook/runtime/stores.h"
#include "brook/runtime/topology.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::WordCountTopology;
using ::testing::HasSubstr;
using S = std::string;

TEST(MermaidTest, DrawsWordCountWithSubTopologiesTopicsAndStores) {
  EXPECT_EQ(WordCountTopology().ToMermaid(),
            "flowchart TD\n"
            "  subgraph sub0[\"Sub-topology: 0\"]\n"
            "    n0(\"KSTREAM-SOURCE-0000000000\")\n"
            "    n1[\"KSTREAM-FLATMAPVALUES-0000000001+"
            "KSTREAM-KEY-SELECT-0000000002+counts-repartition-filter\"]\n"
            "    n2(\"counts-repartition-sink\")\n"
            "  end\n"
            "  subgraph sub1[\"Sub-topology: 1\"]\n"
            "    n3(\"counts-repartition-source\")\n"
            "    n4[\"KSTREAM-AGGREGATE-0000000003\"]\n"
            "    s0[(\"counts\")]\n"
            "    n5[\"KTABLE-TOSTREAM-0000000004\"]\n"
            "    n6(\"KSTREAM-SINK-0000000005\")\n"
            "  end\n"
            "  t0[/\"lines\"/]\n"
            "  t1[/\"counts-repartition\"/]\n"
            "  t2[/\"word-counts\"/]\n"
            "  t0 --> n0\n"
            "  n0 --> n1\n"
            "  n1 --> n2\n"
            "  n2 --> t1\n"
            "  t1 --> n3\n"
            "  n3 --> n4\n"
            "  n4 -.- s0\n"
            "  n4 --> n5\n"
            "  n5 --> n6\n"
            "  n6 --> t2\n");
}

class Upper final : public Processor<S, S, S, S> {
 public:
  absl::Status Process(const Record<S, S>&) override {
    return absl::OkStatus();
  }
};

TEST(MermaidTest, DrawsAProcessorApiTopologyAndEscapesQuotes) {
  Topology t;
  t.AddSource<S, S>("in \"raw\"", {"orders"}, Serdes::String(),
                    Serdes::String())
      .AddProcessor<S, S, S, S>(
          "upper", [] { return std::make_unique<Upper>(); }, {"in \"raw\""})
      .AddSink<S, S>("out", "orders-upper", Serdes::String(), Serdes::String(),
                     {"upper"});
  t.AddStateStore(Stores::KeyValueStoreBuilder<S, S>("seen", Serdes::String(),
                                                     Serdes::String()),
                  {"upper"});
  const S m = t.ToMermaid();
  EXPECT_THAT(m, HasSubstr("    n0(\"in #quot;raw#quot;\")\n"));
  EXPECT_THAT(m, HasSubstr("  t0 --> n0\n  n0 --> n1\n  n1 -.- s0\n"));
  EXPECT_THAT(m, HasSubstr("  n2 --> t1\n"));
}

TEST(MermaidTest, AnInvalidTopologyIsAComment) {
  Topology t;
  t.AddSink<S, S>("out", "x", Serdes::String(), Serdes::String(), {"nope"});
  EXPECT_THAT(t.ToMermaid(), HasSubstr("%% Invalid topology: "));
}

}  // namespace
}  // namespace brook
