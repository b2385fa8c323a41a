// examples/windowed_page_views against the real broker. By default (final
// results, Suppressed::UntilWindowCloses) each page and window has exactly
// one committed result (read_committed), its views, across kill -9s and
// restarts on the same state directory. With --final_results=false the
// committed counts run 1, 2, ..., n with n the page's views in that window,
// with no gap or repeat, on a clean run and across a kill -9 and restart;
// records without a key are dropped and reported in the dropped-records
// metric.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/kafka/producer.h"
#include "tests/operators/example_test_util.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CreateTopic;
using ::brook::testing::UniqueName;
using ::brook::testing::WaitForCommitted;

constexpr int kPartitions = 2;

// (page, window start).
using Window = std::pair<std::string, int64_t>;

// An output record's window (Kafka Streams' time-windowed key: the page's
// bytes, then the start as 8 bytes big-endian) and count (8 bytes
// big-endian); false, with a test failure, if it is not shaped so.
bool DecodeCount(const ConsumerRecord& r, Window* window, int64_t* count) {
  if (!r.key.has_value() || r.key->size() <= 8 || !r.value.has_value() ||
      r.value->size() != 8) {
    ADD_FAILURE() << "not a windowed count at " << r.partition << "@"
                  << r.offset;
    return false;
  }
  const size_t n = r.key->size() - 8;
  *window = {r.key->substr(0, n),
             static_cast<int64_t>(absl::big_endian::Load64(r.key->data() + n))};
  *count = static_cast<int64_t>(absl::big_endian::Load64(r.value->data()));
  return true;
}
constexpr int64_t kWindowMs = 60'000;  // the example's default

class WindowedPageViewsTest : public ::testing::Test {
 protected:
  // Event time of the first record.
  const int64_t start_ms_ = testing::RecentEventTimeMs();

  void SetUp() override {
    app_ = UniqueName("wpv");
    in_ = UniqueName("wpv-in");
    out_ = UniqueName("wpv-out");
    dir_ = ::testing::TempDir() + "/" + app_;
    CreateTopic(in_, kPartitions);
    CreateTopic(out_, kPartitions);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Writes `n` views of 20 pages, 5 per second of event time, partitioned by
  // page (the producer's key hash); every 40th has no key.
  void Produce(int64_t n) {
    auto producer = Producer::Create(BaseConfig());
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int64_t i = 0; i < n; ++i, ++views_) {
      ProducerRecord r{
          .topic = in_, .value = "v", .timestamp_ms = start_ms_ + views_ * 200};
      if (views_ % 40 == 39) {
        ++null_keys_;
      } else {
        r.key = absl::StrCat("page-", views_ % 20);
        ++expected_[{*r.key, r.timestamp_ms / kWindowMs * kWindowMs}];
        ++counted_;
      }
      ASSERT_TRUE((*producer)->Send(std::move(r)).ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  }

  std::string Log(const std::string& name) const {
    return absl::StrCat(dir_, "-", name, ".log");
  }
  // With --final_results=false: every update.
  std::unique_ptr<testing::ChildProcess> StartEveryUpdate(
      const std::string& name) {
    return testing::StartExample("windowed_page_views", app_, in_, out_,
                                 dir_ + "/state", Log(name),
                                 {"--final_results=false"});
  }
  // The default: final results (suppress until the window closes).
  std::unique_ptr<testing::ChildProcess> StartFinal(const std::string& name) {
    return testing::StartExample("windowed_page_views", app_, in_, out_,
                                 dir_ + "/state", Log(name));
  }

  // Updates rate-limited to one per 5 s of event time per window
  // (Suppressed::UntilTimeLimit); each page sees a view every 4 s.
  std::unique_ptr<testing::ChildProcess> StartRateLimited(
      const std::string& name) {
    return testing::StartExample(
        "windowed_page_views", app_, in_, out_, dir_ + "/state", Log(name),
        {"--final_results=false", absl::StrCat("--rate_limit_ms=", kLimitMs)});
  }
  static constexpr int64_t kLimitMs = 5000;

  // The latest count per page and window in `out`; fails on a count that
  // does not rise (a repeated or lost-then-replayed update) and on a window
  // the input has no views in.
  std::map<std::pair<std::string, int64_t>, int64_t> RisingCounts(
      const std::vector<ConsumerRecord>& out) {
    std::map<std::pair<std::string, int64_t>, int64_t> latest;
    int64_t broken = 0;
    for (const ConsumerRecord& r : out) {
      Window window;
      int64_t count = 0;
      if (!DecodeCount(r, &window, &count)) continue;
      int64_t& previous = latest[window];
      if ((count <= previous || !expected_.contains(window)) && broken++ < 5) {
        ADD_FAILURE() << window.first << " in the window at " << window.second
                      << " went from " << previous << " to " << count << " at "
                      << r.partition << "@" << r.offset;
      }
      previous = count;
    }
    EXPECT_EQ(broken, 0);
    return latest;
  }

  // The input offsets the application has committed, summed.
  int64_t CommittedInput() {
    int64_t sum = 0;
    for (int64_t offset : testing::CommittedOffsets(app_, in_, kPartitions)) {
      sum += std::max<int64_t>(offset, 0);
    }
    return sum;
  }

  // One view per page an hour after the last: closes every page's earlier
  // windows in every partition (the windows of these views stay open).
  void ProduceClosers() {
    auto producer = Producer::Create(BaseConfig());
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int page = 0; page < 20; ++page) {
      ASSERT_TRUE(
          (*producer)
              ->Send({.topic = in_,
                      .key = absl::StrCat("page-", page),
                      .value = "closer",
                      .timestamp_ms = start_ms_ + views_ * 200 + 3'600'000})
              .ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  }

  // Exactly one final result per page and window, equal to its views.
  void VerifyFinal(const std::vector<ConsumerRecord>& out) {
    std::map<std::pair<std::string, int64_t>, int64_t> results;
    int64_t broken = 0;
    for (const ConsumerRecord& r : out) {
      Window window;
      int64_t count = 0;
      if (!DecodeCount(r, &window, &count)) return;
      auto [it, fresh] = results.emplace(window, count);
      if (!fresh && broken++ < 5) {
        ADD_FAILURE() << window.first << " in the window at " << window.second
                      << " has a second final result " << count << " at "
                      << r.partition << "@" << r.offset << " (first "
                      << it->second << ")";
      }
    }
    EXPECT_EQ(broken, 0);
    EXPECT_EQ(out.size(), expected_.size());
    EXPECT_TRUE(results == expected_) << "final counts differ from the input's";
  }

  void Verify(const std::vector<ConsumerRecord>& out) {
    std::map<std::pair<std::string, int64_t>, int64_t> last;
    int64_t broken = 0;
    for (const ConsumerRecord& r : out) {
      Window window;
      int64_t count = 0;
      if (!DecodeCount(r, &window, &count)) return;
      int64_t& previous = last[window];
      if (count != previous + 1 && broken++ < 5) {
        ADD_FAILURE() << window.first << " in the window at " << window.second
                      << " went from count " << previous << " to " << count
                      << " at " << r.topic << "-" << r.partition << "@"
                      << r.offset;
      }
      previous = count;
    }
    EXPECT_EQ(broken, 0);
    EXPECT_EQ(static_cast<int64_t>(out.size()), counted_);
    EXPECT_TRUE(last == expected_) << "final counts differ from the input's";
  }

  std::string ReadLog(const std::string& name) const {
    std::ifstream in(Log(name));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string app_, in_, out_, dir_;
  int64_t views_ = 0, counted_ = 0, null_keys_ = 0;
  std::map<std::pair<std::string, int64_t>, int64_t> expected_;
};

TEST_F(WindowedPageViewsTest,
       EveryUpdateCountsEachViewOnceAndReportsDroppedNullKeys) {
  Produce(4000);
  auto app = StartEveryUpdate("run");
  std::vector<ConsumerRecord> out =
      WaitForCommitted(out_, counted_, absl::Seconds(120));
  const int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "windowed_page_views did not stop cleanly; log " << Log("run");
  Verify(out);
  EXPECT_THAT(
      ReadLog("run"),
      ::testing::HasSubstr(absl::StrCat(
          "windowed_page_views: dropped-records null-key=", null_keys_, "\n")));
}

TEST_F(WindowedPageViewsTest,
       EveryUpdateKillNineAndRestartKeepsWindowCountsExact) {
  Produce(60000);
  auto app = StartEveryUpdate("first");
  const int64_t at_kill = static_cast<int64_t>(
      WaitForCommitted(out_, 5000, absl::Seconds(120)).size());
  app->Kill(SIGKILL);
  // Not asserted (a fast machine may finish first), but said: the kill
  // should land mid-way for this test to mean much.
  std::cout << "killed windowed_page_views with " << at_kill << " of "
            << counted_ << " outputs committed\n";
  Produce(2000);
  app = StartEveryUpdate("restart");
  std::vector<ConsumerRecord> out =
      WaitForCommitted(out_, counted_, absl::Seconds(180));
  const int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "windowed_page_views did not stop cleanly; log " << Log("restart");
  Verify(out);
}

// Suppress: each window's final count comes out exactly once, also when the
// instance is killed mid-way, and when it is killed while the last window
// of every page sits in its buffer: the restarted instance emits those from
// the buffer it restored from the changelog.
TEST_F(WindowedPageViewsTest,
       KillNineWithFinalResultsByDefaultEmitsEachWindowOnce) {
  Produce(60000);
  auto app = StartFinal("first");
  const int64_t windows = static_cast<int64_t>(expected_.size());
  const int64_t at_kill = static_cast<int64_t>(
      WaitForCommitted(out_, windows / 8, absl::Seconds(120)).size());
  app->Kill(SIGKILL);
  std::cout << "killed windowed_page_views with " << at_kill << " of "
            << windows << " final results committed\n";
  app = StartFinal("restart");
  // Every window but each page's last has closed; the last ones wait in the
  // buffer for later views.
  const int64_t closed = static_cast<int64_t>(
      WaitForCommitted(out_, windows - 20, absl::Seconds(180)).size());
  EXPECT_EQ(closed, windows - 20);
  app->Kill(SIGKILL);
  ProduceClosers();
  app = StartFinal("after-closers");
  std::vector<ConsumerRecord> out =
      WaitForCommitted(out_, windows, absl::Seconds(180));
  // Nothing more may come: look again for stray duplicates.
  absl::SleepFor(absl::Seconds(3));
  out = WaitForCommitted(out_, windows, absl::Seconds(30));
  const int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "windowed_page_views did not stop cleanly; log "
      << Log("after-closers");
  VerifyFinal(out);
}

// UntilTimeLimit: each window's counts rise (no update emitted twice, none
// replayed after a kill) and end at its views. The second kill -9 comes
// once the instance has committed the whole input, when the buffer holds
// each window's updates of the last 5 s of event time (asserted: some
// window's latest committed count is still below its views); the
// instance restarted after the closers emits them from the buffer it
// restored from the changelog.
TEST_F(WindowedPageViewsTest,
       RateLimitedUpdatesRiseAndEndAtTheViewsAcrossKillNine) {
  Produce(60000);
  auto app = StartRateLimited("first");
  // Kill once a tenth of the input is committed, judged from the group's
  // offsets (cheap), not by reading the output.
  absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (CommittedInput() < views_ / 10 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  int status = app->Kill(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the first instance was not killed by SIGKILL; log " << Log("first");
  const int64_t at_kill = CommittedInput();
  std::cout << "killed windowed_page_views with " << at_kill << " of " << views_
            << " views committed\n";
  EXPECT_LT(at_kill, views_) << "the first kill came after the whole input";
  app = StartRateLimited("restart");
  deadline = absl::Now() + absl::Seconds(180);
  while (CommittedInput() < views_ && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(500));
  }
  ASSERT_EQ(CommittedInput(), views_)
      << "the input was not consumed in time; log " << Log("restart");
  status = app->Kill(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  int64_t held = 0;
  for (const auto& [window, count] :
       RisingCounts(WaitForCommitted(out_, 0, absl::Seconds(30)))) {
    if (count < expected_[window]) ++held;
  }
  std::cout << held << " windows had updates in the buffer at the kill\n";
  EXPECT_GT(held, 0) << "the kill found the suppression buffer empty";
  ProduceClosers();
  app = StartRateLimited("after-closers");
  std::map<std::pair<std::string, int64_t>, int64_t> latest;
  const absl::Time end = absl::Now() + absl::Seconds(180);
  do {
    absl::SleepFor(absl::Seconds(1));
    latest = RisingCounts(WaitForCommitted(out_, 0, absl::Seconds(30)));
  } while (latest != expected_ && absl::Now() < end && !HasFailure());
  status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "windowed_page_views did not stop cleanly; log "
      << Log("after-closers");
  int64_t short_windows = 0;
  for (const auto& [window, views] : expected_) {
    if (latest[window] != views) ++short_windows;
  }
  EXPECT_EQ(short_windows, 0)
      << "windows whose latest count is not their views, of "
      << expected_.size();
}

}  // namespace
}  // namespace brook
