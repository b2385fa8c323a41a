// examples/join_example against the real broker, across a kill -9 and a
// restart on the same state directory: read back with read_committed, every
// paid order is joined with its payment exactly once, every unpaid order
// (no payment, or one later than the window) is reported unpaid exactly
// once, and nothing else is written: no spurious unpaid result for an order
// that was paid, no duplicate from the replay after the kill.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
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
constexpr int64_t kWindowMs = 300'000;  // the example's default
// More than the input's event-time span (4,000 s), so that no payment is
// late whichever input partition the task happens to read first.
constexpr int64_t kGraceMs = 7'200'000;
constexpr int64_t kStepMs = 200;

class JoinExampleTest : public ::testing::Test {
 protected:
  // Event time of the first record.
  const int64_t start_ms_ = testing::RecentEventTimeMs();

  void SetUp() override {
    app_ = UniqueName("join");
    orders_ = UniqueName("join-orders");
    payments_ = UniqueName("join-payments");
    out_ = UniqueName("join-out");
    dir_ = ::testing::TempDir() + "/" + app_;
    CreateTopic(orders_, kPartitions);
    CreateTopic(payments_, kPartitions);
    CreateTopic(out_, kPartitions);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Writes `n` orders, one per 200 ms of event time; every 5th unpaid, every
  // 7th (of the others) paid 1 ms after its window, the rest paid 0 ..
  // window ms after the order. Payments go in event-time order.
  void Produce(int64_t n) {
    auto producer = Producer::Create(BaseConfig());
    ASSERT_TRUE(producer.ok()) << producer.status();
    std::vector<ProducerRecord> payments;
    for (int64_t i = 0; i < n; ++i) {
      const std::string id = absl::StrCat("order-", i);
      const int64_t t = start_ms_ + i * kStepMs;
      last_ = std::max(last_, t);
      ASSERT_TRUE((*producer)
                      ->Send({.topic = orders_,
                              .key = id,
                              .value = absl::StrCat("o", i),
                              .timestamp_ms = t})
                      .ok());
      if (i % 5 == 4) {
        expected_[id] = absl::StrCat("o", i, "|unpaid");
        continue;
      }
      const int64_t delay =
          i % 7 == 6 ? kWindowMs + 1 : (i * 7919) % (kWindowMs + 1);
      payments.push_back({.topic = payments_,
                          .key = id,
                          .value = absl::StrCat("p", i),
                          .timestamp_ms = t + delay});
      last_ = std::max(last_, t + delay);
      if (delay <= kWindowMs) {
        expected_[id] = absl::StrCat("o", i, "|p", i);
        ++paid_;
      } else {
        expected_[id] = absl::StrCat("o", i, "|unpaid");
      }
    }
    std::stable_sort(payments.begin(), payments.end(),
                     [](const ProducerRecord& a, const ProducerRecord& b) {
                       return a.timestamp_ms < b.timestamp_ms;
                     });
    for (ProducerRecord& r : payments) {
      ASSERT_TRUE((*producer)->Send(std::move(r)).ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  }

  // One order per partition far after every other record: stream time in
  // every task passes every window + grace, so every unpaid order is
  // reported. Written once all payments are joined, so that no payment is
  // still unread when stream time jumps (max.task.idle.ms waits for an
  // input with records on the way, not for a producer still writing).
  void ProduceTicks() {
    auto producer = Producer::Create(BaseConfig());
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int32_t p = 0; p < kPartitions; ++p) {
      ASSERT_TRUE(
          (*producer)
              ->Send({.topic = orders_,
                      .partition = p,
                      .key = absl::StrCat("tick-", p),
                      .value = "tick",
                      .timestamp_ms = last_ + kWindowMs + kGraceMs + 1000})
              .ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  }

  std::string Log(const std::string& name) const {
    return absl::StrCat(dir_, "-", name, ".log");
  }
  std::unique_ptr<testing::ChildProcess> Start(const std::string& name) {
    return std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{
            testing::BinaryPath("examples/join_example"),
            "--bootstrap_servers=" + testing::BootstrapServers(),
            "--application_id=" + app_, "--input_topic=" + orders_,
            "--payments_topic=" + payments_, "--output_topic=" + out_,
            "--state_dir=" + dir_ + "/state", "--session_timeout_ms=6000",
            absl::StrCat("--grace_ms=", kGraceMs)},
        Log(name));
  }

  // The committed results once `paid_` of them are joins (or after
  // `timeout`).
  int64_t WaitForJoins(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    int64_t joins = 0;
    while (absl::Now() < deadline) {
      joins = 0;
      for (const ConsumerRecord& r :
           WaitForCommitted(out_, 0, absl::Seconds(10))) {
        if (!absl::EndsWith(r.value.value_or(""), "|unpaid")) ++joins;
      }
      if (joins >= paid_) break;
      absl::SleepFor(absl::Seconds(1));
    }
    return joins;
  }

  void Verify(const std::vector<ConsumerRecord>& out) {
    std::map<std::string, std::vector<std::string>> got;
    for (const ConsumerRecord& r : out) {
      got[r.key.value_or("null")].push_back(r.value.value_or("null"));
    }
    int64_t wrong = 0;
    for (const auto& [id, want] : expected_) {
      auto it = got.find(id);
      const std::vector<std::string> have =
          it == got.end() ? std::vector<std::string>{} : it->second;
      if (have != std::vector<std::string>{want} && wrong++ < 5) {
        ADD_FAILURE() << id << ": expected exactly [" << want << "], got "
                      << have.size() << " results"
                      << (have.empty() ? "" : ", first " + have[0]);
      }
    }
    for (const auto& [id, values] : got) {
      if (!expected_.contains(id) && wrong++ < 5) {
        ADD_FAILURE() << "unexpected result for " << id << ": " << values[0];
      }
    }
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(out.size(), expected_.size());
  }

  std::string app_, orders_, payments_, out_, dir_;
  int64_t last_ = 0, paid_ = 0;
  std::map<std::string, std::string> expected_;
};

TEST_F(JoinExampleTest, KillNineAndRestartJoinsEachOrderExactlyOnce) {
  Produce(20000);
  auto app = Start("first");
  const int64_t at_kill = static_cast<int64_t>(
      WaitForCommitted(out_, 2000, absl::Seconds(120)).size());
  app->Kill(SIGKILL);
  std::cout << "killed join_example with " << at_kill << " of "
            << expected_.size() << " results committed\n";
  app = Start("restart");
  const int64_t joins = WaitForJoins(absl::Seconds(180));
  EXPECT_EQ(joins, paid_) << "paid orders joined before the ticks";
  ProduceTicks();
  std::vector<ConsumerRecord> out = WaitForCommitted(
      out_, static_cast<int64_t>(expected_.size()), absl::Seconds(120));
  // Give a duplicate or a spurious result time to show up.
  absl::SleepFor(absl::Seconds(3));
  out = WaitForCommitted(out_, static_cast<int64_t>(expected_.size()),
                         absl::Seconds(30));
  const int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "join_example did not stop cleanly; log " << Log("restart");
  Verify(out);
}

TEST_F(JoinExampleTest, UnequalPartitionCountsFailNamingTopicsAndCounts) {
  const std::string payments3 = UniqueName("join-payments3");
  CreateTopic(payments3, kPartitions + 1);
  payments_ = payments3;
  auto app = Start("copartition");
  const int status = app->Wait(60000);
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1)
      << "join_example should fail at start; log " << Log("copartition");
  const std::string log = testing::ReadFile(Log("copartition"));
  EXPECT_THAT(log, ::testing::HasSubstr("different partition counts"));
  EXPECT_THAT(log,
              ::testing::HasSubstr(absl::StrCat(orders_, "=", kPartitions)));
  EXPECT_THAT(
      log, ::testing::HasSubstr(absl::StrCat(payments3, "=", kPartitions + 1)));
}

}  // namespace
}  // namespace brook
