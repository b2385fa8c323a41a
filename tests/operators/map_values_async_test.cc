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
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/kstream.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/internal/worker_pool.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/stores.h"
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

// Pipes ten records of ten keys through a 20 ms MapValuesAsync with
// `options`, commits, and returns the most records that ever ran at once
// (failing the test unless all ten came out).
int MaxConcurrencyOfTenKeys(const AsyncOptions& options) {
  auto c = std::make_shared<Concurrency>();
  StreamsBuilder b;
  b.Stream<S, S>("in").MapValuesAsync(SleepThenShout(c), options).To("out");
  Driver h(MustBuild(b), CommitOnlyWhenAsked());
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(h.Pipe("in", absl::StrCat("k", i), "20").ok());
  }
  EXPECT_TRUE(h.driver().Commit().ok());
  EXPECT_EQ(Strings(h, "out").size(), 10u);
  return c->max();
}

TEST(MapValuesAsyncTest, TaskStopsTakingRecordsAtMaxInFlight) {
  // Eight workers and ten keys, but never more than two records held.
  EXPECT_LE(MaxConcurrencyOfTenKeys(
                AsyncOptions{.parallelism = 8, .max_in_flight = 2}),
            2);
}

// The node-wide bound holds below the per-task one: with eight workers, ten
// keys and max_in_flight 8, never more than two records run.
TEST(MapValuesAsyncTest, NodeWideBoundHoldsBelowThePerTaskOne) {
  EXPECT_LE(
      MaxConcurrencyOfTenKeys(AsyncOptions{
          .parallelism = 8, .max_in_flight = 8, .max_in_flight_total = 2}),
      2);
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

// Counts each user's events in a store through KeyState: every record sees
// what the key's record before it wrote, a Delete resets the count, and
// what the function left is in the store (and its changelog) after the
// commit.
TEST(MapValuesAsyncTest, KeyStateSeesTheKeysEarlierWritesAndLandsInTheStore) {
  StreamsBuilder b;
  b.AddStateStore(Stores::KeyValueStoreBuilder<S, int64_t>(
      "seen", Serdes::String(), Serdes::Int64()));
  b.Stream<S, S>("in")
      .MapValuesAsync<int64_t>(
          [](const S&, const S& value,
             KeyState<int64_t>& seen) -> absl::StatusOr<S> {
            if (value == "reset") {
              seen.Delete();
              return S("reset");
            }
            // Slow enough that a later record of the key would read a
            // stale count if it ran before this one's write.
            absl::SleepFor(absl::Milliseconds(5));
            const int64_t n = seen.Get().value_or(0) + 1;
            seen.Put(n);
            return absl::StrCat(value, "#", n);
          },
          "seen", AsyncOptions{.parallelism = 4})
      .To("out");
  Driver h(MustBuild(b), CommitOnlyWhenAsked());
  for (const auto& [k, v] : std::vector<std::pair<S, S>>{{"a", "x"},
                                                         {"b", "y"},
                                                         {"a", "x"},
                                                         {"a", "reset"},
                                                         {"a", "x"},
                                                         {"b", "y"},
                                                         {"b", "y"}}) {
    ASSERT_TRUE(h.Pipe("in", k, v).ok());
  }
  ASSERT_TRUE(h.driver().Commit().ok());
  std::map<S, std::vector<S>> by_key;
  for (const auto& [k, v] : Strings(h, "out")) by_key[k].push_back(v);
  EXPECT_THAT(by_key["a"], ElementsAre("x#1", "x#2", "reset", "x#1"));
  EXPECT_THAT(by_key["b"], ElementsAre("y#1", "y#2", "y#3"));
  auto* store = h.driver().GetStateStore<KeyValueStore<S, int64_t>>("seen");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("a").value(), std::optional<int64_t>(1));
  EXPECT_EQ(store->Get("b").value(), std::optional<int64_t>(3));
}

TEST(MapValuesAsyncTest, KeyStateDropsRecordsWithoutAKey) {
  StreamsBuilder b;
  b.AddStateStore(Stores::KeyValueStoreBuilder<S, int64_t>(
      "seen", Serdes::String(), Serdes::Int64()));
  b.Stream<S, S>("in")
      .MapValuesAsync<int64_t>(
          [](const S&, const std::optional<S>& value,
             KeyState<int64_t>& seen) -> absl::StatusOr<S> {
            seen.Put(1);
            return value.value_or("null");
          },
          "seen")
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("in", std::nullopt, "v").ok());
  ASSERT_TRUE(h.Pipe("in", "k", std::nullopt).ok());
  EXPECT_THAT(Strings(h, "out"), ElementsAre(Pair("k", "null")));
}

TEST(MapValuesAsyncTest, AStoreOfAnotherTypeFailsAtStartNamingTheNode) {
  StreamsBuilder b;
  b.AddStateStore(Stores::KeyValueStoreBuilder<S, S>("seen", Serdes::String(),
                                                     Serdes::String()));
  b.Stream<S, S>("in")
      .MapValuesAsync<int64_t>(
          [](const S&, const S& v, KeyState<int64_t>&) -> absl::StatusOr<S> {
            return v;
          },
          "seen", {}, Named{"lookup"})
      .To("out");
  absl::StatusOr<std::unique_ptr<TopologyTestDriver>> driver =
      TopologyTestDriver::Create(
          MustBuild(b), TopologyTestDriverOptions{.application_id = "app"});
  absl::Status s =
      driver.ok() ? (*driver)->PipeInput("in", "k", "v", 0) : driver.status();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("lookup"));
  EXPECT_THAT(s.message(), HasSubstr("seen"));
}

// A call that hangs must not hold the commit (and the transaction) forever:
// past AsyncOptions.timeout the task fails, naming the record.
TEST(MapValuesAsyncTest, ACallLongerThanTheTimeoutFailsTheTaskNamingTheRecord) {
  auto release = std::make_shared<absl::Notification>();
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValuesAsync(
          [release](const S&, const S& v) -> absl::StatusOr<S> {
            if (v == "hang") {
              release->WaitForNotificationWithTimeout(absl::Seconds(30));
            }
            return v;
          },
          AsyncOptions{.parallelism = 2, .timeout = absl::Milliseconds(200)},
          Named{"remote-call"})
      .To("out");
  Driver h(MustBuild(b), CommitOnlyWhenAsked());
  ASSERT_TRUE(h.Pipe("in", "k", "fine").ok());
  ASSERT_TRUE(h.Pipe("in", "j", "hang").ok());
  const absl::Time start = absl::Now();
  absl::Status s = h.driver().Commit();
  const absl::Duration waited = absl::Now() - start;
  release->Notify();
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("remote-call"));
  EXPECT_THAT(s.message(), HasSubstr("offset 1"));
  EXPECT_THAT(s.message(), HasSubstr("AsyncOptions.timeout"));
  EXPECT_LT(waited, absl::Seconds(20)) << "the commit waited for the hung call";
}

TEST(MapValuesAsyncTest, BuildRejectsANonPositiveTimeout) {
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .MapValuesAsync(
          [](const S&, const S& v) -> absl::StatusOr<S> { return v; },
          AsyncOptions{.timeout = absl::ZeroDuration()})
      .To("out");
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("AsyncOptions.timeout"));
}

// A pool whose job hangs is destroyed after abandon_after, not never; the
// thread finishes on its own later, touching only what it shares.
TEST(WorkerPoolTest, DestructionAbandonsAJobThatDoesNotReturn) {
  auto release = std::make_shared<absl::Notification>();
  auto started = std::make_shared<absl::Notification>();
  auto finished = std::make_shared<std::atomic<bool>>(false);
  const absl::Time start = absl::Now();
  {
    internal::WorkerPool pool(2, absl::Milliseconds(100));
    pool.Submit([release, started, finished] {
      started->Notify();
      release->WaitForNotificationWithTimeout(absl::Seconds(30));
      finished->store(true);
    });
    started->WaitForNotification();
    EXPECT_EQ(pool.running(), 1);
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_FALSE(finished->load());
  release->Notify();
  for (int i = 0; i < 200 && !finished->load(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(finished->load());
}

}  // namespace
}  // namespace brook
