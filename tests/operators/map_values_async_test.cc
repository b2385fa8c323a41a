// KStream::MapValuesAsync run by the TopologyTestDriver: per-key order, keys
// in parallel, the in-flight bound, errors, and commits that wait for the
// records in flight.
#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "operators/kstream.h"
#include "operators/streams_builder.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::Driver;
using ::brook::testing::MustBuild;
using ::brook::testing::Strings;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using S = std::string;

// Counts the calls running at once, overall and per key.
class Concurrency {
 public:
  void Enter(const S& key) {
    absl::MutexLock lock(&mu_);
    max_ = std::max(max_, ++running_);
    max_per_key_ = std::max(max_per_key_, ++running_by_key_[key]);
  }
  void Leave(const S& key) {
    absl::MutexLock lock(&mu_);
    --running_;
    --running_by_key_[key];
  }
  int max() {
    absl::MutexLock lock(&mu_);
    return max_;
  }
  int max_per_key() {
    absl::MutexLock lock(&mu_);
    return max_per_key_;
  }

 private:
  absl::Mutex mu_;
  int running_ = 0;
  int max_ = 0;
  std::map<S, int> running_by_key_;
  int max_per_key_ = 0;
};

// Sleeps for the number of milliseconds the value names, then returns
// "<value>!".
auto SleepThenShout(std::shared_ptr<Concurrency> c) {
  return [c](const S& key, const S& value) -> absl::StatusOr<S> {
    c->Enter(key);
    int ms = 0;
    if (!absl::SimpleAtoi(value, &ms)) ms = 0;
    absl::SleepFor(absl::Milliseconds(ms));
    c->Leave(key);
    return value + "!";
  };
}

TopologyTestDriverOptions CommitOnlyWhenAsked() {
  return TopologyTestDriverOptions{.application_id = "app",
                                   .commit_after_each_input = false};
}

TEST(MapValuesAsyncTest, MapsValuesAndKeepsKeys) {
  auto c = std::make_shared<Concurrency>();
  StreamsBuilder b;
  b.Stream<S, S>("in").MapValuesAsync(SleepThenShout(c)).To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "k", "1").ok());
  ASSERT_TRUE(h.Pipe("in", "j", "2").ok());
  // A function that takes the key plainly is not called for a null key.
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "3").ok());
  EXPECT_THAT(Strings(h, "out"), ElementsAre(Pair("k", "1!"), Pair("j", "2!")));
}

TEST(MapValuesAsyncTest, KeepsPerKeyOrderWhenLaterRecordsFinishFirst) {
  auto c = std::make_shared<Concurrency>();
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValuesAsync(SleepThenShout(c), AsyncOptions{.parallelism = 4})
      .To("out");
  Driver h(MustBuild(b), CommitOnlyWhenAsked());
  // a's first record is slow and its second fast; b's only one is fast.
  ASSERT_TRUE(h.Pipe("in", "a", "200").ok());
  ASSERT_TRUE(h.Pipe("in", "a", "1").ok());
  ASSERT_TRUE(h.Pipe("in", "b", "2").ok());
  ASSERT_TRUE(h.driver().Commit().ok());
  // b overtook a (other key), a's fast record did not overtake its slow one.
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(Pair("b", "2!"), Pair("a", "200!"), Pair("a", "1!")));
  EXPECT_EQ(c->max_per_key(), 1);
}

TEST(MapValuesAsyncTest, RunsDifferentKeysAtOnceAndOneKeyAtATime) {
  auto c = std::make_shared<Concurrency>();
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValuesAsync(SleepThenShout(c), AsyncOptions{.parallelism = 4})
      .To("out");
  Driver h(MustBuild(b), CommitOnlyWhenAsked());
  for (int i = 0; i < 3; ++i) {
    for (const char* key : {"a", "b", "c", "d"}) {
      ASSERT_TRUE(h.Pipe("in", key, "30").ok());
    }
  }
  ASSERT_TRUE(h.driver().Commit().ok());
  EXPECT_EQ(Strings(h, "out").size(), 12u);
  EXPECT_GE(c->max(), 2) << "no two keys ever ran at the same time";
  EXPECT_EQ(c->max_per_key(), 1);
}

TEST(MapValuesAsyncTest, TaskStopsTakingRecordsAtMaxInFlight) {
  auto c = std::make_shared<Concurrency>();
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValuesAsync(SleepThenShout(c),
                      AsyncOptions{.parallelism = 8, .max_in_flight = 2})
      .To("out");
  Driver h(MustBuild(b), CommitOnlyWhenAsked());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(h.Pipe("in", absl::StrCat("k", i), "20").ok());
  }
  ASSERT_TRUE(h.driver().Commit().ok());
  EXPECT_EQ(Strings(h, "out").size(), 10u);
  // Eight workers and ten keys, but never more than two records held.
  EXPECT_LE(c->max(), 2);
}

TEST(MapValuesAsyncTest, CommitWaitsForEveryRecordInFlight) {
  auto c = std::make_shared<Concurrency>();
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValuesAsync(SleepThenShout(c), AsyncOptions{.parallelism = 2})
      .To("out");
  Driver h(MustBuild(b), CommitOnlyWhenAsked());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(h.Pipe("in", absl::StrCat("k", i % 3), "50").ok());
  }
  // The records are taken by now, and their offsets would be committed:
  // the commit must carry all six outputs.
  ASSERT_TRUE(h.driver().Commit().ok());
  EXPECT_EQ(Strings(h, "out").size(), 6u);
}

TEST(MapValuesAsyncTest, AnErrorOfTheFunctionFailsTheTask) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValuesAsync([](const S&, const S& v) -> absl::StatusOr<S> {
        if (v == "bad") return absl::UnavailableError("service down");
        return v;
      })
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", "k", "good").ok());
  absl::Status s = h.Pipe("in", "k", "bad");
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("service down"));
  EXPECT_THAT(s.message(), HasSubstr("KSTREAM-MAPVALUESASYNC-"));
  // The task stays failed.
  EXPECT_FALSE(h.Pipe("in", "k", "good").ok());
}

TEST(MapValuesAsyncTest, NullKeysShareOneLaneWhenTheFunctionTakesThem) {
  auto c = std::make_shared<Concurrency>();
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValuesAsync(
          [c](const std::optional<S>& key,
              const S& value) -> absl::StatusOr<S> {
            const S lane = key.value_or("null");
            c->Enter(lane);
            absl::SleepFor(absl::Milliseconds(value == "first" ? 100 : 1));
            c->Leave(lane);
            return value;
          },
          AsyncOptions{.parallelism = 4})
      .To("out");
  Driver h(MustBuild(b), CommitOnlyWhenAsked());
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "first").ok());
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "second").ok());
  ASSERT_TRUE(h.driver().Commit().ok());
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(Pair("null", "first"), Pair("null", "second")));
  EXPECT_EQ(c->max_per_key(), 1);
}

TEST(MapValuesAsyncTest, BuildRejectsBadOptionsNamingThem) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValuesAsync(
          [](const S&, const S& v) -> absl::StatusOr<S> { return v; },
          AsyncOptions{.parallelism = 0})
      .To("out");
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("AsyncOptions.parallelism"));
}

}  // namespace
}  // namespace brook
