// The DSL compiled to a Topology: names and Describe(), fusion, serdes and
// Build() errors, and each operator run by the TopologyTestDriver (the real
// StreamTask, no broker).
#include "brook/operators/streams_builder.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/base/status_macros.h"
#include "brook/runtime/internal/topology_plan.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/stores.h"
#include "brook/runtime/topology_test_driver.h"

namespace brook {
namespace {

using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using S = std::string;

// A TopologyTestDriver (application id "app") that keeps every output.
class Driver {
 public:
  explicit Driver(const Topology& topology) {
    auto driver =
        TopologyTestDriver::Create(topology, {.application_id = "app"});
    EXPECT_TRUE(driver.ok()) << driver.status();
    if (driver.ok()) driver_ = *std::move(driver);
  }
  absl::Status Pipe(const S& topic, std::optional<S> key,
                    std::optional<S> value, int64_t timestamp_ms = 0) {
    return driver_->PipeInput(topic, std::move(key), std::move(value),
                              timestamp_ms);
  }
  // Everything written to `topic` so far.
  const std::vector<ProducerRecord>& Output(const S& topic) {
    std::vector<ProducerRecord>& all = outputs_[topic];
    for (ProducerRecord& r : driver_->ReadOutput(topic)) {
      all.push_back(std::move(r));
    }
    return all;
  }

 private:
  std::unique_ptr<TopologyTestDriver> driver_;
  std::map<S, std::vector<ProducerRecord>> outputs_;
};

// (key, value) of each record sent to `topic`, both read as strings ("null"
// for a null).
std::vector<std::pair<S, S>> Strings(Driver& h, const S& topic) {
  std::vector<std::pair<S, S>> out;
  for (const ProducerRecord& r : h.Output(topic)) {
    out.emplace_back(r.key.value_or("null"), r.value.value_or("null"));
  }
  return out;
}

// (key, count) of each record sent to `topic` with an Int64 value.
std::vector<std::pair<S, int64_t>> Counts(Driver& h, const S& topic) {
  std::vector<std::pair<S, int64_t>> out;
  for (const ProducerRecord& r : h.Output(topic)) {
    auto v = Serdes::Int64()->Deserialize(topic, r.value.value_or(""));
    EXPECT_TRUE(v.ok());
    out.emplace_back(r.key.value_or("null"), v.ok() ? *v : -1);
  }
  return out;
}

Topology MustBuild(const StreamsBuilder& b) {
  absl::StatusOr<Topology> t = b.Build();
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : Topology();
}

std::vector<S> Words(const S& line) {
  return absl::StrSplit(line, ' ', absl::SkipEmpty());
}

void WordCount(StreamsBuilder& b) {
  b.Stream<S, S>("lines")
      .FlatMapValues([](const S& line) { return Words(line); })
      .GroupBy([](const std::optional<S>&, const S& word) { return word; })
      .Count(Materialized<S, int64_t>::As("counts"))
      .ToStream()
      .To("word-counts");
}

TEST(StreamsBuilderTest, DescribesWordCountInKafkaStreamsNamesUnfused) {
  StreamsBuilder b({.fuse_stateless = false});
  WordCount(b);
  EXPECT_EQ(MustBuild(b).Describe(),
            "Topologies:\n"
            "   Sub-topology: 0\n"
            "    Source: KSTREAM-SOURCE-0000000000 (topics: [lines])\n"
            "      --> KSTREAM-FLATMAPVALUES-0000000001\n"
            "    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])\n"
            "      --> KSTREAM-KEY-SELECT-0000000002\n"
            "      <-- KSTREAM-SOURCE-0000000000\n"
            "    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])\n"
            "      --> counts-repartition-filter\n"
            "      <-- KSTREAM-FLATMAPVALUES-0000000001\n"
            "    Processor: counts-repartition-filter (stores: [])\n"
            "      --> counts-repartition-sink\n"
            "      <-- KSTREAM-KEY-SELECT-0000000002\n"
            "    Sink: counts-repartition-sink (topic: counts-repartition)\n"
            "      <-- counts-repartition-filter\n"
            "\n"
            "  Sub-topology: 1\n"
            "    Source: counts-repartition-source (topics: "
            "[counts-repartition])\n"
            "      --> KSTREAM-AGGREGATE-0000000003\n"
            "    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts])\n"
            "      --> KTABLE-TOSTREAM-0000000004\n"
            "      <-- counts-repartition-source\n"
            "    Processor: KTABLE-TOSTREAM-0000000004 (stores: [])\n"
            "      --> KSTREAM-SINK-0000000005\n"
            "      <-- KSTREAM-AGGREGATE-0000000003\n"
            "    Sink: KSTREAM-SINK-0000000005 (topic: word-counts)\n"
            "      <-- KTABLE-TOSTREAM-0000000004\n"
            "\n");
}

TEST(StreamsBuilderTest, FusesChainsOfStatelessOperators) {
  StreamsBuilder b;
  WordCount(b);
  const S described = MustBuild(b).Describe();
  EXPECT_THAT(described,
              HasSubstr("Processor: KSTREAM-FLATMAPVALUES-0000000001+"
                        "KSTREAM-KEY-SELECT-0000000002+"
                        "counts-repartition-filter (stores: [])\n"));
  EXPECT_THAT(described, HasSubstr("Processor: KSTREAM-AGGREGATE-0000000003 "
                                   "(stores: [counts])\n"));
}

TEST(StreamsBuilderTest, DoesNotFuseAcrossABranch) {
  StreamsBuilder b;
  KStream<S, S> upper =
      b.Stream<S, S>("in").MapValues([](const S& v) { return v + "!"; });
  upper.Filter([](const S&, const S& v) { return v.size() > 2; }).To("a");
  upper.Peek([](const S&, const S&) {}).To("b");
  const S described = MustBuild(b).Describe();
  EXPECT_THAT(described,
              HasSubstr("Processor: KSTREAM-MAPVALUES-0000000001 (stores: [])\n"
                        "      --> KSTREAM-FILTER-0000000002, "
                        "KSTREAM-PEEK-0000000004\n"));
}

TEST(StreamsBuilderTest, NamedOverridesGeneratedNames) {
  StreamsBuilder b({.fuse_stateless = false});
  b.Stream<S, S>("in", {.name = "read"})
      .Filter([](const S&, const S&) { return true; }, Named::As("keep"))
      .To("out", {.name = "write"});
  EXPECT_EQ(MustBuild(b).Describe(),
            "Topologies:\n"
            "   Sub-topology: 0\n"
            "    Source: read (topics: [in])\n"
            "      --> keep\n"
            "    Processor: keep (stores: [])\n"
            "      --> write\n"
            "      <-- read\n"
            "    Sink: write (topic: out)\n"
            "      <-- keep\n"
            "\n");
}

TEST(StreamsBuilderTest, GroupByKeyWithoutKeyChangeDoesNotRepartition) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .Filter([](const S&, const S&) { return true; })
      .GroupByKey()
      .Count()
      .ToStream()
      .To("out");
  const S described = MustBuild(b).Describe();
  EXPECT_THAT(described, Not(HasSubstr("repartition")));
  EXPECT_THAT(described, Not(HasSubstr("Sub-topology: 1")));
  EXPECT_THAT(described,
              HasSubstr("(stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000003]"));
}

TEST(StreamsBuilderTest, RepartitionTopicGetsTheApplicationIdAtRunTime) {
  StreamsBuilder b;
  WordCount(b);
  Topology t = MustBuild(b);
  EXPECT_THAT(t.internal_topics(), ElementsAre(Pair("counts-repartition", _)));
  auto plan = internal::TopologyPlan::Build(t, "wc");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT((*plan)->subtopologies()[0].sink_topics,
              ElementsAre("wc-counts-repartition"));
  EXPECT_THAT((*plan)->subtopologies()[1].source_topics,
              ElementsAre("wc-counts-repartition"));
  EXPECT_TRUE((*plan)->RouteFor("wc-counts-repartition").has_value());
  EXPECT_TRUE((*plan)->internal_topics().contains("wc-counts-repartition"));
}

TEST(StreamsBuilderTest, GroupedNamesTheRepartitionTopic) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .SelectKey([](const S&, const S& v) { return v; })
      .GroupByKey(Grouped<S, S>::As("by-value"))
      .Count()
      .ToStream()
      .To("out");
  EXPECT_THAT(MustBuild(b).Describe(),
              HasSubstr("Sink: by-value-repartition-sink (topic: "
                        "by-value-repartition)"));
}

struct Point {
  int x = 0;
};

TEST(StreamsBuilderTest, BuildNamesTheOperatorWhenASerdeIsMissing) {
  StreamsBuilder b;
  b.Stream<S, S>("in").MapValues([](const S&) { return Point{1}; }).To("out");
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(t.status()));
  EXPECT_THAT(t.status().message(),
              HasSubstr("sink 'KSTREAM-SINK-0000000002' (To out) has no serde "
                        "for its value type brook::(anonymous "
                        "namespace)::Point; give one in Produced"));
}

TEST(StreamsBuilderTest, BuildFailsOnAnEmptyBuilder) {
  StreamsBuilder b;
  EXPECT_TRUE(absl::IsInvalidArgument(b.Build().status()));
}

TEST(StreamsBuilderTest, MergeOfTwoBuildersIsABuildError) {
  StreamsBuilder a, b;
  KStream<S, S> x = a.Stream<S, S>("x");
  x.Merge(b.Stream<S, S>("y")).To("out");
  EXPECT_THAT(a.Build().status().message(), HasSubstr("different builders"));
}

TEST(KStreamTest, FilterAndFilterNotSplitTheRecords) {
  StreamsBuilder b;
  KStream<S, S> in = b.Stream<S, S>("in");
  auto is_long = [](const S&, const S& v) { return v.size() > 3; };
  in.Filter(is_long).To("long");
  in.FilterNot(is_long).To("short");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "a", "tiny").ok());
  ASSERT_TRUE(h.Pipe("in", "b", "no").ok());
  EXPECT_THAT(Strings(h, "long"), ElementsAre(Pair("a", "tiny")));
  EXPECT_THAT(Strings(h, "short"), ElementsAre(Pair("b", "no")));
}

TEST(KStreamTest, PlainFunctionsSkipNullsAndOptionalOnesSeeThem) {
  StreamsBuilder b;
  KStream<S, S> in = b.Stream<S, S>("in");
  in.Filter([](const S&, const S&) { return true; }).To("plain");
  in.Filter([](const std::optional<S>& k, const std::optional<S>&) {
      return true;
    }).To("optional");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "v").ok());
  ASSERT_TRUE(h.Pipe("in", "k", std::nullopt).ok());
  ASSERT_TRUE(h.Pipe("in", "k", "v").ok());
  EXPECT_THAT(Strings(h, "plain"), ElementsAre(Pair("k", "v")));
  EXPECT_THAT(
      Strings(h, "optional"),
      ElementsAre(Pair("null", "v"), Pair("k", "null"), Pair("k", "v")));
}

// Every stateless operator with plain (non-optional) functions, fed a
// null key, a null value and a full record: a function is never called with
// a null it takes plainly, so the operator drops that record; a function
// that does not take the null field is called and the null passes on;
// Peek, Foreach and Merge pass every record on.
TEST(KStreamTest, EveryStatelessOperatorDropsOnlyTheNullsItsFunctionTakes) {
  StreamsBuilder b;
  KStream<S, S> in = b.Stream<S, S>("in");
  auto bang = [](const S& v) { return v + "!"; };
  in.FilterNot([](const S&, const S&) { return false; }).To("filter-not");
  in.Map([](const S& k, const S& v) {
      return std::pair(k + "!", v + "!");
    }).To("map");
  in.MapValues(bang).To("map-values");
  in.MapValues([](const S& k, const S& v) {
      return k + v;
    }).To("map-values-kv");
  in.FlatMap([](const S& k, const S& v) {
      return std::vector<std::pair<S, S>>{{k, v}, {k, v + "2"}};
    }).To("flat-map");
  in.FlatMapValues([](const S& v) {
      return std::vector<S>{v, v + "2"};
    }).To("flat-map-values");
  in.SelectKey([](const S& k, const S& v) { return k + v; }).To("select-key");
  int peeks = 0;
  int foreachs = 0;
  in.Peek([&peeks](const S&, const S&) { ++peeks; }).To("peek");
  in.Foreach([&foreachs](const S&, const S&) { ++foreachs; });
  in.Merge(b.Stream<S, S>("in2")).To("merge");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "v").ok());
  ASSERT_TRUE(h.Pipe("in", "k", std::nullopt).ok());
  ASSERT_TRUE(h.Pipe("in", "k", "v").ok());
  EXPECT_THAT(Strings(h, "filter-not"), ElementsAre(Pair("k", "v")));
  EXPECT_THAT(Strings(h, "map"), ElementsAre(Pair("k!", "v!")));
  EXPECT_THAT(Strings(h, "map-values"),
              ElementsAre(Pair("null", "v!"), Pair("k", "v!")));
  EXPECT_THAT(Strings(h, "map-values-kv"), ElementsAre(Pair("k", "kv")));
  EXPECT_THAT(Strings(h, "flat-map"),
              ElementsAre(Pair("k", "v"), Pair("k", "v2")));
  EXPECT_THAT(Strings(h, "flat-map-values"),
              ElementsAre(Pair("null", "v"), Pair("null", "v2"), Pair("k", "v"),
                          Pair("k", "v2")));
  EXPECT_THAT(Strings(h, "select-key"), ElementsAre(Pair("kv", "v")));
  EXPECT_THAT(
      Strings(h, "peek"),
      ElementsAre(Pair("null", "v"), Pair("k", "null"), Pair("k", "v")));
  EXPECT_EQ(peeks, 1);
  EXPECT_EQ(foreachs, 1);
  EXPECT_THAT(
      Strings(h, "merge"),
      ElementsAre(Pair("null", "v"), Pair("k", "null"), Pair("k", "v")));
}

TEST(KStreamTest, MapChangesKeyAndValueTypes) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .Map([](const S& k, const S& v) {
        return std::make_pair(v, static_cast<int64_t>(k.size()));
      })
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "abc", "x", 42).ok());
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("x", 3)));
  EXPECT_EQ(h.Output("out")[0].timestamp_ms, 42);
}

TEST(KStreamTest, MapValuesTakesTheValueOrTheKeyAndValue) {
  StreamsBuilder b;
  KStream<S, S> in = b.Stream<S, S>("in");
  in.MapValues([](const S& v) { return v + "!"; }).To("a");
  in.MapValues([](const S& k, const S& v) { return k + v; }).To("b");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "k", "v").ok());
  EXPECT_THAT(Strings(h, "a"), ElementsAre(Pair("k", "v!")));
  EXPECT_THAT(Strings(h, "b"), ElementsAre(Pair("k", "kv")));
}

TEST(KStreamTest, MapValuesMayReturnNullopt) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValues([](const S& v) -> std::optional<S> {
        if (v == "drop") return std::nullopt;
        return v;
      })
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "k", "drop").ok());
  EXPECT_THAT(Strings(h, "out"), ElementsAre(Pair("k", "null")));
}

TEST(KStreamTest, FlatMapEmitsEveryPair) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .FlatMap([](const S& k, const S& v) {
        std::vector<std::pair<S, S>> out;
        for (const S& w : Words(v)) out.emplace_back(w, k);
        return out;
      })
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "k", "a b").ok());
  ASSERT_TRUE(h.Pipe("in", "k", "").ok());
  EXPECT_THAT(Strings(h, "out"), ElementsAre(Pair("a", "k"), Pair("b", "k")));
}

TEST(KStreamTest, FlatMapValuesKeepsTheKey) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .FlatMapValues([](const S& v) { return Words(v); })
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "k", "x y").ok());
  EXPECT_THAT(Strings(h, "out"), ElementsAre(Pair("k", "x"), Pair("k", "y")));
}

TEST(KStreamTest, SelectKeySetsTheKey) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .SelectKey([](const std::optional<S>&, const S& v) { return v; })
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "v").ok());
  EXPECT_THAT(Strings(h, "out"), ElementsAre(Pair("v", "v")));
}

TEST(KStreamTest, PeekAndForeachSeeEveryRecord) {
  StreamsBuilder b;
  auto seen = std::make_shared<std::vector<S>>();
  KStream<S, S> in = b.Stream<S, S>("in").Peek(
      [seen](const S& k, const S&) { seen->push_back("peek " + k); });
  in.Foreach([seen](const S& k, const S&) { seen->push_back("each " + k); });
  in.To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "a", "1").ok());
  EXPECT_THAT(*seen, ElementsAre("peek a", "each a"));
  EXPECT_THAT(Strings(h, "out"), ElementsAre(Pair("a", "1")));
}

TEST(KStreamTest, MergeInterleavesTwoStreams) {
  StreamsBuilder b;
  KStream<S, S> x = b.Stream<S, S>("x");
  KStream<S, S> y = b.Stream<S, S>("y");
  x.Merge(y).To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("x", "1", "x").ok());
  ASSERT_TRUE(h.Pipe("y", "2", "y").ok());
  EXPECT_THAT(Strings(h, "out"), ElementsAre(Pair("1", "x"), Pair("2", "y")));
}

TEST(KStreamTest, ToUsesProducedSerdes) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValues([](const S& v) { return static_cast<int32_t>(v.size()); })
      .To("out", Produced<S, int32_t>::With(Serdes::String(), Serdes::Int32()));
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "k", "abcd").ok());
  ASSERT_EQ(h.Output("out").size(), 1u);
  EXPECT_EQ(*Serdes::Int32()->Deserialize("out", *h.Output("out")[0].value), 4);
}

// Forwards a record only the first time its value is seen, keyed by value.
class Dedupe final : public Processor<S, S, S, int64_t> {
 public:
  absl::Status Init(ProcessorContext<S, int64_t>& context) override {
    context_ = &context;
    auto store = context.GetStateStore<KeyValueStore<S, int64_t>>("seen");
    if (!store.ok()) return store.status();
    seen_ = *store;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<S, S>& r) override {
    auto old = seen_->Get(*r.value);
    if (!old.ok()) return old.status();
    if (old->has_value()) return absl::OkStatus();
    BROOK_RETURN_IF_ERROR(seen_->Put(*r.value, r.timestamp_ms));
    return context_->Forward(r.WithKeyValue<S, int64_t>(*r.value, 1));
  }

 private:
  ProcessorContext<S, int64_t>* context_ = nullptr;
  KeyValueStore<S, int64_t>* seen_ = nullptr;
};

TEST(KStreamTest, SplitSendsEachRecordToTheFirstMatchingBranch) {
  StreamsBuilder b;
  std::map<S, KStream<S, S>> branches =
      b.Stream<S, S>("in")
          .Split(Named::As("kind-"))
          .Branch([](const S&, const S& v) { return v.starts_with("a"); },
                  Branched::As("a"))
          .Branch([](const S&, const S& v) { return v.size() == 2; })
          .DefaultBranch();
  ASSERT_THAT(branches, ElementsAre(Pair("kind-0", _), Pair("kind-2", _),
                                    Pair("kind-a", _)));
  for (auto& [name, stream] : branches) stream.To(name);
  Driver h(MustBuild(b));
  for (S v : {"ab", "xy", "xyz", "a"}) ASSERT_TRUE(h.Pipe("in", "k", v).ok());
  EXPECT_THAT(Strings(h, "kind-a"),
              ElementsAre(Pair("k", "ab"), Pair("k", "a")));
  EXPECT_THAT(Strings(h, "kind-2"), ElementsAre(Pair("k", "xy")));
  EXPECT_THAT(Strings(h, "kind-0"), ElementsAre(Pair("k", "xyz")));
}

TEST(KStreamTest, ProcessRunsAUserProcessorWithItsStore) {
  StreamsBuilder b;
  b.AddStateStore(Stores::KeyValueStoreBuilder<S, int64_t>(
      "seen", Serdes::String(), Serdes::Int64()));
  b.Stream<S, S>("in")
      .Process<S, int64_t>([] { return std::make_unique<Dedupe>(); }, {"seen"})
      .GroupByKey()
      .Count(Materialized<S, int64_t>::As("firsts"))
      .ToStream()
      .To("out");
  Topology t = MustBuild(b);
  EXPECT_THAT(t.Describe(),
              HasSubstr("Processor: KSTREAM-PROCESSOR-0000000001 (stores: "
                        "[seen])"));
  // Process may change the key: the count repartitions.
  EXPECT_THAT(t.Describe(), HasSubstr("firsts-repartition"));
  Driver h(t);
  ASSERT_TRUE(h.Pipe("in", "k", "x").ok());
  ASSERT_TRUE(h.Pipe("in", "k", "x").ok());
  ASSERT_TRUE(h.Pipe("in", "k", "y").ok());
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("x", 1), Pair("y", 1)));
}

TEST(KStreamTest, ProcessWithAnUnknownStoreIsABuildError) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .Process<S, int64_t>([] { return std::make_unique<Dedupe>(); }, {"seen"})
      .To("out");
  absl::StatusOr<Topology> t = b.Build();
  EXPECT_TRUE(absl::IsInvalidArgument(t.status()));
  EXPECT_THAT(t.status().message(),
              HasSubstr("state store 'seen', which was not added"));
}

TEST(KTableTest, TableKeepsTheLatestValueAndTombstonesDelete) {
  StreamsBuilder b({.fuse_stateless = false});
  KTable<S, S> users = b.Table<S, S>("users");
  users.ToStream().To("out");
  EXPECT_EQ(users.store_name(), "users-STATE-STORE-0000000000");
  Topology t = MustBuild(b);
  EXPECT_THAT(t.Describe(),
              HasSubstr("    Processor: KTABLE-SOURCE-0000000002 (stores: "
                        "[users-STATE-STORE-0000000000])\n"
                        "      --> KTABLE-TOSTREAM-0000000003\n"
                        "      <-- KSTREAM-SOURCE-0000000001\n"));
  auto d = TopologyTestDriver::Create(t);
  ASSERT_TRUE(d.ok()) << d.status();
  for (auto [k, v] :
       std::vector<std::pair<S, std::optional<S>>>{{"u1", "ann"},
                                                   {"u1", "bob"},
                                                   {"u2", std::nullopt},
                                                   {"u1", std::nullopt}}) {
    ASSERT_TRUE((*d)->PipeInput("users", k, v, 0).ok());
  }
  ASSERT_TRUE((*d)->PipeInput("users", std::nullopt, "nobody", 0).ok());
  std::vector<std::pair<S, S>> out;
  for (const ProducerRecord& r : (*d)->ReadOutput("out")) {
    out.emplace_back(*r.key, r.value.value_or("null"));
  }
  // The tombstone of u2, which the table never held, changes nothing.
  EXPECT_THAT(out, ElementsAre(Pair("u1", "ann"), Pair("u1", "bob"),
                               Pair("u1", "null")));
  auto* store = (*d)->GetStateStore<KeyValueStore<S, S>>(users.store_name());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->Get("u1"), std::nullopt);
}

TEST(KTableTest, FilterAndMapValuesWorkOnChanges) {
  StreamsBuilder b;
  KTable<S, S> users = b.Table<S, S>("users");
  users.Filter([](const S&, const S& v) { return v.size() > 2; })
      .MapValues([](const S& v) { return static_cast<int64_t>(v.size()); })
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("users", "u1", "anna").ok());   // passes: 4
  ASSERT_TRUE(h.Pipe("users", "u2", "al").ok());     // never passed: nothing
  ASSERT_TRUE(h.Pipe("users", "u1", "bo").ok());     // stops passing: delete
  ASSERT_TRUE(h.Pipe("users", "u1", "carla").ok());  // passes again: 5
  std::vector<std::pair<S, S>> out;
  for (const ProducerRecord& r : h.Output("out")) {
    out.emplace_back(*r.key, r.value.has_value() ? "value" : "null");
  }
  EXPECT_THAT(out, ElementsAre(Pair("u1", "value"), Pair("u1", "null"),
                               Pair("u1", "value")));
  EXPECT_EQ(*Serdes::Int64()->Deserialize("out", *h.Output("out")[2].value), 5);
}

TEST(KGroupedStreamTest, WordCountCountsThroughTheRepartitionTopic) {
  StreamsBuilder b;
  WordCount(b);
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("lines", std::nullopt, "a b a").ok());
  ASSERT_TRUE(h.Pipe("lines", std::nullopt, "b").ok());
  EXPECT_THAT(Strings(h, "app-counts-repartition"),
              ElementsAre(Pair("a", "a"), Pair("b", "b"), Pair("a", "a"),
                          Pair("b", "b")));
  EXPECT_THAT(
      Counts(h, "word-counts"),
      ElementsAre(Pair("a", 1), Pair("b", 1), Pair("a", 2), Pair("b", 2)));
}

TEST(KGroupedStreamTest, CountDropsNullKeysAndValues) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .GroupByKey()
      .Count(
          Materialized<S, int64_t>::As("c").WithStoreType(StoreType::kInMemory))
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "v").ok());
  ASSERT_TRUE(h.Pipe("in", "k", std::nullopt).ok());
  ASSERT_TRUE(h.Pipe("in", "k", "v").ok());
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("k", 1)));
}

TEST(KGroupedStreamTest, ReduceCombinesValuesPerKey) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .GroupByKey()
      .Reduce([](const S& agg, const S& v) { return agg + "," + v; })
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "k", "1").ok());
  ASSERT_TRUE(h.Pipe("in", "j", "9").ok());
  ASSERT_TRUE(h.Pipe("in", "k", "2").ok());
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(Pair("k", "1"), Pair("j", "9"), Pair("k", "1,2")));
}

TEST(KGroupedStreamTest, AggregateFoldsFromTheInitializer) {
  StreamsBuilder b;
  KTable<S, int64_t> lengths =
      b.Stream<S, S>("in")
          .GroupBy([](const S&, const S& v) { return v.substr(0, 1); })
          .Aggregate([] { return int64_t{100}; },
                     [](const S&, const S& v, int64_t agg) {
                       return agg + static_cast<int64_t>(v.size());
                     },
                     Materialized<S, int64_t>::As("lengths"));
  lengths.ToStream().To("out");
  EXPECT_EQ(lengths.store_name(), "lengths");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "1", "ab").ok());
  ASSERT_TRUE(h.Pipe("in", "2", "abc").ok());
  ASSERT_TRUE(h.Pipe("in", "3", "x").ok());
  EXPECT_THAT(Counts(h, "out"),
              ElementsAre(Pair("a", 102), Pair("a", 105), Pair("x", 101)));
}

}  // namespace
}  // namespace brook
