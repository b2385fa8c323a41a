// Session windows through the TopologyTestDriver: sessions, merges (with
// their tombstones), grace and late drops, nulls, reduce and aggregate with
// a merger, the typed session store.
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/streams_builder.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/session_store.h"
#include "brook/runtime/windowed.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::Driver;
using ::brook::testing::MustBuild;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// "key@[start,end]=value" per record of `topic`; "=null" for a tombstone.
std::vector<std::string> Sessions(Driver& h, const std::string& topic,
                                  bool string_values = false) {
  SerdePtr<Windowed<std::string>> ks =
      WindowedSerdes::SessionWindowed<std::string>(Serdes::String());
  std::vector<std::string> out;
  for (const ProducerRecord& r : h.Output(topic)) {
    auto k = ks->Deserialize(topic, r.key.value_or(""));
    EXPECT_TRUE(k.ok()) << k.status();
    if (!k.ok()) continue;
    std::string v = "null";
    if (r.value.has_value() && string_values) {
      v = *r.value;
    } else if (r.value.has_value()) {
      auto n = Serdes::Int64()->Deserialize(topic, *r.value);
      v = n.ok() ? std::to_string(*n) : "?";
    }
    out.push_back(
        absl::StrCat(k->key, "@[", k->start_ms, ",", k->end_ms, "]=", v));
  }
  return out;
}

Topology CountTopology(SessionWindows windows) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(windows)
      .Count(Materialized<std::string, int64_t>::As("sessions"))
      .ToStream()
      .To("out");
  return MustBuild(b);
}

TEST(SessionWindowsTest, RecordsWithinTheGapExtendAndMergeSessions) {
  Driver h(CountTopology(SessionWindows::OfInactivityGapAndGrace(
      absl::Seconds(5), absl::Seconds(100))));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 0).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 3'000).ok());   // extends [0,0]
  ASSERT_TRUE(h.Pipe("in", "a", "x", 20'000).ok());  // a new session
  ASSERT_TRUE(h.Pipe("in", "a", "x", 10'000).ok());  // 2 s from each: alone
  ASSERT_TRUE(h.Pipe("in", "b", "x", 4'000).ok());   // other key: alone
  EXPECT_THAT(
      Sessions(h, "out"),
      ElementsAre("a@[0,0]=1", "a@[0,0]=null", "a@[0,3000]=2",
                  "a@[20000,20000]=1", "a@[10000,10000]=1", "b@[4000,4000]=1"));
  // 7000 is within 5 s of [0,3000] and of [10000,10000]: all three merge.
  ASSERT_TRUE(h.Pipe("in", "a", "x", 7'000).ok());
  EXPECT_THAT(
      Sessions(h, "out"),
      ::testing::IsSupersetOf(
          {"a@[0,3000]=null", "a@[10000,10000]=null", "a@[0,10000]=4"}));
  EXPECT_EQ(Sessions(h, "out").back(), "a@[0,10000]=4");
  EXPECT_EQ(Sessions(h, "out").size(), 9u);
  // A record inside a session replaces it (its key is the same).
  ASSERT_TRUE(h.Pipe("in", "a", "x", 5'000).ok());
  EXPECT_EQ(Sessions(h, "out").back(), "a@[0,10000]=5");
  // Exactly the gap away still joins: the gap is inclusive.
  ASSERT_TRUE(h.Pipe("in", "a", "x", 15'000).ok());
  EXPECT_EQ(Sessions(h, "out").back(), "a@[0,20000]=7");

  auto* store =
      h.driver().GetStateStore<SessionStore<std::string, int64_t>>("sessions");
  ASSERT_NE(store, nullptr);
  auto s = store->FetchSession("a", 0, 20'000);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, std::optional<int64_t>(7));
  auto gone = store->FetchSession("a", 0, 10'000);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, std::nullopt);
}

TEST(SessionWindowsTest, ARecordForASessionClosedByGraceIsDroppedAndCounted) {
  Driver h(CountTopology(SessionWindows::OfInactivityGapAndGrace(
      absl::Seconds(5), absl::Seconds(2))));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 10'000).ok());
  ASSERT_TRUE(h.Pipe("in", "b", "x", 30'000).ok());  // stream time 30 s
  // A new session [27000,27000] ends 3 s before stream time > grace 2 s.
  ASSERT_TRUE(h.Pipe("in", "c", "x", 27'000).ok());
  // [28000,28000]: end + grace == stream time, still open (ends inclusive).
  ASSERT_TRUE(h.Pipe("in", "c", "x", 28'000).ok());
  // Within the gap of a's session [10000,10000], long closed.
  ASSERT_TRUE(h.Pipe("in", "a", "x", 12'000).ok());
  EXPECT_THAT(Sessions(h, "out"),
              ElementsAre("a@[10000,10000]=1", "b@[30000,30000]=1",
                          "c@[28000,28000]=1"));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kWindowClosed), 2);
}

// Kafka Streams 3.9.1's KStreamSessionWindowAggregate drops null keys only;
// its count aggregator counts a null value.
TEST(SessionWindowsTest, NullKeysAreDroppedAndNullValuesCounted) {
  Driver h(CountTopology(
      SessionWindows::OfInactivityGapWithNoGrace(absl::Seconds(5))));
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "x", 0).ok());
  ASSERT_TRUE(h.Pipe("in", "a", std::nullopt, 0).ok());
  EXPECT_THAT(Sessions(h, "out"), ElementsAre("a@[0,0]=1"));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullKey), 1);
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullValue), 0);
}

TEST(SessionWindowsTest, ReduceDropsNullValuesAndAnOptionalAggregatorGetsThem) {
  StreamsBuilder b;
  auto grouped = b.Stream<std::string, std::string>("in").GroupByKey();
  const auto windows =
      SessionWindows::OfInactivityGapWithNoGrace(absl::Seconds(5));
  grouped.WindowedBy(windows)
      .Reduce([](const std::string& a, const std::string& v) { return a + v; })
      .ToStream()
      .To("reduced");
  grouped.WindowedBy(windows)
      .Aggregate([] { return std::string(); },
                 [](const std::string&, const std::optional<std::string>& v,
                    const std::string& agg) { return agg + v.value_or("-"); },
                 [](const std::string&, const std::string& a,
                    const std::string& c) { return a + c; })
      .ToStream()
      .To("aggregated");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 0).ok());
  ASSERT_TRUE(h.Pipe("in", "a", std::nullopt, 1'000).ok());
  EXPECT_THAT(Sessions(h, "reduced", /*string_values=*/true),
              ElementsAre("a@[0,0]=x"));
  EXPECT_THAT(Sessions(h, "aggregated", /*string_values=*/true),
              ElementsAre("a@[0,0]=x", "a@[0,0]=null", "a@[0,1000]=x-"));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullValue), 1);
}

// Expected timestamps derived from Kafka Streams 3.9.1's
// KStreamSessionWindowAggregate.maybeForwardUpdate: every update and
// every delete of a merged session carries that session's end.
TEST(SessionWindowsTest, UpdatesAndDeletesCarryTheSessionsEnd) {
  Driver h(CountTopology(SessionWindows::OfInactivityGapAndGrace(
      absl::Seconds(5), absl::Seconds(60))));
  for (int64_t t : {10'000, 20'000, 14'000, 16'000}) {
    ASSERT_TRUE(h.Pipe("in", "a", "x", t).ok());
  }
  std::vector<int64_t> timestamps;
  SerdePtr<Windowed<std::string>> ks =
      WindowedSerdes::SessionWindowed<std::string>(Serdes::String());
  std::vector<std::string> out;
  for (const ProducerRecord& r : h.Output("out")) {
    auto k = ks->Deserialize("out", r.key.value_or(""));
    ASSERT_TRUE(k.ok()) << k.status();
    out.push_back(absl::StrCat("[", k->start_ms, ",", k->end_ms, "]",
                               r.value.has_value() ? "" : " delete", " t",
                               r.timestamp_ms));
  }
  EXPECT_THAT(
      out, ElementsAre("[10000,10000] t10000", "[20000,20000] t20000",
                       // 14000 merges the first session
                       "[10000,10000] delete t10000", "[10000,14000] t14000",
                       // 16000 merges both
                       "[10000,14000] delete t14000",
                       "[20000,20000] delete t20000", "[10000,20000] t20000"));
}

TEST(SessionWindowsTest, AggregateMergesWithTheMergerAndReduceWithTheReducer) {
  StreamsBuilder b;
  auto sessions =
      b.Stream<std::string, std::string>("in").GroupByKey().WindowedBy(
          SessionWindows::OfInactivityGapAndGrace(absl::Seconds(5),
                                                  absl::Seconds(100)));
  sessions
      .Aggregate([] { return std::string("<"); },
                 [](const std::string&, const std::string& v,
                    const std::string& agg) { return agg + v; },
                 [](const std::string&, const std::string& x,
                    const std::string& y) { return x + "&" + y; })
      .ToStream()
      .To("aggregated");
  sessions
      .Reduce([](const std::string& x, const std::string& y) {
        return x + "+" + y;
      })
      .ToStream()
      .To("reduced");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "a", "1", 0).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "2", 10'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "3", 5'000).ok());  // bridges both
  EXPECT_THAT(Sessions(h, "aggregated", true),
              ElementsAre("a@[0,0]=<1", "a@[10000,10000]=<2", "a@[0,0]=null",
                          "a@[10000,10000]=null", "a@[0,10000]=<&<1&<23"));
  EXPECT_THAT(Sessions(h, "reduced", true),
              ElementsAre("a@[0,0]=1", "a@[10000,10000]=2", "a@[0,0]=null",
                          "a@[10000,10000]=null", "a@[0,10000]=1+2+3"));
}

TEST(SessionWindowsTest, AnInvalidGapIsABuildError) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(
          SessionWindows::OfInactivityGapWithNoGrace(absl::ZeroDuration()))
      .Count();
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("inactivity gap must be > 0"));
}

}  // namespace
}  // namespace brook
