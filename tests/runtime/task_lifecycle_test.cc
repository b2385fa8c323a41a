// A task's life cycle inside a StreamThread, with real stores (RocksDB in a
// temp directory, or in memory) and changelogs on the Kafka fakes: restore
// before the processors start, the transaction-marker branch of the
// changelog reader, a store below the changelog start, transient
// initialisation failures, punctuator-only writes.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/runtime/internal/stream_thread.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/stores.h"
#include "brook/runtime/topology.h"
#include "brook/state/state_directory.h"
#include "tests/runtime/stream_thread_fixture.h"
#include "tests/testing/fake_kafka.h"

namespace brook::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using S = std::string;

using Counts = KeyValueStore<S, int64_t>;

// What a CountingProcessor saw, shared with the test.
struct Probe {
  int inits = 0;
  std::optional<int64_t> count_at_init;  // the store's "k" when Init() ran
  int punctuations = 0;
};

// Counts records per key in store "counts"; Init() records the count of "k"
// and schedules a 1 ms wall-clock punctuator that writes "tick".
class CountingProcessor final : public Processor<S, S, S, S> {
 public:
  explicit CountingProcessor(Probe* probe) : probe_(probe) {}
  absl::Status Init(ProcessorContext<S, S>& context) override {
    context_ = &context;
    absl::StatusOr<Counts*> store = context.GetStateStore<Counts>("counts");
    if (!store.ok()) return store.status();
    counts_ = *store;
    ++probe_->inits;
    absl::StatusOr<std::optional<int64_t>> k = counts_->Get("k");
    if (!k.ok()) return k.status();
    probe_->count_at_init = *k;
    return context
        .Schedule(absl::Milliseconds(1), PunctuationType::kWallClockTime,
                  [this](int64_t) {
                    ++probe_->punctuations;
                    return counts_->Put("tick", probe_->punctuations);
                  })
        .status();
  }
  absl::Status Process(const Record<S, S>& record) override {
    absl::StatusOr<std::optional<int64_t>> n = counts_->Get(*record.key);
    if (!n.ok()) return n.status();
    if (absl::Status s = counts_->Put(*record.key, n->value_or(0) + 1);
        !s.ok()) {
      return s;
    }
    return context_->Forward(record);
  }

 private:
  Probe* const probe_;
  ProcessorContext<S, S>* context_ = nullptr;
  Counts* counts_ = nullptr;
};

Topology CountingTopology(Probe* probe, StoreOptions options) {
  Topology t;
  t.AddSource<S, S>("in", {"in"}, Serdes::String(), Serdes::String())
      .AddProcessor<S, S, S, S>(
          "count",
          [probe] { return std::make_unique<CountingProcessor>(probe); },
          {"in"})
      .AddStateStore(Stores::KeyValueStoreBuilder<S, int64_t>(
                         "counts", Serdes::String(), Serdes::Int64(), options),
                     {"count"})
      .AddSink<S, S>("out", "out", Serdes::String(), Serdes::String(),
                     {"count"});
  return t;
}

class TaskLifeCycleTest : public StreamThreadTest {
 protected:
  TaskLifeCycleTest() {
    kafka_.CreateTopic("app-counts-changelog", 4);
    root_ = absl::StrCat(::testing::TempDir(), "/lifecycle-", ::getpid(), "-",
                         ++counter_);
    std::filesystem::remove_all(root_);
    auto dir = StateDirectory::Open(root_, "app");
    EXPECT_TRUE(dir.ok()) << dir.status();
    state_dir_ = *std::move(dir);
    auto rocksdb = RocksDBResources::Create(RocksDBConfig{});
    EXPECT_TRUE(rocksdb.ok()) << rocksdb.status();
    rocksdb_ = *std::move(rocksdb);
  }

  ~TaskLifeCycleTest() override {
    if (thread_ != nullptr) thread_->Shutdown(absl::OkStatus());
    thread_.reset();
  }

  bool StartWithState(const Topology& topology) {
    absl::StatusOr<std::shared_ptr<const TopologyPlan>> plan =
        TopologyPlan::Build(topology);
    EXPECT_TRUE(plan.ok()) << plan.status();
    if (!plan.ok()) return false;
    absl::StatusOr<std::unique_ptr<StreamThread>> thread = StreamThread::Create(
        *plan, config_, 0, "0123456789abcdef", state_dir_->path(), Factory(),
        {}, state_dir_.get(), StoreContext{rocksdb_});
    EXPECT_TRUE(thread.ok()) << thread.status();
    if (!thread.ok()) return false;
    thread_ = *std::move(thread);
    absl::Status s = thread_->Startup();
    EXPECT_TRUE(s.ok()) << s;
    return s.ok();
  }

  // Starts a thread with a persistent counting store, assigns "in"-0 and
  // runs until its task runs (restored). False on failure.
  bool StartRunning(Probe* probe) {
    if (!StartWithState(
            CountingTopology(probe, StoreOptions{.persistent = true}))) {
      return false;
    }
    kafka_.Rebalance(consumer_, {kIn0});
    return RunUntil(
        [&] { return thread_->state() == StreamThread::State::kRunning; });
  }

  void Stop() {
    thread_->Shutdown(absl::OkStatus());
    thread_.reset();
  }

  // Writes count records for key "k" to changelog partition 0, as an
  // earlier owner of task 0_0 did.
  void AppendChangelog(int64_t from, int64_t to) {
    for (int64_t n = from; n <= to; ++n) {
      kafka_.Append("app-counts-changelog", 0, "k",
                    Serdes::Int64()->Serialize("app-counts-changelog", n));
    }
  }

  static inline int counter_ = 0;
  std::string root_;
  std::unique_ptr<StateDirectory> state_dir_;
  std::shared_ptr<RocksDBResources> rocksdb_;
};

TEST_F(TaskLifeCycleTest, ProcessorsInitialiseOnlyAfterTheirStoresAreRestored) {
  config_.restore_records_per_iteration = 1;  // a restore of many iterations
  Probe probe;
  ASSERT_TRUE(StartWithState(
      CountingTopology(&probe, StoreOptions{.persistent = false})));
  AppendChangelog(1, 5);
  Append(kIn0, {"a"});
  kafka_.Rebalance(consumer_, {kIn0});
  // Iterations while the five changelog records are restored one by one:
  // no processor may exist yet, so no punctuator can fire.
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(RunOnce());
    absl::SleepFor(absl::Milliseconds(2));
    EXPECT_EQ(probe.inits, 0)
        << "Init() ran during the restore, iteration " << i;
    EXPECT_EQ(probe.punctuations, 0);
    ExpectInputHeld(kIn0);
  }
  ASSERT_TRUE(RunUntil(
      [&] { return thread_->state() == StreamThread::State::kRunning; }));
  EXPECT_EQ(probe.inits, 1);
  ASSERT_TRUE(probe.count_at_init.has_value());
  EXPECT_EQ(*probe.count_at_init, 5) << "Init() saw a half-restored store";
  EXPECT_EQ(thread_->restore_stats().records.load(), 5);
  ASSERT_TRUE(RunUntil([&] { return probe.punctuations > 0; }));
  EXPECT_THAT(consumer_->PausedPartitions(), IsEmpty());
}

TEST_F(TaskLifeCycleTest, RestoreSkipsAbortedRecordsAndEndsPastTheMarkers) {
  // An earlier owner's transactions on the changelog: committed (1, 2),
  // aborted (99), committed (3). Offsets: 1 2 M 99 M 3 M.
  FakeProducer earlier(&kafka_, /*transactional=*/true);
  ASSERT_TRUE(earlier.InitTransactions(absl::Seconds(1)).ok());
  auto write = [&](int64_t n) {
    return earlier.Send({.topic = "app-counts-changelog",
                         .partition = 0,
                         .key = "k",
                         .value = Serdes::Int64()->Serialize("", n)});
  };
  ASSERT_TRUE(earlier.BeginTransaction().ok());
  ASSERT_TRUE(write(1).ok() && write(2).ok());
  ASSERT_TRUE(earlier.CommitTransaction(absl::Seconds(1)).ok());
  ASSERT_TRUE(earlier.BeginTransaction().ok());
  ASSERT_TRUE(write(99).ok());
  ASSERT_TRUE(earlier.AbortTransaction(absl::Seconds(1)).ok());
  ASSERT_TRUE(earlier.BeginTransaction().ok());
  ASSERT_TRUE(write(3).ok());
  ASSERT_TRUE(earlier.CommitTransaction(absl::Seconds(1)).ok());
  const TopicPartition changelog{"app-counts-changelog", 0};
  ASSERT_EQ(kafka_.EndOffset(changelog), 7);

  Probe probe;
  ASSERT_TRUE(StartRunning(&probe));
  ASSERT_TRUE(probe.count_at_init.has_value());
  EXPECT_EQ(*probe.count_at_init, 3) << "the aborted 99 was applied";
  EXPECT_EQ(thread_->restore_stats().records.load(), 3);
  Stop();
  // The stored offset covers the final marker: a restart restores nothing.
  Probe again;
  ASSERT_TRUE(StartRunning(&again));
  EXPECT_EQ(again.count_at_init.value_or(-1), 3);
  EXPECT_EQ(thread_->restore_stats().records.load(), 0);
}

TEST_F(TaskLifeCycleTest, AStoreBelowTheChangelogStartIsWipedAndRestored) {
  Probe probe;
  AppendChangelog(1, 2);  // offsets 0, 1
  ASSERT_TRUE(StartRunning(&probe));
  Stop();
  // Meanwhile others wrote 3..6 and the changelog lost what the store's
  // offset (2) needs next.
  AppendChangelog(3, 6);  // offsets 2..5
  kafka_.DeleteRecords({"app-counts-changelog", 0}, 4);
  Probe again;
  ASSERT_TRUE(StartRunning(&again));
  EXPECT_EQ(thread_->restore_stats().stores_wiped.load(), 1);
  EXPECT_EQ(again.count_at_init.value_or(-1), 6);
  // At least k=5 and k=6 from the log start; the 1 ms punctuator's "tick"
  // writes add more, as many as ran before Stop() (timing-dependent).
  EXPECT_GE(thread_->restore_stats().records.load(), 2);
}

TEST_F(TaskLifeCycleTest, ATaskDirectoryHeldBySiblingIsRetriedNotFatal) {
  Probe probe;
  ASSERT_TRUE(StartWithState(
      CountingTopology(&probe, StoreOptions{.persistent = true})));
  // A sibling thread still holds task 0_0 (it has not yet seen its
  // revocation).
  auto held = state_dir_->LockTaskDirectory("0_0");
  ASSERT_TRUE(held.ok()) << held.status();
  Append(kIn0, {"a", "b"});
  kafka_.Rebalance(consumer_, {kIn0});
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(RunOnce()) << "a held task directory ended the thread";
  }
  EXPECT_EQ(probe.inits, 0);
  EXPECT_NE(thread_->state(), StreamThread::State::kRunning);
  ExpectInputHeld(kIn0);
  held->reset();  // the sibling lets go
  ASSERT_TRUE(
      RunUntil([&] { return thread_->stats().records_processed.load() == 2; }));
  EXPECT_EQ(probe.inits, 1);
  EXPECT_EQ(thread_->state(), StreamThread::State::kRunning);
  thread_->Shutdown(absl::OkStatus());
  EXPECT_THAT(Output(), ElementsAre("a", "b"));
}

TEST_F(TaskLifeCycleTest, ATaskNotReadyWithinTaskTimeoutFailsNamingTheTask) {
  config_.task_timeout = absl::Milliseconds(20);
  Probe probe;
  ASSERT_TRUE(StartWithState(
      CountingTopology(&probe, StoreOptions{.persistent = true})));
  auto held = state_dir_->LockTaskDirectory("0_0");
  ASSERT_TRUE(held.ok()) << held.status();
  kafka_.Rebalance(consumer_, {kIn0});
  absl::Status failure;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (failure.ok() && absl::Now() < deadline) {
    failure = thread_->RunOnce();
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_FALSE(failure.ok()) << "no failure after task.timeout.ms";
  EXPECT_THAT(failure.message(), HasSubstr("task 0_0"));
  EXPECT_THAT(failure.message(), HasSubstr("task.timeout.ms"));
  EXPECT_THAT(failure.message(), HasSubstr("0_0' is held"));
}

TEST_F(TaskLifeCycleTest, PunctuatorOnlyWritesToAnUnloggedStoreAreCommitted) {
  Probe probe;
  ASSERT_TRUE(StartWithState(CountingTopology(
      &probe, StoreOptions{.persistent = true, .logging_enabled = false})));
  kafka_.Rebalance(consumer_, {kIn0});
  ASSERT_TRUE(RunUntil([&] { return probe.punctuations >= 3; }));
  // No record was consumed; only the punctuator wrote.
  thread_->Shutdown(absl::OkStatus());
  thread_.reset();
  auto store = Stores::KeyValueStoreBuilder<S, int64_t>(
                   "counts", Serdes::String(), Serdes::Int64(),
                   StoreOptions{.persistent = true, .logging_enabled = false})
                   ->Build(StoreContext{rocksdb_});
  ASSERT_TRUE(store->Open(absl::StrCat(state_dir_->path(), "/0_0")).ok());
  auto* counts = dynamic_cast<Counts*>(store.get());
  ASSERT_NE(counts, nullptr);
  absl::StatusOr<std::optional<int64_t>> tick = counts->Get("tick");
  ASSERT_TRUE(tick.ok()) << tick.status();
  EXPECT_EQ(tick->value_or(0), probe.punctuations)
      << "the punctuator's writes were dropped at shutdown";
  store->Close();
}

}  // namespace
}  // namespace brook::internal
