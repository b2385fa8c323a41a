// examples/word_count against the real broker: every word occurrence gives
// exactly one output record, and each word's counts, read back with
// read_committed, run 1, 2, ..., n with no gap or repeat, also across a
// kill -9 and restart. Also checks that Brook created the repartition topic
// with the input's partition count.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "tests/testing/child_process.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::ChildProcess;
using ::brook::testing::CreateTopic;
using ::brook::testing::UniqueName;

constexpr int kPartitions = 2;

class WordCountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = UniqueName("wc");
    in_ = UniqueName("wc-in");
    out_ = UniqueName("wc-out");
    dir_ = ::testing::TempDir() + "/" + app_;
    CreateTopic(in_, kPartitions);
    CreateTopic(out_, kPartitions);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Writes `lines` lines of three words (from 40 distinct ones) with null
  // keys, spread over the partitions.
  void Produce(int64_t lines) {
    auto producer = Producer::Create(BaseConfig());
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int64_t i = 0; i < lines; ++i, ++lines_) {
      std::string line;
      for (int64_t w : {lines_ % 40, (lines_ * 7) % 40, (lines_ / 3) % 40}) {
        const std::string word = absl::StrCat("w", w);
        absl::StrAppend(&line, line.empty() ? "" : " ", word);
        ++expected_[word];
        ++words_;
      }
      ASSERT_TRUE(
          (*producer)
              ->Send({.topic = in_,
                      .partition = static_cast<int32_t>(lines_ % kPartitions),
                      .value = line})
              .ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  }

  std::string Log(const std::string& name) const {
    return absl::StrCat(dir_, "-", name, ".log");
  }

  // An instance logging to Log(name), with its state in <dir>/<state>.
  // `cache_max_bytes` > 0 turns the record cache on.
  std::unique_ptr<ChildProcess> Start(const std::string& name,
                                      const std::string& state = "state",
                                      int64_t cache_max_bytes = 0) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{
            testing::BinaryPath("examples/word_count"),
            "--bootstrap_servers=" + testing::BootstrapServers(),
            "--application_id=" + app_, "--input_topic=" + in_,
            "--output_topic=" + out_, "--state_dir=" + dir_ + "/" + state,
            "--session_timeout_ms=6000",
            absl::StrCat("--cache_max_bytes=", cache_max_bytes)},
        Log(name));
  }

  // Each word's last committed count, once they equal expected_ (or what
  // they are after `timeout`); `out` gets the committed output.
  std::map<std::string, int64_t> WaitForCounts(
      absl::Duration timeout, std::vector<ConsumerRecord>* out) {
    const absl::Time deadline = absl::Now() + timeout;
    std::map<std::string, int64_t> last;
    while (absl::Now() < deadline) {
      auto read = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                            absl::Seconds(6));
      if (read.ok()) {
        *out = *std::move(read);
        last.clear();
        for (const ConsumerRecord& r : *out) {
          if (r.key.has_value() && r.value.has_value() &&
              r.value->size() == 8) {
            last[*r.key] =
                static_cast<int64_t>(absl::big_endian::Load64(r.value->data()));
          }
        }
        if (last == expected_) break;
      }
      absl::SleepFor(absl::Milliseconds(500));
    }
    return last;
  }

  // The committed output, once it holds at least `n` records (or what is
  // there after `timeout`).
  std::vector<ConsumerRecord> WaitForOutput(int64_t n, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::vector<ConsumerRecord> out;
    while (absl::Now() < deadline) {
      auto read = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                            absl::Seconds(6));
      if (read.ok()) {
        out = *std::move(read);
        if (static_cast<int64_t>(out.size()) >= n) break;
      }
      absl::SleepFor(absl::Milliseconds(500));
    }
    return out;
  }

  // Waits until the output has any record (committed or not), cheaply:
  // from its high watermarks, not by reading it.
  void WaitForFirstOutput(absl::Duration timeout) {
    auto consumer = Consumer::Create(BaseConfig(), nullptr);
    ASSERT_TRUE(consumer.ok()) << consumer.status();
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      int64_t end = 0;
      for (int p = 0; p < kPartitions; ++p) {
        auto marks = (*consumer)->QueryWatermarks({out_, p}, absl::Seconds(5));
        if (marks.ok()) end += marks->second;
      }
      if (end > 0) return;
      absl::SleepFor(absl::Milliseconds(20));
    }
    ADD_FAILURE() << "no output within " << timeout;
  }

  void Verify(const std::vector<ConsumerRecord>& out) {
    std::map<std::string, int64_t> last;
    int64_t broken = 0;
    for (const ConsumerRecord& r : out) {
      ASSERT_TRUE(r.key.has_value() && r.value.has_value() &&
                  r.value->size() == 8);
      const int64_t count =
          static_cast<int64_t>(absl::big_endian::Load64(r.value->data()));
      int64_t& previous = last[*r.key];
      if (count != previous + 1 && broken++ < 5) {
        ADD_FAILURE() << "word " << *r.key << " went from count " << previous
                      << " to " << count << " at " << r.topic << "-"
                      << r.partition << "@" << r.offset;
      }
      previous = count;
    }
    EXPECT_EQ(broken, 0);
    EXPECT_EQ(static_cast<int64_t>(out.size()), words_);
    EXPECT_EQ(last, expected_);
  }

  // With the record cache on, counts have gaps (one update per word and
  // commit): per word the committed counts must strictly increase, and the
  // last must be the word's occurrences. A repeat or a decrease is an update
  // committed twice (or a state that went back); a last count below the
  // occurrences is a lost update.
  void VerifyCached(const std::vector<ConsumerRecord>& out) {
    std::map<std::string, int64_t> last;
    int64_t broken = 0;
    for (const ConsumerRecord& r : out) {
      ASSERT_TRUE(r.key.has_value() && r.value.has_value() &&
                  r.value->size() == 8);
      const int64_t count =
          static_cast<int64_t>(absl::big_endian::Load64(r.value->data()));
      int64_t& previous = last[*r.key];
      if (count <= previous && broken++ < 5) {
        ADD_FAILURE() << "word " << *r.key << " went from count " << previous
                      << " to " << count << " at " << r.topic << "-"
                      << r.partition << "@" << r.offset;
      }
      previous = count;
    }
    EXPECT_EQ(broken, 0);
    EXPECT_EQ(last, expected_);
    // The cache did its work: far fewer updates than word occurrences.
    EXPECT_LT(static_cast<int64_t>(out.size()), words_ / 2);
  }

  void ExpectRepartitionTopic() {
    auto admin = Admin::Create(BaseConfig());
    ASSERT_TRUE(admin.ok());
    auto n = (*admin)->PartitionCount(app_ + "-counts-repartition",
                                      absl::Seconds(30));
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, kPartitions);
  }

  std::string app_, in_, out_, dir_;
  int64_t lines_ = 0;
  int64_t words_ = 0;
  std::map<std::string, int64_t> expected_;
};

TEST_F(WordCountTest, CountsEachWordExactlyOnce) {
  Produce(1000);
  auto app = Start("run");
  std::vector<ConsumerRecord> out = WaitForOutput(words_, absl::Seconds(120));
  const int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "word_count did not stop cleanly; log " << Log("run");
  ExpectRepartitionTopic();
  Verify(out);
}

TEST_F(WordCountTest, KillNineAndRestartKeepsCountsExact) {
  Produce(30000);
  auto app = Start("first");
  // Kill it mid-way: some output committed, more in flight.
  const int64_t at_kill =
      static_cast<int64_t>(WaitForOutput(3000, absl::Seconds(120)).size());
  app->Kill(SIGKILL);
  // Not asserted (a fast machine may finish first), but said: the kill
  // should land mid-way for this test to mean much.
  std::cout << "killed word_count with " << at_kill << " of " << words_
            << " outputs committed\n";
  Produce(1000);
  app = Start("restart");
  std::vector<ConsumerRecord> out = WaitForOutput(words_, absl::Seconds(180));
  const int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "word_count did not stop cleanly; log " << Log("restart");
  Verify(out);
}

// Two instances share the work; one is killed with SIGKILL mid-way. The
// other takes its tasks over after the session timeout and restores their
// counts from the changelogs (its own state directory has none of them).
TEST_F(WordCountTest, OneOfTwoInstancesKilledKeepsCountsExact) {
  Produce(30000);
  auto a = Start("a", "state-a");
  auto b = Start("b", "state-b");
  // Kill one as soon as output appears: the two share 90,000 updates that
  // take a few seconds, and reading the output to count it took longer.
  WaitForFirstOutput(absl::Seconds(120));
  a->Kill(SIGKILL);
  // Not asserted (a fast machine may finish first), but said: the kill
  // should land mid-way for this test to mean much.
  const int64_t at_kill =
      static_cast<int64_t>(WaitForOutput(0, absl::Seconds(30)).size());
  std::cout << "killed one of two word_count instances with " << at_kill
            << " of " << words_ << " outputs committed\n";
  Produce(1000);
  std::vector<ConsumerRecord> out = WaitForOutput(words_, absl::Seconds(180));
  const int status = b->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "word_count did not stop cleanly; log " << Log("b");
  Verify(out);
}

// The record cache on (10 MiB): one update per word and commit, and the
// cache flushed into the transaction before the offsets are committed, so
// that a kill -9 loses no update and commits none twice. The restarted
// instance has an empty state directory and restores from the changelogs.
TEST_F(WordCountTest, KillNineWithTheRecordCacheKeepsCountsExact) {
  constexpr int64_t kCache = int64_t{10} << 20;
  Produce(100000);
  auto app = Start("first", "state", kCache);
  // Kill at the first output: with the cache a commit interval holds many
  // more records, and the run ends sooner.
  WaitForFirstOutput(absl::Seconds(120));
  app->Kill(SIGKILL);
  std::vector<ConsumerRecord> out;
  std::map<std::string, int64_t> at_kill =
      WaitForCounts(absl::Seconds(1), &out);
  int64_t counted = 0;
  for (const auto& [word, n] : at_kill) counted += n;
  // Not asserted (a fast machine may finish first), but said: the kill
  // should land mid-way for this test to mean much.
  std::cout << "killed word_count (cache on) with " << out.size()
            << " updates committed, counting " << counted << " of " << words_
            << " words\n";
  Produce(1000);
  // Restart on an empty state directory: the counts come back from the
  // changelogs alone, so an update whose output was committed without its
  // changelog record (or the reverse) shows.
  app = Start("restart", "state-2", kCache);
  WaitForCounts(absl::Seconds(180), &out);
  const int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "word_count did not stop cleanly; log " << Log("restart");
  std::cout << "committed " << out.size() << " updates for " << words_
            << " words\n";
  VerifyCached(out);
}

}  // namespace
}  // namespace brook
