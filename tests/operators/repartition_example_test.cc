// examples/repartition_example against the real broker: orders keyed by
// order id, totalled per product through the repartition topic. Read back
// with read_committed, each product gets exactly one update per order, its
// totals rise by the orders' quantities and end at their sum, also when
// one of two instances is killed with SIGKILL. The repartition topic has
// the input's partition count.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "brook/kafka/admin.h"
#include "brook/kafka/producer.h"
#include "tests/operators/example_test_util.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CreateTopic;
using ::brook::testing::StartExample;
using ::brook::testing::UniqueName;
using ::brook::testing::WaitForCommitted;

constexpr int kPartitions = 2;

class RepartitionExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = UniqueName("rx");
    in_ = UniqueName("rx-in");
    out_ = UniqueName("rx-out");
    dir_ = ::testing::TempDir() + "/" + app_;
    CreateTopic(in_, kPartitions);
    CreateTopic(out_, kPartitions);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // `n` orders of 13 products, quantities 1..5, plus one that does not
  // parse every 100 orders (skipped by the example).
  void Produce(int64_t n) {
    auto producer = Producer::Create(BaseConfig());
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int64_t i = 0; i < n; ++i, ++orders_) {
      std::string value;
      if (orders_ % 100 == 99) {
        value = "not an order";
      } else {
        const std::string product = absl::StrCat("p", orders_ % 13);
        const int64_t quantity = 1 + orders_ % 5;
        value = absl::StrCat(product, ",", quantity);
        ++updates_[product];
        totals_[product] += quantity;
      }
      ASSERT_TRUE(
          (*producer)
              ->Send({.topic = in_,
                      .partition = static_cast<int32_t>(orders_ % kPartitions),
                      .key = absl::StrCat("order-", orders_),
                      .value = value})
              .ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  }

  int64_t Expected() const {
    int64_t n = 0;
    for (const auto& [product, count] : updates_) n += count;
    return n;
  }

  std::string Log(const std::string& name) const {
    return absl::StrCat(dir_, "-", name, ".log");
  }

  // Each instance has a state directory of its own.
  std::unique_ptr<testing::ChildProcess> Start(const std::string& name) {
    return StartExample("repartition_example", app_, in_, out_,
                        dir_ + "/state-" + name, Log(name));
  }

  void Verify(const std::vector<ConsumerRecord>& out) {
    std::map<std::string, int64_t> last, updates;
    int64_t broken = 0;
    for (const ConsumerRecord& r : out) {
      ASSERT_TRUE(r.key.has_value() && r.value.has_value() &&
                  r.value->size() == 8);
      const int64_t total =
          static_cast<int64_t>(absl::big_endian::Load64(r.value->data()));
      int64_t& previous = last[*r.key];
      const int64_t step = total - previous;
      if ((step < 1 || step > 5) && broken++ < 5) {
        ADD_FAILURE() << "product " << *r.key << " went from " << previous
                      << " to " << total << " at " << r.topic << "-"
                      << r.partition << "@" << r.offset;
      }
      previous = total;
      ++updates[*r.key];
    }
    EXPECT_EQ(broken, 0);
    EXPECT_EQ(updates, updates_);
    EXPECT_EQ(last, totals_);
  }

  std::string app_, in_, out_, dir_;
  int64_t orders_ = 0;
  std::map<std::string, int64_t> updates_, totals_;
};

// Two instances share the work; one is killed with SIGKILL mid-way, and the
// other takes its tasks over (after the session timeout) and restores their
// state from the changelogs, since its own state directory has none of it.
TEST_F(RepartitionExampleTest, TotalsEachProductExactlyOnceWhenOneOfTwoDies) {
  Produce(60000);
  auto a = Start("a");
  auto b = Start("b");
  // Kill one mid-way: some output committed, more in flight.
  const int64_t at_kill = static_cast<int64_t>(
      WaitForCommitted(out_, 1000, absl::Seconds(120)).size());
  a->Kill(SIGKILL);
  // Not asserted (a fast machine may finish first), but said: the kill
  // should land mid-way for this test to mean much.
  std::cout << "killed one of two repartition_example instances with "
            << at_kill << " of " << Expected() << " outputs committed\n";
  Produce(1000);
  std::vector<ConsumerRecord> out =
      WaitForCommitted(out_, Expected(), absl::Seconds(180));
  const int status = b->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "repartition_example did not stop cleanly; log " << Log("b");
  Verify(out);
  auto admin = Admin::Create(BaseConfig());
  ASSERT_TRUE(admin.ok());
  auto n = (*admin)->PartitionCount(app_ + "-orders-by-product-repartition",
                                    absl::Seconds(30));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, kPartitions);
}

}  // namespace
}  // namespace brook
