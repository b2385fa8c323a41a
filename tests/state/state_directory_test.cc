#include "brook/state/state_directory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
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
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
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

TEST_F(StateDirectoryTest, CleanupJudgesAgeFromTheReleaseNotTheLock) {
  auto dir = StateDirectory::Open(root_, "app");
  ASSERT_TRUE(dir.ok());
  {
    auto held = (*dir)->LockTaskDirectory("0_2");
    ASSERT_TRUE(held.ok());
    // Held for two hours: the lock file still says when it was taken.
    const std::string lock = root_ + "/app/0_2/.lock";
    struct timespec times[2];
    times[0].tv_sec = times[1].tv_sec = ::time(nullptr) - 7200;
    times[0].tv_nsec = times[1].tv_nsec = 0;
    ASSERT_EQ(::utimensat(AT_FDCWD, lock.c_str(), times, 0), 0);
    // While held, the cleaner never touches it.
    EXPECT_TRUE(
        (*dir)->CleanObsoleteTaskDirectories(absl::ZeroDuration()).empty());
  }  // released now
  EXPECT_TRUE((*dir)->CleanObsoleteTaskDirectories(absl::Hours(1)).empty())
      << "a task directory released a moment ago was deleted";
  EXPECT_TRUE(std::filesystem::exists(root_ + "/app/0_2"));
}

TEST_F(StateDirectoryTest, ASecondTakerOfATaskDirectoryIsToldToRetry) {
  auto dir = StateDirectory::Open(root_, "app");
  ASSERT_TRUE(dir.ok());
  auto first = (*dir)->LockTaskDirectory("0_3");
  ASSERT_TRUE(first.ok());
  auto second = (*dir)->LockTaskDirectory("0_3");
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), "0_3"));
  first->reset();
  EXPECT_TRUE((*dir)->LockTaskDirectory("0_3").ok());
}

int Mode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 0777;
}

// State is private whatever the umask: the root, the application's and the
// task directories Brook creates are 0700.
TEST_F(StateDirectoryTest, CreatedDirectoriesAre0700EvenWithAnOpenUmask) {
  const mode_t old_umask = ::umask(0);
  auto dir = StateDirectory::Open(root_ + "/state", "app");
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto task = (*dir)->LockTaskDirectory("1_2");
  ::umask(old_umask);
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(Mode(root_ + "/state"), 0700);
  EXPECT_EQ(Mode(root_ + "/state/app"), 0700);
  EXPECT_EQ(Mode(root_ + "/state/app/1_2"), 0700);
}

// A root the user made keeps its mode (with a warning in the log); a task
// directory left group-readable is tightened.
TEST_F(StateDirectoryTest, ExistingRootKeepsItsModeTaskDirectoryIsTightened) {
  ASSERT_TRUE(std::filesystem::create_directories(root_ + "/app/0_0"));
  ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
  ASSERT_EQ(::chmod((root_ + "/app/0_0").c_str(), 0750), 0);
  auto dir = StateDirectory::Open(root_, "app");
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto task = (*dir)->LockTaskDirectory("0_0");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(Mode(root_), 0755);
  EXPECT_EQ(Mode(root_ + "/app/0_0"), 0700);
}

}  // namespace
}  // namespace brook
