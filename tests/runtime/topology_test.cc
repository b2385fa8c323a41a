// Topology::Validate(), the split into sub-topologies, and Describe().
#include "brook/runtime/topology.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/runtime/internal/topology_plan.h"
#include "brook/runtime/serdes.h"

namespace brook {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using S = std::string;

// A processor that is never run: validation only looks at the types.
template <typename KIn, typename VIn, typename KOut = KIn, typename VOut = VIn>
class Noop final : public Processor<KIn, VIn, KOut, VOut> {
 public:
  absl::Status Process(const Record<KIn, VIn>&) override {
    return absl::OkStatus();
  }
};

template <typename KIn, typename VIn, typename KOut = KIn, typename VOut = VIn>
ProcessorSupplier<KIn, VIn, KOut, VOut> NoopSupplier() {
  return [] { return std::make_unique<Noop<KIn, VIn, KOut, VOut>>(); };
}

class NullStoreBuilder final : public StoreBuilder {
 public:
  explicit NullStoreBuilder(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  bool logging_enabled() const override { return false; }
  // Validation and planning never build stores.
  std::unique_ptr<StateStore> Build(const StoreContext&) const override {
    return nullptr;
  }

 private:
  const std::string name_;
};

std::shared_ptr<const StoreBuilder> Store(const std::string& name) {
  return std::make_shared<NullStoreBuilder>(name);
}

Topology& AddStringSource(Topology& t, const std::string& name,
                          std::vector<std::string> topics) {
  return t.AddSource<S, S>(name, std::move(topics), Serdes::String(),
                           Serdes::String());
}

Topology& AddStringProcessor(Topology& t, const std::string& name,
                             std::vector<std::string> parents) {
  return t.AddProcessor<S, S, S, S>(name, NoopSupplier<S, S>(),
                                    std::move(parents));
}

Topology& AddStringSink(Topology& t, const std::string& name,
                        const std::string& topic,
                        std::vector<std::string> parents) {
  return t.AddSink<S, S>(name, topic, Serdes::String(), Serdes::String(),
                         std::move(parents));
}

// orders -> upper -> orders-upper
Topology Chain() {
  Topology t;
  AddStringSource(t, "in", {"orders"});
  AddStringProcessor(t, "upper", {"in"});
  AddStringSink(t, "out", "orders-upper", {"upper"});
  return t;
}

// Validate()'s error, which must be kInvalidArgument.
std::string ValidationError(const Topology& t) {
  absl::Status s = t.Validate();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  return std::string(s.message());
}

std::shared_ptr<const internal::TopologyPlan> Plan(const Topology& t) {
  absl::StatusOr<std::shared_ptr<const internal::TopologyPlan>> plan =
      internal::TopologyPlan::Build(t);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *plan : nullptr;
}

TEST(TopologyTest, AValidChainPassesValidation) {
  EXPECT_TRUE(Chain().Validate().ok()) << Chain().Validate();
}

TEST(TopologyTest, AnEmptyTopologyIsRejected) {
  EXPECT_THAT(ValidationError(Topology()), HasSubstr("empty"));
}

TEST(TopologyTest, ADuplicateNodeNameIsNamed) {
  Topology t = Chain();
  AddStringProcessor(t, "upper", {"in"});
  std::string error = ValidationError(t);
  EXPECT_THAT(error, HasSubstr("'upper'"));
  EXPECT_THAT(error, HasSubstr("twice"));
}

TEST(TopologyTest, AnUnknownParentIsNamedWithItsChild) {
  Topology t = Chain();
  AddStringProcessor(t, "lower", {"nowhere"});
  std::string error = ValidationError(t);
  EXPECT_THAT(error, HasSubstr("processor 'lower'"));
  EXPECT_THAT(error, HasSubstr("unknown parent 'nowhere'"));
}

TEST(TopologyTest, AProcessorWithoutParentIsNamed) {
  Topology t = Chain();
  AddStringProcessor(t, "orphan", {});
  EXPECT_THAT(ValidationError(t),
              HasSubstr("processor 'orphan' has no parent"));
}

TEST(TopologyTest, ASinkWithoutParentIsNamed) {
  Topology t = Chain();
  AddStringSink(t, "lonely", "elsewhere", {});
  EXPECT_THAT(ValidationError(t), HasSubstr("sink 'lonely' has no parent"));
}

TEST(TopologyTest, ASinkCannotBeAParent) {
  Topology t = Chain();
  AddStringProcessor(t, "after-sink", {"out"});
  std::string error = ValidationError(t);
  EXPECT_THAT(error, HasSubstr("sink 'out'"));
  EXPECT_THAT(error, HasSubstr("'after-sink'"));
}

TEST(TopologyTest, ARecordTypeMismatchNamesBothNodesAndBothTypes) {
  Topology t;
  AddStringSource(t, "in", {"orders"});
  t.AddProcessor<int64_t, S, int64_t, S>("count", NoopSupplier<int64_t, S>(),
                                         {"in"});
  std::string error = ValidationError(t);
  EXPECT_THAT(error, HasSubstr("processor 'count' takes records "
                               "<int64, string>"));
  EXPECT_THAT(error, HasSubstr("parent 'in' forwards <string, string>"));
}

TEST(TopologyTest, ASinkOfAnotherTypeThanItsParentIsRejected) {
  Topology t;
  AddStringSource(t, "in", {"orders"});
  t.AddSink<S, int32_t>("out", "counts", Serdes::String(), Serdes::Int32(),
                        {"in"});
  std::string error = ValidationError(t);
  EXPECT_THAT(error, HasSubstr("sink 'out' takes records <string, int32>"));
  EXPECT_THAT(error, HasSubstr("'in' forwards <string, string>"));
}

TEST(TopologyTest, ACycleNamesTheNodesOnItAndNoOthers) {
  Topology t;
  AddStringSource(t, "in", {"orders"});
  AddStringProcessor(t, "ping", {"in", "pong"});
  AddStringProcessor(t, "pong", {"ping"});
  AddStringSink(t, "downstream", "results", {"pong"});
  // "downstream" is stuck behind the cycle but is not on it.
  EXPECT_EQ(ValidationError(t), "the topology has a cycle through ping, pong");
}

TEST(TopologyTest, AStoreConnectedToAnUnknownProcessorIsNamed) {
  Topology t = Chain();
  t.AddStateStore(Store("counts"), {"missing"});
  std::string error = ValidationError(t);
  EXPECT_THAT(error, HasSubstr("state store 'counts'"));
  EXPECT_THAT(error, HasSubstr("unknown processor 'missing'"));
}

TEST(TopologyTest, AStoreConnectedToASourceIsRejected) {
  Topology t = Chain();
  t.AddStateStore(Store("counts"), {"in"});
  std::string error = ValidationError(t);
  EXPECT_THAT(error, HasSubstr("state store 'counts'"));
  EXPECT_THAT(error, HasSubstr("only be connected to processors, not 'in'"));
}

TEST(TopologyTest, AStoreAddedTwiceIsRejected) {
  Topology t = Chain();
  t.AddStateStore(Store("counts"), {"upper"});
  t.AddStateStore(Store("counts"), {"upper"});
  EXPECT_THAT(ValidationError(t),
              HasSubstr("state store 'counts' is added twice"));
}

TEST(TopologyTest, ATopicReadByTwoSourcesNamesTheTopicAndBothSources) {
  Topology t = Chain();
  AddStringSource(t, "again", {"orders"});
  AddStringSink(t, "copy", "orders-copy", {"again"});
  std::string error = ValidationError(t);
  EXPECT_THAT(error, HasSubstr("topic 'orders'"));
  EXPECT_THAT(error, HasSubstr("'in'"));
  EXPECT_THAT(error, HasSubstr("'again'"));
}

TEST(TopologyTest, AnInvalidPatternNamesTheSourceAndThePattern) {
  Topology t;
  t.AddSourcePattern<S, S>("by-pattern", "orders-(", Serdes::String(),
                           Serdes::String());
  AddStringSink(t, "out", "results", {"by-pattern"});
  std::string error = ValidationError(t);
  EXPECT_THAT(error, HasSubstr("source 'by-pattern'"));
  EXPECT_THAT(error, HasSubstr("invalid pattern 'orders-('"));
}

TEST(TopologyTest, APatternSourceRoutesOnlyFullMatches) {
  Topology t;
  t.AddSourcePattern<S, S>("by-pattern", "orders-[0-9]+", Serdes::String(),
                           Serdes::String());
  AddStringSink(t, "out", "results", {"by-pattern"});
  std::shared_ptr<const internal::TopologyPlan> plan = Plan(t);
  ASSERT_NE(plan, nullptr);
  EXPECT_THAT(plan->Subscription(), ElementsAre("^(orders-[0-9]+)$"));
  EXPECT_TRUE(plan->RouteFor("orders-12").has_value());
  EXPECT_FALSE(plan->RouteFor("orders-12x").has_value());
  EXPECT_FALSE(plan->RouteFor("old-orders-12").has_value());
}

TEST(TopologyTest, TwoDisconnectedChainsAreTwoSubtopologies) {
  Topology t = Chain();
  AddStringSource(t, "payments-in", {"payments"});
  AddStringSink(t, "payments-out", "payments-copy", {"payments-in"});
  std::shared_ptr<const internal::TopologyPlan> plan = Plan(t);
  ASSERT_NE(plan, nullptr);
  ASSERT_EQ(plan->subtopologies().size(), 2u);
  const internal::SubTopologyPlan& first = plan->subtopologies()[0];
  const internal::SubTopologyPlan& second = plan->subtopologies()[1];
  EXPECT_THAT(first.source_topics, ElementsAre("orders"));
  EXPECT_THAT(first.sink_topics, ElementsAre("orders-upper"));
  EXPECT_THAT(second.source_topics, ElementsAre("payments"));
  EXPECT_THAT(second.sink_topics, ElementsAre("payments-copy"));
  EXPECT_EQ(plan->RouteFor("orders")->subtopology, 0);
  EXPECT_EQ(plan->RouteFor("payments")->subtopology, 1);
  EXPECT_THAT(plan->Subscription(), ElementsAre("orders", "payments"));
}

TEST(TopologyTest, ProcessorsSharingAStoreAreOneSubtopology) {
  Topology t = Chain();
  AddStringSource(t, "payments-in", {"payments"});
  AddStringProcessor(t, "payments-upper", {"payments-in"});
  t.AddStateStore(Store("totals"), {"upper", "payments-upper"});
  std::shared_ptr<const internal::TopologyPlan> plan = Plan(t);
  ASSERT_NE(plan, nullptr);
  ASSERT_EQ(plan->subtopologies().size(), 1u);
  const internal::SubTopologyPlan& sub = plan->subtopologies()[0];
  EXPECT_THAT(sub.source_topics, ElementsAre("orders", "payments"));
  EXPECT_THAT(sub.stores, ElementsAre("totals"));
  EXPECT_TRUE(plan->IsConnected("upper", "totals"));
  EXPECT_TRUE(plan->IsConnected("payments-upper", "totals"));
  EXPECT_FALSE(plan->IsConnected("in", "totals"));
}

TEST(TopologyTest, DescribesAChainInKafkaStreamsFormat) {
  Topology t = Chain();
  t.AddStateStore(Store("seen"), {"upper"});
  EXPECT_EQ(t.Describe(),
            "Topologies:\n"
            "   Sub-topology: 0\n"
            "    Source: in (topics: [orders])\n"
            "      --> upper\n"
            "    Processor: upper (stores: [seen])\n"
            "      --> out\n"
            "      <-- in\n"
            "    Sink: out (topic: orders-upper)\n"
            "      <-- upper\n"
            "\n");
}

TEST(TopologyTest, DescribesTwoSubtopologiesAndChildlessNodesAsKafkaDoes) {
  Topology t;
  AddStringSource(t, "a", {"left", "right"});
  AddStringProcessor(t, "peek", {"a"});
  AddStringProcessor(t, "sink-less", {"a"});
  AddStringSink(t, "a-out", "left-out", {"peek"});
  AddStringSource(t, "b", {"other"});
  AddStringSink(t, "b-out", "other-out", {"b"});
  EXPECT_EQ(t.Describe(),
            "Topologies:\n"
            "   Sub-topology: 0\n"
            "    Source: a (topics: [left, right])\n"
            "      --> peek, sink-less\n"
            "    Processor: peek (stores: [])\n"
            "      --> a-out\n"
            "      <-- a\n"
            "    Processor: sink-less (stores: [])\n"
            "      --> none\n"
            "      <-- a\n"
            "    Sink: a-out (topic: left-out)\n"
            "      <-- peek\n"
            "\n"
            "  Sub-topology: 1\n"
            "    Source: b (topics: [other])\n"
            "      --> b-out\n"
            "    Sink: b-out (topic: other-out)\n"
            "      <-- b\n"
            "\n");
}

TEST(TopologyTest, DescribingAnInvalidTopologyNamesTheError) {
  Topology t = Chain();
  AddStringProcessor(t, "orphan", {});
  std::string text = t.Describe();
  EXPECT_THAT(text, HasSubstr("Invalid topology: processor 'orphan' has no "
                              "parent"));
  EXPECT_THAT(text, HasSubstr("Processor: orphan"));
  EXPECT_THAT(text, Not(HasSubstr("Sub-topology")));
}

}  // namespace
}  // namespace brook
