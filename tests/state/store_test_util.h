// Helpers shared by the state store tests.
#ifndef BROOK_TESTS_STATE_STORE_TEST_UTIL_H_
#define BROOK_TESTS_STATE_STORE_TEST_UTIL_H_

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "brook/state/bytes_stores.h"
#include "brook/state/state_store.h"

// For absl::Status (use .status() of a StatusOr).
#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const absl::Status assert_ok_status = (expr);           \
    ASSERT_TRUE(assert_ok_status.ok()) << assert_ok_status; \
  } while (false)
#define EXPECT_OK(expr)                                     \
  do {                                                      \
    const absl::Status expect_ok_status = (expr);           \
    EXPECT_TRUE(expect_ok_status.ok()) << expect_ok_status; \
  } while (false)

namespace brook::testing_util {

// The store implementations that share semantics.
// kRocksDBRecentWindows: a RocksDB window store that also keeps its recent
// windows in memory (RecentWindows); only window store tests use it.
enum class StoreKind { kInMemory, kRocksDB, kRocksDBRecentWindows };

inline std::string KindName(const ::testing::TestParamInfo<StoreKind>& info) {
  switch (info.param) {
    case StoreKind::kInMemory:
      return "InMemory";
    case StoreKind::kRocksDB:
      return "RocksDB";
    case StoreKind::kRocksDBRecentWindows:
      return "RocksDBRecentWindows";
  }
  return "Unknown";
}

// A fresh directory under ::testing::TempDir(), named after the running
// test, removed when destroyed.
class TempStateDir {
 public:
  TempStateDir() {
    const ::testing::TestInfo* test =
        ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = absl::StrCat(test->test_suite_name(), "-", test->name());
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path_ = absl::StrCat(::testing::TempDir(), "/brook-state-", getpid(), "-",
                         name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempStateDir() { std::filesystem::remove_all(path_); }
  TempStateDir(const TempStateDir&) = delete;
  TempStateDir& operator=(const TempStateDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Records every change it is given; fails with `error` while it is set.
class RecordingLogger : public ChangeSink {
 public:
  absl::Status LogChange(absl::string_view key,
                         std::optional<absl::string_view> value) override {
    if (!error.ok()) return error;
    changes.push_back({std::string(key),
                       value ? std::optional<std::string>(std::string(*value))
                             : std::nullopt});
    return absl::OkStatus();
  }

  std::vector<ChangeRecord> changes;
  absl::Status error;
};

// Small shared resources for tests: 16 MiB.
inline std::shared_ptr<RocksDBResources> TestResources(
    RocksDBConfig config = {}) {
  config.memory_budget_bytes = 16 << 20;
  absl::StatusOr<std::shared_ptr<RocksDBResources>> resources =
      RocksDBResources::Create(config);
  EXPECT_TRUE(resources.ok()) << resources.status();
  return resources.ok() ? *resources : nullptr;
}

}  // namespace brook::testing_util

namespace brook {

// For gtest's matchers, found by argument-dependent lookup.
inline bool operator==(const ChangeRecord& a, const ChangeRecord& b) {
  return a.key == b.key && a.value == b.value;
}

inline void PrintTo(const ChangeRecord& record, std::ostream* os) {
  *os << "{" << ::testing::PrintToString(record.key) << ", "
      << (record.value ? ::testing::PrintToString(*record.value) : "delete")
      << "}";
}

}  // namespace brook

#endif  // BROOK_TESTS_STATE_STORE_TEST_UTIL_H_
