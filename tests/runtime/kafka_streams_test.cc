// KafkaStreams in-process against the real broker: exactly-once and
// at-least-once passthrough, start-up validation, processing errors,
// punctuation and the instance state machine.
#include "brook/runtime/kafka_streams.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/kafka/consumer.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/stores.h"
#include "tests/testing/java_partitions.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CheckExactCopy;
using ::brook::testing::CreateTopic;
using ::brook::testing::JavaPartitions;
using ::brook::testing::kJavaPartitions;
using ::brook::testing::ProduceRawValue;
using ::brook::testing::ProduceValues;
using ::brook::testing::UniqueName;
using S = std::string;

class PassThrough final : public Processor<S, S, S, S> {
 public:
  absl::Status Init(ProcessorContext<S, S>& c) override {
    context_ = &c;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<S, S>& r) override {
    if (r.value == "poison") {
      return absl::InvalidArgumentError("cannot process poison");
    }
    return context_->Forward(r);
  }

 private:
  ProcessorContext<S, S>* context_ = nullptr;
};

Topology PassThroughTopology(const std::string& in, const std::string& out) {
  Topology t;
  t.AddSource<S, S>("in", {in}, Serdes::String(), Serdes::String())
      .AddProcessor<S, S, S, S>(
          "pass", [] { return std::make_unique<PassThrough>(); }, {"in"})
      .AddSink<S, S>("out", out, Serdes::String(), Serdes::String(), {"pass"});
  return t;
}

class KafkaStreamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    in_ = UniqueName("ks-in");
    out_ = UniqueName("ks-out");
    config_.application_id = UniqueName("ks-app");
    config_.bootstrap_servers = testing::BootstrapServers();
    config_.state_dir = ::testing::TempDir() + "/" + config_.application_id;
    config_.session_timeout = absl::Seconds(6);
    // The same tests over pause/resume back-pressure instead of the default
    // per-partition queues: BROOK_TEST_PAUSE_RESUME=1.
    config_.partition_queues =
        std::getenv("BROOK_TEST_PAUSE_RESUME") == nullptr;
  }
  void TearDown() override { std::filesystem::remove_all(config_.state_dir); }

  int64_t CommittedInput(int partitions) {
    ClientConfig cc = BaseConfig();
    cc["group.id"] = config_.application_id;
    auto consumer = Consumer::Create(cc, nullptr);
    std::vector<TopicPartition> tps;
    for (int p = 0; p < partitions; ++p) tps.push_back({in_, p});
    auto committed = (*consumer)->Committed(tps, absl::Seconds(30));
    if (!committed.ok()) return -1;
    int64_t sum = 0;
    for (const auto& c : *committed) sum += std::max<int64_t>(c.offset, 0);
    return sum;
  }

  bool WaitForCommitted(int partitions, int64_t n, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (CommittedInput(partitions) >= n) return true;
      absl::SleepFor(absl::Milliseconds(200));
    }
    return false;
  }

  std::string in_, out_;
  StreamsConfig config_;
};

TEST_F(KafkaStreamsTest, ExactlyOncePassThroughWithTwoThreads) {
  CreateTopic(in_, 4);
  CreateTopic(out_, 4);
  ProduceValues(in_, "r", 4000);
  config_.num_stream_threads = 2;
  auto app = KafkaStreams::Create(PassThroughTopology(in_, out_), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  std::vector<KafkaStreams::State> states;
  absl::Mutex mu;
  (*app)->SetStateListener([&](KafkaStreams::State s, KafkaStreams::State) {
    absl::MutexLock lock(&mu);
    states.push_back(s);
  });
  ASSERT_TRUE((*app)->Start().ok());
  ASSERT_TRUE(WaitForCommitted(4, 4000, absl::Seconds(90)));
  // The second thread may join after the first processed everything, which
  // rebalances once more: wait for the instance to settle.
  const absl::Time settle = absl::Now() + absl::Seconds(30);
  while ((*app)->state() != KafkaStreams::State::kRunning &&
         absl::Now() < settle) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ((*app)->state(), KafkaStreams::State::kRunning);
  ASSERT_TRUE((*app)->Close(absl::Seconds(60)).ok());
  EXPECT_EQ((*app)->state(), KafkaStreams::State::kNotRunning);
  {
    absl::MutexLock lock(&mu);
    ASSERT_GE(states.size(), 4u);
    EXPECT_EQ(states.front(), KafkaStreams::State::kRebalancing);
    EXPECT_NE(
        std::find(states.begin(), states.end(), KafkaStreams::State::kRunning),
        states.end());
    EXPECT_EQ(states[states.size() - 2], KafkaStreams::State::kPendingShutdown);
    EXPECT_EQ(states.back(), KafkaStreams::State::kNotRunning);
  }
  int64_t processed = 0;
  for (const auto& m : (*app)->Metrics()) processed += m.records_processed;
  EXPECT_EQ(processed, 4000);

  auto out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                       absl::Seconds(60));
  ASSERT_TRUE(out.ok()) << out.status();
  auto check = CheckExactCopy(*out, "r", 4000);
  EXPECT_EQ(check.records, 4000) << check.ToString();
  EXPECT_EQ(check.duplicates, 0) << check.ToString();
  EXPECT_EQ(check.missing, 0) << check.ToString();
}

TEST_F(KafkaStreamsTest, SinkPartitionsKeysAsJavasDefaultPartitioner) {
  const std::string out100 = UniqueName("ks-out100");
  CreateTopic(in_, 1);
  CreateTopic(out_, 12);
  CreateTopic(out100, 100);
  {
    auto producer = Producer::Create(BaseConfig());
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (const JavaPartitions& j : kJavaPartitions) {
      ASSERT_TRUE(
          (*producer)
              ->Send({.topic = in_, .partition = 0, .key = j.key, .value = "v"})
              .ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  }
  Topology t;
  t.AddSource<S, S>("in", {in_}, Serdes::String(), Serdes::String())
      .AddSink<S, S>("out12", out_, Serdes::String(), Serdes::String(), {"in"})
      .AddSink<S, S>("out100", out100, Serdes::String(), Serdes::String(),
                     {"in"});
  auto app = KafkaStreams::Create(std::move(t), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->Start().ok());
  ASSERT_TRUE(
      WaitForCommitted(1, std::size(kJavaPartitions), absl::Seconds(60)));
  ASSERT_TRUE((*app)->Close(absl::Seconds(60)).ok());

  for (const auto& [topic, of_100] :
       {std::pair{out_, false}, std::pair{out100, true}}) {
    auto out = ReadTopic(BaseConfig(), topic, IsolationLevel::kReadCommitted,
                         absl::Seconds(60));
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), std::size(kJavaPartitions)) << topic;
    std::map<std::string, int32_t> got;
    for (const ConsumerRecord& r : *out)
      got[r.key.value_or("<null>")] = r.partition;
    for (const JavaPartitions& j : kJavaPartitions) {
      EXPECT_EQ(got[j.key], of_100 ? j.of_100 : j.of_12)
          << "key '" << j.key << "' in " << topic;
    }
  }
}

TEST_F(KafkaStreamsTest, AtLeastOncePassThrough) {
  CreateTopic(in_, 2);
  CreateTopic(out_, 2);
  ProduceValues(in_, "r", 2000);
  config_.processing_guarantee = ProcessingGuarantee::kAtLeastOnce;
  config_.commit_interval = absl::Milliseconds(200);
  auto app = KafkaStreams::Create(PassThroughTopology(in_, out_), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->Start().ok());
  ASSERT_TRUE(WaitForCommitted(2, 2000, absl::Seconds(90)));
  ASSERT_TRUE((*app)->Close(absl::Seconds(60)).ok());
  auto out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadUncommitted,
                       absl::Seconds(60));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(CheckExactCopy(*out, "r", 2000).missing, 0);
}

TEST_F(KafkaStreamsTest, StartNamesAMissingSourceTopic) {
  CreateTopic(out_, 1);
  auto app = KafkaStreams::Create(PassThroughTopology(in_, out_), config_);
  ASSERT_TRUE(app.ok());
  absl::Status s = (*app)->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), in_)) << s;
  EXPECT_EQ((*app)->state(), KafkaStreams::State::kCreated);
}

TEST_F(KafkaStreamsTest, StartRejectsCoPartitionedTopicsWithUnequalCounts) {
  const std::string other = UniqueName("ks-other");
  CreateTopic(in_, 2);
  CreateTopic(other, 3);
  CreateTopic(out_, 2);
  Topology t;
  t.AddSource<S, S>("in", {in_, other}, Serdes::String(), Serdes::String())
      .AddSink<S, S>("out", out_, Serdes::String(), Serdes::String(), {"in"});
  auto app = KafkaStreams::Create(t, config_);
  ASSERT_TRUE(app.ok());
  absl::Status s = (*app)->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), absl::StrCat(other, "=3"))) << s;
}

TEST_F(KafkaStreamsTest, StartRejectsAChangelogWithTheWrongPartitionCount) {
  CreateTopic(in_, 2);
  CreateTopic(out_, 2);
  // Left over from an earlier topology with another partition count.
  CreateTopic(config_.application_id + "-counts-changelog", 3);
  Topology t = PassThroughTopology(in_, out_);
  t.AddStateStore(Stores::KeyValueStoreBuilder<S, int64_t>(
                      "counts", Serdes::String(), Serdes::Int64()),
                  {"pass"});
  auto app = KafkaStreams::Create(t, config_);
  ASSERT_TRUE(app.ok()) << app.status();
  absl::Status s = (*app)->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(
      s.message(), config_.application_id + "-counts-changelog' has 3"))
      << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "needs 2")) << s;
}

TEST_F(KafkaStreamsTest, ASecondInstanceWithTheSameStaticIdFencesTheFirst) {
  CreateTopic(in_, 1);
  CreateTopic(out_, 1);
  config_.group_instance_id = UniqueName("static");
  auto first = KafkaStreams::Create(PassThroughTopology(in_, out_), config_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE((*first)->Start().ok());
  const absl::Time running_by = absl::Now() + absl::Seconds(60);
  while ((*first)->state() != KafkaStreams::State::kRunning &&
         absl::Now() < running_by) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ((*first)->state(), KafkaStreams::State::kRunning);
  // A misconfigured second instance reuses the static id.
  StreamsConfig second_config = config_;
  second_config.state_dir += "-second";
  auto second =
      KafkaStreams::Create(PassThroughTopology(in_, out_), second_config);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE((*second)->Start().ok());
  const absl::Time fenced_by = absl::Now() + absl::Seconds(60);
  while ((*first)->state() != KafkaStreams::State::kError &&
         absl::Now() < fenced_by) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ((*first)->state(), KafkaStreams::State::kError)
      << "the fenced static member kept running";
  EXPECT_TRUE(
      absl::StrContains((*first)->error().message(), "FENCED_INSTANCE_ID"))
      << (*first)->error();
  EXPECT_TRUE((*second)->Close(absl::Seconds(60)).ok());
  EXPECT_TRUE((*first)->Close(absl::Seconds(60)).ok());
  std::filesystem::remove_all(second_config.state_dir);
}

TEST_F(KafkaStreamsTest, ProcessingErrorStopsTheInstanceNamingTheRecord) {
  CreateTopic(in_, 1);
  CreateTopic(out_, 1);
  ProduceValues(in_, "r", 10);
  auto app = KafkaStreams::Create(PassThroughTopology(in_, out_), config_);
  ASSERT_TRUE(app.ok());
  std::atomic<int> handled{0};
  (*app)->SetUncaughtErrorHandler([&](const absl::Status&) {
    ++handled;
    return StreamThreadErrorResponse::kShutdownClient;
  });
  ASSERT_TRUE((*app)->Start().ok());
  // The good records are processed and committed before the poison arrives,
  // so the test sees work done before the error, not only the error.
  ASSERT_TRUE(WaitForCommitted(1, 10, absl::Seconds(60)));
  testing::ProduceRawValue(in_, "poison");
  ProduceValues(in_, "late", 5);  // after the poison: never processed
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while ((*app)->state() != KafkaStreams::State::kError &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ((*app)->state(), KafkaStreams::State::kError);
  EXPECT_EQ(handled.load(), 1);
  absl::Status error = (*app)->error();
  EXPECT_TRUE(absl::StrContains(error.message(), absl::StrCat(in_, "-0@10")))
      << error;
  EXPECT_TRUE(absl::StrContains(error.message(), "poison")) << error;
  int64_t processed = 0;
  for (const auto& m : (*app)->Metrics()) processed += m.records_processed;
  EXPECT_GE(processed, 10) << "the records before the poison were processed";
  EXPECT_TRUE((*app)->Close(absl::Seconds(30)).ok());
  // The poison record's transaction was aborted: nothing is committed past
  // the good records, and the output is exactly the good records, in order.
  EXPECT_EQ(CommittedInput(1), 10);
  auto out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                       absl::Seconds(30));
  ASSERT_TRUE(out.ok()) << out.status();
  auto check = CheckExactCopy(*out, "r", 10);
  EXPECT_EQ(check.records, 10) << check.ToString();
  EXPECT_EQ(check.missing, 0) << check.ToString();
  EXPECT_EQ(check.unexpected, 0) << check.ToString();
  for (size_t i = 0; i < out->size(); ++i) {
    EXPECT_EQ((*out)[i].value, absl::StrFormat("r-%06d", i)) << "at " << i;
    EXPECT_EQ((*out)[i].key, absl::StrCat("k", i)) << "at " << i;
  }
}

class Ticker final : public Processor<S, S, S, S> {
 public:
  absl::Status Init(ProcessorContext<S, S>& c) override {
    context_ = &c;
    auto scheduled = c.Schedule(
        absl::Milliseconds(50), PunctuationType::kWallClockTime,
        [this](int64_t ts) {
          if (ticks_++ > 0) return absl::OkStatus();
          Record<S, S> r;
          r.key = "tick";
          r.value = absl::StrCat("tick-", context_->task_id().ToString());
          r.timestamp_ms = ts;
          return context_->Forward(r);
        });
    return scheduled.status();
  }
  absl::Status Process(const Record<S, S>& r) override {
    return context_->Forward(r);
  }

 private:
  ProcessorContext<S, S>* context_ = nullptr;
  int ticks_ = 0;
};

TEST_F(KafkaStreamsTest, WallClockPunctuatorForwardsIntoTheTransaction) {
  CreateTopic(in_, 2);
  CreateTopic(out_, 1);
  Topology t;
  t.AddSource<S, S>("in", {in_}, Serdes::String(), Serdes::String())
      .AddProcessor<S, S, S, S>(
          "tick", [] { return std::make_unique<Ticker>(); }, {"in"})
      .AddSink<S, S>("out", out_, Serdes::String(), Serdes::String(), {"tick"});
  auto app = KafkaStreams::Create(t, config_);
  ASSERT_TRUE(app.ok());
  ASSERT_TRUE((*app)->Start().ok());
  std::vector<ConsumerRecord> out;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (out.size() < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    auto read = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                          absl::Seconds(30));
    ASSERT_TRUE(read.ok());
    out = *read;
  }
  ASSERT_TRUE((*app)->Close(absl::Seconds(30)).ok());
  std::set<std::string> values;
  for (const auto& r : out) values.insert(r.value.value_or(""));
  EXPECT_EQ(values, (std::set<std::string>{"tick-0_0", "tick-0_1"}));
}

TEST_F(KafkaStreamsTest, InvalidConfigNamesTheKey) {
  config_.num_stream_threads = 0;
  auto app = KafkaStreams::Create(PassThroughTopology(in_, out_), config_);
  ASSERT_FALSE(app.ok());
  EXPECT_TRUE(absl::StrContains(app.status().message(), "num.stream.threads"));
}

TEST(KafkaStreamsReplaceThreadTest,
     ReplacedThreadsAreFreedWhileTheInstanceRuns) {
  const std::string in = UniqueName("replace-in");
  const std::string out = UniqueName("replace-out");
  CreateTopic(in, 1);
  CreateTopic(out, 1);
  ProduceRawValue(in, "poison");
  Topology t = PassThroughTopology(in, out);  // fails on "poison"
  StreamsConfig config;
  config.application_id = UniqueName("replace-app");
  config.bootstrap_servers = testing::BootstrapServers();
  config.state_dir = ::testing::TempDir() + "/" + config.application_id;
  config.session_timeout = absl::Seconds(6);
  auto app = KafkaStreams::Create(t, config);
  ASSERT_TRUE(app.ok()) << app.status();
  std::atomic<int> replacements{0};
  (*app)->SetUncaughtErrorHandler([&](const absl::Status& error) {
    EXPECT_TRUE(absl::StrContains(error.message(), "poison")) << error;
    ++replacements;
    return StreamThreadErrorResponse::kReplaceThread;
  });
  ASSERT_TRUE((*app)->Start().ok());
  // The poison record is never committed, so every replacement meets it
  // again: a loop of replacements, each of which used to keep its consumer,
  // producer and restore consumer alive until Close().
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  bool freed = false;
  size_t max_entries = 0;
  while (absl::Now() < deadline && !(freed && replacements.load() >= 4)) {
    std::vector<StreamThreadMetrics> metrics = (*app)->Metrics();
    max_entries = std::max(max_entries, metrics.size());
    for (const StreamThreadMetrics& m : metrics) {
      if (absl::EndsWith(m.name, "-replaced-threads")) freed = true;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_GE(replacements.load(), 4) << "the poison record was not met again";
  EXPECT_TRUE(freed) << "no replaced thread was freed";
  // The live thread, at most a couple not reaped yet (the watchdog reaps
  // every 250 ms), and the one summary entry.
  const size_t entries = (*app)->Metrics().size();
  EXPECT_LE(entries, 4u) << "replaced threads accumulate: " << entries
                         << " after " << replacements.load() << " replacements";
  const KafkaStreams::State state = (*app)->state();
  EXPECT_TRUE(state == KafkaStreams::State::kRunning ||
              state == KafkaStreams::State::kRebalancing)
      << KafkaStreams::StateName(state);
  ASSERT_TRUE((*app)->Close(absl::Seconds(60)).ok());
  std::filesystem::remove_all(config.state_dir);
}

}  // namespace
}  // namespace brook
