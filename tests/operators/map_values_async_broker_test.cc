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

#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
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

  // An instance of the application with its state in `dir` (default dir_)
  // and its log in `log` (default Log()).
  std::unique_ptr<ChildProcess> StartApp(std::vector<std::string> extra,
                                         const std::string& dir = "",
                                         const std::string& log = "") {
    std::vector<std::string> args = {
        testing::BinaryPath("tests/async_app"),
        "--bootstrap_servers=" + testing::BootstrapServers(),
        "--application_id=" + app_,
        "--input_topic=" + in_,
        "--output_topic=" + out_,
        "--state_dir=" + (dir.empty() ? dir_ : dir)};
    args.insert(args.end(), extra.begin(), extra.end());
    auto child =
        std::make_unique<ChildProcess>(args, log.empty() ? Log() : log);
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

  // Input record i's partition and offset there (CreateTopicsAndInput's
  // layout).
  std::pair<int, int64_t> InputPosition(int64_t id) const {
    const int p = static_cast<int>(id % kKeys) % partitions_;
    int64_t offset = 0;
    for (int64_t j = 0; j < id; ++j) {
      if (static_cast<int>(j % kKeys) % partitions_ == p) ++offset;
    }
    return {p, offset};
  }

  // Output values are "id-<i>", or "id-<i>/<count>" with --with_store.
  static bool ParseOutput(const ConsumerRecord& r, int64_t* id,
                          int64_t* count) {
    std::string v = r.value.value_or("");
    *count = -1;
    if (size_t slash = v.find('/'); slash != std::string::npos) {
      if (!absl::SimpleAtoi(v.substr(slash + 1), count)) return false;
      v.resize(slash);
    }
    return absl::StartsWith(v, "id-") && absl::SimpleAtoi(v.substr(3), id);
  }

  // After a kill -9: the committed output holds exactly the records below
  // the group's committed offsets, none beyond the committed prefix and
  // none missing. The transaction coordinator writes the markers of the
  // last commit on its own after the producer died, so this waits a bounded
  // time for the two sides to agree.
  void ExpectOutputIsTheCommittedPrefix() {
    std::string last;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    do {
      const std::vector<int64_t> committed =
          CommittedOffsets(app_, in_, partitions_);
      auto out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                           absl::Seconds(60));
      ASSERT_TRUE(out.ok()) << out.status();
      int64_t beyond = 0, bad = 0;
      for (const ConsumerRecord& r : *out) {
        int64_t id = 0, count = 0;
        if (!ParseOutput(r, &id, &count)) {
          ++bad;
          continue;
        }
        auto [p, offset] = InputPosition(id);
        if (offset >= committed[p]) ++beyond;
      }
      const int64_t expected = Sum(committed);
      const int64_t inside = static_cast<int64_t>(out->size()) - beyond - bad;
      if (beyond == 0 && bad == 0 && inside == expected) return;
      last = absl::StrCat(out->size(), " outputs committed: ", beyond,
                          " of records beyond the committed offsets, ", bad,
                          " unreadable, ", inside, " inside where ", expected,
                          " inputs are committed");
      absl::SleepFor(absl::Milliseconds(500));
    } while (absl::Now() < deadline);
    ADD_FAILURE() << last;
  }

  // Every id once in the committed output, and each key's ids rising; with
  // counts, each key's counts are 1, 2, ... n in output order.
  void VerifyOutput(int64_t records) {
    auto out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                         absl::Seconds(120));
    ASSERT_TRUE(out.ok()) << out.status();
    std::vector<ConsumerRecord> ids;
    std::map<std::string, int64_t> last_by_key, count_by_key;
    int64_t out_of_order = 0, wrong_counts = 0;
    // ReadTopic returns each partition in offset order, and a key's records
    // are all in one output partition.
    for (const ConsumerRecord& r : *out) {
      int64_t id = -1, count = -1;
      if (!ParseOutput(r, &id, &count)) continue;
      ConsumerRecord copy = r;
      copy.value = absl::StrFormat("id-%07d", id);
      ids.push_back(std::move(copy));
      const std::string key = r.key.value_or("");
      auto [it, first] = last_by_key.try_emplace(key, id);
      if (!first) {
        if (id <= it->second) ++out_of_order;
        it->second = id;
      }
      if (count >= 0 && count != ++count_by_key[key]) ++wrong_counts;
    }
    testing::CopyCheck check = CheckExactCopy(ids, "id", records);
    EXPECT_EQ(static_cast<int64_t>(out->size()), records) << check.ToString();
    EXPECT_EQ(check.duplicates, 0) << check.ToString();
    EXPECT_EQ(check.missing, 0) << check.ToString();
    EXPECT_EQ(check.unexpected, 0) << check.ToString();
    EXPECT_EQ(out_of_order, 0) << "records out of their key's order";
    EXPECT_EQ(last_by_key.size(), static_cast<size_t>(kKeys));
    EXPECT_EQ(wrong_counts, 0)
        << "a key's stored count skipped or repeated a number";
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
class MapValuesAsyncKillTest : public MapValuesAsyncBrokerTest,
                               public ::testing::WithParamInterface<bool> {};

// With the store (GetParam()), each key's count in KeyState must also run
// 1..n across the kills: a write of a record whose offset was not committed
// is rolled back with it.
TEST_P(MapValuesAsyncKillTest, KillNineWithWorkersBusyKeepsExactlyOnce) {
  constexpr int64_t kRecords = 3000;
  CreateTopicsAndInput(3, kRecords);
  std::vector<std::string> flags = {"--handler_ms=20", "--parallelism=8",
                                    "--max_in_flight=32",
                                    "--transaction_timeout_ms=10000"};
  if (GetParam()) flags.push_back("--with_store");
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
    ExpectOutputIsTheCommittedPrefix();
  }
  auto app = StartApp(flags);
  EXPECT_TRUE(WaitForCommitted(kRecords, absl::Seconds(180)))
      << "committed " << Committed() << " of " << kRecords << "; log " << Log();
  int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Log();
  VerifyOutput(kRecords);
}

INSTANTIATE_TEST_SUITE_P(StoreOrNot, MapValuesAsyncKillTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "WithKeyState" : "Stateless";
                         });

// A second instance joins while the first has workers busy, then leaves
// again: the first commits (after its in-flight records finish) before it
// gives partitions up, and takes them back later. No record is lost or
// doubled, each key's order holds, and the stored counts run 1..n.
TEST_F(MapValuesAsyncBrokerTest,
       RebalanceWithWorkersBusyLosesAndDoublesNothing) {
  constexpr int64_t kRecords = 2400;
  CreateTopicsAndInput(4, kRecords);
  const std::vector<std::string> flags = {"--handler_ms=25", "--parallelism=8",
                                          "--max_in_flight=48", "--with_store",
                                          "--session_timeout_ms=6000"};
  auto first = StartApp(flags);
  ASSERT_TRUE(WaitForCommitted(200, absl::Seconds(60)))
      << "committed " << Committed() << "; log " << Log();
  const std::string first_log = Log();
  // The second instance has its own state and log.
  const std::string second_log = dir_ + "-second.log";
  auto second = StartApp(flags, dir_ + "-second", second_log);
  const int64_t at_join = Committed();
  // Let both work for a while, then the second leaves mid-work.
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  while (Committed() < at_join + 600 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_LT(Committed(), kRecords) << "the input ran out before the leave";
  int status = second->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << testing::ReadFile(second_log);
  EXPECT_TRUE(WaitForCommitted(kRecords, absl::Seconds(180)))
      << "committed " << Committed() << " of " << kRecords;
  status = first->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << first_log;
  // Both instances worked, and the first went through the two rebalances.
  const std::string second_text = testing::ReadFile(second_log);
  int64_t second_completed = 0;
  if (size_t at = second_text.find("background completed ");
      at != std::string::npos) {
    absl::SimpleAtoi(
        second_text.substr(at + 21, second_text.find(',', at) - at - 21),
        &second_completed);
  }
  EXPECT_GT(second_completed, 0) << second_text;
  VerifyOutput(kRecords);
  std::filesystem::remove_all(dir_ + "-second");
}

}  // namespace
}  // namespace brook
