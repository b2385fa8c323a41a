// What only the RocksDB stores do: shared resources, the atomic commit,
// recovery from damaged files, and scale.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/options_util.h"
#include "rocksdb/write_buffer_manager.h"

#include "brook/state/bytes_stores.h"
#include "brook/state/internal/rocksdb_handle.h"
#include "tests/state/store_test_util.h"

namespace brook {
namespace {

namespace fs = std::filesystem;
using ::testing::IsEmpty;
using ::testing::Optional;
using testing_util::TempStateDir;
using testing_util::TestResources;

rocksdb::Cache* BlockCache(const rocksdb::Options& options) {
  return options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>()
      ->block_cache.get();
}

TEST(RocksDBResourcesTest, RejectsABudgetThatIsNotPositive) {
  for (int64_t budget : {int64_t{0}, int64_t{-1}}) {
    RocksDBConfig config;
    config.memory_budget_bytes = budget;
    auto resources = RocksDBResources::Create(config);
    EXPECT_EQ(resources.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(
        absl::StrContains(resources.status().message(), "memory_budget_bytes"));
  }
}

TEST(RocksDBResourcesTest, StoresShareOneCacheAndWriteBufferManager) {
  RocksDBConfig config;
  config.memory_budget_bytes = 64 << 20;
  auto resources = RocksDBResources::Create(config);
  ASSERT_OK(resources.status());
  const rocksdb::Options a = (*resources)->OptionsFor("a");
  const rocksdb::Options b = (*resources)->OptionsFor("b");
  ASSERT_NE(BlockCache(a), nullptr);
  EXPECT_EQ(BlockCache(a), BlockCache(b));
  EXPECT_EQ(BlockCache(a)->GetCapacity(), size_t{64} << 20);
  ASSERT_NE(a.write_buffer_manager, nullptr);
  EXPECT_EQ(a.write_buffer_manager, b.write_buffer_manager);
  EXPECT_EQ(a.write_buffer_manager->buffer_size(), size_t{32} << 20);
  EXPECT_TRUE(a.write_buffer_manager->cost_to_cache());
  EXPECT_EQ(a.compression, rocksdb::kNoCompression);
  EXPECT_TRUE(a.create_if_missing);
}

TEST(RocksDBResourcesTest, AppliesTheCompressionAndTheSetterLast) {
  std::vector<std::string> names;
  RocksDBConfig config;
  config.compression = rocksdb::kLZ4Compression;
  config.config_setter = [&names](const std::string& name,
                                  rocksdb::Options* options) {
    names.push_back(name);
    if (name == "big") options->write_buffer_size = 1234567;
    options->compression =
        name == "big" ? rocksdb::kZSTD : options->compression;
  };
  auto resources = RocksDBResources::Create(config);
  ASSERT_OK(resources.status());
  const rocksdb::Options big = (*resources)->OptionsFor("big");
  const rocksdb::Options small = (*resources)->OptionsFor("small");
  EXPECT_EQ(big.write_buffer_size, 1234567u);
  EXPECT_EQ(big.compression, rocksdb::kZSTD);
  EXPECT_EQ(small.write_buffer_size, rocksdb::Options().write_buffer_size);
  EXPECT_EQ(small.compression, rocksdb::kLZ4Compression);
  EXPECT_THAT(names, ::testing::ElementsAre("big", "small"));
}

TEST(RocksDBResourcesTest, OpenedStoresUseTheSetterButKeepAtomicFlush) {
  TempStateDir dir;
  RocksDBConfig config;
  config.config_setter = [](const std::string&, rocksdb::Options* options) {
    options->write_buffer_size = 1234567;
    options->atomic_flush = false;  // the store must not allow this
  };
  auto store = NewRocksDBKeyValueStore("kv", TestResources(config));
  ASSERT_OK(store->Open(dir.path()));
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  rocksdb::ConfigOptions config_options;
  ASSERT_TRUE(rocksdb::LoadLatestOptions(config_options, dir.path() + "/kv",
                                         &db_options, &families)
                  .ok());
  EXPECT_TRUE(db_options.atomic_flush);
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[1].name, internal::kMetaColumnFamily);
  EXPECT_EQ(families[0].options.write_buffer_size, 1234567u);
}

TEST(RocksDBResourcesTest, StoresChargeTheirMemtablesToTheSharedCache) {
  TempStateDir dir;
  std::shared_ptr<RocksDBResources> resources = TestResources();
  rocksdb::Cache* cache = BlockCache(resources->OptionsFor("any"));
  const size_t empty = cache->GetUsage();
  auto a = NewRocksDBKeyValueStore("a", resources);
  auto b = NewRocksDBKeyValueStore("b", resources);
  ASSERT_OK(a->Open(dir.path()));
  ASSERT_OK(b->Open(dir.path()));
  const std::string value(1024, 'v');
  for (int i = 0; i < 2000; ++i)
    ASSERT_OK(a->Put(absl::StrCat("key", i), value));
  ASSERT_OK(a->Commit(1));
  const size_t after_a = cache->GetUsage();
  for (int i = 0; i < 2000; ++i)
    ASSERT_OK(b->Put(absl::StrCat("key", i), value));
  ASSERT_OK(b->Commit(1));
  const size_t after_b = cache->GetUsage();
  EXPECT_GE(after_a, empty + (1 << 20));
  EXPECT_GE(after_b, after_a + (1 << 20));
}

TEST(RocksDBResourcesTest, StoreWithoutSharedResourcesMakesItsOwn) {
  TempStateDir dir;
  auto store = NewRocksDBKeyValueStore("kv", nullptr);
  ASSERT_OK(store->Open(dir.path()));
  ASSERT_OK(store->Put("a", "1"));
  ASSERT_OK(store->Commit(1));
  EXPECT_EQ(store->committed_offset(), 1);
}

// A raw handle on a store's database, with both column families.
class RawDB {
 public:
  explicit RawDB(const std::string& path) {
    rocksdb::Options options;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, options},
        {internal::kMetaColumnFamily, options}};
    rocksdb::DB* db = nullptr;
    status_ = rocksdb::DB::Open(options, path, families, &handles_, &db);
    db_.reset(db);
  }
  ~RawDB() {
    for (auto* handle : handles_) {
      db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
  }
  const rocksdb::Status& status() const { return status_; }
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* data() { return handles_[0]; }
  rocksdb::ColumnFamilyHandle* meta() { return handles_[1]; }

 private:
  rocksdb::Status status_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

class RocksDBStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = NewStore(); }

  std::unique_ptr<KeyValueBytesStore> NewStore(RocksDBConfig config = {}) {
    return NewRocksDBKeyValueStore("kv", TestResources(config));
  }

  std::string StorePath() const { return dir_.path() + "/kv"; }

  // Commits `count` keys at offset `count` and closes the store, then
  // flushes them into table files with a raw handle.
  void CommitAndFlush(int count) {
    ASSERT_OK(store_->Open(dir_.path()));
    for (int i = 0; i < count; ++i) {
      ASSERT_OK(store_->Put(absl::StrCat("key", i), std::string(100, 'v')));
    }
    ASSERT_OK(store_->Commit(count));
    store_->Close();
    RawDB raw(StorePath());
    ASSERT_TRUE(raw.status().ok()) << raw.status().ToString();
    ASSERT_TRUE(raw.db()
                    ->Flush(rocksdb::FlushOptions(), {raw.data(), raw.meta()})
                    .ok());
  }

  // The table files, largest (the data) first.
  std::vector<fs::path> TableFiles() const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(StorePath())) {
      if (entry.path().extension() == ".sst") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end(),
              [](const fs::path& a, const fs::path& b) {
                return fs::file_size(a) > fs::file_size(b);
              });
    return files;
  }

  static void Overwrite(const fs::path& file, std::streamoff offset) {
    std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);
    out.seekp(offset);
    out.write("garbage!", 8);
  }

  int64_t CountAll() {
    int64_t count = 0;
    auto it = store_->Range(std::nullopt, std::nullopt);
    for (; it->Valid(); it->Next()) ++count;
    EXPECT_OK(it->status());
    return count;
  }

  // Open() failed with kDataLoss naming the store; Wipe() then Open() give
  // an empty store.
  void ExpectDataLossThenRecovery(const absl::Status& open) {
    EXPECT_EQ(open.code(), absl::StatusCode::kDataLoss) << open;
    EXPECT_TRUE(absl::StrContains(open.message(), "'kv'")) << open;
    EXPECT_TRUE(absl::StrContains(open.message(), StorePath())) << open;
    ASSERT_OK(store_->Wipe());
    EXPECT_EQ(store_->Get("key1").status().code(),
              absl::StatusCode::kFailedPrecondition);  // still closed
    ASSERT_OK(store_->Open(dir_.path()));
    EXPECT_EQ(store_->committed_offset(), std::nullopt);
    EXPECT_EQ(CountAll(), 0);
    ASSERT_OK(store_->Put("a", "1"));
    ASSERT_OK(store_->Commit(1));
    EXPECT_EQ(store_->committed_offset(), 1);
  }

  TempStateDir dir_;
  std::unique_ptr<KeyValueBytesStore> store_;
};

TEST_F(RocksDBStoreTest, CommitIsOneWriteOfDataAndOffset) {
  auto statistics = rocksdb::CreateDBStatistics();
  RocksDBConfig config;
  config.config_setter = [statistics](const std::string&,
                                      rocksdb::Options* options) {
    options->statistics = statistics;
  };
  store_ = NewStore(config);
  ASSERT_OK(store_->Open(dir_.path()));
  const uint64_t writes =
      statistics->getTickerCount(rocksdb::WRITE_DONE_BY_SELF);
  const uint64_t keys =
      statistics->getTickerCount(rocksdb::NUMBER_KEYS_WRITTEN);
  ASSERT_OK(store_->Put("a", "1"));
  ASSERT_OK(store_->Put("b", "2"));
  ASSERT_OK(store_->Delete("c"));
  EXPECT_EQ(statistics->getTickerCount(rocksdb::WRITE_DONE_BY_SELF), writes);
  ASSERT_OK(store_->Commit(5));
  EXPECT_EQ(statistics->getTickerCount(rocksdb::WRITE_DONE_BY_SELF),
            writes + 1);
  // a, b, the delete of c and the offset.
  EXPECT_EQ(statistics->getTickerCount(rocksdb::NUMBER_KEYS_WRITTEN), keys + 4);
}

// Disk actually allocated (not the apparent size: RocksDB used to reserve
// its write-ahead log with fallocate, KEEP_SIZE) under `dir`.
int64_t AllocatedBytes(const std::string& dir) {
  int64_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    struct stat st;
    if (entry.is_regular_file() && ::stat(entry.path().c_str(), &st) == 0) {
      bytes += static_cast<int64_t>(st.st_blocks) * 512;
    }
  }
  return bytes;
}

// A store of one key takes kilobytes on disk, not the ~70 MiB RocksDB would
// reserve for its write-ahead log and MANIFEST (600 partitions filled 66 GB).
TEST_F(RocksDBStoreTest, ASmallStoreReservesNoDiskAhead) {
  ASSERT_OK(store_->Open(dir_.path()));
  ASSERT_OK(store_->Put("a", "1"));
  ASSERT_OK(store_->Commit(1));
  EXPECT_LT(AllocatedBytes(StorePath()), int64_t{2} << 20);
}

TEST_F(RocksDBStoreTest, OffsetIsStoredBigEndianBesideTheData) {
  ASSERT_OK(store_->Open(dir_.path()));
  ASSERT_OK(store_->Put("a", "1"));
  ASSERT_OK(store_->Commit(0x0102030405060708));
  store_->Close();
  RawDB raw(StorePath());
  ASSERT_TRUE(raw.status().ok()) << raw.status().ToString();
  std::string value;
  ASSERT_TRUE(raw.db()
                  ->Get(rocksdb::ReadOptions(), raw.meta(),
                        internal::kChangelogOffsetKey, &value)
                  .ok());
  EXPECT_EQ(value, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  ASSERT_TRUE(
      raw.db()->Get(rocksdb::ReadOptions(), raw.data(), "a", &value).ok());
  EXPECT_EQ(value, "1");
}

TEST_F(RocksDBStoreTest, EmptyDirectoryOpensAsAnEmptyStore) {
  fs::create_directories(StorePath());
  ASSERT_OK(store_->Open(dir_.path()));
  EXPECT_EQ(store_->committed_offset(), std::nullopt);
  EXPECT_EQ(CountAll(), 0);
}

TEST_F(RocksDBStoreTest, TruncatedTableFileIsDataLoss) {
  CommitAndFlush(1000);
  std::vector<fs::path> files = TableFiles();
  ASSERT_FALSE(files.empty());
  fs::resize_file(files[0], fs::file_size(files[0]) / 2);
  ExpectDataLossThenRecovery(store_->Open(dir_.path()));
}

TEST_F(RocksDBStoreTest, MissingTableFileIsDataLoss) {
  CommitAndFlush(1000);
  std::vector<fs::path> files = TableFiles();
  ASSERT_FALSE(files.empty());
  fs::remove(files[0]);
  ExpectDataLossThenRecovery(store_->Open(dir_.path()));
}

TEST_F(RocksDBStoreTest, CorruptBlockIsDataLossAtOpen) {
  CommitAndFlush(1000);
  std::vector<fs::path> files = TableFiles();
  ASSERT_FALSE(files.empty());
  Overwrite(files[0], 100);  // inside the first data block
  ExpectDataLossThenRecovery(store_->Open(dir_.path()));
}

TEST_F(RocksDBStoreTest, CorruptBlockIsDataLossOnReadWithoutVerification) {
  RocksDBConfig config;
  config.verify_checksums_on_open = false;
  store_ = NewStore(config);
  CommitAndFlush(1000);
  std::vector<fs::path> files = TableFiles();
  ASSERT_FALSE(files.empty());
  Overwrite(files[0], 100);
  ASSERT_OK(store_->Open(dir_.path()));
  auto it = store_->Range(std::nullopt, std::nullopt);
  while (it->Valid()) it->Next();
  EXPECT_EQ(it->status().code(), absl::StatusCode::kDataLoss) << it->status();
}

TEST_F(RocksDBStoreTest, MissingCurrentFileIsDataLoss) {
  CommitAndFlush(10);
  fs::remove(StorePath() + "/CURRENT");
  // RocksDB alone would write a fresh CURRENT while failing, and open an
  // empty database the second time.
  EXPECT_EQ(store_->Open(dir_.path()).code(), absl::StatusCode::kDataLoss);
  ExpectDataLossThenRecovery(store_->Open(dir_.path()));
}

TEST_F(RocksDBStoreTest, GarbledOffsetIsDataLoss) {
  CommitAndFlush(10);
  {
    RawDB raw(StorePath());
    ASSERT_TRUE(raw.status().ok()) << raw.status().ToString();
    ASSERT_TRUE(raw.db()
                    ->Put(rocksdb::WriteOptions(), raw.meta(),
                          internal::kChangelogOffsetKey, "abc")
                    .ok());
  }
  ExpectDataLossThenRecovery(store_->Open(dir_.path()));
}

TEST_F(RocksDBStoreTest, GarbledStreamTimeOfAWindowStoreIsDataLoss) {
  auto window = NewRocksDBWindowStore("win", 1000, 0, TestResources());
  ASSERT_OK(window->Open(dir_.path()));
  ASSERT_OK(window->Put("k", 10, "v").status());
  ASSERT_OK(window->Commit(1));
  window->Close();
  {
    RawDB raw(dir_.path() + "/win");
    ASSERT_TRUE(raw.status().ok()) << raw.status().ToString();
    ASSERT_TRUE(raw.db()
                    ->Put(rocksdb::WriteOptions(), raw.meta(),
                          internal::kStreamTimeKey, std::string(9, '\0'))
                    .ok());
  }
  EXPECT_EQ(window->Open(dir_.path()).code(), absl::StatusCode::kDataLoss);
  ASSERT_OK(window->Wipe());
  ASSERT_OK(window->Open(dir_.path()));
  EXPECT_EQ(window->committed_offset(), std::nullopt);
}

TEST_F(RocksDBStoreTest, DatabaseLockedElsewhereIsUnavailable) {
  ASSERT_OK(store_->Open(dir_.path()));
  auto second = NewStore();
  absl::Status status = second->Open(dir_.path());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

TEST_F(RocksDBStoreTest, HundredThousandKeysSurviveCommitAndReopen) {
  constexpr int kKeys = 100000;
  ASSERT_OK(store_->Open(dir_.path()));
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_OK(store_->Put(absl::StrCat("key", i), absl::StrCat("value", i)));
  }
  ASSERT_OK(store_->Commit(kKeys));
  store_->Close();
  store_ = NewStore();
  ASSERT_OK(store_->Open(dir_.path()));
  EXPECT_EQ(store_->committed_offset(), kKeys);
  EXPECT_EQ(CountAll(), kKeys);
  absl::StatusOr<std::optional<std::string>> value = store_->Get("key54321");
  ASSERT_OK(value.status());
  EXPECT_THAT(*value, Optional(std::string("value54321")));
  absl::StatusOr<int64_t> estimate = store_->ApproximateNumEntries();
  ASSERT_OK(estimate.status());
  EXPECT_GT(*estimate, kKeys / 2);
  EXPECT_LT(*estimate, kKeys * 2);
}

// Restored changelog records skip RocksDB's write-ahead log (the changelog
// has them). A crash, here the store's directory copied while it is open,
// loses them together with their offset, so the restore just starts again;
// and the first commit after a restore flushes them first, so a crash after
// it never replays that commit's offset over restored data that was lost.
TEST_F(RocksDBStoreTest, RestoredDataAndItsOffsetAreLostOrKeptTogether) {
  ASSERT_OK(store_->Open(dir_.path()));
  std::vector<ChangeRecord> records;
  for (int i = 0; i < 100; ++i) {
    records.push_back({absl::StrCat("key", i), std::string(100, 'v')});
  }
  ASSERT_OK(store_->Restore(records, 100));
  auto crash_copy = [&](const std::string& name) {
    const std::string root = dir_.path() + "/" + name;
    fs::create_directories(root);
    fs::copy(StorePath(), root + "/kv", fs::copy_options::recursive);
    return root;
  };
  const std::string while_restoring = crash_copy("while-restoring");
  ASSERT_OK(store_->Put("fresh", "1"));
  ASSERT_OK(store_->Commit(101));
  const std::string after_commit = crash_copy("after-commit");
  store_->Close();

  auto count = [](KeyValueBytesStore& store) {
    int64_t n = 0;
    auto it = store.Range(std::nullopt, std::nullopt);
    for (; it->Valid(); it->Next()) ++n;
    EXPECT_OK(it->status());
    return n;
  };
  std::unique_ptr<KeyValueBytesStore> restoring = NewStore();
  ASSERT_OK(restoring->Open(while_restoring));
  EXPECT_EQ(restoring->committed_offset(), std::nullopt);
  EXPECT_EQ(count(*restoring), 0);
  std::unique_ptr<KeyValueBytesStore> committed = NewStore();
  ASSERT_OK(committed->Open(after_commit));
  EXPECT_EQ(committed->committed_offset(), 101);
  EXPECT_EQ(count(*committed), 101);
}

}  // namespace
}  // namespace brook

namespace brook {
namespace {

// One memtable per store, all charged to the shared budget's write buffer
// manager: with RocksDB's default arena block (1 MiB a memtable), 60
// partitions of a count by key kept the budget full, and every commit of
// every store flushed its memtable to a new table file (issue 10's
// 60-partition profile: flushes, fsyncs, compactions and page zeroing took
// most of the process). Small stores must fit the budget many times over.
TEST(RocksDBManyStoresTest, SmallStoresWithinTheBudgetDoNotFlush) {
  TempStateDir dir;
  std::shared_ptr<RocksDBResources> resources = TestResources();  // 16 MiB
  std::vector<std::unique_ptr<KeyValueBytesStore>> stores;
  constexpr int kStores = 50;
  for (int i = 0; i < kStores; ++i) {
    stores.push_back(
        NewRocksDBKeyValueStore(absl::StrCat("store-", i), resources));
    ASSERT_OK(stores.back()->Open(dir.path()));
  }
  int64_t offset = 0;
  for (int round = 0; round < 5; ++round) {
    for (auto& store : stores) {
      for (int k = 0; k < 10; ++k) {
        ASSERT_OK(store->Put(absl::StrCat("k", k), absl::StrCat("v", round)));
      }
      ASSERT_OK(store->Commit(++offset));
    }
  }
  int64_t table_bytes = 0;
  int64_t memtable_bytes = 0;
  for (auto& store : stores) {
    StateStoreMetrics m = store->Metrics();
    table_bytes += m.total_sst_files_size_bytes.value_or(0);
    memtable_bytes += m.cur_size_all_mem_tables_bytes.value_or(0);
  }
  EXPECT_EQ(table_bytes, 0)
      << "stores flushed; memtables hold " << memtable_bytes << " bytes in all";
  // 50 stores of 10 small keys: a quarter of the 8 MiB that the 16 MiB
  // budget leaves memtables at most (1 MiB arena blocks: over 50 MiB).
  EXPECT_LT(memtable_bytes, 2 << 20);
}

}  // namespace
}  // namespace brook
