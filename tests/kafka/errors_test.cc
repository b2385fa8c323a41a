#include "brook/kafka/errors.h"

#include "gtest/gtest.h"

namespace brook {
namespace {

TEST(KafkaErrorTest, RetriableErrorsAreUnavailableAndOnlyRetriable) {
  absl::Status s = KafkaError(KafkaErrorClass::kRetriable, "coordinator moved");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsRetriable(s));
  EXPECT_FALSE(IsTransactionAbortable(s));
  EXPECT_FALSE(IsFatal(s));
  EXPECT_EQ(s.message(), "coordinator moved");
}

TEST(KafkaErrorTest, AbortableAndFatalShareAbortedButAreToldApart) {
  absl::Status abortable = KafkaError(KafkaErrorClass::kAbortable, "x");
  absl::Status fatal = KafkaError(KafkaErrorClass::kFatal, "y");
  EXPECT_EQ(abortable.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(fatal.code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(IsTransactionAbortable(abortable));
  EXPECT_FALSE(IsFatal(abortable));
  EXPECT_TRUE(IsFatal(fatal));
  EXPECT_FALSE(IsTransactionAbortable(fatal));
}

TEST(KafkaErrorTest, PlainStatusesHaveNoKafkaClass) {
  EXPECT_EQ(GetKafkaErrorClass(absl::OkStatus()), KafkaErrorClass::kNone);
  EXPECT_EQ(GetKafkaErrorClass(absl::UnavailableError("not from Kafka")),
            KafkaErrorClass::kNone);
  EXPECT_FALSE(IsRetriable(absl::AbortedError("plain abort")));
}

}  // namespace
}  // namespace brook
