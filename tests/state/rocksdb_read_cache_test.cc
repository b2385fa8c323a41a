// The RocksDB store's read cache (RocksDBConfig::read_cache_bytes_per_store)
// and its uncommitted-write map: reads are served without RocksDB once a key
// is known, and no sequence of writes, commits, aborts, restores and wipes
// ever makes a read or a range disagree with a plain model of the store.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/statistics.h"

#include "brook/state/bytes_stores.h"
#include "tests/state/store_test_util.h"

namespace brook {
namespace {

using ::testing::Optional;
using testing_util::TempStateDir;
using testing_util::TestResources;

struct CountedStore {
  std::shared_ptr<rocksdb::Statistics> statistics =
      rocksdb::CreateDBStatistics();
  std::unique_ptr<KeyValueBytesStore> store;

  explicit CountedStore(int64_t read_cache_bytes) {
    RocksDBConfig config;
    config.read_cache_bytes_per_store = read_cache_bytes;
    config.config_setter = [s = statistics](const std::string&,
                                            rocksdb::Options* options) {
      options->statistics = s;
    };
    store = NewRocksDBKeyValueStore("kv", TestResources(config));
  }
  uint64_t rocksdb_gets() const {
    return statistics->getTickerCount(rocksdb::NUMBER_KEYS_READ);
  }
};

// Commits a key, reads it, rewrites and commits it again (the pattern of a
// count by key); then reads it and an absent key three times each. Returns
// how many of those six reads went to RocksDB.
uint64_t RocksDBGetsForSixReads(int64_t read_cache_bytes) {
  TempStateDir dir;
  CountedStore counted(read_cache_bytes);
  KeyValueBytesStore& store = *counted.store;
  EXPECT_OK(store.Open(dir.path()));
  EXPECT_OK(store.Put("counted", "1"));
  EXPECT_OK(store.Commit(1));
  EXPECT_THAT(*store.Get("counted"), Optional(std::string("1")));
  EXPECT_OK(store.Put("counted", "2"));
  EXPECT_OK(store.Commit(2));
  const uint64_t before = counted.rocksdb_gets();
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(*store.Get("counted"), Optional(std::string("2")));
    EXPECT_EQ(*store.Get("absent"), std::nullopt);
  }
  return counted.rocksdb_gets() - before;
}

TEST(RocksDBReadCacheTest, KnownKeysAreReadWithoutRocksDB) {
  // A cached key stays cached, with its new value, across the commit that
  // rewrites it; an absent key is looked up each time (misses are not
  // cached: window stores miss once per new window and never ask again).
  EXPECT_EQ(RocksDBGetsForSixReads(1 << 20), 3);
}

TEST(RocksDBReadCacheTest, ZeroBytesTurnsTheCacheOff) {
  EXPECT_EQ(RocksDBGetsForSixReads(0), 6);
}

TEST(RocksDBReadCacheTest, AKeyWrittenButNeverReadIsNotCached) {
  // Window and join stores write keys that only range scans read: a commit
  // must not fill the cache with them. The first Get reads RocksDB.
  TempStateDir dir;
  CountedStore counted(1 << 20);
  KeyValueBytesStore& store = *counted.store;
  ASSERT_OK(store.Open(dir.path()));
  ASSERT_OK(store.Put("unread", "1"));
  ASSERT_OK(store.Commit(1));
  const uint64_t before = counted.rocksdb_gets();
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(*store.Get("unread"), Optional(std::string("1")));
  }
  EXPECT_EQ(counted.rocksdb_gets() - before, 1);
}

TEST(RocksDBReadCacheTest, RejectsANegativeSize) {
  RocksDBConfig config;
  config.read_cache_bytes_per_store = -1;
  absl::StatusOr<std::shared_ptr<RocksDBResources>> resources =
      RocksDBResources::Create(config);
  EXPECT_EQ(resources.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(resources.status().message()),
              ::testing::HasSubstr("read_cache_bytes_per_store"));
}

// Random operations on 40 keys against a model: the committed map and the
// pending writes. Cache sizes: off, a few entries (emptied over and over),
// and all of it.
TEST(RocksDBReadCacheTest, RandomOperationsAgreeWithAModel) {
  for (int64_t cache_bytes : {int64_t{0}, int64_t{400}, int64_t{1} << 20}) {
    SCOPED_TRACE(absl::StrCat("read cache bytes ", cache_bytes));
    TempStateDir dir;
    CountedStore counted(cache_bytes);
    KeyValueBytesStore& store = *counted.store;
    ASSERT_OK(store.Open(dir.path()));
    std::map<std::string, std::string> committed;
    std::map<std::string, std::optional<std::string>> pending;
    auto expected = [&](const std::string& key) -> std::optional<std::string> {
      if (auto it = pending.find(key); it != pending.end()) return it->second;
      if (auto it = committed.find(key); it != committed.end()) {
        return it->second;
      }
      return std::nullopt;
    };
    auto check_range = [&](const std::string& from, const std::string& to) {
      std::map<std::string, std::string> want;
      for (const auto& [k, v] : committed) want[k] = v;
      for (const auto& [k, v] : pending) {
        if (v) {
          want[k] = *v;
        } else {
          want.erase(k);
        }
      }
      std::vector<std::pair<std::string, std::string>> want_range, got;
      for (const auto& [k, v] : want) {
        if (k >= from && k < to) want_range.emplace_back(k, v);
      }
      auto it = store.Range(from, to);
      for (; it->Valid(); it->Next()) got.emplace_back(it->key(), it->value());
      ASSERT_OK(it->status());
      EXPECT_EQ(got, want_range);
    };
    std::mt19937 random(7);
    int64_t offset = 0;
    for (int step = 0; step < 20000; ++step) {
      const std::string key = absl::StrCat("k", random() % 40 + 10);
      const int op = static_cast<int>(random() % 100);
      if (op < 35) {
        const std::string value = absl::StrCat("v", step);
        ASSERT_OK(store.Put(key, value));
        pending[key] = value;
      } else if (op < 45) {
        ASSERT_OK(store.Delete(key));
        pending[key] = std::nullopt;
      } else if (op < 85) {
        absl::StatusOr<std::optional<std::string>> got = store.Get(key);
        ASSERT_OK(got.status());
        ASSERT_EQ(*got, expected(key)) << "key " << key << " at step " << step;
      } else if (op < 92) {
        ASSERT_OK(store.Commit(++offset));
        for (auto& [k, v] : pending) {
          if (v) {
            committed[k] = *v;
          } else {
            committed.erase(k);
          }
        }
        pending.clear();
      } else if (op < 96) {
        store.Abort();
        pending.clear();
      } else if (op < 98) {
        ASSERT_NO_FATAL_FAILURE(check_range("k20", "k35"));
      } else if (pending.empty()) {
        // A restore overwrites one key and deletes another.
        const std::string gone = absl::StrCat("k", random() % 40 + 10);
        std::vector<ChangeRecord> records = {
            {key, absl::StrCat("restored", step)}, {gone, std::nullopt}};
        ASSERT_OK(store.Restore(records, ++offset));
        committed[key] = *records[0].value;
        committed.erase(gone);
      }
    }
    ASSERT_NO_FATAL_FAILURE(check_range("k", "l"));
    // Wipe empties the cache too.
    ASSERT_OK(store.Wipe());
    for (int k = 10; k < 50; ++k) {
      EXPECT_EQ(*store.Get(absl::StrCat("k", k)), std::nullopt);
    }
  }
}

}  // namespace
}  // namespace brook
