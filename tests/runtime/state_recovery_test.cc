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
#include <functional>
#include <map>

#include "absl/base/internal/endian.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/state/session_bytes_store.h"
#include "brook/state/window_bytes_store.h"
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

  // Turns a changelog record's key into the output key whose count its value
  // holds (kv: the key itself; windowed stores add the window to the key).
  using ChangelogKeyDecoder = std::function<std::string(const std::string&)>;

  // The checks described at the top of the file. The changelog is folded by
  // its own keys (a tombstone removes one), then each surviving entry is
  // mapped through `decode` and its 8-byte count compared with expected_.
  void VerifyOutputAndChangelog(ChangelogKeyDecoder decode = nullptr) {
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
    std::map<std::string, std::string> raw;
    for (const ConsumerRecord& r : *changelog) {
      if (!r.value.has_value()) {
        raw.erase(r.key.value_or(""));
        continue;
      }
      raw[r.key.value_or("")] = *r.value;
    }
    std::map<std::string, int64_t> folded;
    for (const auto& [key, value] : raw) {
      ASSERT_EQ(value.size(), 8u) << "changelog value of " << key;
      folded[decode ? decode(key) : key] =
          static_cast<int64_t>(absl::big_endian::Load64(value.data()));
    }
    EXPECT_EQ(folded, expected_);
  }

  std::string app_, in_, out_, dir_;
  int64_t produced_ = 0;
  std::map<std::string, int64_t> expected_;
};

// A commit step, and whether the broker has committed the transaction by the
// time the process dies there.
struct CommitStep {
  const char* crash_point;
  bool committed_on_broker;
};

void PrintTo(const CommitStep& step, std::ostream* os) {
  *os << step.crash_point;
}

class CrashPointTest : public StateRecoveryTest,
                       public ::testing::WithParamInterface<CommitStep> {};

TEST_P(CrashPointTest, KilledAtACommitStepRestartsAtTheCommittedState) {
  const CommitStep step = GetParam();
  // The crash point is armed only once the first 2,000 records are
  // committed (however many commits that took); the next commit, with state
  // written before it, dies at the crash point.
  Produce(2000, 50);
  const std::string state = dir_ + "/a";
  const std::string arm = dir_ + "/arm-crash-point";
  auto app = Start("crash", state, {},
                   {absl::StrCat("BROOK_CRASH_POINT=", step.crash_point),
                    "BROOK_CRASH_POINT_ARM_FILE=" + arm});
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (Committed() < 2000 && app->Running() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(app->Running())
      << "died before the crash point was armed; log " << Log("crash");
  ASSERT_EQ(Committed(), 2000) << Log("crash");
  ArmCrashPoint(arm);
  Produce(2000, 50);
  int status = app->Wait(120000);
  ASSERT_NE(status, -1) << "never reached the crash point; log "
                        << Log("crash");
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "expected death by SIGKILL at " << step.crash_point << "; log "
      << Log("crash");
  // The process's last words name the step it died in.
  const std::string log = testing::ReadFile(Log("crash"));
  const std::string last_words =
      absl::StrCat("crash point ", step.crash_point, " reached");
  ASSERT_TRUE(absl::StrContains(log, last_words)) << Log("crash");
  EXPECT_FALSE(absl::StrContains(log.substr(log.find(last_words)),
                                 "count_app: processed"))
      << "the process went on after its crash point; " << Log("crash");
  if (step.committed_on_broker) {
    // The broker's side of the step: the crashed transaction committed, its
    // offsets past the first 2,000 records (the markers follow EndTxn's
    // answer, so they may take a moment). Nothing else could move them: the
    // only instance is dead. The two early steps leave a transaction that
    // only the restart's fencing (or the transaction timeout) ends, by abort;
    // their committed offsets cannot be read before that (the group's
    // offsets are unstable), so for them the restore and the aborted
    // records below are the check.
    EXPECT_TRUE(WaitCommitted(2001, absl::Seconds(30)))
        << "the transaction the process died in is not committed on the "
           "broker; "
        << Log("crash");
  }
  // More input after the crash, on the same keys.
  Produce(1000, 50);
  app = Start("restart", state);
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("restart");
  StopCleanly(*app, "restart");
  // The store is at its last commit before the crash: restore replays the
  // committed changelog records from its stored offset on, which is the
  // crashed transaction's share of the changelog if the broker committed it,
  // and nothing (its records aborted) otherwise.
  const int64_t restored = Restored("restart");
  const int64_t tail = CommittedChangelogRecordsIn(RestoreRanges("restart"));
  EXPECT_EQ(restored, tail)
      << "restore did not replay exactly the tail; " << Log("restart");
  if (step.committed_on_broker) {
    EXPECT_GT(restored, 0) << "the store did not lag the committed changelog; "
                           << Log("restart");
  } else {
    EXPECT_EQ(restored, 0) << "the store lagged behind a transaction that "
                              "must have aborted; "
                           << Log("restart");
  }
  VerifyOutputAndChangelog();
  // The broker's verdict on the transaction the process died in, read from
  // the output topic: an aborted transaction leaves its records in the log
  // (read_uncommitted sees them, read_committed does not); a committed one
  // leaves none behind. Both early steps' records are in the log when the
  // process dies (the crash point flushes them first), and no other
  // transaction of these runs aborts: one instance, no rebalance, no error.
  auto committed_out = ReadTopic(
      BaseConfig(), out_, IsolationLevel::kReadCommitted, absl::Seconds(60));
  auto raw_out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadUncommitted,
                           absl::Seconds(60));
  ASSERT_TRUE(committed_out.ok()) << committed_out.status();
  ASSERT_TRUE(raw_out.ok()) << raw_out.status();
  const int64_t aborted = static_cast<int64_t>(raw_out->size()) -
                          static_cast<int64_t>(committed_out->size());
  std::cout << step.crash_point << ": the broker "
            << (aborted > 0 ? "aborted" : "committed")
            << " the transaction in flight (" << aborted
            << " aborted output records), restore replayed " << restored
            << " changelog records\n";
  if (step.committed_on_broker) {
    EXPECT_EQ(aborted, 0)
        << "the transaction the process died in was aborted, not committed";
  } else {
    EXPECT_GT(aborted, 0)
        << "the transaction the process died in left no aborted records";
  }
}

INSTANTIATE_TEST_SUITE_P(
    CommitSteps, CrashPointTest,
    ::testing::Values(CommitStep{"commit.after_produce", false},
                      CommitStep{"commit.after_send_offsets", false},
                      CommitStep{"commit.inside", true},
                      CommitStep{"commit.before_store_write", true}),
    [](const auto& info) {
      std::string name = info.param.crash_point;
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
  ASSERT_TRUE(
      WaitForLog("second", "REBALANCING -> RUNNING", absl::Seconds(120)))
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
  // How the 100 keys split between the two partitions depends on the
  // partitioner's hash, so B's full restore is checked against the changelog
  // itself: it began at offset 0 and replayed every committed record up to
  // the end it logged.
  const auto ranges_b = RestoreRanges("b");
  ASSERT_FALSE(ranges_b.empty()) << "B logged no restore; " << Log("b");
  for (const auto& [p, r] : ranges_b) {
    EXPECT_EQ(r.first, 0) << "B must restore partition " << p << " in full";
  }
  EXPECT_EQ(restored_by_b, CommittedChangelogRecordsIn(ranges_b))
      << "B did not replay its task's whole changelog; " << Log("b");
  EXPECT_GE(restored_by_b, 1000) << "B's task holds at least ten keys' counts";
  EXPECT_GT(restored_by_a, 0) << "A must restore what B committed";
  EXPECT_LT(restored_by_a, restored_by_b) << "A restored more than B's changes";
  const auto ranges_a = RestoreRanges("a");
  for (const auto& [p, r] : ranges_b) {
    auto it = ranges_a.find(p);
    ASSERT_NE(it, ranges_a.end()) << "A never restored partition " << p;
    EXPECT_GT(it->second.first, 0)
        << "A restored partition " << p << " from the start";
  }
  VerifyOutputAndChangelog();
}

// KIP-447 fencing by group generation, with state: instance "zombie"
// freezes (SIGSTOP) at the start of a commit, its counts and changelog
// records sent, its offsets not. Its transaction timeout (60 s) outlasts the
// freeze. Instance "b" takes both tasks; the zombie's task can finish its
// restore on "b" only once the zombie's open transaction on the changelog
// ends (read_committed stops at the last stable offset). Woken, the zombie
// goes on with its commit, and the broker must refuse its offsets as coming
// from an expired member: "tasks migrated away", before any other ending.
// Afterwards every key's counts run 1..n: the zombie's counts, in its store's
// write buffer and its aborted changelog records, were never applied.
TEST_F(StateRecoveryTest, ZombieWokenMidCommitIsFencedAndCountsStayInSequence) {
  Produce(2000, 50);
  const std::string arm = dir_ + "/arm-zombie";
  auto zombie = Start(
      "zombie", dir_ + "/a", {"--transaction_timeout_ms=60000"},
      {"BROOK_CRASH_POINT=commit.after_produce",
       "BROOK_CRASH_POINT_ACTION=stop", "BROOK_CRASH_POINT_ARM_FILE=" + arm});
  auto b = Start("b", dir_ + "/b");
  ASSERT_TRUE(WaitForLog("zombie", "assigned 1 partitions", absl::Seconds(60)))
      << Log("zombie");
  ASSERT_TRUE(WaitForLog("b", "assigned 1 partitions", absl::Seconds(60)))
      << Log("b");
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(60))) << Log("zombie");
  const size_t zombie_before = testing::ReadFile(Log("zombie")).size();
  const size_t b_before = testing::ReadFile(Log("b")).size();
  ArmCrashPoint(arm);
  Produce(2000, 50);
  ASSERT_TRUE(
      WaitForLog("zombie", "reached: stopping the process", absl::Seconds(30)))
      << "the zombie never froze at its commit; " << Log("zombie");
  const absl::Time frozen_at = absl::Now();
  const absl::Time took_over = absl::Now() + absl::Seconds(40);
  while (!absl::StrContains(testing::ReadFile(Log("b")).substr(b_before),
                            "assigned 2 partitions") &&
         absl::Now() < took_over) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(absl::StrContains(testing::ReadFile(Log("b")).substr(b_before),
                                "assigned 2 partitions"))
      << "b never took both tasks; " << Log("b");
  const absl::Duration freeze = absl::Now() - frozen_at;
  ASSERT_LT(freeze, absl::Seconds(50));
  zombie->Signal(SIGCONT);
  auto first_ending = [&]() -> std::string {
    const std::string log =
        testing::ReadFile(Log("zombie")).substr(zombie_before);
    size_t best = std::string::npos;
    std::string which;
    for (const char* e : {"tasks migrated away", "assignment lost",
                          "producer failed for good"}) {
      const size_t at = log.find(e);
      if (at < best) {
        best = at;
        which = e;
      }
    }
    return which;
  };
  const absl::Time woke = absl::Now() + absl::Seconds(30);
  while (first_ending().empty() && absl::Now() < woke) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const std::string ending = first_ending();
  Produce(1000, 50);
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120)))
      << Log("b") << " " << Log("zombie");
  StopCleanly(*zombie, "zombie");
  StopCleanly(*b, "b");
  std::cout << "froze for " << absl::FormatDuration(freeze)
            << "; the zombie's first word on waking: '" << ending << "'\n";
  EXPECT_EQ(ending, "tasks migrated away")
      << "the zombie's commit was not refused by group generation; "
      << Log("zombie");
  VerifyOutputAndChangelog();
}

// An in-memory store has nothing on disk: after kill -9 the restart must
// restore it in full, from each changelog partition's first offset to its
// end, and go on counting from there. Killed mid-commit (outputs and
// changelog records sent, offsets not), so the kill hits a transaction in
// flight, which the restart's producer fences and aborts.
TEST_F(StateRecoveryTest, InMemoryStoreRestoresTheWholeChangelogAfterKillNine) {
  Produce(3000, 50);
  const std::string state = dir_ + "/a";
  const std::string arm = dir_ + "/arm-crash-point";
  auto app = Start("first", state, {"--in_memory"},
                   {"BROOK_CRASH_POINT=commit.after_produce",
                    "BROOK_CRASH_POINT_ARM_FILE=" + arm});
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("first");
  ArmCrashPoint(arm);
  Produce(2000, 50);
  int status = app->Wait(120000);
  ASSERT_NE(status, -1) << "never reached the crash point; " << Log("first");
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "expected death by SIGKILL; " << Log("first");
  ASSERT_TRUE(WaitForLog("first", "crash point commit.after_produce reached",
                         absl::Seconds(1)))
      << Log("first");
  Produce(1000, 50);
  app = Start("second", state, {"--in_memory"});
  ASSERT_TRUE(
      WaitForLog("second", "REBALANCING -> RUNNING", absl::Seconds(120)))
      << Log("second");
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("second");
  StopCleanly(*app, "second");
  // Every task restored from offset 0, and exactly the committed records
  // of the changelog up to where each restore ended.
  const auto ranges = RestoreRanges("second");
  EXPECT_EQ(ranges.size(), static_cast<size_t>(kPartitions)) << Log("second");
  for (const auto& [p, r] : ranges) {
    EXPECT_EQ(r.first, 0) << "partition " << p
                          << " did not restore from the beginning";
  }
  const int64_t restored = Restored("second");
  const int64_t whole = CommittedChangelogRecordsIn(ranges);
  EXPECT_GE(restored, 3000) << "the first 3,000 records' counts were restored";
  EXPECT_EQ(restored, whole) << Log("second");
  // The kill hit a transaction whose records had reached the log.
  auto committed_out = ReadTopic(
      BaseConfig(), out_, IsolationLevel::kReadCommitted, absl::Seconds(60));
  auto raw_out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadUncommitted,
                           absl::Seconds(60));
  ASSERT_TRUE(committed_out.ok() && raw_out.ok());
  std::cout << "restored " << restored << " changelog records in full; "
            << raw_out->size() - committed_out->size()
            << " aborted output records\n";
  EXPECT_GT(raw_out->size(), committed_out->size())
      << "the kill hit no transaction in flight";
  VerifyOutputAndChangelog();
}

// Window and session stores inside a topology, with their changelog, under
// kill -9. count_app --store=window counts per key and 1 s tumbling window;
// --store=session per key and session (1 s gap). Every key gets records in
// three windows or two sessions, before the kill and after it, so each
// restored window or session is counted on from: a restored count that
// differs from what the committed output says breaks its 1..n sequence.
// The kill comes after a Kafka commit and before the store write, so the
// restart must restore the changelog tail into the windowed store.
// Threading model: a test fixture, used on the test's thread only.
class WindowedStateTest : public StateRecoveryTest,
                          public ::testing::WithParamInterface<const char*> {
 protected:
  const int64_t base_ms_ = testing::RecentEventTimeMs();  // event time
  static constexpr int64_t kKeys = 20;

  bool session() const { return std::string(GetParam()) == "session"; }

  // Like Produce(), with event times: record i of key k<i % kKeys> goes to
  // window (i / kKeys) % 3 (window mode), or to session (i / kKeys) % 2,
  // sessions 100 s apart, the records of one within 0.4 s of its first.
  int64_t ProduceTimed(int64_t count) {
    auto producer = Producer::Create(BaseConfig());
    EXPECT_TRUE(producer.ok());
    for (int64_t i = 0; i < count; ++i, ++produced_) {
      const int64_t round = produced_ / kKeys;
      const std::string key = absl::StrCat("k", produced_ % kKeys);
      int64_t ts = 0, start = 0;
      if (session()) {
        start = base_ms_ + (round % 2) * 100000;
        ts = start + ((round / 2) % 5) * 100;
      } else {
        start = base_ms_ + (round % 3) * 1000;
        ts = start + produced_ % 7;
      }
      EXPECT_TRUE((*producer)
                      ->Send({.topic = in_,
                              .key = key,
                              .value = absl::StrFormat("id-%07d", produced_),
                              .timestamp_ms = ts})
                      .ok());
      expected_[absl::StrCat(key, "@", start)]++;
    }
    EXPECT_TRUE((*producer)->Flush(absl::Seconds(120)).ok());
    return produced_;
  }

  // Changelog key -> "<key>@<start>", by the store's changelog format.
  std::string Decode(const std::string& changelog_key) const {
    std::string key;
    int64_t start = 0, end = 0;
    const bool ok = session()
                        ? DecodeSessionKey(changelog_key, &key, &start, &end)
                        : DecodeWindowKey(changelog_key, &key, &start);
    EXPECT_TRUE(ok) << changelog_key;
    return absl::StrCat(key, "@", start);
  }
};

TEST_P(WindowedStateTest, RestoresAfterKillNineAndCountsOnInSequence) {
  ProduceTimed(3000);
  const std::string state = dir_ + "/a";
  const std::string arm = dir_ + "/arm-crash-point";
  const std::string dump = dir_ + "/dump";
  std::filesystem::create_directories(dump);
  const std::vector<std::string> flags = {absl::StrCat("--store=", GetParam()),
                                          "--window_ms=1000", "--gap_ms=1000"};
  auto app = Start("first", state, flags,
                   {"BROOK_CRASH_POINT=commit.before_store_write",
                    "BROOK_CRASH_POINT_ARM_FILE=" + arm});
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("first");
  ArmCrashPoint(arm);
  ProduceTimed(2000);
  int status = app->Wait(120000);
  ASSERT_NE(status, -1) << "never reached the crash point; " << Log("first");
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << Log("first");
  ASSERT_TRUE(WaitForLog("first", "crash point commit.before_store_write",
                         absl::Seconds(1)))
      << Log("first");
  ProduceTimed(1000);
  std::vector<std::string> restart_flags = flags;
  restart_flags.push_back("--dump_dir=" + dump);
  app = Start("second", state, restart_flags);
  ASSERT_TRUE(WaitCommitted(produced_, absl::Seconds(120))) << Log("second");
  StopCleanly(*app, "second");
  // The restart replayed exactly the committed changelog tail.
  const auto ranges = RestoreRanges("second");
  const int64_t restored = Restored("second");
  std::cout << GetParam() << " store: the restart restored " << restored
            << " changelog records\n";
  EXPECT_GT(restored, 0) << "the kill left no changelog tail; "
                         << Log("second");
  EXPECT_EQ(restored, CommittedChangelogRecordsIn(ranges)) << Log("second");
  for (const auto& [p, r] : ranges) {
    EXPECT_GT(r.first, 0) << "partition " << p << " restored from the start";
  }
  VerifyOutputAndChangelog(
      [this](const std::string& key) { return Decode(key); });
  if (!session()) {
    // The window store itself, dumped at the clean close, holds what the
    // committed output says: each window's last count.
    std::map<std::string, int64_t> stored;
    for (int p = 0; p < kPartitions; ++p) {
      const std::string text =
          testing::ReadFile(absl::StrCat(dump, "/0_", p, ".txt"));
      for (absl::string_view line : absl::StrSplit(text, '\n')) {
        if (line.empty()) continue;
        std::pair<std::string, std::string> kv =
            absl::StrSplit(line, absl::MaxSplits('=', 1));
        ASSERT_TRUE(absl::SimpleAtoi(kv.second, &stored[kv.first])) << line;
      }
    }
    EXPECT_EQ(stored, expected_);
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, WindowedStateTest,
                         ::testing::Values("window", "session"),
                         [](const auto& info) {
                           return std::string(info.param) == "window"
                                      ? "WindowStore"
                                      : "SessionStore";
                         });

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
