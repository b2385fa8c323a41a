// Suppressed::UntilWindowCloses through the TopologyTestDriver: one final
// result per window and key once stream time passes end + grace, nothing
// before; late records change nothing; merged sessions emit only the final
// session; the buffer is changelogged; Build() errors.
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "operators/streams_builder.h"
#include "runtime/serdes.h"
#include "runtime/windowed.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::Driver;
using ::brook::testing::MustBuild;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Results(Driver& h,
                                 SerdePtr<Windowed<std::string>> ks) {
  std::vector<std::string> out;
  for (const ProducerRecord& r : h.Output("out")) {
    auto k = ks->Deserialize("out", r.key.value_or(""));
    auto n = Serdes::Int64()->Deserialize("out", r.value.value_or(""));
    EXPECT_TRUE(k.ok() && n.ok());
    if (!k.ok() || !n.ok()) continue;
    out.push_back(absl::StrCat(k->key, "@", k->start_ms, "-", k->end_ms, "=",
                               *n, " t", r.timestamp_ms));
  }
  return out;
}

TEST(SuppressTest, EmitsOneFinalResultPerWindowWhenItCloses) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(
          TimeWindows::OfSizeAndGrace(absl::Seconds(10), absl::Seconds(5)))
      .Count()
      .Suppress(Suppressed::UntilWindowCloses())
      .ToStream()
      .To("out");
  Topology t = MustBuild(b);
  EXPECT_THAT(t.Describe(), HasSubstr("KTABLE-SUPPRESS-0000000003"));
  EXPECT_THAT(t.Describe(),
              HasSubstr("KTABLE-SUPPRESS-STATE-STORE-0000000004"));
  Driver h(t);
  auto ks = WindowedSerdes::TimeWindowed<std::string>(Serdes::String(), 10'000);
  {
    auto s0 = h.Pipe("in", "a", "x", 1'000);
    ASSERT_TRUE(s0.ok()) << s0;
  }
  ASSERT_TRUE(h.Pipe("in", "a", "x", 2'000).ok());
  ASSERT_TRUE(h.Pipe("in", "b", "x", 3'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 12'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 14'999).ok());  // 1 ms before the close
  EXPECT_THAT(Results(h, ks), IsEmpty());
  ASSERT_TRUE(h.Pipe("in", "b", "x", 15'000).ok());  // closes [0, 10000)
  EXPECT_THAT(Results(h, ks),
              ElementsAre("a@0-10000=2 t2000", "b@0-10000=1 t3000"));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 4'000).ok());  // too late: dropped
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kWindowClosed), 1);
  ASSERT_TRUE(h.Pipe("in", "c", "x", 25'000).ok());
  EXPECT_THAT(Results(h, ks),
              ElementsAre("a@0-10000=2 t2000", "b@0-10000=1 t3000",
                          "a@10000-20000=2 t14999", "b@10000-20000=1 t15000"));
  // The buffer's changelog: a put per update, a delete per emitted window.
  int puts = 0, deletes = 0;
  for (const ProducerRecord& r : h.driver().ReadOutput(
           "app-KTABLE-SUPPRESS-STATE-STORE-0000000004-changelog")) {
    (r.value.has_value() ? puts : deletes)++;
  }
  EXPECT_EQ(puts, 7);     // every update but the dropped one
  EXPECT_EQ(deletes, 4);  // the four windows emitted
}

TEST(SuppressTest, MergedSessionsEmitOnlyTheFinalSession) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(SessionWindows::OfInactivityGapWithNoGrace(absl::Seconds(5)))
      .Count()
      .Suppress(Suppressed::UntilWindowCloses().WithName("final"))
      .ToStream()
      .To("out");
  Topology t = MustBuild(b);
  EXPECT_THAT(t.Describe(), HasSubstr("final-store"));
  Driver h(t);
  auto ks = WindowedSerdes::SessionWindowed<std::string>(Serdes::String());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 0).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 3'000).ok());
  // End 3000 inclusive, no grace: a record at 3000 + gap could still join,
  // so the session closes only when stream time passes 3000.
  ASSERT_TRUE(h.Pipe("in", "b", "x", 3'000).ok());
  EXPECT_THAT(Results(h, ks), IsEmpty());
  ASSERT_TRUE(h.Pipe("in", "b", "x", 3'001).ok());
  EXPECT_THAT(Results(h, ks), ElementsAre("a@0-3000=2 t3000"));
}

TEST(SuppressTest, SuppressNeedsAWindowedAggregationUpstream) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(TimeWindows::OfSizeWithNoGrace(absl::Seconds(10)))
      .Count()
      .Filter(
          [](const Windowed<std::string>&, const int64_t& n) { return n > 1; })
      .Suppress(Suppressed::UntilWindowCloses());
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(),
              HasSubstr("needs the table of a windowed aggregation"));
}

}  // namespace
}  // namespace brook
