// examples/slow_enrichment against the real broker: orders scored by a
// slow service on a worker pool (MapValuesAsync with a KeyState store).
// The demo run checks itself (--until_done). The kill test writes its own
// orders, kills the example with workers busy, restarts it, and checks
// that every order is scored exactly once and each customer's orders are
// numbered 1, 2, 3... in input order: the store's counts were rolled back
// with the offsets they belonged to.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

#include "brook/kafka/producer.h"
#include "tests/operators/example_test_util.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CommittedOffsets;
using ::brook::testing::CreateTopic;
using ::brook::testing::StartExample;
using ::brook::testing::UniqueName;
using ::brook::testing::WaitForCommitted;

constexpr int kPartitions = 3;
constexpr int kCustomers = 30;

class SlowEnrichmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = UniqueName("slow");
    in_ = UniqueName("slow-in");
    out_ = UniqueName("slow-out");
    dir_ = ::testing::TempDir() + "/" + app_;
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  std::string Log(const std::string& name) const {
    return absl::StrCat(dir_, "-", name, ".log");
  }
  int64_t Committed() {
    int64_t sum = 0;
    for (int64_t o : CommittedOffsets(app_, in_, kPartitions)) sum += o;
    return sum;
  }

  std::string app_, in_, out_, dir_;
};

TEST_F(SlowEnrichmentTest, DemoScoresEveryOrderOnceInCustomerOrder) {
  testing::ChildProcess app(
      {testing::BinaryPath("examples/slow_enrichment"),
       "--bootstrap_servers=" + testing::BootstrapServers(),
       "--application_id=" + app_, "--state_dir=" + dir_ + "/state",
       "--session_timeout_ms=6000", "--demo_orders=1500", "--parallelism=16",
       "--until_done"},
      Log("demo"));
  const int status = app.Wait(300000);
  const std::string log = testing::ReadFile(Log("demo"));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log;
  EXPECT_NE(log.find("verified 1500 scored orders, each once"),
            std::string::npos)
      << log;
}

TEST_F(SlowEnrichmentTest, KillNineWithWorkersBusyScoresEachOrderOnce) {
  constexpr int64_t kOrders = 3000;
  CreateTopic(in_, kPartitions);
  CreateTopic(out_, kPartitions);
  auto producer = Producer::Create(BaseConfig());
  ASSERT_TRUE(producer.ok()) << producer.status();
  for (int64_t i = 0; i < kOrders; ++i) {
    const int customer = static_cast<int>(i % kCustomers);
    ASSERT_TRUE((*producer)
                    ->Send({.topic = in_,
                            .partition = customer % kPartitions,
                            .key = absl::StrCat("customer-", customer),
                            .value = absl::StrFormat("order-%07d", i)})
                    .ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());

  const std::vector<std::string> flags = {"--service_ms=20", "--parallelism=8"};
  auto app = StartExample("slow_enrichment", app_, in_, out_, dir_ + "/state",
                          Log("first"), flags);
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (Committed() < 600 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_GE(Committed(), 600) << testing::ReadFile(Log("first"));
  ASSERT_LT(Committed(), kOrders) << "the input ran out before the kill";
  int status = app->Kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  app = StartExample("slow_enrichment", app_, in_, out_, dir_ + "/state",
                     Log("second"), flags);
  std::vector<ConsumerRecord> out =
      WaitForCommitted(out_, kOrders, absl::Seconds(180));
  status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << testing::ReadFile(Log("second"));

  std::map<int64_t, int> seen;
  std::map<std::string, int64_t> nth_by_customer;
  int64_t wrong_nth = 0, unreadable = 0;
  for (const ConsumerRecord& r : out) {
    // "order-0000012 score=37 nth=5"
    const std::vector<std::string> parts =
        absl::StrSplit(r.value.value_or(""), ' ');
    int64_t order = -1, nth = -1;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0].substr(6), &order) ||
        !absl::SimpleAtoi(parts[2].substr(4), &nth)) {
      ++unreadable;
      continue;
    }
    ++seen[order];
    if (nth != ++nth_by_customer[r.key.value_or("")]) ++wrong_nth;
  }
  int64_t duplicates = 0;
  for (const auto& [order, n] : seen) duplicates += n - 1;
  EXPECT_EQ(out.size(), static_cast<size_t>(kOrders));
  EXPECT_EQ(seen.size(), static_cast<size_t>(kOrders));
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(unreadable, 0);
  EXPECT_EQ(wrong_nth, 0) << "a customer's order count skipped or repeated";
  EXPECT_EQ(nth_by_customer.size(), static_cast<size_t>(kCustomers));
}

}  // namespace
}  // namespace brook
