// TopologyTestDriver running DSL topologies on the real StreamTask: output,
// repartition and changelog topics, stores, and errors.
#include "brook/runtime/topology_test_driver.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/streams_builder.h"
#include "brook/runtime/key_value_store.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::WordCountTopology;
using ::testing::ElementsAre;
using ::testing::SizeIs;
using S = std::string;

std::unique_ptr<TopologyTestDriver> WordCountDriver() {
  auto driver =
      TopologyTestDriver::Create(WordCountTopology(), {.application_id = "wc"});
  EXPECT_TRUE(driver.ok()) << driver.status();
  return driver.ok() ? *std::move(driver) : nullptr;
}

std::vector<std::pair<S, int64_t>> Counts(TopologyTestDriver& d) {
  auto records = d.ReadOutput<S, int64_t>("word-counts", Serdes::String(),
                                          Serdes::Int64());
  EXPECT_TRUE(records.ok()) << records.status();
  std::vector<std::pair<S, int64_t>> out;
  for (const auto& r : *records) out.emplace_back(*r.key, *r.value);
  return out;
}

TEST(TopologyTestDriverTest, RunsWordCountThroughTheRepartitionTopic) {
  auto d = WordCountDriver();
  ASSERT_NE(d, nullptr);
  ASSERT_TRUE(d->PipeInput("lines", std::nullopt, "a b a", 10).ok());
  EXPECT_THAT(Counts(*d), ElementsAre(std::pair<S, int64_t>("a", 1),
                                      std::pair<S, int64_t>("b", 1),
                                      std::pair<S, int64_t>("a", 2)));
  ASSERT_TRUE(d->PipeInput("lines", std::nullopt, "b", 20).ok());
  EXPECT_THAT(Counts(*d), ElementsAre(std::pair<S, int64_t>("b", 2)));
  EXPECT_THAT(d->ReadOutput("wc-counts-repartition"), SizeIs(4));
  EXPECT_THAT(d->ReadOutput("wc-counts-changelog"), SizeIs(4));
}

TEST(TopologyTestDriverTest, OutputKeepsTheInputTimestamp) {
  auto d = WordCountDriver();
  ASSERT_NE(d, nullptr);
  ASSERT_TRUE(d->PipeInput("lines", std::nullopt, "x", 1234).ok());
  auto out = d->ReadOutput("word-counts");
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_EQ(out[0].timestamp_ms, 1234);
}

TEST(TopologyTestDriverTest, ExposesCommittedStores) {
  auto d = WordCountDriver();
  ASSERT_NE(d, nullptr);
  ASSERT_TRUE(d->PipeInput("lines", std::nullopt, "a a a", 0).ok());
  auto* counts = d->GetStateStore<KeyValueStore<S, int64_t>>("counts");
  ASSERT_NE(counts, nullptr);
  EXPECT_FALSE(counts->has_uncommitted());
  auto a = counts->Get("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, std::optional<int64_t>(3));
  EXPECT_EQ(d->GetStateStore("nope"), nullptr);
}

TEST(TopologyTestDriverTest, PipingAnUnreadTopicIsNotFound) {
  auto d = WordCountDriver();
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(absl::IsNotFound(d->PipeInput("other", "k", "v", 0)));
}

TEST(TopologyTestDriverTest, TypedPipeInputUsesTheSerdes) {
  StreamsBuilder b;
  b.Stream<S, int64_t>("in")
      .Filter([](const S&, int64_t v) { return v % 2 == 0; })
      .MapValues([](int64_t v) { return v / 2; })
      .To("out");
  auto topology = b.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto d = TopologyTestDriver::Create(*topology);
  ASSERT_TRUE(d.ok()) << d.status();
  for (int64_t v : {1, 2, 3, 4}) {
    absl::Status piped = (*d)->PipeInput<S, int64_t>(
        "in", S("k"), v, 0, Serdes::String(), Serdes::Int64());
    ASSERT_TRUE(piped.ok()) << piped;
  }
  auto out =
      (*d)->ReadOutput<S, int64_t>("out", Serdes::String(), Serdes::Int64());
  ASSERT_TRUE(out.ok());
  ASSERT_THAT(*out, SizeIs(2));
  EXPECT_EQ((*out)[0].value, std::optional<int64_t>(1));
  EXPECT_EQ((*out)[1].value, std::optional<int64_t>(2));
}

}  // namespace
}  // namespace brook
