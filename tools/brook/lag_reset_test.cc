// `brook lag` and `brook reset` against the real broker: a group commits
// known offsets, lag must print them, and reset must refuse while the
// member is there, change nothing in a dry run, and start the application
// over once it is gone.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/producer.h"
#include "brook/state/state_directory.h"
#include "tests/testing/kafka_env.h"
#include "tools/brook/lag.h"
#include "tools/brook/reset.h"

namespace brook::tool {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

void ProduceTo(const std::string& topic, int32_t partition, int count) {
  auto producer = Producer::Create(testing::BaseConfig());
  ASSERT_TRUE(producer.ok()) << producer.status();
  for (int i = 0; i < count; ++i) {
    ASSERT_TRUE((*producer)
                    ->Send({.topic = topic,
                            .partition = partition,
                            .key = "k",
                            .value = absl::StrCat(i)})
                    .ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
}

// Runs the brook binary; returns its exit code.
int RunBrook(const std::string& args) {
  const std::string command =
      absl::StrCat(testing::BinaryPath("tools/brook/brook"), " ", args, " >&2");
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool TopicExists(Admin& admin, const std::string& topic) {
  return admin.PartitionCount(topic, absl::Seconds(10)).ok();
}

TEST(LagResetTest, LagShowsTheCommittedFiguresAndResetStartsTheAppOver) {
  const std::string app = testing::UniqueName("brook-tool-app");
  const std::string input = testing::UniqueName("brook-tool-in");
  const std::string changelog = app + "-counts-changelog";
  const std::string repartition = app + "-by-key-repartition";
  const std::string other = app + "-not-internal";
  testing::CreateTopic(input, 2);
  testing::CreateTopic(changelog, 1);
  testing::CreateTopic(repartition, 1);
  testing::CreateTopic(other, 1);
  ProduceTo(input, 0, 7);
  ProduceTo(input, 1, 4);

  ClientConfig config = testing::BaseConfig();
  config["group.id"] = app;
  config["client.id"] = "lag-test-member";
  auto consumer = Consumer::Create(config, nullptr);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ASSERT_TRUE((*consumer)->Subscribe({input}).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while ((*consumer)->Assignment().size() < 2 && absl::Now() < deadline) {
    ASSERT_TRUE((*consumer)->Poll(absl::Milliseconds(100)).ok());
  }
  ASSERT_EQ((*consumer)->Assignment().size(), 2u);
  ASSERT_TRUE((*consumer)->CommitSync({{{input, 0}, 5}, {{input, 1}, 1}}).ok());

  auto admin = Admin::Create(testing::BaseConfig());
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto lag = ComputeLag(**admin, app, absl::Seconds(30));
  ASSERT_TRUE(lag.ok()) << lag.status();
  ASSERT_EQ(lag->partitions.size(), 2u);
  const PartitionLag& p0 = lag->partitions[0];
  const PartitionLag& p1 = lag->partitions[1];
  EXPECT_EQ(p0.tp, (TopicPartition{input, 0}));
  EXPECT_EQ(p0.committed, 5);
  EXPECT_EQ(p0.end, 7);
  EXPECT_EQ(p0.lag, 2);
  EXPECT_EQ(p1.committed, 1);
  EXPECT_EQ(p1.end, 4);
  EXPECT_EQ(p1.lag, 3);
  ASSERT_TRUE(p0.owner.has_value());
  EXPECT_EQ(p0.owner->client_id, "lag-test-member");
  EXPECT_THAT(LagTable(*lag), HasSubstr("total lag 5"));
  EXPECT_EQ(RunBrook(absl::StrCat(
                "lag --bootstrap-servers=", testing::BootstrapServers(),
                " --application-id=", app)),
            0);

  // The member is active: reset refuses, naming it, with exit code 2.
  auto refused = PlanReset(**admin, {.application_id = app}, absl::Seconds(30));
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("lag-test-member"));
  const std::string reset_args =
      absl::StrCat("reset --bootstrap-servers=", testing::BootstrapServers(),
                   " --application-id=", app);
  EXPECT_EQ(RunBrook(reset_args), 2);

  consumer->reset();  // leaves the group
  const absl::Time empty_by = absl::Now() + absl::Seconds(60);
  while (absl::Now() < empty_by) {
    auto group = (*admin)->DescribeGroup(app, absl::Seconds(10));
    ASSERT_TRUE(group.ok()) << group.status();
    if (group->members.empty()) break;
    absl::SleepFor(absl::Milliseconds(200));
  }

  const std::string state_root =
      (fs::path(::testing::TempDir()) / (app + "-state")).string();
  { ASSERT_TRUE(StateDirectory::Open(state_root, app).ok()); }
  const std::string with_state =
      absl::StrCat(reset_args, " --to-earliest --state-dir=", state_root);

  EXPECT_EQ(RunBrook(with_state + " --dry-run"), 0);
  EXPECT_THAT(testing::CommittedOffsets(app, input, 2), ElementsAre(5, 1));
  EXPECT_TRUE(TopicExists(**admin, changelog));
  EXPECT_TRUE(TopicExists(**admin, repartition));
  EXPECT_TRUE(fs::exists(fs::path(state_root) / app));

  EXPECT_EQ(RunBrook(with_state), 0);
  auto offsets = (*admin)->ListGroupOffsets(app, absl::Seconds(30));
  ASSERT_TRUE(offsets.ok()) << offsets.status();
  EXPECT_THAT(*offsets, ElementsAre(TopicPartitionOffset{{input, 0}, 0},
                                    TopicPartitionOffset{{input, 1}, 0}));
  // Deletion reaches the metadata a moment later.
  const absl::Time gone_by = absl::Now() + absl::Seconds(30);
  while (
      (TopicExists(**admin, changelog) || TopicExists(**admin, repartition)) &&
      absl::Now() < gone_by) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_FALSE(TopicExists(**admin, changelog));
  EXPECT_FALSE(TopicExists(**admin, repartition));
  EXPECT_TRUE(TopicExists(**admin, other));
  EXPECT_FALSE(fs::exists(fs::path(state_root) / app));
  fs::remove_all(state_root);

  // A time after every record: each partition's log end.
  EXPECT_EQ(RunBrook(reset_args + " --to-datetime=2100-01-01T00:00:00Z"), 0);
  EXPECT_THAT(testing::CommittedOffsets(app, input, 2), ElementsAre(7, 4));
}

TEST(LagResetTest, TheEndOffsetIsTheLastStableOneWhileATransactionIsOpen) {
  const std::string topic = testing::UniqueName("brook-tool-lso");
  testing::CreateTopic(topic, 1);
  ProduceTo(topic, 0, 2);
  ClientConfig config = testing::BaseConfig();
  config["transactional.id"] = topic;
  auto producer = Producer::Create(config);
  ASSERT_TRUE(producer.ok()) << producer.status();
  ASSERT_TRUE((*producer)->InitTransactions(absl::Seconds(60)).ok());
  ASSERT_TRUE((*producer)->BeginTransaction().ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        (*producer)
            ->Send({.topic = topic, .partition = 0, .key = "k", .value = "v"})
            .ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  auto admin = Admin::Create(testing::BaseConfig());
  ASSERT_TRUE(admin.ok()) << admin.status();
  // Three records are in the log, in an open transaction: a read_committed
  // reader cannot get past offset 2 yet.
  auto marks = (*admin)->QueryWatermarks({topic, 0}, absl::Seconds(30));
  ASSERT_TRUE(marks.ok()) << marks.status();
  EXPECT_EQ(marks->high, 2);
  ASSERT_TRUE((*producer)->CommitTransaction(absl::Seconds(60)).ok());
  // The broker writes the commit markers a moment after the commit returns.
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  do {
    marks = (*admin)->QueryWatermarks({topic, 0}, absl::Seconds(30));
    ASSERT_TRUE(marks.ok()) << marks.status();
  } while (marks->high != 6 && absl::Now() < deadline);
  EXPECT_EQ(marks->high, 6);  // 2 + 3 + the commit marker
}

TEST(LagResetTest, LagOfAnUnknownGroupIsNotFoundNamingIt) {
  auto admin = Admin::Create(testing::BaseConfig());
  ASSERT_TRUE(admin.ok()) << admin.status();
  const std::string group = testing::UniqueName("brook-tool-nobody");
  auto lag = ComputeLag(**admin, group, absl::Seconds(30));
  ASSERT_EQ(lag.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(lag.status().message(), HasSubstr(group));
}

}  // namespace
}  // namespace brook::tool
