// Record error policies (runtime/error_handlers.h) on TopologyTestDriver:
// the tasks' decisions, metrics and dead-letter records, without a broker.
// tests/runtime/error_policies_broker_test.cc runs them on the real broker.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/runtime/error_handlers.h"
#include "brook/runtime/internal/stream_task.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/topology_test_driver.h"

namespace brook {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

// Forwards each value as text; fails on multiples of 5; a value of 1000 or
// more becomes that many bytes of text (too large for a small topic).
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

Topology MakeTopology() {
  Topology t;
  t.AddSource<int64_t, int64_t>("src", {"in"}, Serdes::Int64(), Serdes::Int64())
      .AddProcessor<int64_t, int64_t, int64_t, std::string>(
          "proc", [] { return std::make_unique<Proc>(); }, {"src"})
      .AddSink<int64_t, std::string>("sink", "out", Serdes::Int64(),
                                     Serdes::String(), {"proc"});
  return t;
}

std::string Int64Bytes(int64_t v) { return Serdes::Int64()->Serialize("", v); }

std::string Header(const ProducerRecord& r, absl::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<missing>";
}

class ErrorPoliciesTest : public ::testing::Test {
 protected:
  std::unique_ptr<TopologyTestDriver> Driver() {
    auto driver = TopologyTestDriver::Create(MakeTopology(), options_);
    EXPECT_TRUE(driver.ok()) << driver.status();
    return driver.ok() ? *std::move(driver) : nullptr;
  }
  absl::Status Pipe(TopologyTestDriver& d, std::optional<std::string> key,
                    std::optional<std::string> value) {
    return d.PipeInput("in", std::move(key), std::move(value), 1000);
  }
  absl::Status PipeValue(TopologyTestDriver& d, int64_t v) {
    return Pipe(d, Int64Bytes(v), Int64Bytes(v));
  }
  std::vector<std::string> OutputValues(TopologyTestDriver& d) {
    std::vector<std::string> values;
    for (const ProducerRecord& r : d.ReadOutput("out")) {
      values.push_back(r.value.value_or("<null>"));
    }
    return values;
  }

  TopologyTestDriverOptions options_;
};

TEST_F(ErrorPoliciesTest, DeserializationErrorFailsByDefaultNamingTheRecord) {
  auto d = Driver();
  ASSERT_TRUE(PipeValue(*d, 1).ok());
  absl::Status s = Pipe(*d, "abc", Int64Bytes(2));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("in-0@1"));
  EXPECT_THAT(s.message(), HasSubstr("deserialization-error"));
  EXPECT_THAT(s.message(), HasSubstr("cannot deserialize the key"));
}

TEST_F(ErrorPoliciesTest, ContinueSkipsUndeserializableKeyAndValueCounted) {
  options_.error_policies.deserialization = LogAndContinueHandler();
  auto d = Driver();
  ASSERT_TRUE(PipeValue(*d, 1).ok());
  ASSERT_TRUE(Pipe(*d, "abc", Int64Bytes(2)).ok());
  ASSERT_TRUE(Pipe(*d, Int64Bytes(3), "defg").ok());
  ASSERT_TRUE(PipeValue(*d, 4).ok());
  EXPECT_EQ(OutputValues(*d), (std::vector<std::string>{"1", "4"}));
  EXPECT_EQ(d->DroppedRecords(DroppedRecordReason::kDeserializationError), 2);
  EXPECT_EQ(d->DroppedRecords(DroppedRecordReason::kProcessingError), 0);
}

TEST_F(ErrorPoliciesTest, DeadLetterWritesTheOriginalBytesWithWhyHeaders) {
  options_.error_policies.deserialization = DeadLetterHandler();
  options_.error_policies.dead_letter_queue_topic = "dlq";
  auto d = Driver();
  ASSERT_TRUE(PipeValue(*d, 1).ok());
  ASSERT_TRUE(Pipe(*d, Int64Bytes(7), "defg").ok());
  ASSERT_TRUE(Pipe(*d, "abc", std::nullopt).ok());
  EXPECT_EQ(OutputValues(*d), (std::vector<std::string>{"1"}));
  std::vector<ProducerRecord> dlq = d->ReadOutput("dlq");
  ASSERT_EQ(dlq.size(), 2u);
  EXPECT_EQ(dlq[0].key, Int64Bytes(7));
  EXPECT_EQ(dlq[0].value, "defg");
  EXPECT_EQ(Header(dlq[0], kDlqHeaderException), "INVALID_ARGUMENT");
  EXPECT_THAT(Header(dlq[0], kDlqHeaderMessage),
              HasSubstr("cannot deserialize the value"));
  EXPECT_EQ(Header(dlq[0], kDlqHeaderTopic), "in");
  EXPECT_EQ(Header(dlq[0], kDlqHeaderPartition), "0");
  EXPECT_EQ(Header(dlq[0], kDlqHeaderOffset), "1");
  EXPECT_EQ(Header(dlq[0], kDlqHeaderKind), "deserialization-error");
  EXPECT_EQ(Header(dlq[0], kDlqHeaderTask), "0_0");
  EXPECT_EQ(Header(dlq[0], kDlqHeaderNode), "src");
  EXPECT_EQ(dlq[1].key, "abc");
  EXPECT_EQ(dlq[1].value, std::nullopt);
  EXPECT_EQ(Header(dlq[1], kDlqHeaderOffset), "2");
  EXPECT_THAT(Header(dlq[1], kDlqHeaderMessage),
              HasSubstr("cannot deserialize the key"));
}

TEST_F(ErrorPoliciesTest, DeadLetterWithoutATopicFailsNamingTheConfigKey) {
  options_.error_policies.deserialization = DeadLetterHandler();
  auto d = Driver();
  absl::Status s = Pipe(*d, "abc", Int64Bytes(2));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("errors.dead.letter.queue.topic.name"));
}

TEST_F(ErrorPoliciesTest, ProcessorFailingOnSomeRecordsDeadLettersOnlyThose) {
  options_.error_policies.processing = DeadLetterHandler();
  options_.error_policies.dead_letter_queue_topic = "dlq";
  auto d = Driver();
  for (int64_t v = 1; v <= 10; ++v) ASSERT_TRUE(PipeValue(*d, v).ok());
  EXPECT_EQ(OutputValues(*d),
            (std::vector<std::string>{"1", "2", "3", "4", "6", "7", "8", "9"}));
  std::vector<ProducerRecord> dlq = d->ReadOutput("dlq");
  ASSERT_EQ(dlq.size(), 2u);
  EXPECT_EQ(dlq[0].value, Int64Bytes(5));
  EXPECT_EQ(dlq[1].value, Int64Bytes(10));
  EXPECT_EQ(Header(dlq[1], kDlqHeaderKind), "processing-error");
  EXPECT_EQ(Header(dlq[1], kDlqHeaderMessage), "value 10 is a multiple of 5");
  EXPECT_EQ(Header(dlq[1], kDlqHeaderOffset), "9");
}

TEST_F(ErrorPoliciesTest, ProcessingErrorContinueCountsAndFailNamesRecord) {
  options_.error_policies.processing = LogAndContinueHandler();
  auto d = Driver();
  for (int64_t v = 4; v <= 6; ++v) ASSERT_TRUE(PipeValue(*d, v).ok());
  EXPECT_EQ(OutputValues(*d), (std::vector<std::string>{"4", "6"}));
  EXPECT_EQ(d->DroppedRecords(DroppedRecordReason::kProcessingError), 1);

  options_.error_policies.processing = LogAndFailHandler();
  auto failing = Driver();
  ASSERT_TRUE(PipeValue(*failing, 4).ok());
  absl::Status s = PipeValue(*failing, 5);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("in-0@1"));
  EXPECT_THAT(s.message(), HasSubstr("value 5 is a multiple of 5"));
}

TEST_F(ErrorPoliciesTest, OversizedOutputIsAProductionErrorFoundBeforeSending) {
  options_.max_message_bytes["out"] = 500;
  auto failing = Driver();
  absl::Status s = PipeValue(*failing, 2001);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("exceeds its limit of 500 bytes"));
  EXPECT_THAT(s.message(), HasSubstr("in-0@0"));
  EXPECT_TRUE(failing->ReadOutput("out").empty());

  options_.error_policies.production = LogAndContinueHandler();
  auto d = Driver();
  ASSERT_TRUE(PipeValue(*d, 1).ok());
  ASSERT_TRUE(PipeValue(*d, 2001).ok());
  ASSERT_TRUE(PipeValue(*d, 3).ok());
  EXPECT_EQ(OutputValues(*d), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(d->DroppedRecords(DroppedRecordReason::kProductionError), 1);
}

TEST_F(ErrorPoliciesTest, ProductionDeadLetterWritesTheInputRecord) {
  options_.max_message_bytes["out"] = 500;
  options_.error_policies.production = DeadLetterHandler();
  options_.error_policies.dead_letter_queue_topic = "dlq";
  auto d = Driver();
  ASSERT_TRUE(PipeValue(*d, 2001).ok());
  ASSERT_TRUE(PipeValue(*d, 3).ok());
  EXPECT_EQ(OutputValues(*d), (std::vector<std::string>{"3"}));
  std::vector<ProducerRecord> dlq = d->ReadOutput("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].value, Int64Bytes(2001));
  EXPECT_EQ(Header(dlq[0], kDlqHeaderKind), "production-error");
  EXPECT_EQ(Header(dlq[0], kDlqHeaderNode), "out");
}

// A production error the handler fails on travels back through the
// processor; the processing handler must not turn it into a skip.
TEST_F(ErrorPoliciesTest, ProcessingHandlerCannotSwallowAProductionFailure) {
  options_.max_message_bytes["out"] = 500;
  options_.error_policies.processing = LogAndContinueHandler();
  auto d = Driver();
  absl::Status s = PipeValue(*d, 2001);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("production-error"));
  EXPECT_EQ(d->DroppedRecords(DroppedRecordReason::kProcessingError), 0);
}

TEST(RecordBatchSizeUpperBoundTest, CoversBatchHeaderKeyValueAndHeaders) {
  ProducerRecord r{.topic = "t",
                   .key = std::string(10, 'k'),
                   .value = std::string(1000, 'v'),
                   .headers = {{"h", "123"}}};
  const int64_t bound = internal::RecordBatchSizeUpperBound(r);
  EXPECT_GE(bound, 61 + 10 + 1000 + 4);
  EXPECT_LE(bound, 61 + 10 + 1000 + 4 + 60);
}

}  // namespace
}  // namespace brook
