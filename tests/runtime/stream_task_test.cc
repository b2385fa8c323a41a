// StreamTask driven directly, with a RecordCollector that captures what the
// sinks send.
#include "brook/runtime/internal/stream_task.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/runtime/serdes.h"
#include "brook/runtime/topology.h"
#include "tests/testing/fake_kafka.h"

namespace brook::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using S = std::string;

class CapturingCollector final : public RecordCollector {
 public:
  absl::Status Send(const ProducerRecord& record) override {
    sent.push_back(record);
    return absl::OkStatus();
  }
  absl::Status CheckTopicExists(const std::string&) override {
    return absl::OkStatus();
  }
  std::vector<std::string> Values() const {
    std::vector<std::string> out;
    for (const ProducerRecord& r : sent) out.push_back(r.value.value_or("-"));
    return out;
  }
  std::vector<ProducerRecord> sent;
};

// A processor whose behaviour each test chooses; by default it forwards.
struct Hooks {
  std::function<absl::Status(ProcessorContext<S, S>&)> init;
  std::function<absl::Status(ProcessorContext<S, S>&, const Record<S, S>&)>
      process;
  std::function<void()> close;
};

class HookProcessor final : public Processor<S, S, S, S> {
 public:
  explicit HookProcessor(Hooks hooks) : hooks_(std::move(hooks)) {}
  absl::Status Init(ProcessorContext<S, S>& context) override {
    context_ = &context;
    return hooks_.init ? hooks_.init(context) : absl::OkStatus();
  }
  absl::Status Process(const Record<S, S>& record) override {
    if (hooks_.process) return hooks_.process(*context_, record);
    return context_->Forward(record);
  }
  void Close() override {
    if (hooks_.close) hooks_.close();
  }

 private:
  const Hooks hooks_;
  ProcessorContext<S, S>* context_ = nullptr;
};

ProcessorSupplier<S, S, S, S> Supplier(Hooks hooks = {}) {
  return [hooks] { return std::make_unique<HookProcessor>(hooks); };
}

class NullStore final : public StateStore {
 public:
  explicit NullStore(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  bool persistent() const override { return false; }
  absl::Status Open(const std::string&) override { return absl::OkStatus(); }
  void SetChangeSink(ChangeSink*) override {}
  std::optional<int64_t> committed_offset() const override {
    return std::nullopt;
  }
  absl::Status Commit(std::optional<int64_t>) override {
    return absl::OkStatus();
  }
  void Abort() override {}
  bool has_uncommitted() const override { return false; }
  absl::Status Restore(absl::Span<const ChangeRecord>, int64_t) override {
    return absl::OkStatus();
  }
  absl::Status Wipe() override { return absl::OkStatus(); }
  void Close() override {}

 private:
  const std::string name_;
};

class NullStoreBuilder final : public StoreBuilder {
 public:
  explicit NullStoreBuilder(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  bool logging_enabled() const override { return false; }
  std::unique_ptr<StateStore> Build(const StoreContext&) const override {
    return std::make_unique<NullStore>(name_);
  }

 private:
  const std::string name_;
};

// in -> proc -> out, all strings.
Topology Chain(Hooks hooks = {}) {
  Topology t;
  t.AddSource<S, S>("in", {"in"}, Serdes::String(), Serdes::String())
      .AddProcessor<S, S, S, S>("proc", Supplier(std::move(hooks)), {"in"})
      .AddSink<S, S>("out", "out", Serdes::String(), Serdes::String(),
                     {"proc"});
  return t;
}

ConsumerRecord Rec(const std::string& topic, int32_t partition, int64_t offset,
                   int64_t timestamp_ms, std::string value) {
  ConsumerRecord r;
  r.topic = topic;
  r.partition = partition;
  r.offset = offset;
  r.timestamp_ms = timestamp_ms;
  r.key = "k";
  r.value = std::move(value);
  return r;
}

class StreamTaskTest : public ::testing::Test {
 protected:
  // Makes and initializes task `id` of `topology` over `partitions`.
  void MakeTask(const Topology& topology, TaskId id,
                std::vector<TopicPartition> partitions) {
    absl::StatusOr<std::shared_ptr<const TopologyPlan>> plan =
        TopologyPlan::Build(topology);
    ASSERT_TRUE(plan.ok()) << plan.status();
    TaskOptions options;
    options.application_id = "app";
    options.state_directory = ::testing::TempDir();
    options.default_timestamp_extractor = RecordTimestampExtractor();
    options.clock_ms = [this] { return clock_ms_; };
    options.max_task_idle_ms = max_task_idle_ms_;
    options.lag = lag_;
    task_ = std::make_unique<StreamTask>(id, *plan, std::move(partitions),
                                         std::move(options), &collector_);
    absl::Status s = task_->Initialize();
    ASSERT_TRUE(s.ok()) << s;
  }

  void Add(ConsumerRecord record) {
    absl::Status s = task_->AddRecord(std::move(record));
    ASSERT_TRUE(s.ok()) << s;
  }

  int64_t ProcessOk(int64_t max) {
    absl::StatusOr<int64_t> n = task_->Process(max);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }

  int64_t clock_ms_ = 1000;
  int64_t max_task_idle_ms_ = 0;
  PartitionGroup::LagFn lag_;
  CapturingCollector collector_;
  std::unique_ptr<StreamTask> task_;
};

TEST_F(StreamTaskTest, ProcessHandlesAtMostMaxRecords) {
  MakeTask(Chain(), {0, 0}, {{"in", 0}});
  for (int i = 0; i < 5; ++i) Add(Rec("in", 0, i, 100 + i, absl::StrCat(i)));
  EXPECT_EQ(ProcessOk(3), 3);
  EXPECT_THAT(collector_.Values(), ElementsAre("0", "1", "2"));
  EXPECT_EQ(task_->buffered(), 2u);
  EXPECT_EQ(ProcessOk(3), 2);
  EXPECT_EQ(ProcessOk(3), 0);
  EXPECT_THAT(collector_.Values(), ElementsAre("0", "1", "2", "3", "4"));
  EXPECT_EQ(task_->processed_total(), 5);
}

TEST_F(StreamTaskTest, SinksWriteTheKeyValueAndEventTime) {
  MakeTask(Chain(), {0, 0}, {{"in", 0}});
  Add(Rec("in", 0, 0, 1234, "v"));
  EXPECT_EQ(ProcessOk(1), 1);
  ASSERT_EQ(collector_.sent.size(), 1u);
  EXPECT_EQ(collector_.sent[0].topic, "out");
  EXPECT_EQ(collector_.sent[0].key, "k");
  EXPECT_EQ(collector_.sent[0].value, "v");
  EXPECT_EQ(collector_.sent[0].timestamp_ms, 1234);
  EXPECT_EQ(collector_.sent[0].partition, -1);  // the producer's partitioner
}

TEST_F(StreamTaskTest, RecordsOfCoPartitionedTopicsComeOutInTimestampOrder) {
  Topology t;
  t.AddSource<S, S>("a", {"a"}, Serdes::String(), Serdes::String())
      .AddSource<S, S>("b", {"b"}, Serdes::String(), Serdes::String())
      .AddProcessor<S, S, S, S>("merge", Supplier(), {"a", "b"})
      .AddSink<S, S>("out", "out", Serdes::String(), Serdes::String(),
                     {"merge"});
  MakeTask(t, {0, 2}, {{"a", 2}, {"b", 2}});
  Add(Rec("a", 2, 0, 1, "a1"));
  Add(Rec("a", 2, 1, 4, "a4"));
  Add(Rec("a", 2, 2, 5, "a5"));
  Add(Rec("b", 2, 0, 2, "b2"));
  Add(Rec("b", 2, 1, 3, "b3"));
  Add(Rec("b", 2, 2, 6, "b6"));
  EXPECT_EQ(ProcessOk(100), 6);
  EXPECT_THAT(collector_.Values(),
              ElementsAre("a1", "b2", "b3", "a4", "a5", "b6"));
  EXPECT_EQ(task_->stream_time_ms(), 6);
}

TEST_F(StreamTaskTest, UncommittedOffsetsAreLastProcessedPlusOnePerPartition) {
  Topology t;
  t.AddSource<S, S>("ab", {"a", "b"}, Serdes::String(), Serdes::String())
      .AddSink<S, S>("out", "out", Serdes::String(), Serdes::String(), {"ab"});
  MakeTask(t, {0, 0}, {{"a", 0}, {"b", 0}});
  EXPECT_FALSE(task_->commit_needed());
  EXPECT_THAT(task_->UncommittedOffsets(), IsEmpty());
  Add(Rec("a", 0, 10, 1, "a10"));
  Add(Rec("a", 0, 11, 2, "a11"));
  Add(Rec("a", 0, 12, 5, "a12"));
  Add(Rec("b", 0, 20, 3, "b20"));
  EXPECT_FALSE(task_->commit_needed());  // buffered is not consumed
  EXPECT_EQ(ProcessOk(2), 2);            // a10, a11
  EXPECT_THAT(task_->UncommittedOffsets(),
              ElementsAre(TopicPartitionOffset{{"a", 0}, 12}));
  EXPECT_EQ(ProcessOk(100), 2);  // b20, a12
  EXPECT_TRUE(task_->commit_needed());
  EXPECT_THAT(task_->UncommittedOffsets(),
              UnorderedElementsAre(TopicPartitionOffset{{"a", 0}, 13},
                                   TopicPartitionOffset{{"b", 0}, 21}));
  task_->MarkCommitted();
  EXPECT_FALSE(task_->commit_needed());
  EXPECT_THAT(task_->UncommittedOffsets(), IsEmpty());
  Add(Rec("b", 0, 21, 9, "b21"));
  EXPECT_EQ(ProcessOk(100), 1);
  EXPECT_THAT(task_->UncommittedOffsets(),
              ElementsAre(TopicPartitionOffset{{"b", 0}, 22}));
}

TEST_F(StreamTaskTest,
       StreamTimePunctuationFiresAsStreamTimePassesTheInterval) {
  std::vector<std::string> fired;
  Hooks hooks;
  hooks.init = [&fired](ProcessorContext<S, S>& c) -> absl::Status {
    ProcessorContext<S, S>* context = &c;
    return c
        .Schedule(
            absl::Milliseconds(10), PunctuationType::kStreamTime,
            [&fired, context](int64_t ts) {
              fired.push_back(absl::StrCat(
                  ts, context->record_metadata().has_value() ? "+meta" : ""));
              return context->Forward(
                  Record<S, S>{"tick", absl::StrCat(ts), ts, {}});
            })
        .status();
  };
  MakeTask(Chain(hooks), {0, 0}, {{"in", 0}});
  // The schedule was made before any record, so the first record's time
  // (5) anchors it: due at 15, then on the grid 25, 35, 45, ...
  int64_t offset = 0;
  for (int64_t ts : {5, 12, 14}) Add(Rec("in", 0, offset++, ts, "r"));
  EXPECT_EQ(ProcessOk(100), 3);
  EXPECT_THAT(fired, IsEmpty());
  Add(Rec("in", 0, offset++, 15, "r"));
  Add(Rec("in", 0, offset++, 17, "r"));
  EXPECT_EQ(ProcessOk(100), 2);
  EXPECT_THAT(fired, ElementsAre("15"));
  Add(Rec("in", 0, offset++, 40, "r"));  // 25 and 35 passed: one call
  Add(Rec("in", 0, offset++, 44, "r"));
  Add(Rec("in", 0, offset++, 3, "r"));  // late: stream time stays 44
  Add(Rec("in", 0, offset++, 45, "r"));
  EXPECT_EQ(ProcessOk(100), 4);
  EXPECT_THAT(fired, ElementsAre("15", "40", "45"));
  // Forwarding from a punctuator reaches the sink, after the record that
  // moved stream time.
  std::vector<std::string> values = collector_.Values();
  ASSERT_EQ(values.size(), 12u);
  EXPECT_EQ(values[3], "r");
  EXPECT_EQ(values[4], "15");
}

TEST_F(StreamTaskTest, WallClockPunctuationFollowsTheClock) {
  std::vector<int64_t> fired;
  Hooks hooks;
  hooks.init = [&fired](ProcessorContext<S, S>& c) -> absl::Status {
    return c
        .Schedule(absl::Milliseconds(100), PunctuationType::kWallClockTime,
                  [&fired](int64_t ts) {
                    fired.push_back(ts);
                    return absl::OkStatus();
                  })
        .status();
  };
  clock_ms_ = 1000;
  MakeTask(Chain(hooks), {0, 0}, {{"in", 0}});
  clock_ms_ = 1099;
  ASSERT_TRUE(task_->PunctuateWallClock().ok());
  EXPECT_THAT(fired, IsEmpty());
  clock_ms_ = 1100;
  ASSERT_TRUE(task_->PunctuateWallClock().ok());
  ASSERT_TRUE(task_->PunctuateWallClock().ok());
  EXPECT_THAT(fired, ElementsAre(1100));
  clock_ms_ = 1250;
  ASSERT_TRUE(task_->PunctuateWallClock().ok());
  EXPECT_THAT(fired, ElementsAre(1100, 1250));
}

TEST_F(StreamTaskTest, APunctuationIntervalBelowOneMillisecondIsRejected) {
  absl::Status scheduled;
  Hooks hooks;
  hooks.init = [&scheduled](ProcessorContext<S, S>& c) {
    scheduled =
        c.Schedule(absl::Microseconds(500), PunctuationType::kStreamTime,
                   [](int64_t) { return absl::OkStatus(); })
            .status();
    return absl::OkStatus();
  };
  MakeTask(Chain(hooks), {0, 0}, {{"in", 0}});
  EXPECT_EQ(scheduled.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(scheduled.message(), HasSubstr("'proc'"));
}

TEST_F(StreamTaskTest, AProcessorErrorNamesTaskAndRecordWhichStaysUnconsumed) {
  Hooks hooks;
  hooks.process = [](ProcessorContext<S, S>& c, const Record<S, S>& r) {
    if (r.value == "poison") {
      return absl::FailedPreconditionError("cannot digest poison");
    }
    return c.Forward(r);
  };
  MakeTask(Chain(hooks), {0, 3}, {{"in", 3}});
  Add(Rec("in", 3, 40, 1, "fine"));
  Add(Rec("in", 3, 41, 2, "poison"));
  Add(Rec("in", 3, 42, 3, "later"));
  absl::StatusOr<int64_t> n = task_->Process(100);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(n.status().message(), HasSubstr("task 0_3"));
  EXPECT_THAT(n.status().message(), HasSubstr("in-3@41"));
  EXPECT_THAT(n.status().message(), HasSubstr("cannot digest poison"));
  EXPECT_THAT(collector_.Values(), ElementsAre("fine"));
  // Only the record before the failing one counts as consumed.
  EXPECT_THAT(task_->UncommittedOffsets(),
              ElementsAre(TopicPartitionOffset{{"in", 3}, 41}));
}

TEST_F(StreamTaskTest, ADeserializationErrorNamesTheSourceAndTheValue) {
  Topology t;
  t.AddSource<S, int64_t>("numbers", {"in"}, Serdes::String(), Serdes::Int64())
      .AddSink<S, int64_t>("out", "out", Serdes::String(), Serdes::Int64(),
                           {"numbers"});
  MakeTask(t, {0, 0}, {{"in", 0}});
  Add(Rec("in", 0, 0, 1, std::string(8, '\0')));
  Add(Rec("in", 0, 1, 2, "abc"));
  absl::StatusOr<int64_t> n = task_->Process(100);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(n.status().message(), HasSubstr("task 0_0"));
  EXPECT_THAT(n.status().message(), HasSubstr("in-0@1"));
  EXPECT_THAT(n.status().message(),
              HasSubstr("source 'numbers' cannot deserialize the value"));
  EXPECT_THAT(n.status().message(), HasSubstr("expected 8 bytes"));
  EXPECT_EQ(collector_.sent.size(), 1u);
  EXPECT_THAT(task_->UncommittedOffsets(),
              ElementsAre(TopicPartitionOffset{{"in", 0}, 1}));
}

TEST_F(StreamTaskTest, ADeserializationErrorOfTheKeyNamesTheKey) {
  Topology t;
  t.AddSource<int64_t, S>("numbers", {"in"}, Serdes::Int64(), Serdes::String())
      .AddSink<int64_t, S>("out", "out", Serdes::Int64(), Serdes::String(),
                           {"numbers"});
  MakeTask(t, {0, 0}, {{"in", 0}});
  Add(Rec("in", 0, 0, 1, "v"));  // key "k": one byte
  absl::StatusOr<int64_t> n = task_->Process(100);
  ASSERT_FALSE(n.ok());
  EXPECT_THAT(n.status().message(),
              HasSubstr("source 'numbers' cannot deserialize the key"));
}

TEST_F(StreamTaskTest, NullKeysAndValuesPassAsNullopt) {
  std::vector<std::string> seen;
  Hooks hooks;
  hooks.process = [&seen](ProcessorContext<S, S>& c, const Record<S, S>& r) {
    seen.push_back(absl::StrCat(r.key.has_value() ? *r.key : "null", "/",
                                r.value.has_value() ? *r.value : "null"));
    return c.Forward(r);
  };
  MakeTask(Chain(hooks), {0, 0}, {{"in", 0}});
  ConsumerRecord tombstone = Rec("in", 0, 0, 1, "");
  tombstone.key = std::nullopt;
  tombstone.value = std::nullopt;
  Add(tombstone);
  EXPECT_EQ(ProcessOk(1), 1);
  EXPECT_THAT(seen, ElementsAre("null/null"));
  ASSERT_EQ(collector_.sent.size(), 1u);
  EXPECT_FALSE(collector_.sent[0].key.has_value());
  EXPECT_FALSE(collector_.sent[0].value.has_value());
}

TEST_F(StreamTaskTest, ProcessorsSeeTheMetadataOfTheRecordTheyProcess) {
  std::vector<std::string> seen;
  Hooks hooks;
  hooks.process = [&seen](ProcessorContext<S, S>& c, const Record<S, S>& r) {
    const std::optional<RecordMetadata>& m = c.record_metadata();
    seen.push_back(m.has_value()
                       ? absl::StrCat(m->topic, "-", m->partition, "@",
                                      m->offset, " in ", c.task_id().ToString())
                       : "none");
    return absl::OkStatus();
  };
  MakeTask(Chain(hooks), {0, 1}, {{"in", 1}});
  Add(Rec("in", 1, 7, 1, "v"));
  EXPECT_EQ(ProcessOk(1), 1);
  EXPECT_THAT(seen, ElementsAre("in-1@7 in 0_1"));
  EXPECT_FALSE(task_->record_metadata().has_value());
}

TEST_F(StreamTaskTest, AProcessorReachesOnlyTheStoresConnectedToIt) {
  absl::StatusOr<StateStore*> from_owner = absl::UnknownError("unset");
  absl::StatusOr<StateStore*> from_other = absl::UnknownError("unset");
  Hooks owner;
  owner.init = [&from_owner](ProcessorContext<S, S>& c) {
    from_owner = c.GetStateStore("counts");
    return absl::OkStatus();
  };
  Hooks other;
  other.init = [&from_other](ProcessorContext<S, S>& c) {
    from_other = c.GetStateStore("counts");
    return absl::OkStatus();
  };
  Topology t;
  t.AddSource<S, S>("in", {"in"}, Serdes::String(), Serdes::String())
      .AddProcessor<S, S, S, S>("owner", Supplier(owner), {"in"})
      .AddProcessor<S, S, S, S>("other", Supplier(other), {"owner"})
      .AddStateStore(std::make_shared<NullStoreBuilder>("counts"), {"owner"});
  MakeTask(t, {0, 0}, {{"in", 0}});
  ASSERT_TRUE(from_owner.ok()) << from_owner.status();
  EXPECT_EQ((*from_owner)->name(), "counts");
  EXPECT_EQ(from_other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(from_other.status().message(), HasSubstr("'other'"));
  EXPECT_THAT(from_other.status().message(), HasSubstr("'counts'"));
}

TEST_F(StreamTaskTest, AnInitErrorNamesTheTaskAndTheProcessor) {
  Hooks hooks;
  hooks.init = [](ProcessorContext<S, S>&) {
    return absl::UnavailableError("no database");
  };
  absl::StatusOr<std::shared_ptr<const TopologyPlan>> plan =
      TopologyPlan::Build(Chain(hooks));
  ASSERT_TRUE(plan.ok());
  TaskOptions options;
  options.default_timestamp_extractor = RecordTimestampExtractor();
  options.clock_ms = [] { return int64_t{0}; };
  StreamTask task({0, 4}, *plan, {{"in", 4}}, options, &collector_);
  absl::Status s = task.Initialize();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("task 0_4"));
  EXPECT_THAT(s.message(), HasSubstr("processor 'proc' failed to initialize"));
  EXPECT_THAT(s.message(), HasSubstr("no database"));
}

TEST_F(StreamTaskTest, RequestCommitIsRememberedUntilMarkedCommitted) {
  Hooks hooks;
  hooks.process = [](ProcessorContext<S, S>& c, const Record<S, S>& r) {
    if (r.value == "now") c.RequestCommit();
    return c.Forward(r);
  };
  MakeTask(Chain(hooks), {0, 0}, {{"in", 0}});
  Add(Rec("in", 0, 0, 1, "later"));
  EXPECT_EQ(ProcessOk(1), 1);
  EXPECT_FALSE(task_->commit_requested());
  Add(Rec("in", 0, 1, 2, "now"));
  EXPECT_EQ(ProcessOk(1), 1);
  EXPECT_TRUE(task_->commit_requested());
  task_->MarkCommitted();
  EXPECT_FALSE(task_->commit_requested());
}

TEST_F(StreamTaskTest, ADirtyCloseDropsBufferedAndUncommittedWorkOnce) {
  int closes = 0;
  Hooks hooks;
  hooks.close = [&closes] { ++closes; };
  MakeTask(Chain(hooks), {0, 0}, {{"in", 0}});
  Add(Rec("in", 0, 0, 1, "a"));
  Add(Rec("in", 0, 1, 2, "b"));
  EXPECT_EQ(ProcessOk(1), 1);
  task_->Close(CloseMode::kDirty);
  EXPECT_EQ(closes, 1);
  EXPECT_EQ(task_->buffered(), 0u);
  EXPECT_FALSE(task_->commit_needed());
  task_->Close(CloseMode::kDirty);
  task_.reset();  // the destructor does not close again
  EXPECT_EQ(closes, 1);
}

TEST_F(StreamTaskTest, ACleanCloseKeepsTheUncommittedOffsets) {
  int closes = 0;
  Hooks hooks;
  hooks.close = [&closes] { ++closes; };
  MakeTask(Chain(hooks), {0, 0}, {{"in", 0}});
  Add(Rec("in", 0, 0, 1, "a"));
  EXPECT_EQ(ProcessOk(1), 1);
  task_->Close(CloseMode::kClean);
  EXPECT_EQ(closes, 1);
  EXPECT_THAT(task_->UncommittedOffsets(),
              ElementsAre(TopicPartitionOffset{{"in", 0}, 1}));
}

// max.task.idle.ms over the fake consumer: a task merging a-0 and b-0,
// whose consumer (as a stream thread's) has fetched a's records while b's
// are still on the broker.
class TaskIdleTest : public StreamTaskTest {
 protected:
  TaskIdleTest() : consumer_(&kafka_, nullptr) {
    kafka_.CreateTopic("a", 1);
    kafka_.CreateTopic("b", 1);
    lag_ = [this](const TopicPartition& tp) { return consumer_.CachedLag(tp); };
  }

  void Start() {
    const std::vector<TopicPartitionOffset> from = {{{"a", 0}, 0},
                                                    {{"b", 0}, 0}};
    ASSERT_TRUE(consumer_.Assign(from).ok());
    Topology t;
    t.AddSource<S, S>("a", {"a"}, Serdes::String(), Serdes::String())
        .AddSource<S, S>("b", {"b"}, Serdes::String(), Serdes::String())
        .AddProcessor<S, S, S, S>("merge", Supplier(), {"a", "b"})
        .AddSink<S, S>("out", "out", Serdes::String(), Serdes::String(),
                       {"merge"});
    MakeTask(t, {0, 0}, {{"a", 0}, {"b", 0}});
  }

  // Moves what the consumer hands out of the unpaused partitions into the
  // task, as the thread's poll loop does.
  void PollAll() {
    for (;;) {
      absl::StatusOr<std::optional<ConsumerRecord>> r =
          consumer_.Poll(absl::ZeroDuration());
      ASSERT_TRUE(r.ok()) << r.status();
      if (!r->has_value()) return;
      Add(**std::move(r));
    }
  }

  testing::FakeKafka kafka_;
  testing::FakeConsumer consumer_;
};

TEST_F(TaskIdleTest, WaitsForTheEmptyInputWhileItHasLag) {
  Start();
  kafka_.Append("a", 0, "k", "a1", 1);
  kafka_.Append("a", 0, "k", "a5", 5);
  kafka_.Append("b", 0, "k", "b2", 2);
  ASSERT_TRUE(consumer_.Pause({{"b", 0}}).ok());  // b's fetch is late
  PollAll();
  EXPECT_EQ(consumer_.CachedLag({"b", 0}), 1);
  EXPECT_EQ(ProcessOk(100), 0);
  clock_ms_ += 3'600'000;  // lag > 0 waits without a deadline
  EXPECT_EQ(ProcessOk(100), 0);
  ASSERT_TRUE(consumer_.Resume({{"b", 0}}).ok());
  PollAll();
  EXPECT_EQ(ProcessOk(100), 3);
  EXPECT_THAT(collector_.Values(), ElementsAre("a1", "b2", "a5"));
  // a5 went with b empty and caught up, after 0 ms of max.task.idle.ms.
  EXPECT_EQ(task_->enforced_processing_total(), 1);
}

TEST_F(TaskIdleTest, ProcessesAfterMaxTaskIdleOnceTheEmptyInputIsCaughtUp) {
  max_task_idle_ms_ = 100;
  Start();
  kafka_.Append("a", 0, "k", "a1", 1);
  PollAll();
  EXPECT_EQ(consumer_.CachedLag({"b", 0}), 0);
  EXPECT_EQ(ProcessOk(100), 0);  // idles from now until +100 ms
  clock_ms_ += 99;
  EXPECT_EQ(ProcessOk(100), 0);
  clock_ms_ += 1;
  EXPECT_EQ(ProcessOk(100), 1);
  EXPECT_THAT(collector_.Values(), ElementsAre("a1"));
  EXPECT_EQ(task_->enforced_processing_total(), 1);
}

TEST_F(TaskIdleTest, MinusOneNeverWaits) {
  max_task_idle_ms_ = -1;
  Start();
  kafka_.Append("a", 0, "k", "a1", 1);
  kafka_.Append("a", 0, "k", "a5", 5);
  kafka_.Append("b", 0, "k", "b2", 2);
  ASSERT_TRUE(consumer_.Pause({{"b", 0}}).ok());
  PollAll();
  EXPECT_EQ(ProcessOk(100), 2);  // a runs ahead of b in stream time
  ASSERT_TRUE(consumer_.Resume({{"b", 0}}).ok());
  PollAll();
  EXPECT_EQ(ProcessOk(100), 1);
  EXPECT_THAT(collector_.Values(), ElementsAre("a1", "a5", "b2"));
}

}  // namespace
}  // namespace brook::internal
