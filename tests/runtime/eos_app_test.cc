// Brook applications (tests/apps/eos_app.cc) run as child processes against
// the real broker, under faults: instances killed with SIGKILL and
// restarted, a hot partition, a processor stalling past
// max.poll.interval.ms, and a zombie instance (frozen mid-commit, woken
// after its tasks moved). Each scenario ends with the same verification: the
// group's committed offsets reach the end of the input, and a
// read_committed reader finds every input id in the output exactly once.
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
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

int64_t Sum(const std::vector<int64_t>& v) {
  int64_t s = 0;
  for (int64_t x : v) s += x;
  return s;
}

// Writes "id-%07d" records round-robin over the partitions at about
// `per_second` records/s until stopped.
class InputWriter {
 public:
  InputWriter(std::string topic, int partitions, int per_second)
      : thread_([=, this] { Run(topic, partitions, per_second); }) {}
  ~InputWriter() { Stop(); }
  // Stops writing and returns how many records were written (all delivered).
  int64_t Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return written_;
  }
  bool failed() const { return failed_; }

 private:
  void Run(const std::string& topic, int partitions, int per_second) {
    auto producer = Producer::Create(BaseConfig());
    if (!producer.ok()) {
      failed_ = true;
      return;
    }
    const int batch = std::max(1, per_second / 10);
    int64_t i = 0;
    for (; !stop_.load(); ++i) {
      if (!(*producer)
               ->Send({.topic = topic,
                       .partition = static_cast<int32_t>(i % partitions),
                       .key = absl::StrCat("k", i),
                       .value = absl::StrFormat("id-%07d", i)})
               .ok()) {
        failed_ = true;
        break;
      }
      if (i % batch == batch - 1) absl::SleepFor(absl::Milliseconds(100));
    }
    if (!(*producer)->Flush(absl::Seconds(60)).ok()) failed_ = true;
    written_ = i;
  }

  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<int64_t> written_{0};
  std::thread thread_;
};

class EosAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = UniqueName("eos-app");
    in_ = UniqueName("eos-in");
    out_ = UniqueName("eos-out");
    dir_ = ::testing::TempDir() + "/" + app_;
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  void CreateTopics(int partitions) {
    partitions_ = partitions;
    CreateTopic(in_, partitions);
    CreateTopic(out_, partitions);
  }

  std::string Log(int instance) const {
    return absl::StrCat(dir_, "-instance", instance, ".log");
  }

  std::unique_ptr<ChildProcess> StartInstance(
      int instance, std::vector<std::string> extra = {},
      std::vector<std::string> env = {}) {
    std::vector<std::string> args = {
        testing::BinaryPath("tests/eos_app"),
        "--bootstrap_servers=" + testing::BootstrapServers(),
        "--application_id=" + app_,
        "--input_topic=" + in_,
        "--output_topic=" + out_,
        absl::StrCat("--state_dir=", dir_, "/instance", instance),
        "--session_timeout_ms=6000"};
    args.insert(args.end(), extra.begin(), extra.end());
    // The same scenarios over per-partition queues (see tests/README or
    // docs/architecture.md): BROOK_TEST_PAUSE_RESUME=1 ctest ...
    if (std::getenv("BROOK_TEST_PAUSE_RESUME") != nullptr) {
      args.push_back("--partition_queues=false");
    }
    log_start_[instance] = testing::ReadFile(Log(instance)).size();
    auto child = std::make_unique<ChildProcess>(args, Log(instance), env);
    EXPECT_TRUE(child->started());
    return child;
  }

  std::vector<int64_t> Committed() {
    return CommittedOffsets(app_, in_, partitions_);
  }

  // Waits until the group committed all `records`, stops the instances
  // cleanly and checks the output. Returns the check for reporting.
  testing::CopyCheck DrainAndVerify(
      int64_t records, std::vector<std::unique_ptr<ChildProcess>>& apps) {
    const absl::Time deadline = absl::Now() + absl::Seconds(180);
    while (Sum(Committed()) < records && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(200));
    }
    EXPECT_EQ(Sum(Committed()), records)
        << "logs: " << dir_ << "-instance*.log";
    for (auto& app : apps) {
      if (app == nullptr) continue;
      int status = app->Stop(SIGTERM, 60000);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << "an instance did not stop cleanly; logs: " << dir_
          << "-instance*.log";
    }
    auto out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                         absl::Seconds(120));
    EXPECT_TRUE(out.ok()) << out.status();
    if (!out.ok()) return {};
    testing::CopyCheck check = CheckExactCopy(*out, "id", records);
    EXPECT_EQ(check.records, records) << check.ToString();
    EXPECT_EQ(check.duplicates, 0) << check.ToString();
    EXPECT_EQ(check.missing, 0) << check.ToString();
    EXPECT_EQ(check.unexpected, 0) << check.ToString();
    return check;
  }

  // The tasks the running incarnation of `instance` owns, by its log: per
  // stream thread, the task count of its latest "assigned N partitions, M
  // tasks" line (0 after it logged that its tasks are gone).
  int OwnedTasks(int instance) {
    std::string log = testing::ReadFile(Log(instance));
    log.erase(0, std::min(log.size(), log_start_[instance]));
    std::map<std::string, int> per_thread;
    for (absl::string_view line : absl::StrSplit(log, '\n')) {
      const size_t thread = line.find("-StreamThread-");
      if (thread == absl::string_view::npos) continue;
      const size_t name_end = line.find_first_of(" :", thread);
      const std::string name(line.substr(0, name_end));
      if (absl::StrContains(line, "assignment lost") ||
          absl::StrContains(line, "tasks migrated away")) {
        per_thread[name] = 0;
        continue;
      }
      const size_t at = line.find(" partitions, ");
      if (!absl::StrContains(line, " assigned ") ||
          at == absl::string_view::npos) {
        continue;
      }
      absl::string_view rest = line.substr(at + strlen(" partitions, "));
      int tasks = 0;
      if (absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &tasks)) {
        per_thread[name] = tasks;
      }
    }
    int total = 0;
    for (const auto& [name, tasks] : per_thread) total += tasks;
    return total;
  }

  // Which of the ways a thread learns that its tasks moved comes first in
  // `instance`'s log from byte `from` on ("" if none): "tasks migrated away"
  // (a commit refused for a stale member or generation), "assignment lost"
  // (the consumer noticed on its own) or "producer failed for good" (its
  // producer was fenced, e.g. after the broker timed its transaction out).
  // See the definition, above the stall tests.
  size_t StallInstanceZero(int64_t transaction_timeout_ms,
                           std::vector<std::unique_ptr<ChildProcess>>& apps);

  std::string FirstEnding(int instance, size_t from) const {
    const std::string log = testing::ReadFile(Log(instance)).substr(from);
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
  }

  int64_t AbortedRecordsInOutput(int64_t records) {
    auto raw = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadUncommitted,
                         absl::Seconds(60));
    return raw.ok() ? static_cast<int64_t>(raw->size()) - records : -1;
  }

  std::string app_, in_, out_, dir_;
  int partitions_ = 0;
  std::map<int, size_t> log_start_;  // log size when the instance started
};

TEST_F(EosAppTest, ThreeInstancesTimesTwoThreadsSurviveRandomKillNine) {
  CreateTopics(6);
  std::vector<std::unique_ptr<ChildProcess>> apps;
  for (int i = 0; i < 3; ++i) apps.push_back(StartInstance(i, {"--threads=2"}));
  InputWriter writer(in_, 6, 3000);

  std::mt19937 rng(std::random_device{}());
  constexpr int kKills = 6;
  std::vector<std::string> kills;
  int64_t last = 0;
  for (int k = 0; k < kKills; ++k) {
    // Kill only once the group made progress since the last kill, so every
    // kill lands mid-stream with transactions open.
    const absl::Time deadline = absl::Now() + absl::Seconds(120);
    int64_t committed = Sum(Committed());
    while (committed <= last && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(200));
      committed = Sum(Committed());
    }
    ASSERT_GT(committed, last) << "no progress before kill " << k;
    absl::SleepFor(
        absl::Milliseconds(std::uniform_int_distribution<>(0, 1500)(rng)));
    // The victim must own tasks: killing an idle member proves nothing.
    std::vector<int> owners;
    const absl::Time owned_by = absl::Now() + absl::Seconds(60);
    while (owners.empty() && absl::Now() < owned_by) {
      for (int i = 0; i < 3; ++i) {
        if (OwnedTasks(i) > 0) owners.push_back(i);
      }
      if (owners.empty()) absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_FALSE(owners.empty())
        << "no instance owns a task; logs " << dir_ << "-instance*.log";
    const int victim = owners[std::uniform_int_distribution<>(
        0, static_cast<int>(owners.size()) - 1)(rng)];
    const int owned = OwnedTasks(victim);
    int status = apps[victim]->Kill(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "instance " << victim << " had died by itself (status " << status
        << "); log " << Log(victim);
    last = Sum(Committed());
    kills.push_back(
        absl::StrCat("instance ", victim, " (", owned, " tasks) at ", last));
    apps[victim] = StartInstance(victim, {"--threads=2"});
  }
  const int64_t records = writer.Stop();
  ASSERT_FALSE(writer.failed());
  testing::CopyCheck check = DrainAndVerify(records, apps);
  const int64_t aborted = AbortedRecordsInOutput(records);
  std::cout
      << "input " << records
      << " records; kills: " << absl::StrJoin(kills, ", ")
      << "\nread_committed output: " << check.ToString()
      << "\naborted records in the output log (invisible to read_committed): "
      << aborted << "\n";
  // read_uncommitted sees more than read_committed: at least one kill hit a
  // transaction whose records had reached the log, and it was aborted.
  EXPECT_GT(aborted, 0) << "no kill hit a transaction in flight";
}

TEST_F(EosAppTest, HotPartitionDoesNotStarveTheOthers) {
  CreateTopics(4);
  // 90% of the input on partition 0, the rest spread over 1..3.
  constexpr int64_t kHot = 90000, kColdEach = 3334;
  auto producer = Producer::Create(BaseConfig());
  ASSERT_TRUE(producer.ok());
  int64_t id = 0;
  for (int64_t i = 0; i < kHot + 3 * kColdEach; ++i) {
    const int32_t p = i < kHot ? 0 : 1 + static_cast<int32_t>((i - kHot) % 3);
    ASSERT_TRUE((*producer)
                    ->Send({.topic = in_,
                            .partition = p,
                            .value = absl::StrFormat("id-%07d", id++)})
                    .ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  const int64_t records = id;

  std::vector<std::unique_ptr<ChildProcess>> apps;
  apps.push_back(StartInstance(0));
  // Sample per-partition progress until the cold partitions are done.
  std::vector<std::string> timeline;
  std::vector<int64_t> c;
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + absl::Seconds(120);
  while (absl::Now() < deadline) {
    c = Committed();
    if (c.size() == 4) {
      timeline.push_back(absl::StrFormat(
          "%.1fs: %s", absl::ToDoubleSeconds(absl::Now() - start),
          absl::StrJoin(c, "/")));
      if (c[1] >= kColdEach && c[2] >= kColdEach && c[3] >= kColdEach) break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(c.size(), 4u);
  std::cout << "committed offsets p0(hot)/p1/p2/p3 over time:\n  "
            << absl::StrJoin(timeline, "\n  ") << "\n";
  EXPECT_GE(c[1], kColdEach);
  EXPECT_GE(c[2], kColdEach);
  EXPECT_GE(c[3], kColdEach);
  // When the cold partitions are done, the hot one is far from done: it did
  // not get the thread to itself first.
  EXPECT_LT(c[0], kHot / 2)
      << "the hot partition was drained before the cold ones";
  DrainAndVerify(records, apps);
}

// Instance 0 of two stalls once, for 14 s, in the middle of a transaction
// (eos_app forwards the stalled record's output, then sleeps): longer than
// max.poll.interval.ms (8 s) and session.timeout.ms (6 s). Whether it also
// outlasts transaction.timeout.ms decides how the stalled instance learns
// that its tasks are gone, so each test names that timeout, and the other
// two are spelled out here rather than left to eos_app's defaults.
//
// While instance 0 stalls (its log says "stalling" and not yet "stall
// over"), instance 1 must take over both partitions and move both forward:
// sampling after the stall would prove nothing, both run normally again.
// Returns where "stall over" starts in instance 0's log, after which the
// caller looks for the ending; the stall is over when this returns (a
// SIGTERM during the stall would make the ending a shutdown's).
size_t EosAppTest::StallInstanceZero(
    int64_t transaction_timeout_ms,
    std::vector<std::unique_ptr<ChildProcess>>& apps) {
  apps.push_back(StartInstance(
      0, {"--max_poll_interval_ms=8000",
          absl::StrCat("--transaction_timeout_ms=", transaction_timeout_ms),
          "--session_timeout_ms=6000", "--stall_after_records=300",
          "--stall_ms=14000"}));
  apps.push_back(StartInstance(1, {"--max_poll_interval_ms=8000"}));
  auto log_has = [&](int i, const std::string& text) {
    return absl::StrContains(testing::ReadFile(Log(i)), text);
  };
  const absl::Time stalled_by = absl::Now() + absl::Seconds(90);
  while (!log_has(0, "eos_app: stalling") && absl::Now() < stalled_by) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(log_has(0, "eos_app: stalling")) << "never stalled; " << Log(0);
  if (!log_has(0, "eos_app: stalling")) return std::string::npos;
  const size_t log1_at_stall = testing::ReadFile(Log(1)).size();
  // Bounded also by time: a dead instance 0 never logs "stall over".
  const absl::Time sampled_by = absl::Now() + absl::Seconds(60);
  while (!absl::StrContains(testing::ReadFile(Log(1)).substr(log1_at_stall),
                            "assigned 2 partitions") &&
         !log_has(0, "eos_app: stall over") && absl::Now() < sampled_by) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const std::vector<int64_t> mid = Committed();
  std::vector<int64_t> later = mid;
  while ((later.size() != 2 || later[0] <= mid[0] || later[1] <= mid[1]) &&
         !log_has(0, "eos_app: stall over") && absl::Now() < sampled_by) {
    absl::SleepFor(absl::Milliseconds(100));
    later = Committed();
  }
  const bool during_stall = !log_has(0, "eos_app: stall over");
  EXPECT_EQ(mid.size(), 2u);
  EXPECT_EQ(later.size(), 2u);
  if (mid.size() != 2 || later.size() != 2) return std::string::npos;
  EXPECT_TRUE(during_stall)
      << "both partitions did not move on while instance 0 stalled: "
      << absl::StrJoin(mid, "/") << " -> " << absl::StrJoin(later, "/") << "; "
      << Log(1);
  EXPECT_GT(later[0], mid[0]);
  EXPECT_GT(later[1], mid[1]);
  std::cout << "while instance 0 stalled, instance 1 moved the committed "
               "offsets from "
            << absl::StrJoin(mid, "/") << " to " << absl::StrJoin(later, "/")
            << "\n";
  const absl::Time over_by = absl::Now() + absl::Seconds(30);
  while (!log_has(0, "eos_app: stall over") && absl::Now() < over_by) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const std::string log0 = testing::ReadFile(Log(0));
  EXPECT_TRUE(absl::StrContains(log0, "eos_app: stall over")) << Log(0);
  return log0.find("eos_app: stall over");
}

// The first of `endings` in `log` after `from`, with the rest of its line
// ("" if none is there).
std::string FirstLineOf(const std::string& log, size_t from,
                        std::initializer_list<const char*> endings) {
  size_t best = std::string::npos;
  for (const char* e : endings) best = std::min(best, log.find(e, from));
  if (best == std::string::npos) return "";
  return log.substr(best, log.find('\n', best) - best);
}

// The stall outlasts transaction.timeout.ms: the producer is fenced first.
TEST_F(EosAppTest, StallPastMaxPollIntervalMovesTasksAndKeepsExactlyOnce) {
  CreateTopics(2);
  InputWriter writer(in_, 2, 1000);
  std::vector<std::unique_ptr<ChildProcess>> apps;
  const size_t over_at = StallInstanceZero(10000, apps);
  ASSERT_NE(over_at, std::string::npos) << Log(0);
  const absl::Time ended_by = absl::Now() + absl::Seconds(30);
  while (FirstEnding(0, over_at).empty() && absl::Now() < ended_by) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const std::string ending = FirstEnding(0, over_at);
  const int64_t records = writer.Stop();
  DrainAndVerify(records, apps);
  const std::string log0 = testing::ReadFile(Log(0));
  EXPECT_TRUE(absl::StrContains(log0, "has not polled for"))
      << "the watchdog did not warn; " << Log(0);
  // One ending only. The stalled record's output is sent before the stall
  // (eos_app forwards, then sleeps), so a transaction is open throughout, and
  // the stall (14 s) outlasts transaction.timeout.ms (10 s): the broker aborts
  // that transaction and bumps the producer's epoch mid-stall (by 11 s: the
  // test broker looks for timed-out transactions every second). After the stall
  // the thread finishes its iteration and commits before it polls again
  // (RunOnce: process, commit, poll), and the commit's first request,
  // AddOffsetsToTxn, goes to the transaction coordinator, which refuses the old
  // epoch (in four runs the line read "send offsets to transaction ...
  // _FENCED"): the producer is fenced before the group coordinator can say
  // anything about the generation, and the consumer has had no poll in which to
  // report the lost assignment. (Before 3e43c07 a revocation commit could also
  // be cut to 1 ms; and a SIGTERM during the stall ended it as a shutdown,
  // which the wait for "stall over" above rules out.)
  EXPECT_EQ(ending, "producer failed for good")
      << "instance 0 did not learn from its fenced producer; " << Log(0);
  const size_t at = log0.find("producer failed for good", over_at);
  ASSERT_NE(at, std::string::npos) << Log(0);
  const std::string line = log0.substr(at, log0.find('\n', at) - at);
  // Usually FENCED. When the outsider's InitTransactions lands while the
  // instance sends its offsets, the broker may answer the TxnOffsetCommit
  // INVALID_TXN_STATE instead, fatal too (1 run in 185 of this test under
  // load, 2026-12-04); the reset that follows is the same.
  EXPECT_TRUE(absl::StrContains(line, "FENCED") ||
              absl::StrContains(line, "INVALID_TXN_STATE"))
      << line;
}

// The stall ends well within transaction.timeout.ms (60 s): the producer is
// still valid when the thread wakes, and only the group can stop it. The
// thread's iteration has outrun its poll deadline (3/4 of
// max.poll.interval.ms), so its commit after the stall gets a 1 ms budget,
// times out locally (retriable), and the thread polls; librdkafka left the
// group during the stall (MAXPOLL), so the poll revokes the partitions and
// the revocation's commit sends the offsets with the expired member's
// metadata, which the group coordinator refuses (UNKNOWN_MEMBER_ID; seen as
// "commit on revocation failed ... UNKNOWN_MEMBER_ID"). Should a commit ever
// get through AddOffsetsToTxn in that 1 ms, the same refusal comes from
// TxnOffsetCommit and reads "tasks migrated away": either way the group
// refuses the stale member. The producer must not be reset: nothing fenced
// it, so "producer failed for good" may not come first.
TEST_F(EosAppTest, StallWithinTheTransactionTimeoutIsRefusedByTheGroup) {
  CreateTopics(2);
  InputWriter writer(in_, 2, 1000);
  std::vector<std::unique_ptr<ChildProcess>> apps;
  const size_t over_at = StallInstanceZero(60000, apps);
  ASSERT_NE(over_at, std::string::npos) << Log(0);
  const std::initializer_list<const char*> endings = {
      "commit on revocation failed", "tasks migrated away", "assignment lost",
      "producer failed for good"};
  const absl::Time ended_by = absl::Now() + absl::Seconds(30);
  while (FirstLineOf(testing::ReadFile(Log(0)), over_at, endings).empty() &&
         absl::Now() < ended_by) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const std::string line =
      FirstLineOf(testing::ReadFile(Log(0)), over_at, endings);
  std::cout << "instance 0's first words after the stall: "
            << line.substr(0, 120) << "\n";
  // With per-partition queues (the default) the thread drains the consumer
  // queue before it processes or commits, and librdkafka has put the lost
  // assignment there when it left the group mid-stall: the group's verdict
  // then arrives as "assignment lost" before any commit is tried (2 of 4
  // runs). Over pause/resume the commit goes first and the group refuses it.
  EXPECT_TRUE(absl::StartsWith(line, "commit on revocation failed") ||
              absl::StartsWith(line, "tasks migrated away") ||
              absl::StartsWith(line, "assignment lost"))
      << "instance 0 did not learn from the group; " << Log(0);
  if (!absl::StartsWith(line, "assignment lost")) {
    EXPECT_TRUE(absl::StrContains(line, "UNKNOWN_MEMBER_ID") ||
                absl::StrContains(line, "ILLEGAL_GENERATION"))
        << line;
  }
  const int64_t records = writer.Stop();
  DrainAndVerify(records, apps);
  const std::string log0 = testing::ReadFile(Log(0));
  EXPECT_EQ(log0.find("producer failed for good", over_at), std::string::npos)
      << "the producer was reset though nothing fenced it; " << Log(0);
}

// KIP-447 fencing by group generation. Instance 0 freezes (SIGSTOP, every
// thread) at a known step, the start of a commit with its output sent and
// its offsets not yet: crash point commit.after_produce with
// BROOK_CRASH_POINT_ACTION=stop. Its transaction timeout (60 s) outlasts the
// freeze, so the broker does not abort the zombie's transaction and bump its
// producer epoch meanwhile: when it wakes, its producer is still valid, and
// the only thing that can stop its commit is the group. It goes on with the
// commit before it polls again, so it sends its offsets with the metadata
// of a generation the group has left (its member expired), and the broker
// must refuse them: the zombie logs "tasks migrated away", drops its tasks
// and rejoins. Neither "assignment lost" (the consumer noticing on its own)
// nor "producer failed for good" (the transaction timed out) may come first.
TEST_F(EosAppTest, ZombieWokenMidCommitIsFencedByGroupGeneration) {
  CreateTopics(2);
  InputWriter writer(in_, 2, 1000);
  std::filesystem::create_directories(dir_);
  const std::string arm = dir_ + "/arm-zombie";
  std::vector<std::unique_ptr<ChildProcess>> apps;
  apps.push_back(StartInstance(
      0, {"--transaction_timeout_ms=60000"},
      {"BROOK_CRASH_POINT=commit.after_produce",
       "BROOK_CRASH_POINT_ACTION=stop", "BROOK_CRASH_POINT_ARM_FILE=" + arm}));
  apps.push_back(StartInstance(1));
  // Freeze instance 0 only once it owns a partition and both partitions
  // have committed progress: a frozen instance without tasks proves nothing.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::vector<int64_t> c = Committed();
  auto owns_one = [&](int i) {
    return absl::StrContains(testing::ReadFile(Log(i)),
                             "assigned 1 partitions");
  };
  while ((c.size() != 2 || c[0] == 0 || c[1] == 0 || !owns_one(0) ||
          !owns_one(1)) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    c = Committed();
  }
  ASSERT_TRUE(c.size() == 2 && c[0] > 0 && c[1] > 0);
  ASSERT_TRUE(owns_one(0) && owns_one(1)) << "the partitions were never split";
  const size_t before_freeze = testing::ReadFile(Log(1)).size();
  const size_t zombie_before = testing::ReadFile(Log(0)).size();
  std::ofstream(arm).put('\n');
  auto zombie_log = [&] {
    return testing::ReadFile(Log(0)).substr(zombie_before);
  };
  const absl::Time stopped_by = absl::Now() + absl::Seconds(30);
  while (!absl::StrContains(zombie_log(), "reached: stopping the process") &&
         absl::Now() < stopped_by) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(absl::StrContains(zombie_log(), "reached: stopping the process"))
      << "instance 0 never froze at its commit; " << Log(0);
  const absl::Time frozen_at = absl::Now();
  // Its session expires and instance 1 takes both partitions, as instance
  // 1's log tells; then both partitions move on under instance 1.
  const absl::Time took_over = absl::Now() + absl::Seconds(40);
  while (!absl::StrContains(testing::ReadFile(Log(1)).substr(before_freeze),
                            "assigned 2 partitions") &&
         absl::Now() < took_over) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(absl::StrContains(testing::ReadFile(Log(1)).substr(before_freeze),
                                "assigned 2 partitions"))
      << "instance 1 never took both partitions; " << Log(1);
  const std::vector<int64_t> frozen = Committed();
  ASSERT_EQ(frozen.size(), 2u);
  std::vector<int64_t> moved = frozen;
  const absl::Time moved_by = absl::Now() + absl::Seconds(30);
  while (
      (moved.size() != 2 || moved[0] <= frozen[0] || moved[1] <= frozen[1]) &&
      absl::Now() < moved_by) {
    absl::SleepFor(absl::Milliseconds(200));
    moved = Committed();
  }
  ASSERT_EQ(moved.size(), 2u);
  EXPECT_GT(moved[0], frozen[0]) << "partition 0 did not move on";
  EXPECT_GT(moved[1], frozen[1]) << "partition 1 did not move on";
  const absl::Duration freeze = absl::Now() - frozen_at;
  ASSERT_LT(freeze, absl::Seconds(50))
      << "the freeze came near the zombie's 60 s transaction timeout";
  // Wake the zombie in the middle of its commit.
  apps[0]->Signal(SIGCONT);
  auto first_ending = [&] { return FirstEnding(0, zombie_before); };
  const absl::Time woke = absl::Now() + absl::Seconds(30);
  while (first_ending().empty() && absl::Now() < woke) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const std::string ending = first_ending();
  const int64_t records = writer.Stop();
  DrainAndVerify(records, apps);
  std::cout << "froze for " << absl::FormatDuration(freeze)
            << "; the zombie's first word on waking: '" << ending
            << "'; aborted records in the output log: "
            << AbortedRecordsInOutput(records) << "\n";
  EXPECT_EQ(ending, "tasks migrated away")
      << "the zombie's commit was not refused by group generation; " << Log(0);
  // The refusal names a stale member or generation, not a fenced producer.
  const std::string log0 = zombie_log();
  const size_t at = log0.find("tasks migrated away");
  ASSERT_NE(at, std::string::npos) << Log(0);
  const std::string line = log0.substr(at, log0.find('\n', at) - at);
  EXPECT_TRUE(absl::StrContains(line, "UNKNOWN_MEMBER_ID") ||
              absl::StrContains(line, "ILLEGAL_GENERATION"))
      << line;
}

// The producer reset path on its own: nothing happens to the group, only the
// instance's producer is fenced, from outside, by a second producer that
// calls InitTransactions with the same transactional.id (as a restarted
// twin of the instance would). The instance must log that its producer failed
// for good, drop its tasks, create a new producer, rejoin and get its
// partitions back, and go on: every id once in the read_committed output.
TEST_F(EosAppTest, ProducerFencedFromOutsideIsResetAndKeepsExactlyOnce) {
  CreateTopics(2);
  InputWriter writer(in_, 2, 1000);
  std::vector<std::unique_ptr<ChildProcess>> apps;
  apps.push_back(StartInstance(0));
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::vector<int64_t> c = Committed();
  while ((c.size() != 2 || c[0] == 0 || c[1] == 0) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    c = Committed();
  }
  ASSERT_TRUE(c.size() == 2 && c[0] > 0 && c[1] > 0) << Log(0);
  // The thread's transactional.id (<application.id>-<process id kept in the
  // state directory>-<thread index>), as its start-up line names it.
  const std::string log = testing::ReadFile(Log(0));
  const std::string marker = "started (transactional.id ";
  const size_t id_at = log.find(marker);
  ASSERT_NE(id_at, std::string::npos) << Log(0);
  const size_t id_start = id_at + marker.size();
  const std::string id =
      log.substr(id_start, log.find(')', id_start) - id_start);
  ASSERT_TRUE(absl::StartsWith(id, app_ + "-") && absl::EndsWith(id, "-0"))
      << id;

  const size_t before = log.size();
  {
    ClientConfig config = BaseConfig();
    config["transactional.id"] = id;
    auto fencer = Producer::Create(config);
    ASSERT_TRUE(fencer.ok()) << fencer.status();
    ASSERT_TRUE((*fencer)->InitTransactions(absl::Seconds(60)).ok());
  }
  const absl::Time fenced_by = absl::Now() + absl::Seconds(30);
  while (FirstEnding(0, before).empty() && absl::Now() < fenced_by) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(FirstEnding(0, before), "producer failed for good") << Log(0);
  // It rejoins and gets both partitions back, then moves both forward.
  auto after_fence = [&] { return testing::ReadFile(Log(0)).substr(before); };
  const absl::Time rejoined_by = absl::Now() + absl::Seconds(30);
  while (!absl::StrContains(after_fence(), "assigned 2 partitions") &&
         absl::Now() < rejoined_by) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(absl::StrContains(after_fence(), "assigned 2 partitions"))
      << "the instance did not rejoin; " << Log(0);
  ASSERT_TRUE(apps[0]->Running()) << Log(0);
  const std::vector<int64_t> rejoined = Committed();
  std::vector<int64_t> later = rejoined;
  const absl::Time moved_by = absl::Now() + absl::Seconds(30);
  while ((later.size() != 2 || rejoined.size() != 2 ||
          later[0] <= rejoined[0] || later[1] <= rejoined[1]) &&
         absl::Now() < moved_by) {
    absl::SleepFor(absl::Milliseconds(200));
    later = Committed();
  }
  ASSERT_EQ(rejoined.size(), 2u);
  ASSERT_EQ(later.size(), 2u);
  EXPECT_GT(later[0], rejoined[0]) << "no progress after the reset; " << Log(0);
  EXPECT_GT(later[1], rejoined[1]) << "no progress after the reset; " << Log(0);
  const int64_t records = writer.Stop();
  ASSERT_FALSE(writer.failed());
  DrainAndVerify(records, apps);
  // The line names the fencing, and the thread counted the reset. One or
  // two: the outside InitTransactions first has the coordinator abort the
  // instance's open transaction and retries (CONCURRENT_TRANSACTIONS) until
  // that is done, and so does the instance's own InitTransactions when it
  // resets; when the outsider's retry lands last, it fences the new producer
  // once more (seen in the first runs: "producer resets 2"). Each of its
  // retries fences again while the instance has a transaction open; the
  // instance waits 1 s after a second reset in a row
  // (StreamThread::BackOffAfterRepeatedReset), which lets the outsider's next
  // retry (~0.5 s) finish. Without that wait, per-partition queues made the
  // rejoin fast enough to lose the race for seconds (4 to 7 resets).
  const std::string log0 = after_fence();
  const size_t at = log0.find("producer failed for good");
  ASSERT_NE(at, std::string::npos) << Log(0);
  const std::string line = log0.substr(at, log0.find('\n', at) - at);
  EXPECT_TRUE(absl::StrContains(line, "FENCED")) << line;
  const std::string counter = ", producer resets ";
  const size_t resets_at = log0.rfind(counter);
  ASSERT_NE(resets_at, std::string::npos) << Log(0);
  absl::string_view rest =
      absl::string_view(log0).substr(resets_at + counter.size());
  int resets = 0;
  ASSERT_TRUE(absl::SimpleAtoi(rest.substr(0, rest.find(',')), &resets))
      << Log(0);
  EXPECT_GE(resets, 1) << Log(0);
  EXPECT_LE(resets, 2) << Log(0);
}

// Records a processor fails on go to the dead-letter topic in the
// transaction of their offsets. The instance dies (SIGKILL) in the middle of
// a commit, after its outputs, dead-letter records and offsets went into the
// transaction; restarted, it must leave every input exactly once in
// output ∪ dead-letter topic, read with read_committed.
TEST_F(EosAppTest, DeadLetteredRecordsStayExactlyOnceAcrossKillNine) {
  CreateTopics(3);
  const std::string dlq = UniqueName("eos-dlq");
  CreateTopic(dlq, 3);
  constexpr int64_t kFailEvery = 7;
  const std::vector<std::string> flags = {
      absl::StrCat("--fail_every=", kFailEvery), "--dead_letter_topic=" + dlq};
  InputWriter writer(in_, 3, 2000);
  auto first = StartInstance(0, flags,
                             {"BROOK_CRASH_POINT=commit.after_send_offsets",
                              "BROOK_CRASH_POINT_HITS=20"});
  const int status = first->Wait(120000);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "no crash; " << Log(0);
  ASSERT_TRUE(absl::StrContains(testing::ReadFile(Log(0)),
                                "crash point commit.after_send_offsets"))
      << Log(0);
  std::vector<std::unique_ptr<ChildProcess>> apps;
  apps.push_back(StartInstance(0, flags));
  absl::SleepFor(absl::Seconds(2));
  const int64_t records = writer.Stop();
  ASSERT_FALSE(writer.failed());
  const absl::Time deadline = absl::Now() + absl::Seconds(180);
  while (Sum(Committed()) < records && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(Sum(Committed()), records) << Log(0);
  const int stopped = apps[0]->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(stopped) && WEXITSTATUS(stopped) == 0) << Log(0);

  auto out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                       absl::Seconds(120));
  ASSERT_TRUE(out.ok()) << out.status();
  auto dead = ReadTopic(BaseConfig(), dlq, IsolationLevel::kReadCommitted,
                        absl::Seconds(120));
  ASSERT_TRUE(dead.ok()) << dead.status();
  auto dead_raw = ReadTopic(BaseConfig(), dlq, IsolationLevel::kReadUncommitted,
                            absl::Seconds(60));
  ASSERT_TRUE(dead_raw.ok()) << dead_raw.status();
  // The killed transaction held dead-letter records (they are in the log,
  // aborted): the kill tested what it claims to.
  EXPECT_GT(dead_raw->size(), dead->size());

  auto number = [](const ConsumerRecord& r) {
    int64_t n = -1;
    const std::string& v = r.value.value_or("");
    if (!absl::SimpleAtoi(v.substr(v.rfind('-') + 1), &n)) return int64_t{-1};
    return n;
  };
  int64_t failing = 0;
  for (int64_t i = 0; i < records; ++i) failing += i % kFailEvery == 0;
  EXPECT_EQ(static_cast<int64_t>(dead->size()), failing);
  for (const ConsumerRecord& r : *dead) {
    EXPECT_EQ(number(r) % kFailEvery, 0) << r.value.value_or("<null>");
  }
  for (const ConsumerRecord& r : *out) {
    EXPECT_NE(number(r) % kFailEvery, 0) << r.value.value_or("<null>");
  }
  std::vector<ConsumerRecord> both = *std::move(out);
  both.insert(both.end(), dead->begin(), dead->end());
  testing::CopyCheck check = CheckExactCopy(both, "id", records);
  std::cout << "output ∪ dead-letter topic: " << check.ToString() << "; "
            << dead->size() << " dead-lettered, "
            << dead_raw->size() - dead->size() << " aborted in the DLQ log\n";
  EXPECT_EQ(check.records, records) << check.ToString();
  EXPECT_EQ(check.duplicates, 0) << check.ToString();
  EXPECT_EQ(check.missing, 0) << check.ToString();
  EXPECT_EQ(check.unexpected, 0) << check.ToString();
}

}  // namespace
}  // namespace brook
