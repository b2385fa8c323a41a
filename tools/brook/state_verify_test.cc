// `brook state verify` against the real broker: a store made by the
// library's own classes, a changelog written to match it, and a key planted
// behind Brook's back that verify must report.
#include "tools/brook/state_verify.h"

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/kafka/producer.h"
#include "brook/state/bytes_stores.h"
#include "brook/state/state_directory.h"
#include "tests/testing/kafka_env.h"
#include "tests/testing/rocksdb_surgery.h"

namespace brook::tool {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(StateVerifyTest, AStoreMatchingItsChangelogPassesAndAPlantedKeyIsFound) {
  const std::string app = testing::UniqueName("brook-verify-app");
  const std::string changelog = app + "-counts-changelog";
  testing::CreateTopic(changelog, 2);
  {
    // Offsets 0..3 of partition 1; the store has committed up to 3, so the
    // record at offset 3 (k3) is not yet in it.
    auto producer = Producer::Create(testing::BaseConfig());
    ASSERT_TRUE(producer.ok()) << producer.status();
    const std::vector<std::pair<std::string, std::optional<std::string>>>
        records = {{"k1", "v1"}, {"k2", "old"}, {"k2", "v2"}, {"k3", "late"}};
    for (const auto& [key, value] : records) {
      ASSERT_TRUE((*producer)
                      ->Send({.topic = changelog,
                              .partition = 1,
                              .key = key,
                              .value = value})
                      .ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  }
  const std::string root =
      (fs::path(::testing::TempDir()) / (app + "-state")).string();
  {
    auto dir = StateDirectory::Open(root, app);
    ASSERT_TRUE(dir.ok()) << dir.status();
    auto task = (*dir)->LockTaskDirectory("0_1");
    ASSERT_TRUE(task.ok());
    auto store = NewRocksDBKeyValueStore("counts", nullptr);
    ASSERT_TRUE(store->Open((*task)->path()).ok());
    ASSERT_TRUE(store->Put("k1", "v1").ok());
    ASSERT_TRUE(store->Put("k2", "v2").ok());
    ASSERT_TRUE(store->Commit(3).ok());
    store->Close();
  }

  auto report =
      VerifyState(root, app, testing::BaseConfig(), absl::Seconds(60));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->stores_checked, 1);
  EXPECT_EQ(report->keys_checked, 2);
  EXPECT_TRUE(report->mismatches.empty()) << VerifyText(*report);
  EXPECT_TRUE(report->errors.empty()) << VerifyText(*report);

  ASSERT_EQ(testing::PutRawValue(root, "counts", "k9", "planted"), 1);
  report = VerifyState(root, app, testing::BaseConfig(), absl::Seconds(60));
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->mismatches.size(), 1u) << VerifyText(*report);
  EXPECT_EQ(report->mismatches[0].key, "k9");
  EXPECT_EQ(report->mismatches[0].local, "planted");
  EXPECT_EQ(report->mismatches[0].changelog, std::nullopt);
  EXPECT_THAT(VerifyText(*report),
              HasSubstr("key \"k9\": local \"planted\", changelog (absent)"));
  fs::remove_all(root);
}

}  // namespace
}  // namespace brook::tool
