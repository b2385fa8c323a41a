// KStream::ProcessValues, To with a topic chosen per record, and
// Repartition, run by the TopologyTestDriver.
#include "brook/operators/kstream.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/streams_builder.h"
#include "brook/runtime/internal/topology_plan.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::Counts;
using ::brook::testing::Driver;
using ::brook::testing::MustBuild;
using ::brook::testing::Strings;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using S = std::string;

// Forwards "<value>!" under the input's key, or under `other_key` if set.
class Shout final : public Processor<S, S, S, S> {
 public:
  explicit Shout(std::optional<S> other_key = std::nullopt)
      : other_key_(std::move(other_key)) {}
  absl::Status Init(ProcessorContext<S, S>& context) override {
    context_ = &context;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<S, S>& r) override {
    std::optional<S> key = other_key_ ? other_key_ : r.key;
    std::optional<S> value =
        r.value ? std::optional<S>(*r.value + "!") : std::nullopt;
    return context_->Forward(Record<S, S>{key, value, r.timestamp_ms, {}});
  }

 private:
  const std::optional<S> other_key_;
  ProcessorContext<S, S>* context_ = nullptr;
};

TEST(ProcessValuesTest, ChangesValuesAndKeepsKeysAndNulls) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .ProcessValues<S>([] { return std::make_unique<Shout>(); })
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "k", "a").ok());
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "b").ok());
  ASSERT_TRUE(h.Pipe("in", "k", std::nullopt).ok());
  EXPECT_THAT(
      Strings(h, "out"),
      ElementsAre(Pair("k", "a!"), Pair("null", "b!"), Pair("k", "null")));
}

TEST(ProcessValuesTest, DoesNotMakeALaterGroupByKeyRepartition) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .ProcessValues<S>([] { return std::make_unique<Shout>(); })
      .GroupByKey()
      .Count(Materialized<S, int64_t>::As("c"));
  EXPECT_THAT(MustBuild(b).Describe(), Not(HasSubstr("repartition")));
  // Process, which may change the key, does.
  StreamsBuilder p;
  p.Stream<S, S>("in")
      .Process<S, S>([] { return std::make_unique<Shout>(); })
      .GroupByKey()
      .Count(Materialized<S, int64_t>::As("c"));
  EXPECT_THAT(MustBuild(p).Describe(), HasSubstr("c-repartition"));
}

TEST(ProcessValuesTest, AProcessorThatChangesTheKeyFailsNamingTheNode) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .ProcessValues<S>([] { return std::make_unique<Shout>("other"); }, {},
                        Named::As("shout"))
      .To("out");
  Driver h(MustBuild(b));
  absl::Status s = h.Pipe("in", "k", "a");
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("ProcessValues 'shout'"));
  EXPECT_THAT(Strings(h, "out"), ElementsAre());
}

// Forwards a fixed record from a wall-clock punctuator, every second.
class Ticker final : public Processor<S, S, S, S> {
 public:
  absl::Status Init(ProcessorContext<S, S>& context) override {
    return context
        .Schedule(absl::Seconds(1), PunctuationType::kWallClockTime,
                  [&context](int64_t) {
                    return context.Forward(Record<S, S>{"k", "tick", 0, {}});
                  })
        .status();
  }
  absl::Status Process(const Record<S, S>&) override {
    return absl::OkStatus();
  }
};

TEST(ProcessValuesTest, AForwardFromAPunctuatorIsRefused) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .ProcessValues<S>([] { return std::make_unique<Ticker>(); }, {},
                        Named::As("ticker"))
      .To("out");
  Driver h(MustBuild(b));
  absl::Status s = h.driver().AdvanceWallClockTime(absl::Seconds(2));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("'ticker' forwarded a record outside"));
  EXPECT_THAT(Strings(h, "out"), ElementsAre());
}

// To with a topic per record: "<value's first letter>-topic".
void RouteByLetter(StreamsBuilder& b) {
  b.Stream<S, S>("in").To(
      [](const std::optional<S>&, const S& v, const RecordContext& c) {
        EXPECT_EQ(c.topic, "in");
        return v.substr(0, 1) + "-topic";
      });
}

TEST(ToExtractorTest, WritesEachRecordToTheTopicItNames) {
  StreamsBuilder b;
  RouteByLetter(b);
  Topology t = MustBuild(b);
  EXPECT_THAT(t.Describe(),
              HasSubstr("Sink: KSTREAM-SINK-0000000001 (topic extractor)"));
  Driver h(t);
  ASSERT_TRUE(h.Pipe("in", "1", "apple").ok());
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "banana").ok());
  ASSERT_TRUE(h.Pipe("in", "3", "avocado").ok());
  EXPECT_THAT(Strings(h, "a-topic"),
              ElementsAre(Pair("1", "apple"), Pair("3", "avocado")));
  EXPECT_THAT(Strings(h, "b-topic"), ElementsAre(Pair("null", "banana")));
}

TEST(ToExtractorTest, AMissingTopicIsAnErrorNamingIt) {
  StreamsBuilder b;
  RouteByLetter(b);
  auto d =
      TopologyTestDriver::Create(MustBuild(b), {.missing_topics = {"b-topic"}});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE((*d)->PipeInput("in", "1", "apple", 0).ok());
  absl::Status s = (*d)->PipeInput("in", "2", "banana", 0);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("sink 'KSTREAM-SINK-0000000001'"));
  EXPECT_THAT(s.message(), HasSubstr("'b-topic' does not exist"));
  EXPECT_TRUE((*d)->ReadOutput("b-topic").empty());
}

TEST(ToExtractorTest, ANullThePlainExtractorCannotTakeIsAnError) {
  StreamsBuilder b;
  RouteByLetter(b);  // takes the value plainly
  Driver h(MustBuild(b));
  absl::Status s = h.Pipe("in", "1", std::nullopt);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("null value"));
}

TEST(ToExtractorTest, AnEmptyTopicNameIsAnError) {
  StreamsBuilder b;
  b.Stream<S, S>("in").To(
      [](const S&, const S&, const RecordContext&) { return S(); });
  Driver h(MustBuild(b));
  absl::Status s = h.Pipe("in", "1", "x");
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("empty topic name"));
}

TEST(RepartitionTest, WritesThroughAnInternalTopicWithTheGivenPartitions) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .SelectKey([](const S&, const std::optional<S>& v) { return v; })
      .Repartition(
          Repartitioned<S, S>::As("by-value").WithNumberOfPartitions(4))
      .To("out");
  Topology t = MustBuild(b);
  ASSERT_TRUE(t.internal_topics().contains("by-value-repartition"));
  EXPECT_EQ(t.internal_topics().at("by-value-repartition").partitions, 4);
  EXPECT_THAT(t.Describe(),
              HasSubstr("    Source: by-value-repartition-source (topics: "
                        "[by-value-repartition])\n"
                        "      --> KSTREAM-SINK-0000000002\n"));
  Driver h(t);
  ASSERT_TRUE(h.Pipe("in", "1", "x").ok());
  // A null key (from the null value) stays: repartition() drops nothing.
  ASSERT_TRUE(h.Pipe("in", "2", std::nullopt).ok());
  EXPECT_THAT(Strings(h, "app-by-value-repartition"),
              ElementsAre(Pair("x", "x"), Pair("null", "null")));
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(Pair("x", "x"), Pair("null", "null")));
}

TEST(RepartitionTest, GeneratesANameAndStopsALaterRepartition) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .SelectKey([](const S&, const S& v) { return v; })
      .Repartition()
      .GroupByKey()
      .Count(Materialized<S, int64_t>::As("c"))
      .ToStream()
      .To("out");
  Topology t = MustBuild(b);
  ASSERT_TRUE(t.internal_topics().contains(
      "KSTREAM-REPARTITION-0000000002-repartition"));
  EXPECT_EQ(t.internal_topics()
                .at("KSTREAM-REPARTITION-0000000002-repartition")
                .partitions,
            0);
  EXPECT_FALSE(t.internal_topics().contains("c-repartition"));
  Driver h(t);
  ASSERT_TRUE(h.Pipe("in", "1", "x").ok());
  ASSERT_TRUE(h.Pipe("in", "2", "x").ok());
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("x", 1), Pair("x", 2)));
}

TEST(RepartitionTest, NamedNamesTheNodesAndTheTopicWithoutRepartitioned) {
  StreamsBuilder b({.fuse_stateless = false});
  b.Stream<S, S>("in")
      .SelectKey([](const S&, const S& v) { return v; })
      .Repartition(Named::As("rekeyed"))
      .To("out");
  Topology t = MustBuild(b);
  EXPECT_TRUE(t.internal_topics().contains("rekeyed-repartition"));
  EXPECT_EQ(t.Describe(),
            "Topologies:\n"
            "   Sub-topology: 0\n"
            "    Source: KSTREAM-SOURCE-0000000000 (topics: [in])\n"
            "      --> KSTREAM-KEY-SELECT-0000000001\n"
            "    Processor: KSTREAM-KEY-SELECT-0000000001 (stores: [])\n"
            "      --> rekeyed-sink\n"
            "      <-- KSTREAM-SOURCE-0000000000\n"
            "    Sink: rekeyed-sink (topic: rekeyed-repartition)\n"
            "      <-- KSTREAM-KEY-SELECT-0000000001\n"
            "\n"
            "  Sub-topology: 1\n"
            "    Source: rekeyed-source (topics: [rekeyed-repartition])\n"
            "      --> KSTREAM-SINK-0000000002\n"
            "    Sink: KSTREAM-SINK-0000000002 (topic: out)\n"
            "      <-- rekeyed-source\n"
            "\n");
  // With both, Repartitioned names the topic and Named the nodes.
  StreamsBuilder both;
  both.Stream<S, S>("in")
      .Repartition(Repartitioned<S, S>::As("by-x"), Named::As("move"))
      .To("out");
  const S d = MustBuild(both).Describe();
  EXPECT_THAT(d, HasSubstr("Sink: move-sink (topic: by-x-repartition)"));
  EXPECT_THAT(d, HasSubstr("Source: move-source (topics: [by-x-repartition])"));
}

struct Point {
  int x;
};

TEST(RepartitionTest, BuildErrorsNameRepartitioned) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValues([](const S&) { return Point{1}; })
      .Repartition();
  absl::StatusOr<Topology> t = b.Build();
  EXPECT_TRUE(absl::IsInvalidArgument(t.status()));
  EXPECT_THAT(t.status().message(), HasSubstr("give one in Repartitioned"));

  StreamsBuilder n;
  n.Stream<S, S>("in").Repartition(
      Repartitioned<S, S>::As("r").WithNumberOfPartitions(-1));
  t = n.Build();
  EXPECT_TRUE(absl::IsInvalidArgument(t.status()));
  EXPECT_THAT(t.status().message(), HasSubstr("number_of_partitions is -1"));
}

}  // namespace
}  // namespace brook
