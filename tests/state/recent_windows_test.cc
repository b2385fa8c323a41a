// RecentWindows on its own, and a window store with the copy against one
// without it under random operations.
#include "brook/state/internal/recent_windows.h"

#include <map>
#include <memory>
#include <optional>
#include <random>
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
#include "brook/state/internal/rocksdb_engine.h"
#include "brook/state/internal/window_store_impl.h"
#include "tests/state/store_test_util.h"

namespace brook::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;
using testing_util::TempStateDir;
using testing_util::TestResources;

std::vector<std::pair<int64_t, std::string>> FetchAll(
    const RecentWindows& recent, absl::string_view key, int64_t from,
    int64_t to) {
  std::vector<RecentWindows::Window> windows;
  recent.Fetch(key, from, to, &windows);
  std::vector<std::pair<int64_t, std::string>> out;
  for (auto& w : windows) out.emplace_back(w.start, std::move(w.value));
  return out;
}

std::shared_ptr<ByteBudget> Budget(int64_t limit) {
  return std::make_shared<ByteBudget>(limit);
}

TEST(RecentWindowsTest, CoversNothingUntilReset) {
  RecentWindows recent(/*span_ms=*/100, Budget(1 << 20));
  EXPECT_FALSE(recent.Covers(0));
  recent.Reset(std::nullopt);
  EXPECT_TRUE(recent.Covers(INT64_MIN));
  recent.Reset(50);
  EXPECT_FALSE(recent.Covers(49));
  EXPECT_TRUE(recent.Covers(50));
}

TEST(RecentWindowsTest, ASpanOfZeroCoversNothing) {
  RecentWindows recent(/*span_ms=*/0, Budget(1 << 20));
  recent.Reset(std::nullopt);
  EXPECT_FALSE(recent.enabled());
  EXPECT_FALSE(recent.Covers(0));
}

TEST(RecentWindowsTest, FetchReturnsOneKeyByStartAcrossBuckets) {
  RecentWindows recent(/*span_ms=*/100, Budget(1 << 20));
  recent.Reset(std::nullopt);
  // Buckets of 50 ms: these fall in four of them, written out of order.
  recent.Put("a", 120, "a120");
  recent.Put("a", 10, "a10");
  recent.Put("b", 60, "b60");
  recent.Put("a", 60, "a60");
  recent.Put("a", 55, "a55");
  recent.Put("ab", 60, "ab60");
  EXPECT_THAT(FetchAll(recent, "a", 0, 200),
              ElementsAre(std::pair<int64_t, std::string>(10, "a10"),
                          std::pair<int64_t, std::string>(55, "a55"),
                          std::pair<int64_t, std::string>(60, "a60"),
                          std::pair<int64_t, std::string>(120, "a120")));
  // Both ends are inclusive.
  EXPECT_THAT(FetchAll(recent, "a", 55, 60),
              ElementsAre(std::pair<int64_t, std::string>(55, "a55"),
                          std::pair<int64_t, std::string>(60, "a60")));
  EXPECT_THAT(FetchAll(recent, "a", 61, 119), IsEmpty());
  EXPECT_THAT(FetchAll(recent, "c", 0, 200), IsEmpty());
}

TEST(RecentWindowsTest, PutReplacesAndNullDeletes) {
  RecentWindows recent(/*span_ms=*/100, Budget(1 << 20));
  recent.Reset(std::nullopt);
  recent.Put("k", 5, "one");
  recent.Put("k", 5, "two");
  EXPECT_THAT(recent.Get("k", 5), Optional(std::string("two")));
  recent.Put("k", 5, std::nullopt);
  EXPECT_EQ(recent.Get("k", 5), std::nullopt);
  EXPECT_THAT(FetchAll(recent, "k", 0, 10), IsEmpty());
  EXPECT_EQ(recent.bytes(), 0);
}

TEST(RecentWindowsTest, WritesBelowTheFloorAreIgnored) {
  RecentWindows recent(/*span_ms=*/100, Budget(1 << 20));
  recent.Reset(1000);
  recent.Put("k", 999, "old");
  recent.Put("k", 1000, "new");
  EXPECT_THAT(FetchAll(recent, "k", 1000, 2000),
              ElementsAre(std::pair<int64_t, std::string>(1000, "new")));
  EXPECT_EQ(recent.bytes(), 3 + 1 + 80);
}

TEST(RecentWindowsTest, AdvanceRaisesTheFloorAndDropsOldBuckets) {
  RecentWindows recent(/*span_ms=*/100, Budget(1 << 20));
  recent.Reset(std::nullopt);
  for (int64_t t = 0; t < 400; t += 10) recent.Put("k", t, "v");
  const int64_t all = recent.bytes();
  recent.Advance(390);
  EXPECT_EQ(recent.floor(), 290);
  EXPECT_FALSE(recent.Covers(289));
  EXPECT_TRUE(recent.Covers(290));
  // Buckets [0, 250) are gone; [250, 300) stays, as the floor falls in it.
  EXPECT_EQ(recent.bytes(), all * 15 / 40);
  // The floor never goes back.
  recent.Advance(100);
  EXPECT_EQ(recent.floor(), 290);
}

TEST(RecentWindowsTest, OverBudgetTheOldestWindowsLeave) {
  // Each window costs 1 + 1 + 80 = 82 bytes: the budget holds 5.
  auto budget = Budget(5 * 82);
  RecentWindows recent(/*span_ms=*/1000, budget);
  recent.Reset(std::nullopt);
  for (int64_t t = 0; t < 5; ++t) recent.Put("k", t * 500, "v");
  EXPECT_EQ(recent.bytes(), 5 * 82);
  EXPECT_EQ(budget->used(), 5 * 82);
  EXPECT_TRUE(recent.Covers(0));
  recent.Put("k", 2500, "v");
  // The bucket [0, 500) left; the copy still covers everything after it.
  EXPECT_EQ(recent.floor(), 500);
  EXPECT_EQ(recent.bytes(), 5 * 82);
  EXPECT_EQ(FetchAll(recent, "k", 500, 2500).size(), 5u);
}

TEST(RecentWindowsTest, CopiesShareOneBudgetAndGiveBackWhatTheyHeld) {
  auto budget = Budget(4 * 82);
  auto idle = std::make_unique<RecentWindows>(/*span_ms=*/1000, budget);
  RecentWindows busy(/*span_ms=*/1000, budget);
  idle->Reset(std::nullopt);
  busy.Reset(std::nullopt);
  idle->Put("k", 0, "v");
  idle->Put("k", 500, "v");
  busy.Put("k", 0, "v");
  busy.Put("k", 500, "v");
  EXPECT_EQ(budget->used(), 4 * 82);
  // Over the shared budget, the copy that writes gives back its own oldest
  // windows; the idle one keeps its own.
  busy.Put("k", 1000, "v");
  EXPECT_EQ(busy.floor(), 500);
  EXPECT_EQ(busy.bytes(), 2 * 82);
  EXPECT_EQ(idle->bytes(), 2 * 82);
  EXPECT_EQ(budget->used(), 4 * 82);
  // A copy that goes away gives back what it held.
  idle.reset();
  EXPECT_EQ(budget->used(), 2 * 82);
  busy.Reset(std::nullopt);
  EXPECT_EQ(budget->used(), 0);
}

TEST(RecentWindowsTest, RocksDBWindowStoresChargeTheResourcesBudget) {
  TempStateDir dir;
  std::shared_ptr<RocksDBResources> resources = TestResources();
  std::unique_ptr<WindowBytesStore> store = NewRocksDBWindowStore(
      "join", /*retention_ms=*/10000, 0, resources, /*recent_windows_ms=*/1000);
  ASSERT_TRUE(store->Open(dir.path()).ok());
  ASSERT_TRUE(store->Put("key", 100, std::string("value")).ok());
  EXPECT_EQ(resources->recent_windows_usage(), 3 + 5 + 80);
  // Without a span nothing is copied.
  std::unique_ptr<WindowBytesStore> plain =
      NewRocksDBWindowStore("plain", 10000, 0, resources);
  ASSERT_TRUE(plain->Open(dir.path()).ok());
  ASSERT_TRUE(plain->Put("key", 100, std::string("value")).ok());
  EXPECT_EQ(resources->recent_windows_usage(), 3 + 5 + 80);
  store.reset();
  EXPECT_EQ(resources->recent_windows_usage(), 0);
}

TEST(RecentWindowsTest, ANegativeBudgetIsRejectedNamingTheKey) {
  RocksDBConfig config;
  config.recent_windows_bytes = -1;
  absl::Status status = RocksDBResources::Create(config).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), ::testing::HasSubstr("recent_windows_bytes"));
}

// Random operations against two window stores: RocksDB with a small copy in
// memory (a short span and a budget of a few windows, so that reads land
// on both sides of the floor and the budget drops windows) and the
// in-memory engine without one. Every read must agree, through commits,
// aborts, reopens and restores.
TEST(RecentWindowsTest, AStoreWithTheCopyAgreesWithOneWithout) {
  constexpr int64_t kRetention = 2000;
  constexpr int64_t kInterval = 500;
  for (int64_t budget : {int64_t{600}, int64_t{1} << 20}) {
    SCOPED_TRACE(absl::StrCat("budget ", budget));
    TempStateDir dir;
    std::shared_ptr<RocksDBResources> resources = TestResources();
    auto open_tested = [&] {
      auto store = std::make_unique<WindowStoreImpl>(
          "tested", std::make_unique<RocksDBEngine>("tested", resources),
          kRetention, kInterval, /*recent_windows_ms=*/100, Budget(budget));
      EXPECT_TRUE(store->Open(dir.path()).ok());
      return store;
    };
    std::unique_ptr<WindowStoreImpl> tested = open_tested();
    auto model = std::make_unique<WindowStoreImpl>(
        "model", std::make_unique<InMemoryEngine>("model"), kRetention,
        kInterval);
    ASSERT_TRUE(model->Open(dir.path()).ok());

    std::mt19937 rng(7);
    auto pick = [&](int n) {
      return std::uniform_int_distribution<int>(0, n - 1)(rng);
    };
    int64_t time = 0;
    for (int step = 0; step < 20000; ++step) {
      SCOPED_TRACE(absl::StrCat("step ", step));
      const std::string key = absl::StrCat("k", pick(6));
      // Mostly near the stream time, sometimes far back.
      const int64_t start =
          pick(10) == 0 ? time - pick(2500) : time - pick(150) + 20;
      // Aborts and reopens are rare: each starts the copy over above the
      // stream time, and the copy covers reads again only once the stream
      // time has moved a span further.
      const int op = pick(1000);
      if (op < 400) {
        time += pick(5);
        const std::optional<std::string> value =
            pick(8) == 0 ? std::nullopt
                         : std::optional<std::string>(absl::StrCat(step));
        absl::StatusOr<bool> a = tested->Put(key, start, value);
        absl::StatusOr<bool> b = model->Put(key, start, value);
        ASSERT_TRUE(a.ok() && b.ok());
        ASSERT_EQ(*a, *b);
      } else if (op < 600) {
        absl::StatusOr<std::optional<std::string>> a =
            tested->Fetch(key, start);
        absl::StatusOr<std::optional<std::string>> b = model->Fetch(key, start);
        ASSERT_TRUE(a.ok() && b.ok());
        ASSERT_EQ(*a, *b);
      } else if (op < 880) {
        const int64_t to = start + pick(200);
        const bool backward = pick(2) == 0;
        auto drain = [&](std::unique_ptr<WindowIterator> it) {
          std::vector<std::tuple<std::string, int64_t, std::string>> out;
          for (; it->Valid(); it->Next()) {
            out.emplace_back(std::string(it->key()), it->window_start_ms(),
                             std::string(it->value()));
          }
          EXPECT_TRUE(it->status().ok()) << it->status();
          return out;
        };
        ASSERT_EQ(drain(backward ? tested->BackwardFetch(key, start, to)
                                 : tested->Fetch(key, start, to)),
                  drain(backward ? model->BackwardFetch(key, start, to)
                                 : model->Fetch(key, start, to)));
      } else if (op < 990) {
        ASSERT_TRUE(tested->Commit(std::nullopt).ok());
        ASSERT_TRUE(model->Commit(std::nullopt).ok());
      } else if (op < 995) {
        tested->Abort();
        model->Abort();
        time = model->observed_stream_time_ms().value_or(0);
      } else {
        // Reopen: what was committed stays, the rest is gone.
        ASSERT_TRUE(tested->Commit(std::nullopt).ok());
        ASSERT_TRUE(model->Commit(std::nullopt).ok());
        tested->Close();
        tested = open_tested();
      }
    }
    EXPECT_EQ(tested->observed_stream_time_ms(),
              model->observed_stream_time_ms());
  }
}

}  // namespace
}  // namespace brook::internal
