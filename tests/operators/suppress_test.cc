// Suppressed::UntilWindowCloses through the TopologyTestDriver: one final
// result per window and key once stream time passes end + grace, nothing
// before; late records change nothing; merged sessions emit only the final
// session; the buffer is changelogged; Build() errors. Suppressed::
// UntilTimeLimit: the latest value per key once stream time reaches the
// time the key entered + the limit, bounded buffers that emit early (oldest
// first) or fail the task, deletes forwarded.
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
using ::brook::testing::Strings;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

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

// A table of strings read from "in", suppressed, written to "out".
Topology TimeLimited(const Suppressed& suppressed) {
  StreamsBuilder b;
  b.Table<std::string, std::string>("in")
      .Suppress(suppressed)
      .ToStream()
      .To("out");
  return MustBuild(b);
}

std::vector<std::string> Timed(Driver& h) {
  std::vector<std::string> out;
  for (const ProducerRecord& r : h.Output("out")) {
    out.push_back(absl::StrCat(r.key.value_or("null"), "=",
                               r.value.value_or("null"), " t", r.timestamp_ms));
  }
  return out;
}

TEST(SuppressTest, TimeLimitForwardsTheLatestValueOnceTheLimitHasPassed) {
  Driver h(TimeLimited(Suppressed::UntilTimeLimit(absl::Seconds(10),
                                                  BufferConfig::Unbounded())));
  ASSERT_TRUE(h.Pipe("in", "a", "1", 1'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "2", 5'000).ok());  // keeps a's place: 1000
  ASSERT_TRUE(h.Pipe("in", "b", "1", 6'000).ok());
  ASSERT_TRUE(h.Pipe("in", "c", "1", 10'999).ok());  // 1 ms before a's limit
  EXPECT_THAT(Timed(h), IsEmpty());
  ASSERT_TRUE(h.Pipe("in", "c", "2", 11'000).ok());
  EXPECT_THAT(Timed(h), ElementsAre("a=2 t5000"));
  ASSERT_TRUE(h.Pipe("in", "a", "3", 15'999).ok());  // a enters again
  EXPECT_THAT(Timed(h), ElementsAre("a=2 t5000"));
  ASSERT_TRUE(h.Pipe("in", "d", "1", 16'000).ok());
  EXPECT_THAT(Timed(h), ElementsAre("a=2 t5000", "b=1 t6000"));
  ASSERT_TRUE(h.Pipe("in", "d", "2", 30'000).ok());
  EXPECT_THAT(Timed(h), ElementsAre("a=2 t5000", "b=1 t6000", "c=2 t11000",
                                    "a=3 t15999", "d=2 t30000"));
  // Every update is written to the buffer's changelog, every forward
  // deletes its key there.
  int puts = 0, deletes = 0;
  for (const ProducerRecord& r : h.driver().ReadOutput(
           "app-KTABLE-SUPPRESS-STATE-STORE-0000000004-changelog")) {
    (r.value.has_value() ? puts : deletes)++;
  }
  EXPECT_EQ(puts, 8);
  EXPECT_EQ(deletes, 5);
}

TEST(SuppressTest, TimeLimitZeroForwardsEveryUpdateAtOnce) {
  Driver h(TimeLimited(
      Suppressed::UntilTimeLimit(absl::ZeroDuration(), BufferConfig{})));
  ASSERT_TRUE(h.Pipe("in", "a", "1", 1'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "2", 1'000).ok());
  EXPECT_THAT(Timed(h), ElementsAre("a=1 t1000", "a=2 t1000"));
}

TEST(SuppressTest, TimeLimitForwardsDeletes) {
  Driver h(TimeLimited(Suppressed::UntilTimeLimit(absl::Seconds(10),
                                                  BufferConfig::Unbounded())));
  ASSERT_TRUE(h.Pipe("in", "a", "1", 1'000).ok());
  ASSERT_TRUE(h.Pipe("in", "b", "1", 1'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", std::nullopt, 2'000).ok());
  ASSERT_TRUE(h.Pipe("in", "c", "1", 11'000).ok());
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(Pair("a", "null"), Pair("b", "1")));
}

TEST(SuppressTest, FullBufferEmitsTheOldestKeysEarly) {
  Driver h(TimeLimited(Suppressed::UntilTimeLimit(
      absl::Hours(1), BufferConfig::MaxRecords(2).EmitEarlyWhenFull())));
  ASSERT_TRUE(h.Pipe("in", "a", "1", 1'000).ok());
  ASSERT_TRUE(h.Pipe("in", "b", "1", 2'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "2", 3'000).ok());  // still 2 keys
  EXPECT_THAT(Timed(h), IsEmpty());
  ASSERT_TRUE(h.Pipe("in", "c", "1", 4'000).ok());  // 3 keys: a leaves
  EXPECT_THAT(Timed(h), ElementsAre("a=2 t3000"));
  ASSERT_TRUE(h.Pipe("in", "d", "1", 5'000).ok());  // then b
  EXPECT_THAT(Timed(h), ElementsAre("a=2 t3000", "b=1 t2000"));
}

TEST(SuppressTest, MaxBytesBoundsTheBuffer) {
  // One key here holds 1 (key) + 16 (times) + 1 (flags) + value bytes.
  Driver h(TimeLimited(Suppressed::UntilTimeLimit(
      absl::Hours(1), BufferConfig::MaxBytes(50))));  // emits early
  ASSERT_TRUE(h.Pipe("in", "a", "xxxx", 1).ok());     // 22 bytes
  ASSERT_TRUE(h.Pipe("in", "b", "xxxx", 2).ok());     // 44
  EXPECT_THAT(Timed(h), IsEmpty());
  ASSERT_TRUE(h.Pipe("in", "c", "xxxx", 3).ok());  // 66: a leaves
  EXPECT_THAT(Timed(h), ElementsAre("a=xxxx t1"));
  // b grows to 58 bytes on its own: b leaves, c (22) stays.
  const std::string big(40, 'y');
  ASSERT_TRUE(h.Pipe("in", "b", big, 4).ok());
  EXPECT_THAT(Timed(h), ElementsAre("a=xxxx t1", "b=" + big + " t4"));
}

TEST(SuppressTest, FullStrictBufferFailsTheTaskNamingTheBound) {
  Driver h(TimeLimited(
      Suppressed::UntilTimeLimit(absl::Hours(1),
                                 BufferConfig::MaxRecords(2).ShutDownWhenFull())
          .WithName("limited")));
  ASSERT_TRUE(h.Pipe("in", "a", "1", 1'000).ok());
  ASSERT_TRUE(h.Pipe("in", "b", "1", 2'000).ok());
  absl::Status s = h.Pipe("in", "c", "1", 3'000);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("suppress 'limited'"));
  EXPECT_THAT(s.message(), HasSubstr("3 keys buffered, at most 2 records"));
  EXPECT_THAT(Timed(h), IsEmpty());
}

TEST(SuppressTest, UntilWindowClosesFailsWhenItsStrictBoundIsExceeded) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(TimeWindows::OfSizeWithNoGrace(absl::Seconds(10)))
      .Count()
      .Suppress(Suppressed::UntilWindowCloses(
          BufferConfig::MaxRecords(1).ShutDownWhenFull()))
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 1'000).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 2'000).ok());   // same window
  ASSERT_TRUE(h.Pipe("in", "a", "x", 10'000).ok());  // [0,10s) closed, out
  absl::Status s = h.Pipe("in", "b", "x", 11'000);   // two open windows
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("2 keys buffered, at most 1 records"));
}

TEST(SuppressTest, UntilWindowClosesRejectsEmitEarly) {
  StreamsBuilder b;
  b.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(TimeWindows::OfSizeWithNoGrace(absl::Seconds(10)))
      .Count()
      .Suppress(Suppressed::UntilWindowCloses(BufferConfig::MaxRecords(5)));
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("needs a strict BufferConfig"));
}

TEST(SuppressTest, UntilWindowClosesNeedsAWindowedTable) {
  StreamsBuilder b;
  b.Table<std::string, std::string>("in").Suppress(
      Suppressed::UntilWindowCloses());
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(),
              HasSubstr("needs the table of a windowed aggregation"));
}

TEST(SuppressTest, TimeLimitRejectsNegativeAndSubMillisecondLimits) {
  for (absl::Duration limit :
       {absl::Milliseconds(-1), absl::Microseconds(1500)}) {
    StreamsBuilder b;
    b.Table<std::string, std::string>("in").Suppress(
        Suppressed::UntilTimeLimit(limit, BufferConfig::Unbounded()));
    absl::StatusOr<Topology> t = b.Build();
    ASSERT_FALSE(t.ok());
    EXPECT_THAT(t.status().message(), HasSubstr("whole milliseconds"));
  }
}

}  // namespace
}  // namespace brook
