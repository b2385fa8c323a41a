// ChangelogReader against the real broker: where a restore ends when a
// transaction is still open on the changelog, and what happens to a store
// whose offset is outside the changelog. Only a broker has transaction
// markers, a last stable offset below the high watermark, and a log start
// offset that DeleteRecords moves; the fakes have none of these.
#include "brook/runtime/internal/changelog_reader.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/producer.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/stores.h"
#include "tests/testing/kafka_env.h"

namespace brook::internal {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CreateTopic;
using ::brook::testing::UniqueName;
using S = std::string;
using Table = KeyValueStore<S, S>;

std::unique_ptr<Producer> TransactionalProducer(const std::string& id) {
  ClientConfig config = BaseConfig();
  config["transactional.id"] = id;
  config["transaction.timeout.ms"] = "30000";
  auto producer = Producer::Create(config);
  EXPECT_TRUE(producer.ok()) << producer.status();
  absl::Status init = (*producer)->InitTransactions(absl::Seconds(60));
  EXPECT_TRUE(init.ok()) << init;
  return *std::move(producer);
}

absl::Status SendIn(Producer& p, const std::string& topic,
                    std::vector<std::pair<S, S>> records) {
  for (auto& [k, v] : records) {
    absl::Status s =
        p.Send({.topic = topic, .partition = 0, .key = k, .value = v});
    if (!s.ok()) return s;
  }
  return p.Flush(absl::Seconds(30));
}

// Writes keys k0..k<records - 1> to each of `partitions` partitions, the
// partition's number as value, in batches of 20 records: the broker hands
// out whole batches, so small batches (with small fetches) interleave the
// partitions in a restore.
absl::Status FillInSmallBatches(const std::string& topic, int32_t partitions,
                                int records) {
  ClientConfig small_batches = BaseConfig();
  small_batches["batch.num.messages"] = "20";
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                         Producer::Create(small_batches));
  for (int32_t p = 0; p < partitions; ++p) {
    for (int i = 0; i < records; ++i) {
      BROOK_RETURN_IF_ERROR(producer->Send({.topic = topic,
                                            .partition = p,
                                            .key = absl::StrCat("k", i),
                                            .value = absl::StrCat(p)}));
    }
  }
  return producer->Flush(absl::Seconds(30));
}

class ChangelogReaderTest : public ::testing::Test {
 protected:
  ChangelogReaderTest() : topic_(UniqueName("changelog")), tp_{topic_, 0} {
    CreateTopic(topic_, 1);
    store_ = Stores::KeyValueStoreBuilder<S, S>(
                 "table", Serdes::String(), Serdes::String(),
                 StoreOptions{.persistent = false})
                 ->Build(StoreContext{});
    EXPECT_TRUE(store_->Open(::testing::TempDir()).ok());
    table_ = dynamic_cast<Table*>(store_.get());
    reader_ = MakeReader({});
  }

  // A reader with the runtime's restore settings plus `extra`.
  std::unique_ptr<ChangelogReader> MakeReader(const ClientConfig& extra) {
    ClientConfig restore = BaseConfig();
    restore["isolation.level"] = "read_committed";
    restore["auto.offset.reset"] = "error";
    for (const auto& [k, v] : extra) restore[k] = v;
    ClientConfig end = BaseConfig();
    end["isolation.level"] = "read_uncommitted";
    auto restore_consumer = Consumer::Create(restore, nullptr);
    auto end_consumer = Consumer::Create(end, nullptr);
    EXPECT_TRUE(restore_consumer.ok() && end_consumer.ok());
    return std::make_unique<ChangelogReader>(*std::move(restore_consumer),
                                             *std::move(end_consumer), "test",
                                             absl::Seconds(30), &stats_);
  }
  ~ChangelogReaderTest() override { store_->Close(); }

  // Restores until the task finishes or `timeout` passes.
  bool RestoreUntilDone(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      auto finished = reader_->Restore(1000);
      EXPECT_TRUE(finished.ok()) << finished.status();
      if (!finished.ok()) return false;
      if (!finished->empty()) return true;
    }
    return false;
  }

  // Restores in steps of 100 records until no task is left or 30 s pass,
  // and returns the tasks that finished, in order.
  std::vector<TaskId> RestoreAll() {
    std::vector<TaskId> finished_tasks;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (reader_->active() && absl::Now() < deadline) {
      auto finished = reader_->Restore(100);
      EXPECT_TRUE(finished.ok()) << finished.status();
      if (!finished.ok()) break;
      finished_tasks.insert(finished_tasks.end(), finished->begin(),
                            finished->end());
    }
    return finished_tasks;
  }

  std::string Get(const S& key) {
    auto v = table_->Get(key);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? v->value_or("<none>") : "<error>";
  }

  int64_t HighWatermark() {
    ClientConfig c = BaseConfig();
    c["isolation.level"] = "read_uncommitted";
    auto uncommitted = Consumer::Create(c, nullptr);
    auto marks = (*uncommitted)->QueryWatermarks(tp_, absl::Seconds(30));
    EXPECT_TRUE(marks.ok()) << marks.status();
    return marks.ok() ? marks->second : -1;
  }

  const std::string topic_;
  const TopicPartition tp_;
  const TaskId task_{0, 0};
  std::unique_ptr<StateStore> store_;
  Table* table_ = nullptr;
  RestoreStats stats_;
  std::unique_ptr<ChangelogReader> reader_;
};

// A transaction left open at offset 0 keeps the last stable offset at 0
// while later committed transactions raise the high watermark. A restore
// that ends at the LSO restores nothing and loses the committed records.
TEST_F(ChangelogReaderTest, RestoreWaitsForAnOpenTransactionAndReachesTheEnd) {
  auto open = TransactionalProducer(UniqueName("open"));
  ASSERT_TRUE(open->BeginTransaction().ok());
  ASSERT_TRUE(SendIn(*open, topic_, {{"a", "1"}}).ok());
  auto committed = TransactionalProducer(UniqueName("committed"));
  ASSERT_TRUE(committed->BeginTransaction().ok());
  ASSERT_TRUE(SendIn(*committed, topic_, {{"b", "2"}, {"c", "3"}}).ok());
  ASSERT_TRUE(committed->CommitTransaction(absl::Seconds(30)).ok());

  auto restoring = reader_->Add(task_, {{store_.get(), tp_}});
  ASSERT_TRUE(restoring.ok()) << restoring.status();
  ASSERT_TRUE(*restoring)
      << "the restore ended at the last stable offset, before b and c";
  // Nothing past the open transaction is readable yet: not done.
  EXPECT_FALSE(RestoreUntilDone(absl::Seconds(2)));
  ASSERT_TRUE(open->CommitTransaction(absl::Seconds(30)).ok());
  ASSERT_TRUE(RestoreUntilDone(absl::Seconds(30)));
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("b"), "2");
  EXPECT_EQ(Get("c"), "3");
  EXPECT_EQ(store_->committed_offset(), HighWatermark());
  EXPECT_EQ(stats_.stores_wiped.load(), 0);
}

TEST_F(ChangelogReaderTest, StoreAheadOfTheStableOffsetIsKeptNotWiped) {
  auto open = TransactionalProducer(UniqueName("open"));
  ASSERT_TRUE(open->BeginTransaction().ok());
  ASSERT_TRUE(SendIn(*open, topic_, {{"a", "1"}}).ok());
  auto committed = TransactionalProducer(UniqueName("committed"));
  ASSERT_TRUE(committed->BeginTransaction().ok());
  ASSERT_TRUE(SendIn(*committed, topic_, {{"b", "2"}}).ok());
  ASSERT_TRUE(committed->CommitTransaction(absl::Seconds(30)).ok());
  // b at 1, its marker at 2. The broker writes the marker after EndTxn
  // returns, so the high watermark may reach 3 a moment later.
  int64_t end = HighWatermark();
  const absl::Time marked = absl::Now() + absl::Seconds(10);
  while (end < 3 && absl::Now() < marked) {
    absl::SleepFor(absl::Milliseconds(20));
    end = HighWatermark();
  }
  ASSERT_EQ(end, 3);
  // The store is at the end already (it applied b when it committed it).
  ASSERT_TRUE(store_->Restore({{"b", "2"}}, end).ok());

  auto restoring = reader_->Add(task_, {{store_.get(), tp_}});
  ASSERT_TRUE(restoring.ok()) << restoring.status();
  EXPECT_FALSE(*restoring);
  EXPECT_EQ(stats_.stores_wiped.load(), 0)
      << "a store at the high watermark, past the LSO, was wiped";
  EXPECT_EQ(Get("b"), "2");
  EXPECT_EQ(store_->committed_offset(), end);
  ASSERT_TRUE(open->AbortTransaction(absl::Seconds(30)).ok());
}

TEST_F(ChangelogReaderTest, OffsetBelowTheLogStartWipesAndRestoresInFull) {
  auto producer = Producer::Create(BaseConfig());
  ASSERT_TRUE(producer.ok());
  std::vector<std::pair<S, S>> records;
  for (int i = 0; i < 10; ++i) records.push_back({absl::StrCat("k", i), "v"});
  ASSERT_TRUE(SendIn(**producer, topic_, records).ok());
  auto admin = Admin::Create(BaseConfig());
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->DeleteRecords({{tp_, 5}}, absl::Seconds(30)).ok());
  // The store stopped at offset 2; offsets 2..4 are gone from the log.
  ASSERT_TRUE(store_->Restore({{"stale", "x"}}, 2).ok());

  auto restoring = reader_->Add(task_, {{store_.get(), tp_}});
  ASSERT_TRUE(restoring.ok()) << restoring.status();
  ASSERT_TRUE(*restoring);
  EXPECT_EQ(stats_.stores_wiped.load(), 1)
      << "an offset below the log start was clamped silently";
  ASSERT_TRUE(RestoreUntilDone(absl::Seconds(30)));
  EXPECT_EQ(Get("stale"), "<none>");
  EXPECT_EQ(Get("k4"), "<none>");
  EXPECT_EQ(Get("k5"), "v");
  EXPECT_EQ(Get("k9"), "v");
  EXPECT_EQ(store_->committed_offset(), 10);
  EXPECT_EQ(stats_.records.load(), 5);
}

TEST_F(ChangelogReaderTest, OffsetPastTheEndWipesAndRestoresInFull) {
  auto producer = Producer::Create(BaseConfig());
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE(SendIn(**producer, topic_, {{"k0", "v"}, {"k1", "v"}}).ok());
  // The changelog was recreated or truncated behind the store's back.
  ASSERT_TRUE(store_->Restore({{"stale", "x"}}, 50).ok());
  auto restoring = reader_->Add(task_, {{store_.get(), tp_}});
  ASSERT_TRUE(restoring.ok()) << restoring.status();
  ASSERT_TRUE(*restoring);
  EXPECT_EQ(stats_.stores_wiped.load(), 1);
  ASSERT_TRUE(RestoreUntilDone(absl::Seconds(30)));
  EXPECT_EQ(Get("stale"), "<none>");
  EXPECT_EQ(Get("k1"), "v");
  EXPECT_EQ(store_->committed_offset(), 2);
}

// A task revoked while its stores restore: Remove() must stop restoring its
// changelog partition (its store is closed and freed right after, as a
// closing task does), while the other task restores on to its end.
TEST_F(ChangelogReaderTest, RemovingATaskMidRestoreLetsTheOtherFinish) {
  const std::string topic = UniqueName("changelog2");
  CreateTopic(topic, 2);
  constexpr int kRecords = 3000;
  ASSERT_TRUE(FillInSmallBatches(topic, 2, kRecords).ok());
  auto build = [] {
    auto store = Stores::KeyValueStoreBuilder<S, S>(
                     "table", Serdes::String(), Serdes::String(),
                     StoreOptions{.persistent = false})
                     ->Build(StoreContext{});
    EXPECT_TRUE(store->Open(::testing::TempDir()).ok());
    return store;
  };
  std::unique_ptr<StateStore> revoked = build();
  std::unique_ptr<StateStore> kept = build();
  const TaskId revoked_id{0, 0}, kept_id{0, 1};
  const TopicPartition revoked_tp{topic, 0}, kept_tp{topic, 1};
  // Small fetches, so that the two partitions' records come interleaved
  // and both tasks are mid-restore at once (one default fetch would carry
  // a whole partition).
  reader_ = MakeReader({{"max.partition.fetch.bytes", "2048"}});
  for (auto [id, store, tp] :
       {std::tuple{revoked_id, revoked.get(), revoked_tp},
        std::tuple{kept_id, kept.get(), kept_tp}}) {
    absl::StatusOr<bool> restoring = reader_->Add(id, {{store, tp}});
    ASSERT_TRUE(restoring.ok()) << restoring.status();
    ASSERT_TRUE(*restoring);
  }
  // Restore in small slices until both tasks have begun.
  const absl::Time started = absl::Now() + absl::Seconds(30);
  while ((revoked->committed_offset().value_or(0) == 0 ||
          kept->committed_offset().value_or(0) == 0) &&
         absl::Now() < started) {
    auto finished = reader_->Restore(50);
    ASSERT_TRUE(finished.ok()) << finished.status();
    ASSERT_TRUE(finished->empty())
        << "a task finished before both had begun: fetches not interleaved";
  }
  ASSERT_GT(kept->committed_offset().value_or(0), 0);
  const std::optional<int64_t> at_removal = revoked->committed_offset();
  ASSERT_TRUE(at_removal.has_value()) << "the revoked task never restored";
  ASSERT_LT(*at_removal, kRecords) << "restore too fast to revoke mid-way";
  ASSERT_TRUE(reader_->Remove(revoked_id).ok());
  // The task closes: its store goes. The reader must not touch it again.
  revoked->Close();
  revoked.reset();
  const std::vector<TaskId> finished_tasks = RestoreAll();
  EXPECT_FALSE(reader_->active()) << "the kept task never finished";
  EXPECT_EQ(finished_tasks, std::vector<TaskId>{kept_id})
      << "the removed task was reported as restored";
  EXPECT_EQ(kept->committed_offset(), kRecords);
  auto* table = dynamic_cast<Table*>(kept.get());
  ASSERT_NE(table, nullptr);
  auto last = table->Get(absl::StrCat("k", kRecords - 1));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->value_or("<none>"), "1");
  // Records applied: the kept task's, plus the removed one's up to its
  // removal, nothing of the removed one after it.
  EXPECT_EQ(stats_.records.load(), kRecords + *at_removal);
  EXPECT_EQ(stats_.stores_restored.load(), 1);
  kept->Close();
}

// A revocation of several restoring tasks removes them one after another,
// with no poll in between. Each removal changed the restore consumer's
// whole assignment, and librdkafka 2.0.2 aborted the process on the second
// change (a chaos run's instance died so: rdkafka_assignment.c:872,
// `rktp->rktp_started`). The tasks must go, and a task added back must
// restore on from where its store stopped.
TEST_F(ChangelogReaderTest, RemovingSixRestoringTasksInARowIsSafe) {
  constexpr int kTasks = 6;
  constexpr int kRecords = 2000;
  const std::string topic = UniqueName("changelog6");
  CreateTopic(topic, kTasks);
  ASSERT_TRUE(FillInSmallBatches(topic, kTasks, kRecords).ok());
  std::vector<std::unique_ptr<StateStore>> stores;
  for (int t = 0; t < kTasks; ++t) {
    stores.push_back(Stores::KeyValueStoreBuilder<S, S>(
                         "table", Serdes::String(), Serdes::String(),
                         StoreOptions{.persistent = false})
                         ->Build(StoreContext{}));
    ASSERT_TRUE(stores.back()->Open(::testing::TempDir()).ok());
  }
  reader_ = MakeReader({{"max.partition.fetch.bytes", "2048"}});
  for (int t = 0; t < kTasks; ++t) {
    absl::StatusOr<bool> restoring =
        reader_->Add(TaskId{0, t}, {{stores[t].get(), {topic, t}}});
    ASSERT_TRUE(restoring.ok()) << restoring.status();
    ASSERT_TRUE(*restoring);
  }
  // Every task has begun (its fetcher runs) and none has finished.
  auto begun = [&] {
    for (const auto& store : stores) {
      if (store->committed_offset().value_or(0) == 0) return false;
    }
    return true;
  };
  const absl::Time started = absl::Now() + absl::Seconds(30);
  while (!begun() && absl::Now() < started) {
    auto finished = reader_->Restore(50);
    ASSERT_TRUE(finished.ok()) << finished.status();
    ASSERT_TRUE(finished->empty()) << "a task finished before all had begun";
  }
  ASSERT_TRUE(begun());
  for (int t = 0; t < kTasks; ++t) {
    ASSERT_TRUE(reader_->Remove(TaskId{0, t}).ok()) << "task " << t;
  }
  EXPECT_FALSE(reader_->active());
  // Task 0_3 comes back (assigned again): it restores on from its store's
  // offset to the end, and the others stay removed.
  const int64_t resumed_at = stores[3]->committed_offset().value_or(0);
  ASSERT_LT(resumed_at, kRecords);
  absl::StatusOr<bool> again =
      reader_->Add(TaskId{0, 3}, {{stores[3].get(), {topic, 3}}});
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(*again);
  const std::vector<TaskId> finished_tasks = RestoreAll();
  EXPECT_EQ(finished_tasks, std::vector<TaskId>{(TaskId{0, 3})});
  EXPECT_EQ(stores[3]->committed_offset(), kRecords);
  for (auto& store : stores) store->Close();
}

}  // namespace
}  // namespace brook::internal
