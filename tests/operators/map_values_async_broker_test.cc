// KStream::MapValuesAsync against the real broker, run in child processes
// (tests/apps/async_app.cc): a handler far slower than max.poll.interval.ms
// allows for a poll's batch keeps its group membership, and a kill -9 with
// workers busy keeps exactly once. Each test ends with the same check: a
// read_committed reader finds every input id in the output exactly once,
// and each key's ids in input order.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <map>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "kafka/producer.h"
#include "kafka/topic_reader.h"
#include "tests/testing/child_process.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CheckExactCopy;
using ::brook::testing::ChildProcess;
using ::brook::testing::CommittedOffsets;
using ::brook::testing::CreateTopic;
using ::brook::testing::UniqueName;

constexpr int kKeys = 24;

int64_t Sum(const std::vector<int64_t>& v) {
  int64_t s = 0;
  for (int64_t x : v) s += x;
  return s;
}

class MapValuesAsyncBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = UniqueName("async-app");
    in_ = UniqueName("async-in");
    out_ = UniqueName("async-out");
    dir_ = ::testing::TempDir() + "/" + app_;
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Record i: key k<i % kKeys>, value id-<i>; each key in one partition, so
  // its records have an input order.
  void CreateTopicsAndInput(int partitions, int64_t records) {
    partitions_ = partitions;
    CreateTopic(in_, partitions);
    CreateTopic(out_, partitions);
    auto producer = Producer::Create(BaseConfig());
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int64_t i = 0; i < records; ++i) {
      const int key = static_cast<int>(i % kKeys);
      ASSERT_TRUE((*producer)
                      ->Send({.topic = in_,
                              .partition = key % partitions,
                              .key = absl::StrCat("k", key),
                              .value = absl::StrFormat("id-%07d", i)})
                      .ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  }

  std::string Log() const { return dir_ + ".log"; }

  std::unique_ptr<ChildProcess> StartApp(std::vector<std::string> extra) {
    std::vector<std::string> args = {
        testing::BinaryPath("tests/async_app"),
        "--bootstrap_servers=" + testing::BootstrapServers(),
        "--application_id=" + app_,
        "--input_topic=" + in_,
        "--output_topic=" + out_,
        "--state_dir=" + dir_};
    args.insert(args.end(), extra.begin(), extra.end());
    auto child = std::make_unique<ChildProcess>(args, Log());
    EXPECT_TRUE(child->started());
    return child;
  }

  int64_t Committed() { return Sum(CommittedOffsets(app_, in_, partitions_)); }

  bool WaitForCommitted(int64_t records, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (Committed() < records && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(200));
    }
    return Committed() >= records;
  }

  // Every id once in the committed output, and each key's ids rising.
  void VerifyOutput(int64_t records) {
    auto out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                         absl::Seconds(120));
    ASSERT_TRUE(out.ok()) << out.status();
    testing::CopyCheck check = CheckExactCopy(*out, "id", records);
    EXPECT_EQ(check.records, records) << check.ToString();
    EXPECT_EQ(check.duplicates, 0) << check.ToString();
    EXPECT_EQ(check.missing, 0) << check.ToString();
    EXPECT_EQ(check.unexpected, 0) << check.ToString();
    // ReadTopic returns each partition in offset order, and a key's records
    // are all in one output partition.
    std::map<std::string, int64_t> last_by_key;
    int64_t out_of_order = 0;
    for (const ConsumerRecord& r : *out) {
      int64_t id = -1;
      if (!absl::SimpleAtoi(r.value.value_or("id-x").substr(3), &id)) continue;
      auto [it, first] = last_by_key.try_emplace(r.key.value_or(""), id);
      if (!first) {
        if (id <= it->second) ++out_of_order;
        it->second = id;
      }
    }
    EXPECT_EQ(out_of_order, 0) << "records out of their key's order";
    EXPECT_EQ(last_by_key.size(), static_cast<size_t>(kKeys));
  }

  std::string app_, in_, out_, dir_;
  int partitions_ = 0;
};

// 1,500 records at 30 ms each on 2 partitions: a poll's batch of up to 500
// records run on the stream thread would take 15 s, five times
// max.poll.interval.ms (3 s). With the work on 16 workers the thread keeps
// polling: the instance joins once, no task migrates, and the output is
// exact and in key order.
TEST_F(MapValuesAsyncBrokerTest, SlowHandlerNeverExceedsMaxPollInterval) {
  constexpr int64_t kRecords = 1500;
  CreateTopicsAndInput(2, kRecords);
  auto app =
      StartApp({"--handler_ms=30", "--parallelism=16", "--max_in_flight=64",
                "--session_timeout_ms=2000", "--max_poll_interval_ms=3000"});
  EXPECT_TRUE(WaitForCommitted(kRecords, absl::Seconds(120)))
      << "committed " << Committed() << " of " << kRecords << "; log " << Log();
  int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Log();
  const std::string log = testing::ReadFile(Log());
  EXPECT_TRUE(absl::StrContains(log, "rebalances 1,")) << log;
  EXPECT_TRUE(absl::StrContains(log, "migrations 0,")) << log;
  EXPECT_FALSE(absl::StrContains(log, "assignment lost")) << log;
  EXPECT_FALSE(absl::StrContains(log, "tasks migrated away")) << log;
  EXPECT_TRUE(
      absl::StrContains(log, absl::StrCat("background completed ", kRecords)))
      << log;
  VerifyOutput(kRecords);
}

// kill -9 while workers are busy, three times, each time after progress:
// no record whose offset was committed lacks its output, none is output
// twice, and each key's order survives the restarts.
TEST_F(MapValuesAsyncBrokerTest, KillNineWithWorkersBusyKeepsExactlyOnce) {
  constexpr int64_t kRecords = 3000;
  CreateTopicsAndInput(3, kRecords);
  const std::vector<std::string> flags = {"--handler_ms=20", "--parallelism=8",
                                          "--max_in_flight=32",
                                          "--transaction_timeout_ms=10000"};
  std::mt19937 rng(std::random_device{}());
  int64_t last = 0;
  for (int kill = 0; kill < 3; ++kill) {
    auto app = StartApp(flags);
    const absl::Time deadline = absl::Now() + absl::Seconds(120);
    while (Committed() <= last && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_GT(Committed(), last) << "no progress before kill " << kill;
    absl::SleepFor(
        absl::Milliseconds(std::uniform_int_distribution<>(100, 700)(rng)));
    last = Committed();
    ASSERT_LT(last, kRecords) << "the input ran out before kill " << kill;
    int status = app->Kill(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  auto app = StartApp(flags);
  EXPECT_TRUE(WaitForCommitted(kRecords, absl::Seconds(180)))
      << "committed " << Committed() << " of " << kRecords << "; log " << Log();
  int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Log();
  VerifyOutput(kRecords);
}

}  // namespace
}  // namespace brook
