// Exactly-once state against the real broker and real RocksDB: count_app
// (tests/apps/count_app.cc) keeps a count per key and outputs
// "<id>:<count>". Every scenario ends with the same check: every input id is
// in the output exactly once, each key's counts run 1, 2, 3, ... with no gap
// or repeat (a store ahead of or behind the committed input breaks that), and
// the changelog, folded, holds each key's final count.
#include <signal.h>
#include <sys/wait.h>

#include <climits>
#include <cstring>
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

  // A counter from the last "count_app: processed P restored R wiped W"
  // line of a run's log (`word` is "processed", "restored" or "wiped"); -1
  // if there is none.
  int64_t Counter(const std::string& name, const std::string& word) {
    const std::string log = testing::ReadFile(Log(name));
    size_t at = log.rfind("count_app: processed ");
    if (at == std::string::npos) return -1;
    std::vector<std::string> words =
        absl::StrSplit(log.substr(at, log.find('\n', at) - at), ' ');
    for (size_t i = 1; i + 1 < words.size(); ++i) {
      int64_t n = -1;
      if (words[i] == word && absl::SimpleAtoi(words[i + 1], &n)) return n;
    }
    return -1;
  }
  int64_t Restored(const std::string& name) {
    return Counter(name, "restored");
  }

  // Creates the file that arms a child's crash point
  // (BROOK_CRASH_POINT_ARM_FILE).
  void ArmCrashPoint(const std::string& path) {
    std::filesystem::create_directories(
        std::filesystem::path(path).parent_path());
    std::ofstream(path).put('\n');
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
  }

  // Waits until a run's log contains `text`.
  bool WaitForLog(const std::string& name, const std::string& text,
                  absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (absl::StrContains(testing::ReadFile(Log(name)), text)) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  // The changelog offsets [start, end) each restore of a run's log began
  // with, by changelog partition ("restoring state store 'counts' of task
  // 0_<p> from <topic>-<p> offsets [start, end)").
  std::map<int, std::pair<int64_t, int64_t>> RestoreRanges(
      const std::string& name) {
    std::map<int, std::pair<int64_t, int64_t>> ranges;
    const std::string log = testing::ReadFile(Log(name));
    for (absl::string_view line : absl::StrSplit(log, '\n')) {
      const size_t task = line.find("' of task 0_");
      const size_t at = line.find(" offsets [");
      if (!absl::StrContains(line, "restoring state store 'counts'") ||
          task == absl::string_view::npos || at == absl::string_view::npos) {
        continue;
      }
      int partition = -1;
      int64_t start = -1, end = -1;
      absl::string_view p = line.substr(task + strlen("' of task 0_"));
      absl::string_view r = line.substr(at + strlen(" offsets ["));
      std::pair<absl::string_view, absl::string_view> se =
          absl::StrSplit(r.substr(0, r.find(')')), ", ");
      if (absl::SimpleAtoi(p.substr(0, p.find(' ')), &partition) &&
          absl::SimpleAtoi(se.first, &start) &&
          absl::SimpleAtoi(se.second, &end)) {
        ranges[partition] = {start, end};
      }
    }
    return ranges;
  }

  // The committed (read_committed) records of the changelog whose offsets
  // fall in `ranges`: what a restore of those ranges must replay, markers
  // and aborted records left out.
  int64_t CommittedChangelogRecordsIn(
      const std::map<int, std::pair<int64_t, int64_t>>& ranges) {
    auto changelog =
        ReadTopic(BaseConfig(), app_ + "-counts-changelog",
                  IsolationLevel::kReadCommitted, absl::Seconds(120));
    EXPECT_TRUE(changelog.ok()) << changelog.status();
    if (!changelog.ok()) return -1;
    int64_t n = 0;
    for (const ConsumerRecord& r : *changelog) {
      auto it = ranges.find(r.partition);
      if (it != ranges.end() && r.offset >= it->second.first &&
          r.offset < it->second.second) {
        ++n;
      }
    }
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
  // The crash point is armed only once the first 2,000 records are
  // committed (however many commits that took); the next commit, with state
  // written before it, dies at the crash point.
  Produce(2000, 50);
  const std::string state = dir_ + "/a";
  const std::string arm = dir_ + "/arm-crash-point";
  auto app = Start("crash", state, {},
                   {absl::StrCat("BROOK_CRASH_POINT=", GetParam()),
                    "BROOK_CRASH_POINT_ARM_FILE=" + arm});
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (Committed() < 2000 && app->Running() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(app->Running())
      << "died before the crash point was armed; log " << Log("crash");
  ASSERT_GE(Committed(), 2000) << Log("crash");
  ArmCrashPoint(arm);
  Produce(2000, 50);
  int status = app->Wait(120000);
  ASSERT_NE(status, -1) << "never reached the crash point; log "
                        << Log("crash");
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "expected death by SIGKILL at " << GetParam() << "; log "
      << Log("crash");
  // The process's last words name the step it died in.
  const std::string log = testing::ReadFile(Log("crash"));
  const std::string last_words =
      absl::StrCat("crash point ", GetParam(), " reached");
  ASSERT_TRUE(absl::StrContains(log, last_words)) << Log("crash");
  EXPECT_FALSE(absl::StrContains(log.substr(log.find(last_words)),
                                 "count_app: processed"))
      << "the process went on after its crash point; " << Log("crash");
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
  const std::string arm = dir_ + "/arm-crash-point";
  // Killed mid-stream at the one step that leaves a changelog tail to
  // restore: its Kafka transaction committed, its store not yet written.
  auto app = Start("first", state, {},
                   {"BROOK_CRASH_POINT=commit.before_store_write",
                    "BROOK_CRASH_POINT_ARM_FILE=" + arm});
  ASSERT_TRUE(WaitCommitted(kKeys, absl::Seconds(300))) << Log("first");
  ArmCrashPoint(arm);
  // 1000 more records on existing keys: their counts must become 2.
  Produce(1000, 1000);
  int status = app->Wait(120000);
  ASSERT_NE(status, -1) << "never reached the crash point; " << Log("first");
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << Log("first");
  ASSERT_TRUE(WaitForLog("first", "crash point commit.before_store_write",
                         absl::Seconds(1)))
      << Log("first");
  const absl::Time start = absl::Now();
  app = Start("second", state);
  // The crashed commit may already have carried every record, so committed
  // offsets alone do not show that the restart restored: wait until it runs.
  ASSERT_TRUE(WaitForLog("second", "REBALANCING -> RUNNING",
                         absl::Seconds(120)))
      << Log("second");
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("second");
  const absl::Duration recovery = absl::Now() - start;
  StopCleanly(*app, "second");
  const int64_t restored = Restored("second");
  // What restore had to replay: the committed changelog records from each
  // store's stored offset to the changelog end, as the restart logged them
  // (not end - start itself: transaction markers take offsets too).
  const auto ranges = RestoreRanges("second");
  const int64_t tail = CommittedChangelogRecordsIn(ranges);
  std::string logged;
  for (const auto& [p, r] : ranges) {
    absl::StrAppend(&logged, " ", p, ":[", r.first, ",", r.second, ")");
  }
  std::cout << "state of " << kKeys
            << " keys; after kill -9 the restart restored " << restored
            << " changelog records (ranges" << logged << ", " << tail
            << " committed records in them) and caught up in "
            << absl::FormatDuration(recovery) << "\n";
  EXPECT_GT(restored, 0) << "the kill left no changelog tail; "
                         << Log("second");
  EXPECT_EQ(restored, tail)
      << "restore did not replay exactly the tail; " << Log("second");
  EXPECT_LT(restored, 20000) << "restore did not start from the stored offset";
  for (const auto& [p, r] : ranges) {
    EXPECT_GT(r.first, 0) << "partition " << p << " restored from the start";
  }
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
  ASSERT_TRUE(WaitForLog("b", "-> RUNNING", absl::Seconds(120)))
      << "b never finished restoring; " << Log("b");
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
  ASSERT_TRUE(WaitForLog("b", "-> RUNNING", absl::Seconds(60)))
      << "b never got a task and restored it; " << Log("b");
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
  const std::string dump = dir_ + "/dump";
  std::filesystem::create_directories(dump);
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
  // A key no changelog record holds, planted in the stores that keep their
  // data: it survives only if restore writes over the store instead of
  // wiping it.
  const std::string marker_value("\0\0\0\0\0\0\x30\x39", 8);  // 12345
  if (GetParam() == Damage::kDeletedOffset) {
    // The data stays but its position is unknown. The runtime restores from
    // the changelog's beginning over the existing data, without wiping: each
    // changelog record holds a key's full value, so replaying a key's
    // history over a newer value of it ends at the same (latest) value.
    damaged = testing::DeleteStoredOffsets(state, "counts");
    ASSERT_EQ(testing::PutRawValue(state, "counts", "planted", marker_value),
              damaged);
  }
  ASSERT_GT(damaged, 0) << "nothing to damage under " << state;

  const int64_t changelog_records =
      CommittedChangelogRecordsIn({{0, {0, INT64_MAX}}, {1, {0, INT64_MAX}}});
  Produce(2000, 100);
  app = Start("after", state, {"--dump_dir=" + dump});
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("after");
  StopCleanly(*app, "after");
  EXPECT_GE(Restored("after"), 100) << "the damaged stores were not restored";
  if (GetParam() == Damage::kDeletedOffset) {
    // Every store restored from the changelog's first offset, the full
    // changelog was replayed, and no store was wiped.
    const auto ranges = RestoreRanges("after");
    EXPECT_EQ(static_cast<int>(ranges.size()), damaged) << Log("after");
    for (const auto& [p, r] : ranges) {
      EXPECT_EQ(r.first, 0) << "partition " << p << " did not restore from "
                            << "the changelog's beginning; " << Log("after");
    }
    EXPECT_EQ(Restored("after"), changelog_records) << Log("after");
    EXPECT_EQ(Counter("after", "wiped"), 0) << Log("after");
    for (int p = 0; p < kPartitions; ++p) {
      const std::string task = absl::StrCat(dump, "/0_", p, ".txt");
      EXPECT_TRUE(
          absl::StrContains(testing::ReadFile(task), "\nplanted=12345\n") ||
          absl::StartsWith(testing::ReadFile(task), "planted=12345\n"))
          << "the store was wiped: the planted key is gone from " << task;
    }
  }
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
