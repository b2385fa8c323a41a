#include "tools/brook/state_inspect.h"

#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/state/bytes_stores.h"
#include "brook/state/state_directory.h"
#include "tests/testing/rocksdb_surgery.h"

namespace brook::tool {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class StateInspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::path(::testing::TempDir()) /
             ("brook_inspect_" + std::to_string(getpid())))
                .string();
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes `keys` keys into store `store` of `task` and commits them with
  // changelog offset `offset`, through the library's own classes.
  void MakeStore(StateDirectory& dir, const std::string& task,
                 const std::string& store, int keys, int64_t offset) {
    auto task_dir = dir.LockTaskDirectory(task);
    ASSERT_TRUE(task_dir.ok()) << task_dir.status();
    auto kv = NewRocksDBKeyValueStore(store, nullptr);
    ASSERT_TRUE(kv->Open((*task_dir)->path()).ok());
    for (int i = 0; i < keys; ++i) {
      ASSERT_TRUE(kv->Put("key" + std::to_string(i), "value").ok());
    }
    ASSERT_TRUE(kv->Commit(offset).ok());
    kv->Close();
  }

  std::string root_;
};

TEST_F(StateInspectTest, ReportsTasksStoresOffsetsAndTheLockHolder) {
  auto dir = StateDirectory::Open(root_, "app");
  ASSERT_TRUE(dir.ok()) << dir.status();
  MakeStore(**dir, "0_0", "counts", 10, 42);
  MakeStore(**dir, "0_1", "counts", 3, 7);
  MakeStore(**dir, "0_1", "totals", 1, 1);

  auto apps = InspectStateDir(root_, "app");
  ASSERT_TRUE(apps.ok()) << apps.status();
  ASSERT_EQ(apps->size(), 1u);
  const AppStateInfo& app = (*apps)[0];
  EXPECT_EQ(app.application_id, "app");
  // This process holds the application directory's lock.
  EXPECT_EQ(app.lock, "locked by pid " + std::to_string(getpid()));
  ASSERT_EQ(app.tasks.size(), 2u);
  EXPECT_EQ(app.tasks[0].id, "0_0");
  EXPECT_EQ(app.tasks[0].lock, "unlocked");
  ASSERT_EQ(app.tasks[0].stores.size(), 1u);
  EXPECT_EQ(app.tasks[0].stores[0].name, "counts");
  EXPECT_EQ(app.tasks[0].stores[0].changelog_offset, 42);
  EXPECT_GT(app.tasks[0].stores[0].bytes, 0);
  ASSERT_EQ(app.tasks[1].stores.size(), 2u);
  EXPECT_EQ(app.tasks[1].stores[0].changelog_offset, 7);
  EXPECT_EQ(app.tasks[1].stores[1].name, "totals");
  EXPECT_EQ(app.tasks[1].stores[1].changelog_offset, 1);

  const std::string report = StateReport(*apps);
  EXPECT_THAT(report, HasSubstr("0_0"));
  EXPECT_THAT(report, HasSubstr("42"));

  dir->reset();
  apps = InspectStateDir(root_, "app");
  ASSERT_TRUE(apps.ok()) << apps.status();
  EXPECT_EQ((*apps)[0].lock, "unlocked");
}

TEST_F(StateInspectTest, ATaskLockHeldByAThreadIsReported) {
  auto dir = StateDirectory::Open(root_, "app");
  ASSERT_TRUE(dir.ok()) << dir.status();
  MakeStore(**dir, "1_0", "counts", 1, 5);
  auto held = (*dir)->LockTaskDirectory("1_0");
  ASSERT_TRUE(held.ok());
  auto apps = InspectStateDir((*dir)->path(), "");
  ASSERT_TRUE(apps.ok()) << apps.status();
  EXPECT_EQ((*apps)[0].tasks[0].lock,
            "locked by pid " + std::to_string(getpid()));
}

TEST_F(StateInspectTest, ADamagedOffsetIsNamedAndTheOtherTasksAreRead) {
  {
    auto dir = StateDirectory::Open(root_, "app");
    ASSERT_TRUE(dir.ok()) << dir.status();
    MakeStore(**dir, "0_0", "counts", 2, 42);
    MakeStore(**dir, "0_1", "broken", 2, 9);
  }
  ASSERT_EQ(testing::GarbleStoredOffsets(root_, "broken"), 1);

  auto apps = InspectStateDir(root_, "");
  ASSERT_TRUE(apps.ok()) << apps.status();
  const AppStateInfo& app = (*apps)[0];
  ASSERT_EQ(app.tasks.size(), 2u);
  EXPECT_EQ(app.tasks[0].stores[0].changelog_offset, 42);
  EXPECT_TRUE(app.tasks[0].stores[0].error.empty());
  const StoreInfo& broken = app.tasks[1].stores[0];
  EXPECT_EQ(broken.changelog_offset, std::nullopt);
  EXPECT_THAT(broken.error, HasSubstr(root_ + "/app/0_1/broken"));
  EXPECT_THAT(broken.error, HasSubstr("3 bytes instead of 8"));
  EXPECT_THAT(StateReport(*apps), HasSubstr("error: " + broken.error));
}

TEST_F(StateInspectTest, NoApplicationStateIsNotFoundNamingTheDirectory) {
  fs::create_directories(root_);
  auto apps = InspectStateDir(root_, "nope");
  EXPECT_EQ(apps.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(apps.status().message(), HasSubstr(root_));
  EXPECT_THAT(apps.status().message(), HasSubstr("'nope'"));
}

}  // namespace
}  // namespace brook::tool
