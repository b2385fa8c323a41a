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

}  // namespace
}  // namespace brook
