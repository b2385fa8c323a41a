#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/state/bytes_stores.h"
#include "brook/state/internal/byte_budget.h"
#include "brook/state/internal/in_memory_engine.h"
#include "brook/state/internal/key_codec.h"
#include "brook/state/internal/rocksdb_engine.h"
#include "brook/state/internal/window_store_impl.h"
#include "brook/state/window_bytes_store.h"
#include "tests/state/store_test_util.h"

namespace brook {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;
using testing_util::KindName;
using testing_util::RecordingLogger;
using testing_util::StoreKind;
using testing_util::TempStateDir;
using testing_util::TestResources;

using Window =
    std::tuple<std::string, int64_t, std::string>;  // key, start, value

std::vector<Window> Drain(std::unique_ptr<WindowIterator> it) {
  std::vector<Window> windows;
  for (; it->Valid(); it->Next()) {
    windows.emplace_back(std::string(it->key()), it->window_start_ms(),
                         std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok()) << it->status();
  return windows;
}

// 8 bytes big-endian, written out by hand to pin the changelog format.
std::string BigEndian(int64_t value) {
  std::string bytes(8, '\0');
  for (int i = 7; i >= 0; --i) {
    bytes[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return bytes;
}

TEST(WindowKeyTest, EncodesKeyThenStartBigEndian) {
  EXPECT_EQ(EncodeWindowKey("k", 0x0102030405060708),
            std::string("k\x01\x02\x03\x04\x05\x06\x07\x08", 9));
  for (int64_t start : {int64_t{0}, int64_t{-1}, int64_t{1} << 40, INT64_MIN}) {
    std::string key;
    int64_t decoded = 0;
    ASSERT_TRUE(DecodeWindowKey(EncodeWindowKey(std::string("a\0b", 3), start),
                                &key, &decoded));
    EXPECT_EQ(key, std::string("a\0b", 3));
    EXPECT_EQ(decoded, start);
  }
  std::string key;
  int64_t start = 0;
  EXPECT_TRUE(DecodeWindowKey(EncodeWindowKey("", 5), &key, &start));
  EXPECT_EQ(key, "");
  EXPECT_FALSE(DecodeWindowKey("1234567", &key, &start));
}

TEST(WindowStoreFactoryTest, PicksTheDefaultSegmentInterval) {
  EXPECT_EQ(NewInMemoryWindowStore("w", 1000)->segment_interval_ms(), 60000);
  EXPECT_EQ(NewInMemoryWindowStore("w", 300000)->segment_interval_ms(), 150000);
  EXPECT_EQ(NewInMemoryWindowStore("w", 300000, 500)->segment_interval_ms(),
            500);
  auto rocksdb = NewRocksDBWindowStore("w", 300000, 0, TestResources());
  EXPECT_EQ(rocksdb->segment_interval_ms(), 150000);
  EXPECT_EQ(rocksdb->retention_ms(), 300000);
  EXPECT_TRUE(rocksdb->persistent());
  EXPECT_FALSE(NewInMemoryWindowStore("w", 1)->persistent());
}

// Runs against both engines. Builds the store from its parts to count what
// the engine holds, which shows whether expired segments are really gone.
class WindowStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  static constexpr int64_t kRetention = 1000;
  static constexpr int64_t kInterval = 100;

  void SetUp() override { Recreate(kRetention, kInterval); }

  void Recreate(int64_t retention_ms, int64_t interval_ms) {
    if (store_) store_->Close();
    std::unique_ptr<internal::StoreEngine> engine;
    if (GetParam() == StoreKind::kInMemory) {
      engine = std::make_unique<internal::InMemoryEngine>("win");
    } else {
      engine = std::make_unique<internal::RocksDBEngine>("win", resources_);
    }
    engine_ = engine.get();
    // A span shorter than the retention, so that reads go to the copy or to
    // RocksDB depending on their time.
    const int64_t recent_ms =
        GetParam() == StoreKind::kRocksDBRecentWindows ? 300 : 0;
    store_ = std::make_unique<internal::WindowStoreImpl>(
        "win", std::move(engine), retention_ms, interval_ms, recent_ms,
        std::make_shared<internal::ByteBudget>(int64_t{1} << 20));
    ASSERT_OK(store_->Open(dir_.path()));
    store_->SetChangeSink(&logger_);
  }

  void Reopen() {
    Recreate(store_->retention_ms(), store_->segment_interval_ms());
  }

  bool Put(absl::string_view key, int64_t start,
           std::optional<absl::string_view> value) {
    absl::StatusOr<bool> put = store_->Put(key, start, value);
    EXPECT_TRUE(put.ok()) << put.status();
    return put.ok() && *put;
  }

  std::optional<std::string> Fetch(absl::string_view key, int64_t start) {
    absl::StatusOr<std::optional<std::string>> value =
        store_->Fetch(key, start);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? *value : std::nullopt;
  }

  // Entries in the engine, committed or buffered, expired or not.
  int StoredEntries() {
    int count = 0;
    auto it = engine_->NewIterator(std::nullopt, std::nullopt);
    for (; it->Valid(); it->Next()) ++count;
    EXPECT_TRUE(it->status().ok()) << it->status();
    return count;
  }

  TempStateDir dir_;
  RecordingLogger logger_;
  std::shared_ptr<RocksDBResources> resources_ = TestResources();
  internal::StoreEngine* engine_ = nullptr;
  std::unique_ptr<WindowBytesStore> store_;
};

TEST_P(WindowStoreTest, ReadsSeeUncommittedWrites) {
  ASSERT_TRUE(Put("k", 100, "committed"));
  ASSERT_TRUE(Put("k", 200, "gone"));
  ASSERT_OK(store_->Commit(1));
  ASSERT_TRUE(Put("k", 300, "buffered"));
  ASSERT_TRUE(Put("k", 200, std::nullopt));
  EXPECT_THAT(Fetch("k", 100), Optional(std::string("committed")));
  EXPECT_EQ(Fetch("k", 200), std::nullopt);
  EXPECT_THAT(Fetch("k", 300), Optional(std::string("buffered")));
  EXPECT_THAT(
      Drain(store_->Fetch("k", 0, 1000)),
      ElementsAre(Window{"k", 100, "committed"}, Window{"k", 300, "buffered"}));
  EXPECT_THAT(
      Drain(store_->FetchAll(0, 1000)),
      ElementsAre(Window{"k", 100, "committed"}, Window{"k", 300, "buffered"}));
  store_->Abort();
  EXPECT_THAT(
      Drain(store_->FetchAll(0, 1000)),
      ElementsAre(Window{"k", 100, "committed"}, Window{"k", 200, "gone"}));
}

TEST_P(WindowStoreTest, FetchReturnsOnlyThatKeyByStartAcrossSegments) {
  // A user key that extends "k" with bytes that look like a stored start.
  std::string lookalike = "k";
  internal::AppendOrdered64(150, &lookalike);
  ASSERT_TRUE(Put("k", 250, "k250"));
  ASSERT_TRUE(Put("k", 50, "k50"));
  ASSERT_TRUE(Put("j", 150, "j150"));
  ASSERT_TRUE(Put("k2", 150, "k2"));
  ASSERT_TRUE(Put(lookalike, 150, "lookalike"));
  ASSERT_OK(store_->Commit(1));
  ASSERT_TRUE(Put("k", 150, "k150"));
  ASSERT_TRUE(Put("k", 999, "k999"));
  EXPECT_THAT(Drain(store_->Fetch("k", 0, 1000)),
              ElementsAre(Window{"k", 50, "k50"}, Window{"k", 150, "k150"},
                          Window{"k", 250, "k250"}, Window{"k", 999, "k999"}));
  EXPECT_THAT(Drain(store_->Fetch("k", 150, 250)),
              ElementsAre(Window{"k", 150, "k150"}, Window{"k", 250, "k250"}));
  EXPECT_THAT(Drain(store_->Fetch("k", 151, 249)), IsEmpty());
  EXPECT_THAT(Drain(store_->Fetch("k", 300, 200)), IsEmpty());
  EXPECT_THAT(Drain(store_->Fetch("absent", 0, 1000)), IsEmpty());
  EXPECT_THAT(Drain(store_->Fetch(lookalike, 0, 1000)),
              ElementsAre(Window{lookalike, 150, "lookalike"}));
}

TEST_P(WindowStoreTest, FetchAllOrdersByStartThenKey) {
  ASSERT_TRUE(Put("b", 100, "b100"));
  ASSERT_TRUE(Put("c", 50, "c50"));
  ASSERT_TRUE(Put("z", 150, "z150"));
  ASSERT_OK(store_->Commit(1));
  ASSERT_TRUE(Put("a", 200, "a200"));
  ASSERT_TRUE(Put("a", 100, "a100"));
  ASSERT_TRUE(Put("z", 150, std::nullopt));
  ASSERT_TRUE(Put("aa", 120, "aa120"));
  EXPECT_THAT(Drain(store_->FetchAll(0, 1000)),
              ElementsAre(Window{"c", 50, "c50"}, Window{"a", 100, "a100"},
                          Window{"b", 100, "b100"}, Window{"aa", 120, "aa120"},
                          Window{"a", 200, "a200"}));
  EXPECT_THAT(Drain(store_->FetchAll(100, 120)),
              ElementsAre(Window{"a", 100, "a100"}, Window{"b", 100, "b100"},
                          Window{"aa", 120, "aa120"}));
}

// Backward fetches return exactly the forward ones reversed, across
// segments (with empty ones between), committed and buffered writes, a
// buffered delete, look-alike keys, and ranges that end on a window start,
// fall between windows or are empty.
TEST_P(WindowStoreTest, BackwardFetchesAreTheForwardOnesReversed) {
  std::string lookalike = "k";
  internal::AppendOrdered64(150, &lookalike);
  for (int64_t start : {-150, 0, 50, 99, 100, 150, 420, 999}) {
    ASSERT_TRUE(Put("k", start, absl::StrCat("k", start)));
    ASSERT_TRUE(Put("b", start + 1, absl::StrCat("b", start + 1)));
  }
  ASSERT_TRUE(Put(lookalike, 150, "lookalike"));
  ASSERT_TRUE(Put("a", 150, "a150"));
  ASSERT_OK(store_->Commit(1));
  ASSERT_TRUE(Put("k", 700, "k700"));       // buffered, alone in its segment
  ASSERT_TRUE(Put("k", 99, std::nullopt));  // a buffered delete
  ASSERT_TRUE(Put("a", 100, "a100"));
  const std::vector<std::pair<int64_t, int64_t>> ranges = {
      {INT64_MIN, INT64_MAX},
      {0, 1000},
      {100, 150},
      {101, 149},
      {151, 419},
      {420, 420},
      {300, 200},
      {-1000, 0}};
  int non_empty = 0;
  for (const auto& [from, to] : ranges) {
    SCOPED_TRACE(absl::StrCat("[", from, ", ", to, "]"));
    for (const std::string& key : {std::string("k"), std::string("b"),
                                   lookalike, std::string("absent")}) {
      std::vector<Window> forward = Drain(store_->Fetch(key, from, to));
      std::vector<Window> backward =
          Drain(store_->BackwardFetch(key, from, to));
      std::reverse(forward.begin(), forward.end());
      EXPECT_EQ(backward, forward) << "key " << key;
      if (!backward.empty()) ++non_empty;
    }
    std::vector<Window> forward = Drain(store_->FetchAll(from, to));
    std::vector<Window> backward = Drain(store_->BackwardFetchAll(from, to));
    std::reverse(forward.begin(), forward.end());
    EXPECT_EQ(backward, forward);
  }
  EXPECT_GT(non_empty, 10);  // the comparisons above compared something
  // Spelled out once: latest start first; within a start, keys descending.
  EXPECT_THAT(Drain(store_->BackwardFetch("k", 0, 700)),
              ElementsAre(Window{"k", 700, "k700"}, Window{"k", 420, "k420"},
                          Window{"k", 150, "k150"}, Window{"k", 100, "k100"},
                          Window{"k", 50, "k50"}, Window{"k", 0, "k0"}));
  EXPECT_THAT(
      Drain(store_->BackwardFetchAll(100, 151)),
      ElementsAre(Window{"b", 151, "b151"}, Window{lookalike, 150, "lookalike"},
                  Window{"k", 150, "k150"}, Window{"a", 150, "a150"},
                  Window{"b", 101, "b101"}, Window{"k", 100, "k100"},
                  Window{"b", 100, "b100"}, Window{"a", 100, "a100"}));
}

TEST_P(WindowStoreTest, BackwardFetchHidesExpiredWindows) {
  ASSERT_TRUE(Put("k", 100, "old"));
  ASSERT_TRUE(Put("k", 1050, "mid"));
  ASSERT_TRUE(Put("k", 1200, "new"));  // stream time 1200: 100 has expired
  EXPECT_THAT(Drain(store_->BackwardFetch("k", 0, 2000)),
              ElementsAre(Window{"k", 1200, "new"}, Window{"k", 1050, "mid"}));
  EXPECT_THAT(Drain(store_->BackwardFetchAll(0, 2000)),
              ElementsAre(Window{"k", 1200, "new"}, Window{"k", 1050, "mid"}));
}

TEST_P(WindowStoreTest, NegativeStartsKeepTheirOrder) {
  ASSERT_TRUE(Put("k", 20, "20"));
  ASSERT_TRUE(Put("k", -150, "-150"));
  ASSERT_TRUE(Put("k", -50, "-50"));
  ASSERT_OK(store_->Commit(1));
  EXPECT_THAT(Drain(store_->FetchAll(-1000, 1000)),
              ElementsAre(Window{"k", -150, "-150"}, Window{"k", -50, "-50"},
                          Window{"k", 20, "20"}));
  EXPECT_THAT(Drain(store_->Fetch("k", -100, 0)),
              ElementsAre(Window{"k", -50, "-50"}));
}

TEST_P(WindowStoreTest, PutIntoAnExpiredWindowWritesAndLogsNothing) {
  ASSERT_TRUE(Put("k", 5000, "new"));
  logger_.changes.clear();
  absl::StatusOr<bool> put = store_->Put("k", 3999, "late");
  ASSERT_OK(put.status());
  EXPECT_FALSE(*put);
  put = store_->Put("k", 3999, std::nullopt);
  ASSERT_OK(put.status());
  EXPECT_FALSE(*put);
  EXPECT_THAT(logger_.changes, IsEmpty());
  EXPECT_EQ(Fetch("k", 3999), std::nullopt);
  // observed time - retention is the oldest live start.
  EXPECT_TRUE(Put("k", 4000, "just in time"));
  EXPECT_THAT(Fetch("k", 4000), Optional(std::string("just in time")));
}

TEST_P(WindowStoreTest, ExpiredWindowsAreHiddenBeforeTheirSegmentIsDropped) {
  ASSERT_TRUE(Put("k", 0, "old"));
  ASSERT_TRUE(Put("k", 550, "live"));
  ASSERT_OK(store_->Commit(1));
  ASSERT_TRUE(Put("k", 1500, "new"));  // 0 expires, 550 stays
  EXPECT_EQ(StoredEntries(), 3);
  EXPECT_EQ(Fetch("k", 0), std::nullopt);
  EXPECT_THAT(Drain(store_->Fetch("k", 0, 2000)),
              ElementsAre(Window{"k", 550, "live"}, Window{"k", 1500, "new"}));
  EXPECT_THAT(Drain(store_->FetchAll(0, 2000)),
              ElementsAre(Window{"k", 550, "live"}, Window{"k", 1500, "new"}));
}

TEST_P(WindowStoreTest, ExpiredSegmentsAreDeletedAtCommit) {
  Recreate(/*retention_ms=*/200, /*interval_ms=*/100);
  ASSERT_TRUE(Put("k", 0, "0"));
  ASSERT_TRUE(Put("k", 50, "50"));
  ASSERT_TRUE(Put("k", 150, "150"));
  ASSERT_TRUE(Put("j", 199, "199"));
  ASSERT_TRUE(Put("j", 250, "250"));
  ASSERT_OK(store_->Commit(1));
  EXPECT_EQ(StoredEntries(), 5);
  // Stream time 400: starts below 200 expire, so segments 0 and 1 go whole;
  // segment 2 (200-299) keeps 250.
  ASSERT_TRUE(Put("k", 400, "400"));
  EXPECT_EQ(StoredEntries(), 6);
  ASSERT_OK(store_->Commit(2));
  EXPECT_EQ(StoredEntries(), 2);
  EXPECT_THAT(Drain(store_->FetchAll(INT64_MIN, INT64_MAX)),
              ElementsAre(Window{"j", 250, "250"}, Window{"k", 400, "400"}));

  Reopen();
  if (!store_->persistent()) {
    EXPECT_EQ(StoredEntries(), 0);
    return;
  }
  EXPECT_EQ(StoredEntries(), 2);
  EXPECT_EQ(store_->committed_offset(), 2);
  // The stream time survived the reopen.
  EXPECT_FALSE(Put("k", 199, "late"));
  EXPECT_TRUE(Put("k", 200, "in time"));
}

TEST_P(WindowStoreTest, AbortRestoresTheCommittedStreamTime) {
  ASSERT_TRUE(Put("k", 100, "a"));
  ASSERT_OK(store_->Commit(1));
  ASSERT_TRUE(Put("k", 5000, "b"));
  EXPECT_FALSE(Put("k", 200, "c"));
  store_->Abort();
  EXPECT_TRUE(Put("k", 200, "c"));
  EXPECT_THAT(Drain(store_->FetchAll(0, 10000)),
              ElementsAre(Window{"k", 100, "a"}, Window{"k", 200, "c"}));
}

TEST_P(WindowStoreTest, LoggerReceivesKeyThenBigEndianStart) {
  ASSERT_TRUE(Put("k", 5, "v"));
  ASSERT_TRUE(Put("key", 0x0102, std::nullopt));
  ASSERT_TRUE(Put("k", -1, "neg"));
  EXPECT_THAT(logger_.changes,
              ElementsAre(ChangeRecord{"k" + BigEndian(5), "v"},
                          ChangeRecord{"key" + BigEndian(0x0102), std::nullopt},
                          ChangeRecord{"k" + std::string(8, '\xff'), "neg"}));
}

TEST_P(WindowStoreTest,
       RestoreAppliesWindowsStreamTimeAndOffsetWithoutLogging) {
  ASSERT_TRUE(Put("gone", 100, "x"));
  ASSERT_OK(store_->Commit(1));
  logger_.changes.clear();
  const std::vector<ChangeRecord> records = {
      {EncodeWindowKey("a", 4100), "a1"},
      {EncodeWindowKey("b", 4050), "b"},
      {EncodeWindowKey("a", 4100), "a2"},
      {EncodeWindowKey("gone", 100), std::nullopt},
      {EncodeWindowKey("late", 10), "expired"},
      {EncodeWindowKey("c", 5000), "c"}};
  ASSERT_OK(store_->Restore(records, 7));
  EXPECT_EQ(store_->committed_offset(), 7);
  EXPECT_FALSE(store_->has_uncommitted());
  EXPECT_THAT(logger_.changes, IsEmpty());
  EXPECT_THAT(Drain(store_->FetchAll(INT64_MIN, INT64_MAX)),
              ElementsAre(Window{"b", 4050, "b"}, Window{"a", 4100, "a2"},
                          Window{"c", 5000, "c"}));
  // The expired record was not even written, and the old segment was dropped.
  EXPECT_EQ(StoredEntries(), 3);
  // Stream time is now 5000.
  EXPECT_FALSE(Put("k", 3999, "late"));
}

TEST_P(WindowStoreTest, RestoredWindowsAreReadByKey) {
  ASSERT_OK(store_->Restore({{EncodeWindowKey("a", 4100), "a1"},
                             {EncodeWindowKey("a", 4300), "a2"},
                             {EncodeWindowKey("b", 4200), "b"}},
                            3));
  EXPECT_THAT(Fetch("a", 4100), Optional(std::string("a1")));
  EXPECT_THAT(Drain(store_->Fetch("a", 4000, 4400)),
              ElementsAre(Window{"a", 4100, "a1"}, Window{"a", 4300, "a2"}));
  // Written after the restore, read with what was restored.
  ASSERT_TRUE(Put("a", 4350, "a3"));
  EXPECT_THAT(Drain(store_->BackwardFetch("a", 4250, 4400)),
              ElementsAre(Window{"a", 4350, "a3"}, Window{"a", 4300, "a2"}));
}

TEST_P(WindowStoreTest, AbortedWindowsAreNotReadBack) {
  ASSERT_TRUE(Put("a", 100, "committed"));
  ASSERT_OK(store_->Commit(1));
  ASSERT_TRUE(Put("a", 200, "aborted"));
  ASSERT_TRUE(Put("a", 100, "overwritten"));
  store_->Abort();
  EXPECT_EQ(Fetch("a", 200), std::nullopt);
  EXPECT_THAT(Fetch("a", 100), Optional(std::string("committed")));
  EXPECT_THAT(Drain(store_->Fetch("a", 0, 300)),
              ElementsAre(Window{"a", 100, "committed"}));
  ASSERT_TRUE(Put("a", 250, "after"));
  EXPECT_THAT(
      Drain(store_->Fetch("a", 0, 300)),
      ElementsAre(Window{"a", 100, "committed"}, Window{"a", 250, "after"}));
}

TEST_P(WindowStoreTest, RestoreRejectsAMalformedChangelogKey) {
  absl::Status status = store_->Restore({{"short", "v"}}, 3);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(store_->committed_offset(), std::nullopt);
}

TEST_P(WindowStoreTest, CommittedWindowsSurviveReopen) {
  ASSERT_TRUE(Put("a", 10, "1"));
  ASSERT_TRUE(Put("b", 20, "2"));
  ASSERT_OK(store_->Commit(5));
  ASSERT_TRUE(Put("c", 30, "uncommitted"));
  Reopen();
  if (!store_->persistent()) GTEST_SKIP() << "nothing survives a reopen";
  EXPECT_EQ(store_->committed_offset(), 5);
  EXPECT_THAT(Drain(store_->FetchAll(0, 100)),
              ElementsAre(Window{"a", 10, "1"}, Window{"b", 20, "2"}));
}

TEST_P(WindowStoreTest, WipeForgetsDataAndStreamTime) {
  ASSERT_TRUE(Put("a", 5000, "1"));
  ASSERT_OK(store_->Commit(5));
  ASSERT_OK(store_->Wipe());
  EXPECT_EQ(store_->committed_offset(), std::nullopt);
  EXPECT_THAT(Drain(store_->FetchAll(INT64_MIN, INT64_MAX)), IsEmpty());
  EXPECT_TRUE(Put("a", 0, "old times"));
}

TEST_P(WindowStoreTest, NegativeRetentionIsRejectedAtOpen) {
  store_->Close();
  auto store = std::make_unique<internal::WindowStoreImpl>(
      "bad", std::make_unique<internal::InMemoryEngine>("bad"), -1, 0);
  EXPECT_EQ(store->Open(dir_.path()).code(),
            absl::StatusCode::kInvalidArgument);
  store = std::make_unique<internal::WindowStoreImpl>(
      "bad", std::make_unique<internal::InMemoryEngine>("bad"), 10, -5);
  EXPECT_EQ(store->Open(dir_.path()).code(),
            absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Kinds, WindowStoreTest,
                         ::testing::Values(StoreKind::kInMemory,
                                           StoreKind::kRocksDB,
                                           StoreKind::kRocksDBRecentWindows),
                         KindName);

}  // namespace
}  // namespace brook
