#include "brook/runtime/timestamp_extractor.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace brook {
namespace {

ConsumerRecord WithTimestamp(int64_t ms) {
  ConsumerRecord r;
  r.topic = "t";
  r.timestamp_ms = ms;
  return r;
}

TEST(WallClockTimestampExtractorTest, ReturnsTheTimeOfExtraction) {
  TimestampExtractor extract = WallClockTimestampExtractor();
  const int64_t before = absl::ToUnixMillis(absl::Now());
  absl::StatusOr<int64_t> ts = extract(WithTimestamp(1000), 5000);
  const int64_t after = absl::ToUnixMillis(absl::Now());
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_GE(*ts, before);
  EXPECT_LE(*ts, after);
}

TEST(WallClockTimestampExtractorTest, IgnoresTheRecordAndPartitionTime) {
  TimestampExtractor extract = WallClockTimestampExtractor();
  const int64_t before = absl::ToUnixMillis(absl::Now());
  // An invalid record timestamp and no partition time are no error.
  absl::StatusOr<int64_t> ts = extract(WithTimestamp(-1), -1);
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_GE(*ts, before);
  // A record from the far future does not pull the time forward.
  ts = extract(WithTimestamp(before + 3600 * 1000), before + 3600 * 1000);
  ASSERT_TRUE(ts.ok());
  EXPECT_LE(*ts, absl::ToUnixMillis(absl::Now()));
}

TEST(WallClockTimestampExtractorTest, FollowsTheClock) {
  TimestampExtractor extract = WallClockTimestampExtractor();
  absl::StatusOr<int64_t> first = extract(WithTimestamp(7), -1);
  absl::SleepFor(absl::Milliseconds(20));
  absl::StatusOr<int64_t> second = extract(WithTimestamp(7), -1);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_GE(*second - *first, 20);
}

TEST(RecordTimestampExtractorTest, ReturnsTheRecordTimestampOrFails) {
  TimestampExtractor extract = RecordTimestampExtractor();
  EXPECT_EQ(*extract(WithTimestamp(1234), 99), 1234);
  absl::StatusOr<int64_t> invalid = extract(WithTimestamp(-1), 99);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PartitionTimeOnInvalidTimestampExtractorTest, FallsBackToPartitionTime) {
  TimestampExtractor extract = PartitionTimeOnInvalidTimestampExtractor();
  EXPECT_EQ(*extract(WithTimestamp(1234), 99), 1234);
  EXPECT_EQ(*extract(WithTimestamp(-1), 99), 99);
  EXPECT_FALSE(extract(WithTimestamp(-1), -1).ok());
}

}  // namespace
}  // namespace brook
