// examples/ktable_example against the real broker: a table of user -> city
// (moves and tombstones), users counted per city through KTable::GroupBy.
// Read back with read_committed, each table update gives exactly the
// expected number of count updates (a move two, a stay one, a tombstone
// one), each city's count moves by at most one per update, and the final
// counts are those of the final table, also across a kill -9 and restart.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

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
constexpr int kUsers = 60;

class KTableExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = UniqueName("kt");
    in_ = UniqueName("kt-in");
    out_ = UniqueName("kt-out");
    dir_ = ::testing::TempDir() + "/" + app_;
    CreateTopic(in_, kPartitions);
    CreateTopic(out_, kPartitions);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // `n` updates: users move between 7 cities, sometimes stay, and every
  // 11th update is a tombstone. A user's updates all go to one partition,
  // so the table sees them in order.
  void Produce(int64_t n) {
    auto producer = Producer::Create(BaseConfig());
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int64_t i = 0; i < n; ++i, ++sent_) {
      const int64_t user = (sent_ * 7) % kUsers;
      std::optional<std::string> city;
      if (sent_ % 11 != 10) city = absl::StrCat("c", (sent_ / 5) % 7);
      std::optional<std::string>& old = table_[user];
      if (old && city && *old == *city) {
        expected_ += 1;  // one record: subtract and add together
      } else {
        expected_ += (old ? 1 : 0) + (city ? 1 : 0);
      }
      old = city;
      ASSERT_TRUE(
          (*producer)
              ->Send({.topic = in_,
                      .partition = static_cast<int32_t>(user % kPartitions),
                      .key = absl::StrCat("user-", user),
                      .value = city})
              .ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  }

  std::string Log(const std::string& name) const {
    return absl::StrCat(dir_, "-", name, ".log");
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
      if ((count < 0 || count - previous > 1 || previous - count > 1) &&
          broken++ < 5) {
        ADD_FAILURE() << "city " << *r.key << " went from " << previous
                      << " to " << count << " at " << r.topic << "-"
                      << r.partition << "@" << r.offset;
      }
      previous = count;
    }
    EXPECT_EQ(broken, 0);
    EXPECT_EQ(static_cast<int64_t>(out.size()), expected_);
    std::map<std::string, int64_t> final_counts;
    for (const auto& [city, count] : last) {
      if (count != 0) final_counts[city] = count;
    }
    std::map<std::string, int64_t> expected_counts;
    for (const auto& [user, city] : table_) {
      if (city) ++expected_counts[*city];
    }
    EXPECT_EQ(final_counts, expected_counts);
  }

  std::string app_, in_, out_, dir_;
  int64_t sent_ = 0;
  int64_t expected_ = 0;  // output records the updates must give
  std::map<int64_t, std::optional<std::string>> table_;
};

TEST_F(KTableExampleTest, CountsUsersPerCityExactlyOnceAcrossAKillNine) {
  Produce(20000);
  auto app = StartExample("ktable_example", app_, in_, out_, dir_ + "/state",
                          Log("first"));
  const int64_t at_kill = static_cast<int64_t>(
      WaitForCommitted(out_, 3000, absl::Seconds(120)).size());
  app->Kill(SIGKILL);
  std::cout << "killed ktable_example with " << at_kill << " of " << expected_
            << " outputs committed\n";
  Produce(1000);
  app = StartExample("ktable_example", app_, in_, out_, dir_ + "/state",
                     Log("restart"));
  std::vector<ConsumerRecord> out =
      WaitForCommitted(out_, expected_, absl::Seconds(180));
  const int status = app->Stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "ktable_example did not stop cleanly; log " << Log("restart");
  Verify(out);
}

}  // namespace
}  // namespace brook
