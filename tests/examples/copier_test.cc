// The example copier in-process against the real broker.
#include "examples/copier.h"

#include <filesystem>
#include <thread>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/kafka/consumer.h"
#include "brook/kafka/topic_reader.h"
#include "tests/testing/kafka_env.h"

namespace brook::examples {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CheckExactCopy;
using ::brook::testing::CreateTopic;
using ::brook::testing::ProduceValues;
using ::brook::testing::UniqueName;

class CopierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    input_ = UniqueName("copier-in");
    output_ = UniqueName("copier-out");
    CreateTopic(input_, 3);
    CreateTopic(output_, 3);
    config_.application_id = UniqueName("copier-app");
    config_.bootstrap_servers = testing::BootstrapServers();
    config_.state_dir = ::testing::TempDir() + "/" + config_.application_id;
  }
  void TearDown() override { std::filesystem::remove_all(config_.state_dir); }

  // Runs a copier until it has committed `count` records, then stops it.
  void CopyUntil(int64_t count, std::string* transactional_id = nullptr) {
    auto copier = Copier::Create(config_, input_, output_);
    ASSERT_TRUE(copier.ok()) << copier.status();
    if (transactional_id) *transactional_id = (*copier)->transactional_id();
    std::atomic<bool> stop{false};
    absl::Status status;
    std::thread t([&] { status = (*copier)->Run(stop); });
    const absl::Time deadline = absl::Now() + absl::Seconds(90);
    while ((*copier)->stats().records_copied < count &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    stop.store(true);
    t.join();
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_EQ((*copier)->stats().records_copied, count);
  }

  // Sum over partitions of the group's committed offsets for the input.
  int64_t CommittedInputOffsets() {
    ClientConfig cc = BaseConfig();
    cc["group.id"] = config_.application_id;
    auto consumer = Consumer::Create(cc, nullptr);
    EXPECT_TRUE(consumer.ok());
    auto committed = (*consumer)->Committed(
        {{input_, 0}, {input_, 1}, {input_, 2}}, absl::Seconds(30));
    EXPECT_TRUE(committed.ok()) << committed.status();
    int64_t sum = 0;
    for (const auto& p : *committed) sum += std::max<int64_t>(p.offset, 0);
    return sum;
  }

  std::string input_, output_;
  StreamsConfig config_;
};

TEST_F(CopierTest, ExactlyOnceCopiesEveryRecordOnceAndCommitsOffsets) {
  ProduceValues(input_, "r", 5000);
  CopyUntil(5000);
  auto out = ReadTopic(BaseConfig(), output_, IsolationLevel::kReadCommitted,
                       absl::Seconds(60));
  ASSERT_TRUE(out.ok()) << out.status();
  auto check = CheckExactCopy(*out, "r", 5000);
  EXPECT_EQ(check.records, 5000) << check.ToString();
  EXPECT_EQ(check.duplicates, 0) << check.ToString();
  EXPECT_EQ(check.missing, 0) << check.ToString();
  EXPECT_EQ(CommittedInputOffsets(), 5000);
}

TEST_F(CopierTest, AtLeastOnceCopiesEveryRecord) {
  config_.processing_guarantee = ProcessingGuarantee::kAtLeastOnce;
  config_.commit_interval = absl::Milliseconds(200);
  ProduceValues(input_, "r", 3000);
  CopyUntil(3000);
  auto out = ReadTopic(BaseConfig(), output_, IsolationLevel::kReadCommitted,
                       absl::Seconds(60));
  ASSERT_TRUE(out.ok()) << out.status();
  auto check = CheckExactCopy(*out, "r", 3000);
  EXPECT_EQ(check.missing, 0) << check.ToString();
  EXPECT_EQ(CommittedInputOffsets(), 3000);
}

TEST_F(CopierTest, RestartKeepsTransactionalIdAndResumesFromCommittedOffsets) {
  ProduceValues(input_, "r", 1000);
  std::string first_id, second_id;
  CopyUntil(1000, &first_id);
  // More input while no copier runs; the restart must copy only that.
  testing::ProduceValues(input_, "s", 500);
  CopyUntil(500, &second_id);
  EXPECT_EQ(first_id, second_id);
  auto out = ReadTopic(BaseConfig(), output_, IsolationLevel::kReadCommitted,
                       absl::Seconds(60));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->size(), 1500u);
  EXPECT_EQ(CheckExactCopy(*out, "r", 1000).missing, 0);
  EXPECT_EQ(CheckExactCopy(*out, "r", 1000).duplicates, 0);
  EXPECT_EQ(CheckExactCopy(*out, "s", 500).distinct, 500);
}

TEST_F(CopierTest, MissingInputTopicIsNamed) {
  const std::string absent = UniqueName("absent");
  auto copier = Copier::Create(config_, absent, output_);
  ASSERT_FALSE(copier.ok());
  EXPECT_EQ(copier.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(copier.status().message(), "input topic"))
      << copier.status();
  EXPECT_TRUE(absl::StrContains(copier.status().message(), absent));
}

TEST_F(CopierTest, TwoCopiersCannotShareAStateDirectory) {
  auto first = Copier::Create(config_, input_, output_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Copier::Create(config_, input_, output_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CopierUnreachableTest, NoBrokerGivesABoundedClearError) {
  StreamsConfig config;
  config.application_id = UniqueName("nobroker");
  config.bootstrap_servers = "127.0.0.1:1";
  config.state_dir = ::testing::TempDir() + "/" + config.application_id;
  const absl::Time start = absl::Now();
  auto copier = Copier::Create(config, "in", "out");
  const absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(copier.ok());
  // Bounded: the topic check gives up after its 10 s metadata timeout (plus
  // room for a loaded machine) instead of retrying for ever.
  EXPECT_LT(took, absl::Seconds(15)) << absl::FormatDuration(took);
  EXPECT_EQ(copier.status().code(), absl::StatusCode::kUnavailable)
      << copier.status();
  EXPECT_TRUE(
      absl::StrContains(copier.status().message(), "bootstrap.servers"));
  std::filesystem::remove_all(config.state_dir);
}

}  // namespace
}  // namespace brook::examples
