// examples/enrich_orders against the real broker, across a kill -9 and a
// restart on the same state directory: read back with read_committed, every
// order comes out exactly once, with its customer's value from the table
// (or "unknown-customer" for a customer the table does not hold) and its
// payment if one came within 10 minutes (else "unpaid", only once the
// window and grace have passed), and nothing else is written: no duplicate
// from the replay after the kill, from the repartition topic between the
// two joins, or from the restored join and table stores.
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
#include "gtest/gtest.h"

#include "brook/base/logging.h"
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
constexpr int64_t kCustomers = 100;
constexpr int64_t kWindowMs = 600'000;  // the example's default
// More than the input's event-time span (4,000 s), so that no order is late
// whichever input the join's task happens to read first.
constexpr int64_t kGraceMs = 7'200'000;
constexpr int64_t kStepMs = 200;

class EnrichOrdersTest : public ::testing::Test {
 protected:
  // Event time of the first order.
  const int64_t start_ms_ = testing::RecentEventTimeMs();

  void SetUp() override {
    app_ = UniqueName("enrich");
    customers_ = UniqueName("enrich-customers");
    orders_ = UniqueName("enrich-orders");
    payments_ = UniqueName("enrich-payments");
    out_ = UniqueName("enrich-out");
    dir_ = ::testing::TempDir() + "/" + app_;
    for (const std::string& t : {customers_, orders_, payments_, out_}) {
      CreateTopic(t, kPartitions);
    }
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Keys must land where Brook's repartition sink puts them (murmur2, as
  // Java's producer): payments meet the orders rekeyed by order id.
  static std::unique_ptr<Producer> Murmur2Producer() {
    ClientConfig config = BaseConfig();
    config["partitioner"] = "murmur2_random";
    auto producer = Producer::Create(config);
    CHECK(producer.ok()) << producer.status();
    return *std::move(producer);
  }

  // Writes the customers (a minute before the first order), then `n`
  // orders keyed by customer, one per 200 ms of event time, one in eleven
  // for an unknown customer; every 5th unpaid, every 7th (of the others)
  // paid 1 ms after its window, the rest paid 0 .. window ms after the
  // order. Payments go in event-time order.
  void Produce(int64_t n) {
    std::unique_ptr<Producer> producer = Murmur2Producer();
    std::map<std::string, std::string> customer_of;
    for (int64_t c = 0; c < kCustomers; ++c) {
      const std::string id = absl::StrCat("customer-", c);
      customer_of[id] = absl::StrCat("name-", c);
      ASSERT_TRUE(producer
                      ->Send({.topic = customers_,
                              .key = id,
                              .value = customer_of[id],
                              .timestamp_ms = start_ms_ - 60'000})
                      .ok());
    }
    ASSERT_TRUE(producer->Flush(absl::Seconds(60)).ok());
    std::vector<ProducerRecord> payments;
    for (int64_t i = 0; i < n; ++i) {
      const std::string id = absl::StrCat("order-", i);
      const std::string customer =
          absl::StrCat("customer-", (i * 13) % (kCustomers + kCustomers / 10));
      const std::string order = absl::StrCat(id, ",o", i);
      const int64_t t = start_ms_ + i * kStepMs;
      last_ = std::max(last_, t);
      ASSERT_TRUE(producer
                      ->Send({.topic = orders_,
                              .key = customer,
                              .value = order,
                              .timestamp_ms = t})
                      .ok());
      auto known = customer_of.find(customer);
      const std::string enriched = absl::StrCat(
          order, "|",
          known == customer_of.end() ? "unknown-customer" : known->second);
      if (known == customer_of.end()) ++unknown_;
      if (i % 5 == 4) {
        expected_[id] = enriched + "|unpaid";
        continue;
      }
      const int64_t delay =
          i % 7 == 6 ? kWindowMs + 1 : (i * 7919) % (kWindowMs + 1);
      const std::string payment = absl::StrCat("p", i);
      payments.push_back({.topic = payments_,
                          .key = id,
                          .value = payment,
                          .timestamp_ms = t + delay});
      last_ = std::max(last_, t + delay);
      if (delay <= kWindowMs) {
        expected_[id] = enriched + "|" + payment;
        ++paid_;
      } else {
        expected_[id] = enriched + "|unpaid";
      }
    }
    std::stable_sort(payments.begin(), payments.end(),
                     [](const ProducerRecord& a, const ProducerRecord& b) {
                       return a.timestamp_ms < b.timestamp_ms;
                     });
    for (ProducerRecord& r : payments) {
      ASSERT_TRUE(producer->Send(std::move(r)).ok());
    }
    ASSERT_TRUE(producer->Flush(absl::Seconds(60)).ok());
  }

  // One payment per partition far after every other record: stream time in
  // every join task passes every window + grace, so every unpaid order
  // comes out. Written once all paid orders are joined, so that no order is
  // still on its way through the repartition topic when stream time jumps
  // (max.task.idle.ms waits for records already in an input partition, not
  // for those an upstream task has yet to write there).
  void ProduceTicks() {
    std::unique_ptr<Producer> producer = Murmur2Producer();
    for (int32_t p = 0; p < kPartitions; ++p) {
      ASSERT_TRUE(
          producer
              ->Send({.topic = payments_,
                      .partition = p,
                      .key = absl::StrCat("tick-", p),
                      .value = "tick",
                      .timestamp_ms = last_ + kWindowMs + kGraceMs + 1000})
              .ok());
    }
    ASSERT_TRUE(producer->Flush(absl::Seconds(60)).ok());
  }

  std::string Log(const std::string& name) const {
    return absl::StrCat(dir_, "-", name, ".log");
  }
  std::unique_ptr<testing::ChildProcess> Start(const std::string& name) {
    return std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{
            testing::BinaryPath("examples/enrich_orders"),
            "--bootstrap_servers=" + testing::BootstrapServers(),
            "--application_id=" + app_, "--input_topic=" + orders_,
            "--customers_topic=" + customers_, "--payments_topic=" + payments_,
            "--output_topic=" + out_, "--state_dir=" + dir_ + "/state",
            "--session_timeout_ms=6000", absl::StrCat("--grace_ms=", kGraceMs)},
        Log(name));
  }

  // The number of committed results that joined a payment, once it reaches
  // `paid_` (or after `timeout`).
  int64_t WaitForPaid(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    int64_t paid = 0;
    while (absl::Now() < deadline) {
      paid = 0;
      for (const ConsumerRecord& r :
           WaitForCommitted(out_, 0, absl::Seconds(10))) {
        if (!absl::EndsWith(r.value.value_or(""), "|unpaid")) ++paid;
      }
      if (paid >= paid_) break;
      absl::SleepFor(absl::Seconds(1));
    }
    return paid;
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

  std::string app_, customers_, orders_, payments_, out_, dir_;
  int64_t last_ = 0, paid_ = 0, unknown_ = 0;
  std::map<std::string, std::string> expected_;
};

TEST_F(EnrichOrdersTest,
       KillNineAndRestartEmitsEachOrderOnceWithCustomerAndPayment) {
  Produce(20000);
  ASSERT_GT(unknown_, 0) << "the input should hold orders of unknown customers";
  auto app = Start("first");
  const int64_t at_kill = static_cast<int64_t>(
      WaitForCommitted(out_, 2000, absl::Seconds(120)).size());
  app->Kill(SIGKILL);
  std::cout << "killed enrich_orders with " << at_kill << " of "
            << expected_.size() << " results committed\n";
  app = Start("restart");
  const int64_t paid = WaitForPaid(absl::Seconds(180));
  EXPECT_EQ(paid, paid_) << "paid orders joined before the ticks";
  ProduceTicks();
  std::vector<ConsumerRecord> out = WaitForCommitted(
      out_, static_cast<int64_t>(expected_.size()), absl::Seconds(120));
  // Give a duplicate or a spurious result time to show up.
  absl::SleepFor(absl::Seconds(3));
  out = WaitForCommitted(out_, static_cast<int64_t>(expected_.size()),
                         absl::Seconds(30));
  const int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "enrich_orders did not stop cleanly; log " << Log("restart");
  EXPECT_NE(testing::ReadFile(Log("restart")).find("dropped-records none"),
            std::string::npos)
      << "no order or payment may come too late; log " << Log("restart");
  Verify(out);
}

}  // namespace
}  // namespace brook
