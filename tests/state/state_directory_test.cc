#include "state/state_directory.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace brook {
namespace {

class StateDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = absl::StrCat(
        ::testing::TempDir(), "/state-dir-test-", getpid(), "-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string root_;
};

TEST_F(StateDirectoryTest, ProcessIdSurvivesReopen) {
  std::string first;
  {
    auto dir = StateDirectory::Open(root_, "app");
    ASSERT_TRUE(dir.ok()) << dir.status();
    first = (*dir)->process_id();
    EXPECT_EQ(first.size(), 32u);
    EXPECT_EQ((*dir)->path(), root_ + "/app");
  }
  auto again = StateDirectory::Open(root_, "app");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->process_id(), first);
}

TEST_F(StateDirectoryTest, DifferentDirectoriesGetDifferentProcessIds) {
  auto a = StateDirectory::Open(root_ + "/a", "app");
  auto b = StateDirectory::Open(root_ + "/b", "app");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->process_id(), (*b)->process_id());
}

TEST_F(StateDirectoryTest, SecondOpenWhileLockedFails) {
  auto first = StateDirectory::Open(root_, "app");
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = StateDirectory::Open(root_, "app");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(second.status().message(), "locked"));
  first->reset();
  EXPECT_TRUE(StateDirectory::Open(root_, "app").ok());
}

TEST_F(StateDirectoryTest, CorruptMetadataIsDataLossNamingTheFile) {
  ASSERT_TRUE(StateDirectory::Open(root_, "app").ok());
  const std::string file = root_ + "/app/brook.metadata";
  { std::ofstream(file, std::ios::trunc) << "\xff\xff garbage"; }
  auto dir = StateDirectory::Open(root_, "app");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(dir.status().message(), file));
}

TEST_F(StateDirectoryTest, DirectoryOfAnotherApplicationIsRejected) {
  ASSERT_TRUE(StateDirectory::Open(root_, "app").ok());
  std::filesystem::rename(root_ + "/app", root_ + "/other");
  auto dir = StateDirectory::Open(root_, "other");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(dir.status().message(), "'app'"));
}

TEST_F(StateDirectoryTest, RejectsBadApplicationId) {
  EXPECT_EQ(StateDirectory::Open(root_, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto slash = StateDirectory::Open(root_, "a/b");
  EXPECT_EQ(slash.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(slash.status().message(), "application.id"));
}

TEST_F(StateDirectoryTest, TaskDirectoryIsExclusiveWhileLocked) {
  auto dir = StateDirectory::Open(root_, "app");
  ASSERT_TRUE(dir.ok());
  auto first = (*dir)->LockTaskDirectory("0_1");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->path(), root_ + "/app/0_1");
  auto second = (*dir)->LockTaskDirectory("0_1");
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  first->reset();
  EXPECT_TRUE((*dir)->LockTaskDirectory("0_1").ok());
}

TEST_F(StateDirectoryTest,
       CleanupDeletesOnlyUnlockedTaskDirectoriesPastTheDelay) {
  auto dir = StateDirectory::Open(root_, "app");
  ASSERT_TRUE(dir.ok());
  auto held = (*dir)->LockTaskDirectory("0_0");
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE((*dir)->LockTaskDirectory("0_1").ok());  // released at once
  std::filesystem::create_directories(root_ + "/app/not-a-task");
  // Nothing is older than an hour.
  EXPECT_TRUE((*dir)->CleanObsoleteTaskDirectories(absl::Hours(1)).empty());
  // With no delay the released task directory goes, the held one and the
  // unrelated directory stay.
  EXPECT_EQ((*dir)->CleanObsoleteTaskDirectories(absl::ZeroDuration()),
            std::vector<std::string>{"0_1"});
  EXPECT_TRUE(std::filesystem::exists(root_ + "/app/0_0"));
  EXPECT_FALSE(std::filesystem::exists(root_ + "/app/0_1"));
  EXPECT_TRUE(std::filesystem::exists(root_ + "/app/not-a-task"));
}

}  // namespace
}  // namespace brook
