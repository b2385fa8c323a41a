// Error classification of librdkafka codes and config errors. Needs no
// broker: librdkafka validates configs and creates clients offline.
#include "brook/kafka/internal/rdkafka_handle.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "brook/kafka/consumer.h"
#include "brook/kafka/errors.h"
#include "brook/kafka/producer.h"

namespace brook::internal {
namespace {

TEST(FromRespErrTest, FencingIsFatal) {
  EXPECT_TRUE(IsFatal(FromRespErr(RD_KAFKA_RESP_ERR__FENCED, "commit")));
  EXPECT_TRUE(
      IsFatal(FromRespErr(RD_KAFKA_RESP_ERR_PRODUCER_FENCED, "commit")));
  EXPECT_TRUE(
      IsFatal(FromRespErr(RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID, "join")));
}

TEST(FromRespErrTest, CoordinatorTroubleIsRetriable) {
  EXPECT_TRUE(IsRetriable(
      FromRespErr(RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, "commit")));
  EXPECT_TRUE(IsRetriable(FromRespErr(RD_KAFKA_RESP_ERR__TIMED_OUT, "commit")));
}

TEST(FromRespErrTest, StaleGenerationRequiresAbort) {
  EXPECT_TRUE(IsTransactionAbortable(
      FromRespErr(RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION, "send offsets")));
  EXPECT_TRUE(IsTransactionAbortable(
      FromRespErr(RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID, "send offsets")));
}

TEST(FromRespErrTest, MissingTopicIsNotFoundAndNamesTheOperation) {
  absl::Status s = FromRespErr(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                               "describe topic 'x'");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(s.message(), "describe topic 'x'"));
}

TEST(FromRespErrTest, NoErrorIsOk) {
  EXPECT_TRUE(FromRespErr(RD_KAFKA_RESP_ERR_NO_ERROR, "x").ok());
  EXPECT_TRUE(FromError(nullptr, "x").ok());
}

TEST(FromErrorTest, ErrorWithoutFlagsIsFatal) {
  // librdkafka's rule: an error that is neither retriable nor abortable nor
  // flagged fatal must be treated as fatal.
  absl::Status s = FromError(
      rd_kafka_error_new(RD_KAFKA_RESP_ERR_INVALID_TXN_STATE, "bad state"),
      "commit");
  EXPECT_TRUE(IsFatal(s));
}

TEST(BuildConfTest, UnknownKeyIsNamed) {
  auto conf = BuildConf(
      {{"bootstrap.servers", "127.0.0.1:1"}, {"no.such.property", "1"}});
  ASSERT_FALSE(conf.ok());
  EXPECT_EQ(conf.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(conf.status().message(), "no.such.property"));
}

TEST(BuildConfTest, BadValueIsNamed) {
  auto conf = BuildConf({{"linger.ms", "soon"}});
  ASSERT_FALSE(conf.ok());
  EXPECT_TRUE(absl::StrContains(conf.status().message(), "linger.ms"));
}

TEST(ConsumerCreateTest, RejectsCooperativeAssignor) {
  auto consumer = Consumer::Create(
      {{"bootstrap.servers", "127.0.0.1:1"},
       {"group.id", "g"},
       {"partition.assignment.strategy", "cooperative-sticky"}},
      nullptr);
  ASSERT_FALSE(consumer.ok());
  EXPECT_EQ(consumer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(consumer.status().message(),
                                "partition.assignment.strategy"));
}

TEST(ConsumerCreateTest, RequiresBootstrapServers) {
  auto consumer = Consumer::Create({{"group.id", "g"}}, nullptr);
  ASSERT_FALSE(consumer.ok());
  EXPECT_TRUE(
      absl::StrContains(consumer.status().message(), "bootstrap.servers"));
}

TEST(ConsumerCreateTest, SubscribeWithoutGroupIsRejected) {
  auto consumer =
      Consumer::Create({{"bootstrap.servers", "127.0.0.1:1"}}, nullptr);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  absl::Status s = (*consumer)->Subscribe({"t"});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ProducerCreateTest, RejectsBadTransactionTimeout) {
  auto producer = Producer::Create(
      {{"bootstrap.servers", "127.0.0.1:1"}, {"transaction.timeout.ms", "-5"}});
  ASSERT_FALSE(producer.ok());
  EXPECT_TRUE(
      absl::StrContains(producer.status().message(), "transaction.timeout.ms"));
}

}  // namespace
}  // namespace brook::internal
