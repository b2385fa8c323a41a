#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/state/bytes_stores.h"
#include "brook/state/key_value_bytes_store.h"
#include "tests/state/store_test_util.h"

namespace brook {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::Pair;
using testing_util::KindName;
using testing_util::RecordingLogger;
using testing_util::StoreKind;
using testing_util::TempStateDir;
using testing_util::TestResources;

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs Drain(std::unique_ptr<KeyValueIterator> it) {
  Pairs pairs;
  for (; it->Valid(); it->Next()) {
    pairs.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok()) << it->status();
  return pairs;
}

// Runs against both implementations.
class KeyValueStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    store_ = NewStore();
    ASSERT_OK(store_->Open(dir_.path()));
    store_->SetChangeSink(&logger_);
  }

  std::unique_ptr<KeyValueBytesStore> NewStore() {
    if (GetParam() == StoreKind::kInMemory) {
      return NewInMemoryKeyValueStore("kv");
    }
    return NewRocksDBKeyValueStore("kv", resources_);
  }

  // Closes the store and opens a new one on the same directory.
  void Reopen() {
    store_->Close();
    store_ = NewStore();
    ASSERT_OK(store_->Open(dir_.path()));
    store_->SetChangeSink(&logger_);
  }

  std::optional<std::string> Get(absl::string_view key) {
    absl::StatusOr<std::optional<std::string>> value = store_->Get(key);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? *value : std::nullopt;
  }

  Pairs All() { return Drain(store_->Range(std::nullopt, std::nullopt)); }

  void PutAndCommit(const Pairs& pairs, std::optional<int64_t> offset) {
    for (const auto& [key, value] : pairs) ASSERT_OK(store_->Put(key, value));
    ASSERT_OK(store_->Commit(offset));
  }

  TempStateDir dir_;
  RecordingLogger logger_;
  std::shared_ptr<RocksDBResources> resources_ = TestResources();
  std::unique_ptr<KeyValueBytesStore> store_;
};

TEST_P(KeyValueStoreTest, FreshStoreIsEmptyWithoutOffset) {
  EXPECT_EQ(store_->name(), "kv");
  EXPECT_EQ(store_->persistent(), GetParam() == StoreKind::kRocksDB);
  EXPECT_EQ(store_->committed_offset(), std::nullopt);
  EXPECT_FALSE(store_->has_uncommitted());
  EXPECT_EQ(Get("a"), std::nullopt);
  EXPECT_THAT(All(), IsEmpty());
}

TEST_P(KeyValueStoreTest, ReadsSeeUncommittedWrites) {
  ASSERT_OK(store_->Put("a", "1"));
  EXPECT_TRUE(store_->has_uncommitted());
  EXPECT_THAT(Get("a"), Optional(std::string("1")));
  ASSERT_OK(store_->Put("a", "2"));
  EXPECT_THAT(Get("a"), Optional(std::string("2")));
  EXPECT_THAT(All(), ElementsAre(Pair("a", "2")));
}

TEST_P(KeyValueStoreTest, BufferedDeleteHidesCommittedKey) {
  PutAndCommit({{"a", "1"}, {"b", "2"}}, 10);
  ASSERT_OK(store_->Delete("a"));
  EXPECT_EQ(Get("a"), std::nullopt);
  EXPECT_THAT(All(), ElementsAre(Pair("b", "2")));
  ASSERT_OK(store_->Commit(11));
  EXPECT_EQ(Get("a"), std::nullopt);
  EXPECT_THAT(All(), ElementsAre(Pair("b", "2")));
}

TEST_P(KeyValueStoreTest, IteratorsMergeBufferWithCommittedData) {
  PutAndCommit({{"a", "1"}, {"c", "3"}, {"e", "5"}, {"g", "7"}}, 4);
  ASSERT_OK(store_->Put("b", "2"));
  ASSERT_OK(store_->Delete("c"));
  ASSERT_OK(store_->Put("d", "4"));
  ASSERT_OK(store_->Put("e", "55"));
  ASSERT_OK(store_->Delete("g"));
  ASSERT_OK(store_->Delete("h"));  // not there at all
  EXPECT_THAT(All(), ElementsAre(Pair("a", "1"), Pair("b", "2"), Pair("d", "4"),
                                 Pair("e", "55")));
  EXPECT_THAT(Drain(store_->Range("b", "e")),
              ElementsAre(Pair("b", "2"), Pair("d", "4")));
}

TEST_P(KeyValueStoreTest, RangeIsHalfOpen) {
  PutAndCommit({{"a", "1"}, {"b", "2"}, {"c", "3"}}, 3);
  ASSERT_OK(store_->Put("d", "4"));
  EXPECT_THAT(Drain(store_->Range("b", "d")),
              ElementsAre(Pair("b", "2"), Pair("c", "3")));
  EXPECT_THAT(Drain(store_->Range(std::nullopt, "b")),
              ElementsAre(Pair("a", "1")));
  EXPECT_THAT(Drain(store_->Range("c", std::nullopt)),
              ElementsAre(Pair("c", "3"), Pair("d", "4")));
  EXPECT_THAT(Drain(store_->Range("b", "b")), IsEmpty());
  EXPECT_THAT(Drain(store_->Range("c", "a")), IsEmpty());
  EXPECT_THAT(Drain(store_->Range("bb", "c")), IsEmpty());
}

TEST_P(KeyValueStoreTest, PrefixScanReturnsExactlyTheKeysWithThePrefix) {
  PutAndCommit({{"a", "0"},
                {"ab", "1"},
                {std::string("ab\xff", 3), "2"},
                {std::string("ab\xff\xff", 4), "3"},
                {"ac", "4"}},
               5);
  ASSERT_OK(store_->Put("abc", "5"));
  ASSERT_OK(store_->Delete("ab"));
  EXPECT_THAT(Drain(store_->PrefixScan("ab")),
              ElementsAre(Pair(std::string("abc"), "5"),
                          Pair(std::string("ab\xff", 3), "2"),
                          Pair(std::string("ab\xff\xff", 4), "3")));
  EXPECT_THAT(Drain(store_->PrefixScan(std::string("ab\xff", 3))),
              ElementsAre(Pair(std::string("ab\xff", 3), "2"),
                          Pair(std::string("ab\xff\xff", 4), "3")));
  EXPECT_THAT(Drain(store_->PrefixScan("")).size(), 5u);
  EXPECT_THAT(Drain(store_->PrefixScan("x")), IsEmpty());
}

TEST_P(KeyValueStoreTest, IteratorKeepsGoingWhileTheStoreIsWritten) {
  PutAndCommit({{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}, 1);
  ASSERT_OK(store_->Put("bb", "buffered"));
  std::vector<std::string> seen;
  std::unique_ptr<KeyValueIterator> it =
      store_->Range(std::nullopt, std::nullopt);
  for (; it->Valid(); it->Next()) {
    const std::string key(it->key());
    seen.push_back(key);
    if (key.back() == '_') continue;  // added below
    // Rewrite the current key, delete it, and add a key just after it.
    ASSERT_OK(store_->Put(key, "overwritten"));
    ASSERT_OK(store_->Delete(key));
    ASSERT_OK(store_->Put(key + "_", "new"));
    EXPECT_EQ(std::string(it->key()), key);
  }
  EXPECT_OK(it->status());
  it.reset();
  // Every original key is seen once; the added keys may or may not be.
  std::vector<std::string> originals;
  for (const std::string& key : seen) {
    if (key.back() != '_') originals.push_back(key);
  }
  EXPECT_THAT(originals, ElementsAre("a", "b", "bb", "c", "d"));
  EXPECT_THAT(All(), ElementsAre(Pair("a_", "new"), Pair("b_", "new"),
                                 Pair("bb_", "new"), Pair("c_", "new"),
                                 Pair("d_", "new")));
}

TEST_P(KeyValueStoreTest, IteratorSurvivesManyWritesAroundIt) {
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(store_->Put(absl::StrCat("c", 1000 + i), "committed"));
  }
  ASSERT_OK(store_->Commit(1));
  for (int i = 0; i < 200; i += 2) {
    ASSERT_OK(store_->Put(absl::StrCat("c", 1000 + i), "buffered"));
  }
  int seen = 0;
  auto it = store_->PrefixScan("c");
  for (; it->Valid(); it->Next(), ++seen) {
    ASSERT_EQ(it->key(), absl::StrCat("c", 1000 + seen));
    ASSERT_EQ(it->value(), seen % 2 == 0 ? "buffered" : "committed");
    // Grow the buffer well past its first allocation, outside the scan,
    // and rewrite the keys on both sides of the current one.
    for (int j = 0; j < 20; ++j) {
      ASSERT_OK(
          store_->Put(absl::StrCat("b", seen, "-", j), std::string(100, 'x')));
    }
    if (seen > 0) {
      ASSERT_OK(store_->Put(absl::StrCat("c", 1000 + seen - 1), "rewritten"));
    }
    ASSERT_OK(store_->Put(absl::StrCat("c", 1000 + seen), "rewritten"));
    if (seen < 199) {  // same value as before: the next check still holds
      ASSERT_OK(store_->Put(absl::StrCat("c", 1000 + seen + 1),
                            seen % 2 == 0 ? "committed" : "buffered"));
    }
  }
  EXPECT_OK(it->status());
  EXPECT_EQ(seen, 200);
}

TEST_P(KeyValueStoreTest, AbortDropsUncommittedWrites) {
  PutAndCommit({{"a", "1"}}, 7);
  ASSERT_OK(store_->Put("a", "2"));
  ASSERT_OK(store_->Put("b", "3"));
  ASSERT_OK(store_->Delete("a"));
  store_->Abort();
  EXPECT_FALSE(store_->has_uncommitted());
  EXPECT_THAT(All(), ElementsAre(Pair("a", "1")));
  EXPECT_EQ(store_->committed_offset(), 7);
  ASSERT_OK(store_->Put("c", "4"));
  ASSERT_OK(store_->Commit(8));
  EXPECT_THAT(All(), ElementsAre(Pair("a", "1"), Pair("c", "4")));
}

TEST_P(KeyValueStoreTest, CommitSetsOffsetAndNulloptKeepsIt) {
  ASSERT_OK(store_->Put("a", "1"));
  ASSERT_OK(store_->Commit(std::nullopt));
  EXPECT_EQ(store_->committed_offset(), std::nullopt);
  EXPECT_FALSE(store_->has_uncommitted());
  PutAndCommit({{"b", "2"}}, 42);
  EXPECT_EQ(store_->committed_offset(), 42);
  PutAndCommit({{"c", "3"}}, std::nullopt);
  EXPECT_EQ(store_->committed_offset(), 42);
  ASSERT_OK(store_->Commit(50));  // no data, offset only
  EXPECT_EQ(store_->committed_offset(), 50);
  EXPECT_THAT(All(),
              ElementsAre(Pair("a", "1"), Pair("b", "2"), Pair("c", "3")));
}

TEST_P(KeyValueStoreTest, PutIfAbsentWritesOnlyWhenAbsent) {
  PutAndCommit({{"committed", "c"}}, 1);
  ASSERT_OK(store_->Put("buffered", "b"));
  logger_.changes.clear();

  auto existing = store_->PutIfAbsent("committed", "x");
  ASSERT_OK(existing.status());
  EXPECT_THAT(*existing, Optional(std::string("c")));
  existing = store_->PutIfAbsent("buffered", "x");
  ASSERT_OK(existing.status());
  EXPECT_THAT(*existing, Optional(std::string("b")));
  EXPECT_THAT(logger_.changes, IsEmpty());

  auto absent = store_->PutIfAbsent("new", "n");
  ASSERT_OK(absent.status());
  EXPECT_EQ(*absent, std::nullopt);
  EXPECT_THAT(Get("new"), Optional(std::string("n")));
  EXPECT_THAT(Get("committed"), Optional(std::string("c")));
  EXPECT_THAT(logger_.changes, ElementsAre(ChangeRecord{"new", "n"}));
}

TEST_P(KeyValueStoreTest, LoggerReceivesEveryChangeInOrder) {
  ASSERT_OK(store_->Put("a", "1"));
  ASSERT_OK(store_->Delete("b"));
  ASSERT_OK(store_->Put("a", "2"));
  ASSERT_OK(store_->Put(std::string("k\0y", 3), std::string("v\0", 2)));
  store_->Abort();  // aborting does not unlog: the transaction aborts too
  ASSERT_OK(store_->Delete("a"));
  EXPECT_THAT(
      logger_.changes,
      ElementsAre(ChangeRecord{"a", "1"}, ChangeRecord{"b", std::nullopt},
                  ChangeRecord{"a", "2"},
                  ChangeRecord{std::string("k\0y", 3), std::string("v\0", 2)},
                  ChangeRecord{"a", std::nullopt}));
}

TEST_P(KeyValueStoreTest, ChangesAreNotLoggedWithoutLogger) {
  store_->SetChangeSink(nullptr);
  ASSERT_OK(store_->Put("a", "1"));
  EXPECT_THAT(logger_.changes, IsEmpty());
  EXPECT_THAT(Get("a"), Optional(std::string("1")));
}

TEST_P(KeyValueStoreTest, LoggerErrorIsReturnedAfterTheWriteIsBuffered) {
  logger_.error = absl::UnavailableError("producer queue full");
  absl::Status status = store_->Put("a", "1");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(store_->has_uncommitted());
  status = store_->Delete("a");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  store_->Abort();
  EXPECT_THAT(All(), IsEmpty());
}

TEST_P(KeyValueStoreTest, RestoreAppliesRecordsAndOffsetWithoutLogging) {
  PutAndCommit({{"old", "o"}, {"gone", "g"}}, 3);
  logger_.changes.clear();
  const std::vector<ChangeRecord> records = {
      {"a", "1"}, {"gone", std::nullopt}, {"a", "2"}, {"b", "3"}};
  ASSERT_OK(store_->Restore(records, 17));
  EXPECT_EQ(store_->committed_offset(), 17);
  EXPECT_FALSE(store_->has_uncommitted());
  EXPECT_THAT(All(),
              ElementsAre(Pair("a", "2"), Pair("b", "3"), Pair("old", "o")));
  EXPECT_THAT(logger_.changes, IsEmpty());
}

TEST_P(KeyValueStoreTest, RestoreRefusesWhileWritesAreUncommitted) {
  ASSERT_OK(store_->Put("a", "1"));
  absl::Status status = store_->Restore({{"b", "2"}}, 5);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(store_->committed_offset(), std::nullopt);
}

TEST_P(KeyValueStoreTest, WipeDeletesDataAndOffset) {
  PutAndCommit({{"a", "1"}}, 9);
  ASSERT_OK(store_->Put("b", "2"));
  ASSERT_OK(store_->Wipe());
  EXPECT_EQ(store_->committed_offset(), std::nullopt);
  EXPECT_FALSE(store_->has_uncommitted());
  EXPECT_THAT(All(), IsEmpty());
  PutAndCommit({{"c", "3"}}, 1);  // still open and usable
  Reopen();
  if (store_->persistent()) {
    EXPECT_THAT(All(), ElementsAre(Pair("c", "3")));
    EXPECT_EQ(store_->committed_offset(), 1);
  }
}

TEST_P(KeyValueStoreTest, ApproximateNumEntriesCountsCommittedAndBufferedPuts) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(store_->Put(absl::StrCat("key", i), "v"));
  }
  ASSERT_OK(store_->Commit(10));
  for (int i = 10; i < 15; ++i) {
    ASSERT_OK(store_->Put(absl::StrCat("key", i), "v"));
  }
  absl::StatusOr<int64_t> count = store_->ApproximateNumEntries();
  ASSERT_OK(count.status());
  EXPECT_EQ(*count, 15);
}

TEST_P(KeyValueStoreTest, CommittedDataAndOffsetSurviveReopen) {
  PutAndCommit({{"a", "1"}, {"b", "2"}}, 100);
  ASSERT_OK(store_->Delete("b"));
  ASSERT_OK(store_->Commit(101));
  ASSERT_OK(store_->Put("uncommitted", "x"));
  Reopen();
  if (!store_->persistent()) {
    EXPECT_EQ(store_->committed_offset(), std::nullopt);
    EXPECT_THAT(All(), IsEmpty());
    return;
  }
  EXPECT_EQ(store_->committed_offset(), 101);
  EXPECT_FALSE(store_->has_uncommitted());
  EXPECT_THAT(All(), ElementsAre(Pair("a", "1")));
}

TEST_P(KeyValueStoreTest, AbortedWritesLeaveNoTraceAfterReopen) {
  PutAndCommit({{"a", "1"}}, 1);
  ASSERT_OK(store_->Put("a", "aborted"));
  ASSERT_OK(store_->Put("b", "aborted"));
  store_->Abort();
  ASSERT_OK(store_->Commit(2));
  Reopen();
  if (!store_->persistent()) GTEST_SKIP() << "nothing survives a reopen";
  EXPECT_THAT(All(), ElementsAre(Pair("a", "1")));
  EXPECT_EQ(store_->committed_offset(), 2);
}

TEST_P(KeyValueStoreTest, OpenTwiceIsAnError) {
  absl::Status status = store_->Open(dir_.path());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_OK(store_->Put("a", "1"));  // still open
}

TEST_P(KeyValueStoreTest, CallsOnAClosedStoreFail) {
  store_->Close();
  EXPECT_EQ(store_->Get("a").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Put("a", "1").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Commit(1).code(), absl::StatusCode::kFailedPrecondition);
  std::unique_ptr<KeyValueIterator> it =
      store_->Range(std::nullopt, std::nullopt);
  EXPECT_FALSE(it->Valid());
  EXPECT_EQ(it->status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(logger_.changes, IsEmpty());
}

TEST_P(KeyValueStoreTest, RejectsStoreNamesThatAreNotDirectoryNames) {
  for (const char* name : {"", ".", "..", "a/b"}) {
    std::unique_ptr<KeyValueBytesStore> store =
        GetParam() == StoreKind::kInMemory
            ? NewInMemoryKeyValueStore(name)
            : NewRocksDBKeyValueStore(name, resources_);
    EXPECT_EQ(store->Open(dir_.path()).code(),
              absl::StatusCode::kInvalidArgument)
        << "'" << name << "'";
  }
}

TEST_P(KeyValueStoreTest, MetricsCountEachCallAndTheSize) {
  StateStoreMetrics m = store_->Metrics();
  EXPECT_EQ(m.get_total + m.put_total + m.delete_total + m.range_total, 0);
  EXPECT_EQ(m.flush_total, 0);
  EXPECT_THAT(m.estimate_num_keys, Optional(0));

  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(store_->Put(absl::StrCat("k", i), "v"));
  }
  EXPECT_THAT(Get("k1"), Optional(std::string("v")));
  EXPECT_EQ(Get("missing"), std::nullopt);
  ASSERT_OK(store_->Delete("k2"));
  ASSERT_OK(store_->PutIfAbsent("k3", "w").status());   // a get only
  ASSERT_OK(store_->PutIfAbsent("new", "w").status());  // a get and a put
  EXPECT_EQ(All().size(), 100u);
  EXPECT_EQ(Drain(store_->PrefixScan("k9")).size(), 11u);
  m = store_->Metrics();
  EXPECT_EQ(m.get_total, 4);
  EXPECT_EQ(m.put_total, 101);
  EXPECT_EQ(m.delete_total, 1);
  EXPECT_EQ(m.range_total, 2);
  EXPECT_EQ(m.flush_total, 0) << "nothing committed yet";
  EXPECT_THAT(m.estimate_num_keys, Optional(0)) << "buffered keys count too";

  ASSERT_OK(store_->Commit(7));
  ASSERT_OK(store_->Commit(8));
  m = store_->Metrics();
  EXPECT_EQ(m.flush_total, 2);
  EXPECT_GE(m.flush_latency_max_ms, m.flush_latency_avg_ms);
  EXPECT_GT(m.flush_latency_max_ms, 0);
  ASSERT_TRUE(m.estimate_num_keys.has_value());
  if (GetParam() == StoreKind::kInMemory) {
    EXPECT_EQ(*m.estimate_num_keys, 100);
    EXPECT_EQ(m.total_sst_files_size_bytes, std::nullopt);
    EXPECT_EQ(m.cur_size_all_mem_tables_bytes, std::nullopt);
  } else {
    // RocksDB estimates: entries in the memtable minus twice the deletes.
    EXPECT_NEAR(*m.estimate_num_keys, 100, 5);
    EXPECT_THAT(m.total_sst_files_size_bytes, Optional(0)) << "not flushed";
    ASSERT_TRUE(m.cur_size_all_mem_tables_bytes.has_value());
    EXPECT_GT(*m.cur_size_all_mem_tables_bytes, 100 * 3);
  }

  // The counters belong to the store object, the size to the storage: a
  // reopened store counts from zero and finds the same keys.
  Reopen();
  m = store_->Metrics();
  EXPECT_EQ(m.put_total + m.flush_total, 0);
  if (GetParam() == StoreKind::kRocksDB) {
    ASSERT_TRUE(m.estimate_num_keys.has_value());
    EXPECT_NEAR(*m.estimate_num_keys, 100, 5);
  }
  store_->Close();
  m = store_->Metrics();
  EXPECT_EQ(m.estimate_num_keys, std::nullopt) << "a closed store has no size";
}

TEST_P(KeyValueStoreTest, LatenciesAreTimedOnlyOnceEnabled) {
  ASSERT_OK(store_->Put("a", "1"));
  StateStoreMetrics m = store_->Metrics();
  EXPECT_EQ(m.get_latency, std::nullopt);
  EXPECT_EQ(m.put_latency, std::nullopt);
  EXPECT_EQ(m.delete_latency, std::nullopt);

  store_->EnableLatencyMetrics();
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(store_->Put(absl::StrCat("k", i), "v"));
    EXPECT_THAT(Get(absl::StrCat("k", i)), Optional(std::string("v")));
  }
  ASSERT_OK(store_->Delete("k0"));
  m = store_->Metrics();
  EXPECT_EQ(m.put_total, 51) << "counting does not start over";
  for (const auto& latency : {m.get_latency, m.put_latency, m.delete_latency}) {
    ASSERT_TRUE(latency.has_value());
    EXPECT_GT(latency->avg_ms, 0);
    EXPECT_GE(latency->max_ms, latency->avg_ms);
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, KeyValueStoreTest,
                         ::testing::Values(StoreKind::kInMemory,
                                           StoreKind::kRocksDB),
                         KindName);

}  // namespace
}  // namespace brook
