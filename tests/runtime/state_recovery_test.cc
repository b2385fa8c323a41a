// Exactly-once state against the real broker and real RocksDB: count_app
// (tests/apps/count_app.cc) keeps a count per key and outputs
// "<id>:<count>". Every scenario ends with the same check: every input id is
// in the output exactly once, each key's counts run 1, 2, 3, ... with no gap
// or repeat (a store ahead of or behind the committed input breaks that), and
// the changelog, folded, holds each key's final count.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/base/internal/endian.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "kafka/producer.h"
#include "kafka/topic_reader.h"
#include "tests/testing/child_process.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/rocksdb_surgery.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::ChildProcess;
using ::brook::testing::CommittedOffsets;
using ::brook::testing::CreateTopic;
using ::brook::testing::UniqueName;

constexpr int kPartitions = 2;

class StateRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = UniqueName("count");
    in_ = UniqueName("count-in");
    out_ = UniqueName("count-out");
    dir_ = ::testing::TempDir() + "/" + app_;
    CreateTopic(in_, kPartitions);
    CreateTopic(out_, kPartitions);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Appends records id-<next>.. with keys k<i % keys>; returns the new total.
  int64_t Produce(int64_t count, int64_t keys) {
    auto producer = Producer::Create(BaseConfig());
    EXPECT_TRUE(producer.ok());
    for (int64_t i = 0; i < count; ++i, ++produced_) {
      EXPECT_TRUE((*producer)
                      ->Send({.topic = in_,
                              .key = absl::StrCat("k", produced_ % keys),
                              .value = absl::StrFormat("id-%07d", produced_)})
                      .ok());
      expected_[absl::StrCat("k", produced_ % keys)]++;
    }
    EXPECT_TRUE((*producer)->Flush(absl::Seconds(120)).ok());
    return produced_;
  }

  std::string Log(const std::string& name) const {
    return absl::StrCat(dir_, "-", name, ".log");
  }

  std::unique_ptr<ChildProcess> Start(const std::string& name,
                                      const std::string& state_dir,
                                      std::vector<std::string> extra = {},
                                      std::vector<std::string> env = {}) {
    std::vector<std::string> args = {
        testing::BinaryPath("tests/count_app"),
        "--bootstrap_servers=" + testing::BootstrapServers(),
        "--application_id=" + app_,
        "--input_topic=" + in_,
        "--output_topic=" + out_,
        "--state_dir=" + state_dir};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(args, Log(name), env);
  }

  int64_t Committed() {
    int64_t sum = 0;
    for (int64_t c : CommittedOffsets(app_, in_, kPartitions)) sum += c;
    return sum;
  }

  bool WaitCommitted(int64_t n, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (Committed() >= n) return true;
      absl::SleepFor(absl::Milliseconds(200));
    }
    return false;
  }

  // Stops `app` with SIGTERM; it must exit cleanly.
  void StopCleanly(ChildProcess& app, const std::string& name) {
    int status = app.Stop(SIGTERM, 60000);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "count_app did not stop cleanly; log " << Log(name);
  }

  // "restored N" from a run's log.
  int64_t Restored(const std::string& name) {
    const std::string log = testing::ReadFile(Log(name));
    size_t at = log.rfind("count_app: processed ");
    if (at == std::string::npos) return -1;
    std::vector<std::string> words = absl::StrSplit(log.substr(at), ' ');
    int64_t n = -1;
    if (words.size() >= 5) (void)absl::SimpleAtoi(words[4], &n);
    return n;
  }

  // The checks described at the top of the file.
  void VerifyOutputAndChangelog() {
    auto out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                         absl::Seconds(120));
    ASSERT_TRUE(out.ok()) << out.status();
    std::map<std::string, int64_t> last_count;
    std::map<std::string, int> ids;
    int64_t broken = 0;
    for (const ConsumerRecord& r : *out) {
      std::pair<std::string, std::string> parts =
          absl::StrSplit(r.value.value_or(""), absl::MaxSplits(':', 1));
      ++ids[parts.first];
      int64_t count = 0;
      ASSERT_TRUE(absl::SimpleAtoi(parts.second, &count)) << *r.value;
      int64_t& last = last_count[r.key.value_or("")];
      if (count != last + 1) {
        if (broken++ < 5) {
          ADD_FAILURE() << "key " << r.key.value_or("") << " went from count "
                        << last << " to " << count << " at " << r.topic << "-"
                        << r.partition << "@" << r.offset;
        }
      }
      last = count;
    }
    EXPECT_EQ(broken, 0) << "count sequences broken";
    EXPECT_EQ(static_cast<int64_t>(out->size()), produced_);
    EXPECT_EQ(static_cast<int64_t>(ids.size()), produced_)
        << "duplicate or lost ids";
    EXPECT_EQ(last_count, expected_);

    auto changelog =
        ReadTopic(BaseConfig(), app_ + "-counts-changelog",
                  IsolationLevel::kReadCommitted, absl::Seconds(120));
    ASSERT_TRUE(changelog.ok()) << changelog.status();
    std::map<std::string, int64_t> folded;
    for (const ConsumerRecord& r : *changelog) {
      ASSERT_TRUE(r.value.has_value() && r.value->size() == 8);
      folded[r.key.value_or("")] =
          static_cast<int64_t>(absl::big_endian::Load64(r.value->data()));
    }
    EXPECT_EQ(folded, expected_);
  }

  std::string app_, in_, out_, dir_;
  int64_t produced_ = 0;
  std::map<std::string, int64_t> expected_;
};

class CrashPointTest : public StateRecoveryTest,
                       public ::testing::WithParamInterface<const char*> {};

TEST_P(CrashPointTest, KilledAtACommitStepRestartsAtTheCommittedState) {
  // The first commit goes through; the second, with state written before it,
  // dies at the crash point.
  Produce(2000, 50);
  const std::string state = dir_ + "/a";
  auto app = Start("crash", state, {},
                   {absl::StrCat("BROOK_CRASH_POINT=", GetParam()),
                    "BROOK_CRASH_POINT_HITS=2"});
  ASSERT_TRUE(WaitCommitted(2000, absl::Seconds(120))) << Log("crash");
  Produce(2000, 50);
  int status = app->Wait(120000);
  ASSERT_NE(status, -1) << "never reached the crash point; log "
                        << Log("crash");
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "expected death by SIGKILL at " << GetParam() << "; log "
      << Log("crash");
  EXPECT_TRUE(absl::StrContains(testing::ReadFile(Log("crash")),
                                absl::StrCat("crash point ", GetParam())));
  // More input after the crash, on the same keys.
  Produce(1000, 50);
  app = Start("restart", state);
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("restart");
  StopCleanly(*app, "restart");
  VerifyOutputAndChangelog();
}

INSTANTIATE_TEST_SUITE_P(CommitSteps, CrashPointTest,
                         ::testing::Values("commit.after_produce",
                                           "commit.after_send_offsets",
                                           "commit.inside",
                                           "commit.before_store_write"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '.') c = '_';
                           }
                           return name;
                         });

TEST_F(StateRecoveryTest, AbortedTransactionLeavesNoTraceInTheStore) {
  Produce(3000, 30);
  const std::string state = dir_ + "/a";
  // The 1500th record's store update is made, then the processor fails: the
  // transaction aborts and the update must vanish with it.
  auto app = Start("failing", state, {"--fail_after_records=1500"});
  int status = app->Wait(120000);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3)
      << "expected the instance to stop in ERROR; log " << Log("failing");
  EXPECT_LT(Committed(), 1500);
  app = Start("healthy", state);
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("healthy");
  StopCleanly(*app, "healthy");
  VerifyOutputAndChangelog();
}

TEST_F(StateRecoveryTest, MillionKeyStoreRestoresOnlyTheTailAfterKillNine) {
  constexpr int64_t kKeys = 1000000;
  Produce(kKeys, kKeys);  // one record per key
  const std::string state = dir_ + "/a";
  auto app = Start("first", state);
  ASSERT_TRUE(WaitCommitted(kKeys, absl::Seconds(300))) << Log("first");
  int status = app->Kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status));
  // 1000 more records on existing keys: their counts must become 2.
  Produce(1000, 1000);
  const absl::Time start = absl::Now();
  app = Start("second", state);
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("second");
  const absl::Duration recovery = absl::Now() - start;
  StopCleanly(*app, "second");
  const int64_t restored = Restored("second");
  std::cout << "state of " << kKeys
            << " keys; after kill -9 the restart restored " << restored
            << " changelog records and caught up in "
            << absl::FormatDuration(recovery) << "\n";
  EXPECT_GE(restored, 0) << Log("second");
  EXPECT_LT(restored, 20000) << "restore did not start from the stored offset";
  VerifyOutputAndChangelog();
}

TEST_F(StateRecoveryTest, StoreMovedToAnotherInstanceRestoresInFullAndMatches) {
  Produce(20000, 2000);
  const std::string dump_a = dir_ + "/dump-a", dump_b = dir_ + "/dump-b";
  std::filesystem::create_directories(dump_a);
  std::filesystem::create_directories(dump_b);
  auto a = Start("a", dir_ + "/a", {"--dump_dir=" + dump_a});
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("a");
  StopCleanly(*a, "a");
  // A fresh instance with an empty state directory takes over.
  auto b = Start("b", dir_ + "/b", {"--dump_dir=" + dump_b});
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (!absl::StrContains(testing::ReadFile(Log("b")), "-> RUNNING") &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  StopCleanly(*b, "b");
  EXPECT_GE(Restored("b"), 2000) << "a fresh instance must restore every key";
  for (int p = 0; p < kPartitions; ++p) {
    const std::string task = absl::StrCat("0_", p, ".txt");
    const std::string from_a = testing::ReadFile(dump_a + "/" + task);
    EXPECT_FALSE(from_a.empty());
    EXPECT_EQ(from_a, testing::ReadFile(dump_b + "/" + task)) << task;
  }
  VerifyOutputAndChangelog();
}

TEST_F(StateRecoveryTest,
       TaskGivenBackRestoresOnlyWhatOthersCommittedMeanwhile) {
  Produce(10000, 100);
  auto a = Start("a", dir_ + "/a");
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("a");
  // B joins: the range assignor gives it one of the two tasks, which B
  // restores in full from the changelog.
  auto b = Start("b", dir_ + "/b");
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (!absl::StrContains(testing::ReadFile(Log("b")), "-> RUNNING") &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  Produce(4000, 100);
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("b");
  // B leaves: its task comes back to A, which still has the store it had
  // before B took it and restores only B's changes.
  StopCleanly(*b, "b");
  Produce(1000, 100);
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("a");
  StopCleanly(*a, "a");
  const int64_t restored_by_b = Restored("b");
  const int64_t restored_by_a = Restored("a");
  std::cout << "B restored " << restored_by_b
            << " records when it took a task; "
            << "A restored " << restored_by_a << " when it got the task back\n";
  EXPECT_GE(restored_by_b, 4000) << "B should restore the task in full";
  EXPECT_GT(restored_by_a, 0) << "A must restore what B committed";
  EXPECT_LT(restored_by_a, restored_by_b) << "A restored more than B's changes";
  VerifyOutputAndChangelog();
}

enum class Damage {
  kTruncatedSst,
  kEmptyDirectory,
  kGarbledOffset,
  kDeletedOffset
};

class CorruptStateTest : public StateRecoveryTest,
                         public ::testing::WithParamInterface<Damage> {};

TEST_P(CorruptStateTest, RecoversByRestoringFromTheChangelog) {
  Produce(6000, 100);
  const std::string state = dir_ + "/a";
  auto app = Start("before", state);
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("before");
  StopCleanly(*app, "before");

  int damaged = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(state)) {
    const std::string path = entry.path().string();
    if (!absl::StrContains(path, "/counts")) continue;
    if (GetParam() == Damage::kTruncatedSst && absl::EndsWith(path, ".sst")) {
      std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
      ++damaged;
    }
  }
  if (GetParam() == Damage::kEmptyDirectory) {
    for (const auto& entry : std::filesystem::directory_iterator(state)) {
      for (const auto& task :
           std::filesystem::directory_iterator(entry.path())) {
        if (task.is_directory()) {
          std::filesystem::remove_all(task.path());
          std::filesystem::create_directories(task.path());
          ++damaged;
        }
      }
    }
  }
  if (GetParam() == Damage::kGarbledOffset) {
    damaged = testing::GarbleStoredOffsets(state, "counts");
  }
  if (GetParam() == Damage::kDeletedOffset) {
    // The data stays but its position is unknown: restoring the whole
    // changelog over it must give the same state.
    damaged = testing::DeleteStoredOffsets(state, "counts");
  }
  ASSERT_GT(damaged, 0) << "nothing to damage under " << state;

  Produce(2000, 100);
  app = Start("after", state);
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("after");
  StopCleanly(*app, "after");
  EXPECT_GE(Restored("after"), 100) << "the damaged stores were not restored";
  VerifyOutputAndChangelog();
}

INSTANTIATE_TEST_SUITE_P(Damages, CorruptStateTest,
                         ::testing::Values(Damage::kTruncatedSst,
                                           Damage::kEmptyDirectory,
                                           Damage::kGarbledOffset,
                                           Damage::kDeletedOffset),
                         [](const auto& info) {
                           switch (info.param) {
                             case Damage::kTruncatedSst:
                               return "TruncatedSst";
                             case Damage::kEmptyDirectory:
                               return "EmptyDirectory";
                             case Damage::kGarbledOffset:
                               return "GarbledOffset";
                             case Damage::kDeletedOffset:
                               return "DeletedOffset";
                           }
                           return "Unknown";
                         });

}  // namespace
}  // namespace brook
