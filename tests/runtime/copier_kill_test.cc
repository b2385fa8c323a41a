// The exactly-once copier survives kill -9: brook_copier runs as a child
// process while input keeps arriving; the test kills it with SIGKILL several
// times mid-stream (each time after it has committed progress, so a
// transaction is usually open), restarts it on the same state directory, and
// finally checks with read_committed that every input id is in the output
// exactly once, and that the group's committed offsets reached the end.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/kafka/consumer.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "tests/testing/child_process.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CheckExactCopy;
using ::brook::testing::CreateTopic;
using ::brook::testing::UniqueName;

constexpr int kPartitions = 3;
constexpr int kKills = 5;

class CopierKillTest : public ::testing::Test {
 protected:
  int64_t CommittedTotal(Consumer& group_reader) {
    std::vector<TopicPartition> tps;
    for (int p = 0; p < kPartitions; ++p) tps.push_back({input_, p});
    auto committed = group_reader.Committed(tps, absl::Seconds(30));
    if (!committed.ok()) return -1;
    int64_t sum = 0;
    for (const auto& c : *committed) sum += std::max<int64_t>(c.offset, 0);
    return sum;
  }

  std::string input_ = UniqueName("kill-in");
  std::string output_ = UniqueName("kill-out");
};

TEST_F(CopierKillTest, SurvivesRepeatedKillNineWithEveryRecordExactlyOnce) {
  CreateTopic(input_, kPartitions);
  CreateTopic(output_, kPartitions);
  const std::string app = UniqueName("kill-app");
  const std::string state_dir = ::testing::TempDir() + "/" + app;
  const std::string log = state_dir + ".log";
  const std::vector<std::string> args = {
      testing::BinaryPath("examples/brook_copier"),
      "--bootstrap_servers=" + testing::BootstrapServers(),
      "--application_id=" + app, "--input_topic=" + input_,
      "--output_topic=" + output_, "--state_dir=" + state_dir,
      // A dead member leaves the group after 6 s instead of 45 s.
      "--consumer_config=session.timeout.ms=6000,heartbeat.interval.ms=1000"};

  // Input arrives throughout the kills, ~2000 records/s, so every kill lands
  // while records are in flight. It stops once the kills are done.
  std::atomic<bool> stop_producing{false};
  std::atomic<bool> producer_failed{false};
  std::atomic<int64_t> produced{0};
  std::thread producer_thread([&] {
    auto producer = Producer::Create(BaseConfig());
    if (!producer.ok()) {
      producer_failed = true;
      return;
    }
    int64_t i = 0;
    for (; !stop_producing.load(); ++i) {
      if (!(*producer)
               ->Send({.topic = input_,
                       .key = absl::StrCat("k", i),
                       .value = absl::StrFormat("id-%07d", i)})
               .ok()) {
        producer_failed = true;
        break;
      }
      if (i % 200 == 199) absl::SleepFor(absl::Milliseconds(100));
    }
    if (!(*producer)->Flush(absl::Seconds(60)).ok()) producer_failed = true;
    produced = i;
  });
  struct JoinOnExit {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~JoinOnExit() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } join_on_exit{stop_producing, producer_thread};

  ClientConfig reader_config = BaseConfig();
  reader_config["group.id"] = app;  // reads the group's offsets, never joins
  auto group_reader = Consumer::Create(reader_config, nullptr);
  ASSERT_TRUE(group_reader.ok());

  std::mt19937 rng(std::random_device{}());
  int kills = 0;
  std::vector<int64_t> committed_at_kill;
  auto copier = std::make_unique<testing::ChildProcess>(args, log);
  int64_t last_committed = 0;
  for (int k = 0; k < kKills; ++k) {
    // Wait until this incarnation has committed something, then let it run a
    // random moment more so the kill lands at a random point of a
    // transaction.
    const absl::Time deadline = absl::Now() + absl::Seconds(90);
    int64_t committed = last_committed;
    while (committed <= last_committed && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
      committed = CommittedTotal(**group_reader);
    }
    ASSERT_GT(committed, last_committed)
        << "copier made no progress after restart " << k << "; log: " << log;
    absl::SleepFor(
        absl::Milliseconds(std::uniform_int_distribution<>(0, 400)(rng)));
    int status = copier->Kill(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "copier had exited before the kill; log: " << log;
    ++kills;
    last_committed = CommittedTotal(**group_reader);
    committed_at_kill.push_back(last_committed);
    copier = std::make_unique<testing::ChildProcess>(args, log);
  }
  stop_producing = true;
  producer_thread.join();
  ASSERT_FALSE(producer_failed.load());
  const int64_t records = produced.load();
  ASSERT_EQ(kills, kKills);

  // Let the last incarnation finish the input, then stop it cleanly.
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (CommittedTotal(**group_reader) < records && absl::Now() < deadline) {
    ASSERT_TRUE(copier->Running()) << "copier died; log: " << log;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(CommittedTotal(**group_reader), records) << "log: " << log;
  int status = copier->Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "clean stop failed; log: " << log;

  auto out = ReadTopic(BaseConfig(), output_, IsolationLevel::kReadCommitted,
                       absl::Seconds(60));
  ASSERT_TRUE(out.ok()) << out.status();
  auto check = CheckExactCopy(*out, "id", records);
  auto raw = ReadTopic(BaseConfig(), output_, IsolationLevel::kReadUncommitted,
                       absl::Seconds(60));
  ASSERT_TRUE(raw.ok()) << raw.status();
  auto raw_check = CheckExactCopy(*raw, "id", records);
  std::string progress;
  for (int64_t c : committed_at_kill) absl::StrAppend(&progress, " ", c);
  std::cout << "input records: " << records << ", kills: " << kills
            << " (committed input offsets at each:" << progress
            << ")\nread_committed output: " << check.ToString()
            << "\nread_uncommitted output (includes aborted records): "
            << raw_check.ToString() << "\n";
  EXPECT_EQ(check.records, records);
  EXPECT_EQ(check.distinct, records);
  EXPECT_EQ(check.duplicates, 0);
  EXPECT_EQ(check.missing, 0);
  EXPECT_EQ(check.unexpected, 0);
  // read_uncommitted sees more than read_committed: at least one kill hit a
  // transaction whose records had reached the log, and it was aborted.
  EXPECT_GT(raw_check.records, check.records)
      << "no kill hit a transaction in flight";
  std::filesystem::remove_all(state_dir);
}

}  // namespace
}  // namespace brook
