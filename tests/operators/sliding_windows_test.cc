// Sliding windows through the TopologyTestDriver, with Kafka Streams'
// semantics: a window per distinct set of records within the time
// difference (both ends inclusive), made from the left and right windows of
// each record; out-of-order records within grace; late ones dropped and
// counted; records near the epoch sharing [0, d].
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/streams_builder.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/windowed.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::Driver;
using ::brook::testing::MustBuild;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kDiff = 10;

std::vector<std::string> Windows(Driver& h, const std::string& topic) {
  auto ks = WindowedSerdes::TimeWindowed<std::string>(Serdes::String(), kDiff);
  std::vector<std::string> out;
  for (const ProducerRecord& r : h.Output(topic)) {
    auto k = ks->Deserialize(topic, r.key.value_or(""));
    EXPECT_TRUE(k.ok()) << k.status();
    if (!k.ok()) continue;
    auto n = Serdes::Int64()->Deserialize(topic, r.value.value_or(""));
    out.push_back(absl::StrCat(k->key, "@[", k->start_ms, ",", k->end_ms,
                               "]=", n.ok() ? std::to_string(*n) : "?"));
  }
  return out;
}

Topology CountTopology(int64_t grace_ms) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(SlidingWindows::OfTimeDifferenceAndGrace(
          absl::Milliseconds(kDiff), absl::Milliseconds(grace_ms)))
      .Count()
      .ToStream()
      .To("out");
  return MustBuild(b);
}

TEST(SlidingWindowsTest, EachRecordMakesItsLeftAndRightWindows) {
  Driver h(CountTopology(1000));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 100).ok());
  EXPECT_THAT(Windows(h, "out"), ElementsAre("a@[90,100]=1"));
  // 105: in 100's right window [101,111] (made now) and its own left
  // window [95,105], which also holds 100.
  ASSERT_TRUE(h.Pipe("in", "a", "x", 105).ok());
  EXPECT_THAT(Windows(h, "out"),
              ElementsAre("a@[90,100]=1", "a@[101,111]=1", "a@[95,105]=2"));
  // 103, out of order: updates the windows that hold it, makes its left
  // window [93,103] from 100's and its right window [104,114] from 105's.
  ASSERT_TRUE(h.Pipe("in", "a", "x", 103).ok());
  EXPECT_THAT(Windows(h, "out"),
              ElementsAre("a@[90,100]=1", "a@[101,111]=1", "a@[95,105]=2",
                          "a@[95,105]=3", "a@[101,111]=2", "a@[93,103]=2",
                          "a@[104,114]=1"));
  // Exactly d apart (both ends are inclusive): 110's left window [100,110]
  // holds 100 too, and 100's right window [101,111] holds 110 alone.
  ASSERT_TRUE(h.Pipe("in", "b", "x", 100).ok());
  ASSERT_TRUE(h.Pipe("in", "b", "x", 110).ok());
  auto all = Windows(h, "out");
  std::vector<std::string> b(all.begin() + 7, all.end());
  EXPECT_THAT(b, ElementsAre("b@[90,100]=1", "b@[101,111]=1", "b@[100,110]=2"));
}

TEST(SlidingWindowsTest, LateRecordsAreDroppedAndCounted) {
  Driver h(CountTopology(5));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 100).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 200).ok());  // close time 195
  // Even its right window [185,195] ends at the close time: dropped.
  ASSERT_TRUE(h.Pipe("in", "a", "x", 184).ok());
  // Its left window [175,185] is closed and its right one [186,196] holds
  // no record: nothing to update, one window dropped.
  ASSERT_TRUE(h.Pipe("in", "a", "x", 185).ok());
  // Updates [190,200] and makes its right window [193,203]; its left
  // window [182,192] is closed.
  ASSERT_TRUE(h.Pipe("in", "a", "x", 192).ok());
  EXPECT_THAT(Windows(h, "out"), ElementsAre("a@[90,100]=1", "a@[190,200]=1",
                                             "a@[190,200]=2", "a@[193,203]=1"));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kWindowClosed), 3);
}

TEST(SlidingWindowsTest, RecordsNearTheEpochShareTheFirstWindow) {
  Driver h(CountTopology(1000));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 3).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 7).ok());
  EXPECT_THAT(Windows(h, "out"),
              ElementsAre("a@[0,10]=1", "a@[4,14]=1", "a@[0,10]=2"));
}

TEST(SlidingWindowsTest, NullKeysAndValuesAreDroppedAndCounted) {
  Driver h(CountTopology(0));
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "x", 100).ok());
  // Unlike time and session windows, Kafka Streams 3.9.1's
  // KStreamSlidingWindowAggregate drops null values too.
  ASSERT_TRUE(h.Pipe("in", "a", std::nullopt, 100).ok());
  EXPECT_TRUE(h.Output("out").empty());
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullKey), 1);
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullValue), 1);
}

// Expected values derived from Kafka Streams 3.9.1's
// KStreamSlidingWindowAggregate: updateWindowAndForward forwards
// max(record timestamp, the window's stored timestamp) and
// createCurrentRecordRightWindow the source window's timestamp.
TEST(SlidingWindowsTest, UpdatesCarryTheWindowsLargestTimestamp) {
  Driver h(CountTopology(100));
  for (int64_t t : {100, 105, 102}) {
    ASSERT_TRUE(h.Pipe("in", "a", "x", t).ok());
  }
  auto ks = WindowedSerdes::TimeWindowed<std::string>(Serdes::String(), kDiff);
  std::vector<std::string> out;
  for (const ProducerRecord& r : h.Output("out")) {
    auto k = ks->Deserialize("out", r.key.value_or(""));
    ASSERT_TRUE(k.ok()) << k.status();
    auto n = Serdes::Int64()->Deserialize("out", r.value.value_or(""));
    ASSERT_TRUE(n.ok()) << n.status();
    out.push_back(absl::StrCat(k->start_ms, ",", k->end_ms, "=", *n, " t",
                               r.timestamp_ms));
  }
  EXPECT_THAT(out, ElementsAre("90,100=1 t100",
                               // 105
                               "101,111=1 t105", "95,105=2 t105",
                               // 102, out of order: the windows holding 105
                               // keep 105
                               "95,105=3 t105", "101,111=2 t105",
                               "92,102=2 t102", "103,113=1 t105"));
}

TEST(SlidingWindowsTest, ReduceOverSlidingWindows) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(SlidingWindows::OfTimeDifferenceWithNoGrace(
          absl::Milliseconds(kDiff)))
      .Reduce([](const std::string& x, const std::string& y) { return x + y; })
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "a", "1", 100).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "2", 105).ok());
  auto ks = WindowedSerdes::TimeWindowed<std::string>(Serdes::String(), kDiff);
  auto out = h.driver().ReadOutput<Windowed<std::string>, std::string>(
      "out", ks, Serdes::String());
  ASSERT_TRUE(out.ok());
  std::vector<std::string> got;
  for (const auto& r : *out) {
    got.push_back(absl::StrCat(r.key->start_ms, "=", *r.value));
  }
  EXPECT_THAT(got, ElementsAre("90=1", "101=2", "95=12"));
}

TEST(SlidingWindowsTest, AnInvalidTimeDifferenceIsABuildError) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(
          SlidingWindows::OfTimeDifferenceWithNoGrace(absl::ZeroDuration()))
      .Count();
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("time difference must be > 0"));
}

}  // namespace
}  // namespace brook
