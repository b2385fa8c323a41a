// Record error policies (runtime/error_handlers.h) on the real broker:
// poison records under each decision, a processor failing on some records,
// an output above the sink topic's max.message.bytes, and the dead-letter
// topic checked at start. Every read is read_committed: what a consumer of
// the output and the dead-letter topic would see.
// (The kill -9 case is EosAppTest.DeadLetteredRecordsStayExactlyOnce...)
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/kafka/consumer.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/runtime/error_handlers.h"
#include "brook/runtime/kafka_streams.h"
#include "brook/runtime/serdes.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CreateTopic;
using ::brook::testing::UniqueName;
using ::testing::HasSubstr;

// Forwards each value as text; fails on multiples of 5; a value of 1000 or
// more becomes that many bytes of text.
class Proc final : public Processor<int64_t, int64_t, int64_t, std::string> {
 public:
  absl::Status Init(ProcessorContext<int64_t, std::string>& c) override {
    context_ = &c;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<int64_t, int64_t>& r) override {
    const int64_t v = r.value.value_or(0);
    if (v % 5 == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("value ", v, " is a multiple of 5"));
    }
    std::string out = v >= 1000 ? std::string(v, 'x') : absl::StrCat(v);
    return context_->Forward(r.WithKeyValue(r.key, std::optional(out)));
  }

 private:
  ProcessorContext<int64_t, std::string>* context_ = nullptr;
};

std::string Int64Bytes(int64_t v) { return Serdes::Int64()->Serialize("", v); }

std::string Header(const ConsumerRecord& r, absl::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<missing>";
}

class ErrorPoliciesBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    in_ = UniqueName("ep-in");
    out_ = UniqueName("ep-out");
    dlq_ = UniqueName("ep-dlq");
    config_.application_id = UniqueName("ep-app");
    config_.bootstrap_servers = testing::BootstrapServers();
    config_.state_dir = ::testing::TempDir() + "/" + config_.application_id;
    config_.session_timeout = absl::Seconds(6);
  }
  void TearDown() override { std::filesystem::remove_all(config_.state_dir); }

  Topology MakeTopology() const {
    Topology t;
    t.AddSource<int64_t, int64_t>("src", {in_}, Serdes::Int64(),
                                  Serdes::Int64())
        .AddProcessor<int64_t, int64_t, int64_t, std::string>(
            "proc", [] { return std::make_unique<Proc>(); }, {"src"})
        .AddSink<int64_t, std::string>("sink", out_, Serdes::Int64(),
                                       Serdes::String(), {"proc"});
    return t;
  }

  // Writes raw records to partition 0 of the input, in order.
  void Produce(
      const std::vector<std::pair<std::string, std::string>>& records) {
    auto producer = Producer::Create(BaseConfig());
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (const auto& [k, v] : records) {
      ASSERT_TRUE(
          (*producer)
              ->Send({.topic = in_, .partition = 0, .key = k, .value = v})
              .ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  }
  void ProduceValues(const std::vector<int64_t>& values) {
    std::vector<std::pair<std::string, std::string>> records;
    for (int64_t v : values) records.push_back({Int64Bytes(v), Int64Bytes(v)});
    Produce(records);
  }

  int64_t CommittedInput() {
    ClientConfig cc = BaseConfig();
    cc["group.id"] = config_.application_id;
    auto consumer = Consumer::Create(cc, nullptr);
    if (!consumer.ok()) return -1;
    auto committed = (*consumer)->Committed({{in_, 0}}, absl::Seconds(30));
    if (!committed.ok() || committed->empty()) return -1;
    return std::max<int64_t>((*committed)[0].offset, 0);
  }

  // Runs the application until it committed `n` input records (or failed),
  // then closes it. Returns it for its state, error and metrics.
  std::unique_ptr<KafkaStreams> RunUntilCommitted(int64_t n) {
    auto app = KafkaStreams::Create(MakeTopology(), config_);
    EXPECT_TRUE(app.ok()) << app.status();
    if (!app.ok()) return nullptr;
    absl::Status started = (*app)->Start();
    EXPECT_TRUE(started.ok()) << started;
    const absl::Time deadline = absl::Now() + absl::Seconds(90);
    while (absl::Now() < deadline &&
           (*app)->state() != KafkaStreams::State::kError &&
           CommittedInput() < n) {
      absl::SleepFor(absl::Milliseconds(200));
    }
    (*app)->Close(absl::Seconds(60)).IgnoreError();  // state() says enough
    return *std::move(app);
  }

  std::vector<ConsumerRecord> Read(const std::string& topic) {
    auto records = ReadTopic(BaseConfig(), topic,
                             IsolationLevel::kReadCommitted, absl::Seconds(60));
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok() ? *std::move(records) : std::vector<ConsumerRecord>{};
  }
  std::vector<std::string> Values(const std::string& topic) {
    std::vector<std::string> values;
    for (const ConsumerRecord& r : Read(topic)) {
      values.push_back(r.value.value_or("<null>"));
    }
    return values;
  }

  static int64_t Sum(const std::map<std::string, int64_t>& m,
                     const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
  }

  std::string in_, out_, dlq_;
  StreamsConfig config_;
};

TEST_F(ErrorPoliciesBrokerTest, MissingDeadLetterTopicFailsStartNamingIt) {
  CreateTopic(in_, 1);
  CreateTopic(out_, 1);
  config_.error_policies.dead_letter_queue_topic = dlq_;
  auto app = KafkaStreams::Create(MakeTopology(), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  absl::Status s = (*app)->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_THAT(s.message(), HasSubstr(dlq_));
  EXPECT_THAT(s.message(), HasSubstr("errors.dead.letter.queue.topic.name"));
  ASSERT_TRUE((*app)->Close(absl::Seconds(10)).ok());
}

TEST_F(ErrorPoliciesBrokerTest, DeadLetterTopicThatIsASourceIsRefused) {
  CreateTopic(in_, 1);
  CreateTopic(out_, 1);
  config_.error_policies.dead_letter_queue_topic = in_;
  auto app = KafkaStreams::Create(MakeTopology(), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  absl::Status s = (*app)->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr("also a source topic"));
  ASSERT_TRUE((*app)->Close(absl::Seconds(10)).ok());
}

// The input: 1, 2, a key that is not an int64, 3, a value that is not an
// int64, 4 (offsets 0..5).
class PoisonInput : public ErrorPoliciesBrokerTest {
 protected:
  void SetUp() override {
    ErrorPoliciesBrokerTest::SetUp();
    CreateTopic(in_, 1);
    CreateTopic(out_, 1);
    CreateTopic(dlq_, 1);
    Produce({{Int64Bytes(1), Int64Bytes(1)},
             {Int64Bytes(2), Int64Bytes(2)},
             {"not-a-long-key", Int64Bytes(9)},
             {Int64Bytes(3), Int64Bytes(3)},
             {Int64Bytes(8), "bad"},
             {Int64Bytes(4), Int64Bytes(4)}});
  }
};

TEST_F(PoisonInput, FailStopsTheTaskNamingTheRecord) {
  auto app = RunUntilCommitted(6);
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->state(), KafkaStreams::State::kError);
  EXPECT_THAT(app->error().message(), HasSubstr(absl::StrCat(in_, "-0@2")));
  EXPECT_THAT(app->error().message(), HasSubstr("cannot deserialize the key"));
  EXPECT_LE(CommittedInput(), 2);
  for (const std::string& v : Values(out_)) EXPECT_TRUE(v == "1" || v == "2");
}

TEST_F(PoisonInput, ContinueSkipsBothAndCountsThem) {
  config_.error_policies.deserialization = LogAndContinueHandler();
  auto app = RunUntilCommitted(6);
  ASSERT_NE(app, nullptr);
  EXPECT_NE(app->state(), KafkaStreams::State::kError) << app->error();
  EXPECT_EQ(CommittedInput(), 6);
  EXPECT_EQ(Values(out_), (std::vector<std::string>{"1", "2", "3", "4"}));
  int64_t dropped = 0;
  for (const auto& m : app->Metrics()) {
    dropped += Sum(m.dropped_records, "deserialization-error");
  }
  EXPECT_EQ(dropped, 2);
  EXPECT_TRUE(Read(dlq_).empty());
}

TEST_F(PoisonInput, DeadLetterWritesBothInTheCommittedTransaction) {
  config_.error_policies.deserialization = DeadLetterHandler();
  config_.error_policies.dead_letter_queue_topic = dlq_;
  auto app = RunUntilCommitted(6);
  ASSERT_NE(app, nullptr);
  EXPECT_NE(app->state(), KafkaStreams::State::kError) << app->error();
  EXPECT_EQ(Values(out_), (std::vector<std::string>{"1", "2", "3", "4"}));
  std::vector<ConsumerRecord> dead = Read(dlq_);
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0].key, "not-a-long-key");
  EXPECT_EQ(dead[0].value, Int64Bytes(9));
  EXPECT_EQ(Header(dead[0], kDlqHeaderOffset), "2");
  EXPECT_THAT(Header(dead[0], kDlqHeaderMessage),
              HasSubstr("cannot deserialize the key"));
  EXPECT_EQ(dead[1].key, Int64Bytes(8));
  EXPECT_EQ(dead[1].value, "bad");
  EXPECT_EQ(Header(dead[1], kDlqHeaderTopic), in_);
  EXPECT_EQ(Header(dead[1], kDlqHeaderPartition), "0");
  EXPECT_EQ(Header(dead[1], kDlqHeaderOffset), "4");
  EXPECT_EQ(Header(dead[1], kDlqHeaderKind), "deserialization-error");
  EXPECT_EQ(Header(dead[1], kDlqHeaderTask), "0_0");
  int64_t dead_lettered = 0;
  for (const auto& m : app->Metrics()) {
    dead_lettered += Sum(m.dead_letter_records, "deserialization-error");
  }
  EXPECT_EQ(dead_lettered, 2);
}

TEST_F(ErrorPoliciesBrokerTest, ProcessorFailingOnSomeRecordsDeadLettersThem) {
  CreateTopic(in_, 1);
  CreateTopic(out_, 1);
  CreateTopic(dlq_, 1);
  std::vector<int64_t> values;
  for (int64_t v = 1; v <= 20; ++v) values.push_back(v);
  ProduceValues(values);
  config_.error_policies.processing = DeadLetterHandler();
  config_.error_policies.dead_letter_queue_topic = dlq_;
  auto app = RunUntilCommitted(20);
  ASSERT_NE(app, nullptr);
  EXPECT_NE(app->state(), KafkaStreams::State::kError) << app->error();
  EXPECT_EQ(Values(out_).size(), 16u);
  std::vector<std::string> dead = Values(dlq_);
  EXPECT_EQ(dead, (std::vector<std::string>{Int64Bytes(5), Int64Bytes(10),
                                            Int64Bytes(15), Int64Bytes(20)}));
  int64_t aborts = 0;
  for (const auto& m : app->Metrics()) aborts += m.aborts;
  EXPECT_EQ(aborts, 0);
}

// The sink topic takes records up to 4 KiB; the value 5000 makes a 5000-byte
// output. Found before sending, it leaves the transaction committable.
// The broker rejects every output at delivery (its timestamp is two days
// older than message.timestamp.before.max.ms allows), which makes the
// transaction abortable; reprocessing makes the same output again. Instead
// of aborting for ever, the thread fails once aborts have gone on with no
// commit for task.timeout.ms, naming the cause; nothing is committed.
TEST_F(ErrorPoliciesBrokerTest, OutputTheBrokerRejectsEndsTheAbortLoop) {
  CreateTopic(in_, 1);
  // Outputs dated before now - 1 h are rejected.
  CreateTopic(out_, 1, {{"message.timestamp.before.max.ms", "3600000"}});
  auto producer = Producer::Create(BaseConfig());
  ASSERT_TRUE(producer.ok()) << producer.status();
  const int64_t two_days_ago =
      absl::ToUnixMillis(absl::Now() - absl::Hours(48));
  for (int64_t v : {1, 2, 3}) {
    ASSERT_TRUE((*producer)
                    ->Send({.topic = in_,
                            .partition = 0,
                            .key = Int64Bytes(v),
                            .value = Int64Bytes(v),
                            .timestamp_ms = two_days_ago})
                    .ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  config_.task_timeout = absl::Seconds(3);
  const absl::Time start = absl::Now();
  auto app = RunUntilCommitted(1);
  ASSERT_NE(app, nullptr);
  ASSERT_EQ(app->state(), KafkaStreams::State::kError)
      << "still running after " << absl::Now() - start;
  const std::string error(app->error().message());
  EXPECT_TRUE(absl::StrContains(error, "kept aborting")) << error;
  EXPECT_TRUE(absl::StrContains(error, "task.timeout.ms")) << error;
  EXPECT_TRUE(absl::StrContains(error, "INVALID_TIMESTAMP")) << error;
  int64_t aborts = 0;
  for (const StreamThreadMetrics& m : app->Metrics()) aborts += m.aborts;
  EXPECT_GE(aborts, 2);
  EXPECT_LE(CommittedInput(), 0);
  EXPECT_TRUE(Read(out_).empty());
}

class OversizedOutput : public ErrorPoliciesBrokerTest {
 protected:
  void SetUp() override {
    ErrorPoliciesBrokerTest::SetUp();
    CreateTopic(in_, 1);
    CreateTopic(dlq_, 1);
    CreateTopic(out_, 1, {{"max.message.bytes", "4096"}});
    ProduceValues({1, 2, 5001, 3, 4});
  }
};

TEST_F(OversizedOutput, DeadLetterKeepsTheTransactionCommittable) {
  config_.error_policies.production = DeadLetterHandler();
  config_.error_policies.dead_letter_queue_topic = dlq_;
  auto app = RunUntilCommitted(5);
  ASSERT_NE(app, nullptr);
  EXPECT_NE(app->state(), KafkaStreams::State::kError) << app->error();
  EXPECT_EQ(CommittedInput(), 5);
  EXPECT_EQ(Values(out_), (std::vector<std::string>{"1", "2", "3", "4"}));
  std::vector<ConsumerRecord> dead = Read(dlq_);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value, Int64Bytes(5001));
  EXPECT_EQ(Header(dead[0], kDlqHeaderKind), "production-error");
  EXPECT_THAT(Header(dead[0], kDlqHeaderMessage),
              HasSubstr("exceeds its limit of 4096 bytes"));
  int64_t aborts = 0;
  for (const auto& m : app->Metrics()) aborts += m.aborts;
  EXPECT_EQ(aborts, 0);
}

TEST_F(OversizedOutput, ContinueSkipsItAndFailNamesIt) {
  config_.error_policies.production = LogAndContinueHandler();
  auto app = RunUntilCommitted(5);
  ASSERT_NE(app, nullptr);
  EXPECT_NE(app->state(), KafkaStreams::State::kError) << app->error();
  EXPECT_EQ(Values(out_), (std::vector<std::string>{"1", "2", "3", "4"}));
  int64_t dropped = 0;
  for (const auto& m : app->Metrics()) {
    dropped += Sum(m.dropped_records, "production-error");
  }
  EXPECT_EQ(dropped, 1);

  config_.application_id = UniqueName("ep-app-fail");
  config_.error_policies.production = LogAndFailHandler();
  auto failing = RunUntilCommitted(5);
  ASSERT_NE(failing, nullptr);
  EXPECT_EQ(failing->state(), KafkaStreams::State::kError);
  EXPECT_THAT(failing->error().message(),
              HasSubstr("exceeds its limit of 4096 bytes"));
  EXPECT_THAT(failing->error().message(), HasSubstr(absl::StrCat(in_, "-0@2")));
}

}  // namespace
}  // namespace brook
