// Tumbling and hopping windows through the TopologyTestDriver: window
// boundaries, overlap, grace and late records (counted), nulls (counted),
// reduce and aggregate, the typed window store, and Build() errors.
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/internal/timestamped_aggregate.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/window_store.h"
#include "brook/runtime/windowed.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::Driver;
using ::brook::testing::MustBuild;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// "key@[start,end)=value" for each record of `topic`, keys read with the
// time-windowed serde of `size_ms`; "=null" for a tombstone.
std::vector<std::string> Windows(Driver& h, const std::string& topic,
                                 int64_t size_ms) {
  SerdePtr<Windowed<std::string>> ks =
      WindowedSerdes::TimeWindowed<std::string>(Serdes::String(), size_ms);
  std::vector<std::string> out;
  for (const ProducerRecord& r : h.Output(topic)) {
    auto k = ks->Deserialize(topic, r.key.value_or(""));
    EXPECT_TRUE(k.ok()) << k.status();
    if (!k.ok()) continue;
    std::string v = "null";
    if (r.value.has_value()) {
      auto n = Serdes::Int64()->Deserialize(topic, *r.value);
      v = n.ok() ? std::to_string(*n) : "?";
    }
    out.push_back(
        absl::StrCat(k->key, "@[", k->start_ms, ",", k->end_ms, ")=", v));
  }
  return out;
}

Topology CountTopology(TimeWindows windows,
                       Materialized<std::string, int64_t> m = {}) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(windows)
      .Count(std::move(m))
      .ToStream()
      .To("out");
  return MustBuild(b);
}

TEST(TimeWindowsTest, StartIsInclusiveAndEndExclusive) {
  Driver h(CountTopology(
      TimeWindows::OfSizeAndGrace(absl::Seconds(10), absl::Seconds(100))));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 0).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 9'999).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 10'000).ok());
  ASSERT_TRUE(h.Pipe("in", "b", "x", 10'000).ok());
  EXPECT_THAT(Windows(h, "out", 10'000),
              ElementsAre("a@[0,10000)=1", "a@[0,10000)=2", "a@[10000,20000)=1",
                          "b@[10000,20000)=1"));
}

TEST(TimeWindowsTest, HoppingWindowsOverlap) {
  Driver h(CountTopology(
      TimeWindows::OfSizeAndGrace(absl::Seconds(10), absl::Seconds(100))
          .AdvanceBy(absl::Seconds(5))));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 7'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 12'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 2'000).ok());
  EXPECT_THAT(Windows(h, "out", 10'000),
              ElementsAre("a@[0,10000)=1", "a@[5000,15000)=1",
                          "a@[5000,15000)=2", "a@[10000,20000)=1",
                          // 2000 is only in [0, 10000): [-5000, 5000) does
                          // not exist (no negative starts).
                          "a@[0,10000)=2"));
}

TEST(TimeWindowsTest, RecordsWithinGraceCountAndLaterOnesAreDroppedAndCounted) {
  Driver h(CountTopology(
      TimeWindows::OfSizeAndGrace(absl::Seconds(10), absl::Seconds(5))));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 1'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 14'999).ok());  // closes at 15000
  ASSERT_TRUE(h.Pipe("in", "a", "x", 3'000).ok());   // in grace
  ASSERT_TRUE(
      h.Pipe("in", "b", "x", 15'000).ok());         // stream time = end + grace
  ASSERT_TRUE(h.Pipe("in", "a", "x", 4'000).ok());  // too late
  ASSERT_TRUE(h.Pipe("in", "c", "x", 9'999).ok());  // too late, new key
  EXPECT_THAT(Windows(h, "out", 10'000),
              ElementsAre("a@[0,10000)=1", "a@[10000,20000)=1", "a@[0,10000)=2",
                          "b@[10000,20000)=1"));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kWindowClosed), 2);
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullKey), 0);
}

TEST(TimeWindowsTest, NoGraceClosesAWindowAtItsEnd) {
  Driver h(CountTopology(TimeWindows::OfSizeWithNoGrace(absl::Seconds(10))));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 10'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 9'999).ok());
  EXPECT_THAT(Windows(h, "out", 10'000), ElementsAre("a@[10000,20000)=1"));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kWindowClosed), 1);
}

TEST(TimeWindowsTest, HoppingRecordPartlyLateUpdatesOnlyOpenWindows) {
  Driver h(CountTopology(TimeWindows::OfSizeWithNoGrace(absl::Seconds(10))
                             .AdvanceBy(absl::Seconds(5))));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 10'000).ok());
  ASSERT_TRUE(
      h.Pipe("in", "a", "x", 7'000).ok());  // [0,10) closed, [5,15) open
  EXPECT_THAT(
      Windows(h, "out", 10'000),
      ElementsAre("a@[5000,15000)=1", "a@[10000,20000)=1", "a@[5000,15000)=2"));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kWindowClosed), 1);
}

// Kafka Streams 3.9.1's KStreamWindowAggregate drops null keys only and
// hands a null value to the aggregator: its count counts it.
TEST(TimeWindowsTest, NullKeysAreDroppedAndNullValuesCounted) {
  Driver h(CountTopology(TimeWindows::OfSizeWithNoGrace(absl::Seconds(10))));
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "x", 0).ok());
  ASSERT_TRUE(h.Pipe("in", "a", std::nullopt, 0).ok());
  ASSERT_TRUE(h.Pipe("in", std::nullopt, std::nullopt, 0).ok());
  EXPECT_THAT(Windows(h, "out", 10'000), ElementsAre("a@[0,10000)=1"));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullKey), 2);
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullValue), 0);
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kWindowClosed), 0);
}

// Reduce cannot take a null (Brook's reducer takes const V&), so it drops
// it; an aggregator taking std::optional<V> gets it, as in Kafka Streams.
TEST(TimeWindowsTest, ReduceDropsNullValuesAndAnOptionalAggregatorGetsThem) {
  StreamsBuilder b;
  auto windowed =
      b.Stream<std::string, std::string>("in").GroupByKey().WindowedBy(
          TimeWindows::OfSizeWithNoGrace(absl::Seconds(10)));
  windowed
      .Reduce([](const std::string& a, const std::string& v) { return a + v; })
      .ToStream()
      .To("reduced");
  windowed
      .Aggregate([] { return std::string(); },
                 [](const std::string&, const std::optional<std::string>& v,
                    const std::string& agg) { return agg + v.value_or("-"); })
      .ToStream()
      .To("aggregated");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 0).ok());
  ASSERT_TRUE(h.Pipe("in", "a", std::nullopt, 1'000).ok());
  std::vector<std::string> reduced, aggregated;
  for (const ProducerRecord& r : h.Output("reduced")) {
    reduced.push_back(r.value.value_or("null"));
  }
  for (const ProducerRecord& r : h.Output("aggregated")) {
    aggregated.push_back(r.value.value_or("null"));
  }
  EXPECT_THAT(reduced, ElementsAre("x"));
  EXPECT_THAT(aggregated, ElementsAre("x", "x-"));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullValue), 1);
}

// Expected timestamps derived from Kafka Streams 3.9.1's
// KStreamWindowAggregate: newTimestamp = max(record timestamp, the
// window's stored timestamp), for every window a record updates.
TEST(TimeWindowsTest, UpdatesCarryTheWindowsLargestTimestamp) {
  Driver h(CountTopology(
      TimeWindows::OfSizeAndGrace(absl::Seconds(10), absl::Seconds(10))
          .AdvanceBy(absl::Seconds(5))));
  for (int64_t t : {6'000, 3'000, 8'000, 11'000, 7'000}) {
    ASSERT_TRUE(h.Pipe("in", "a", "x", t).ok());
  }
  std::vector<std::string> out;
  for (const ProducerRecord& r : h.Output("out")) {
    const std::string& k = r.key.value_or("");
    ASSERT_GE(k.size(), 8u);
    out.push_back(
        absl::StrCat(internal::LoadBigEndian64(k.data() + k.size() - 8), " t",
                     r.timestamp_ms));
  }
  EXPECT_THAT(out, ElementsAre("0 t6000", "5000 t6000",        // 6000
                               "0 t6000",                      // 3000
                               "0 t8000", "5000 t8000",        // 8000
                               "5000 t11000", "10000 t11000",  // 11000
                               "0 t8000", "5000 t11000"));     // 7000
}

TEST(TimeWindowsTest, NullKeysBeforeARepartitionAreCounted) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .SelectKey([](const std::optional<std::string>&,
                    const std::string& v) -> std::optional<std::string> {
        if (v == "drop") return std::nullopt;
        return v;
      })
      .GroupByKey()
      .WindowedBy(TimeWindows::OfSizeWithNoGrace(absl::Seconds(10)))
      .Count(Materialized<std::string, int64_t>::As("per-value"))
      .ToStream()
      .To("out");
  Topology t = MustBuild(b);
  EXPECT_THAT(t.Describe(), HasSubstr("per-value-repartition"));
  Driver h(t);
  ASSERT_TRUE(h.Pipe("in", "k", "v", 0).ok());
  ASSERT_TRUE(h.Pipe("in", "k", "drop", 0).ok());
  EXPECT_THAT(Windows(h, "out", 10'000), ElementsAre("v@[0,10000)=1"));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullKey), 1);
}

TEST(TimeWindowsTest, ReduceAndAggregate) {
  StreamsBuilder b;
  auto windowed =
      b.Stream<std::string, std::string>("in").GroupByKey().WindowedBy(
          TimeWindows::OfSizeWithNoGrace(absl::Seconds(10)));
  windowed
      .Reduce([](const std::string& agg, const std::string& v) {
        return agg + "+" + v;
      })
      .ToStream()
      .To("reduced");
  windowed
      .Aggregate([] { return std::string("init"); },
                 [](const std::string& k, const std::string& v,
                    const std::string& agg) { return agg + "|" + k + v; })
      .ToStream()
      .To("aggregated");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "a", "1", 0).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "2", 5'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "3", 10'000).ok());
  auto ks = WindowedSerdes::TimeWindowed<std::string>(Serdes::String(), 10'000);
  auto reduced = h.driver().ReadOutput<Windowed<std::string>, std::string>(
      "reduced", ks, Serdes::String());
  ASSERT_TRUE(reduced.ok()) << reduced.status();
  ASSERT_EQ(reduced->size(), 3u);
  EXPECT_EQ(*(*reduced)[1].value, "1+2");
  EXPECT_EQ((*reduced)[1].key->start_ms, 0);
  EXPECT_EQ(*(*reduced)[2].value, "3");
  EXPECT_EQ((*reduced)[2].key->start_ms, 10'000);
  EXPECT_EQ((*reduced)[2].timestamp_ms, 10'000);
  auto aggregated = h.driver().ReadOutput<Windowed<std::string>, std::string>(
      "aggregated", ks, Serdes::String());
  ASSERT_TRUE(aggregated.ok()) << aggregated.status();
  ASSERT_EQ(aggregated->size(), 3u);
  EXPECT_EQ(*(*aggregated)[1].value, "init|a1|a2");
  EXPECT_EQ(*(*aggregated)[2].value, "init|a3");
}

TEST(TimeWindowsTest, TheTypedWindowStoreFetchesByKeyAndTimeRange) {
  Driver h(CountTopology(
      TimeWindows::OfSizeAndGrace(absl::Seconds(10), absl::Seconds(100)),
      Materialized<std::string, int64_t>::As("counts")));
  for (int64_t t : {0, 1'000, 10'000, 20'000, 30'000}) {
    ASSERT_TRUE(h.Pipe("in", "a", "x", t).ok());
  }
  ASSERT_TRUE(h.Pipe("in", "b", "x", 20'000).ok());
  // Each window's count with its largest record timestamp.
  using Agg = internal::TimestampedAggregate<int64_t>;
  auto* store =
      h.driver().GetStateStore<WindowStore<std::string, Agg>>("counts");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->retention_ms(), 110'000);
  auto one = store->Fetch("a", 0);
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->value, 2);
  EXPECT_EQ((*one)->max_timestamp_ms, 1'000);
  std::vector<std::string> seen;
  auto collect = [&](const std::string& k, int64_t start, const Agg& n) {
    seen.push_back(absl::StrCat(k, "@", start, "=", n.value));
    return absl::OkStatus();
  };
  ASSERT_TRUE(store->Fetch("a", 10'000, 20'000, collect).ok());
  EXPECT_THAT(seen, ElementsAre("a@10000=1", "a@20000=1"));
  seen.clear();
  ASSERT_TRUE(store->FetchAll(20'000, 20'000, collect).ok());
  EXPECT_THAT(seen, ElementsAre("a@20000=1", "b@20000=1"));
}

TEST(TimeWindowsTest, InvalidWindowsAndShortRetentionAreBuildErrors) {
  {
    StreamsBuilder b;
    b.Stream<std::string, std::string>("in")
        .GroupByKey()
        .WindowedBy(TimeWindows::OfSizeWithNoGrace(absl::Seconds(10))
                        .AdvanceBy(absl::Seconds(11)))
        .Count();
    absl::StatusOr<Topology> t = b.Build();
    ASSERT_FALSE(t.ok());
    EXPECT_THAT(t.status().message(), HasSubstr("advance must be in (0, size"));
    EXPECT_THAT(t.status().message(), HasSubstr("KSTREAM-AGGREGATE-"));
  }
  {
    StreamsBuilder b;
    b.Stream<std::string, std::string>("in")
        .GroupByKey()
        .WindowedBy(
            TimeWindows::OfSizeAndGrace(absl::Seconds(10), absl::Seconds(5)))
        .Count(Materialized<std::string, int64_t>::As("c").WithRetention(
            absl::Seconds(14)));
    absl::StatusOr<Topology> t = b.Build();
    ASSERT_FALSE(t.ok());
    EXPECT_THAT(t.status().message(),
                HasSubstr("retention 14000 ms is shorter than the window "
                          "size + grace, 15000 ms"));
  }
}

}  // namespace
}  // namespace brook
