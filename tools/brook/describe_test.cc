#include "tools/brook/describe.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace brook::tool {
namespace {

using ::testing::HasSubstr;

TEST(DescribeTest, PrintsExactlyWhatTheBinaryWrites) {
  auto text = DescribeTopology(BROOK_DESCRIBE_FAKE_APP, "text");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "Topologies:\n   Sub-topology: 0\n    Source: in\n");
  auto dot = DescribeTopology(BROOK_DESCRIBE_FAKE_APP, "dot");
  ASSERT_TRUE(dot.ok()) << dot.status();
  EXPECT_EQ(*dot, "digraph { in -> out }\n");
}

TEST(DescribeTest, ANonZeroExitIsAnErrorNamingTheBinary) {
  // The fake app knows no mermaid: it exits 3, as a program without
  // --describe would fail.
  auto mermaid = DescribeTopology(BROOK_DESCRIBE_FAKE_APP, "mermaid");
  ASSERT_EQ(mermaid.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(mermaid.status().message(), HasSubstr(BROOK_DESCRIBE_FAKE_APP));
  EXPECT_THAT(mermaid.status().message(), HasSubstr("status 3"));
}

TEST(DescribeTest, AnUnknownFormatIsRejectedBeforeRunningAnything) {
  auto svg = DescribeTopology(BROOK_DESCRIBE_FAKE_APP, "svg");
  EXPECT_EQ(svg.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DescribeTest, AMissingBinaryIsNotFound) {
  auto missing = DescribeTopology("/nonexistent/app", "text");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/app"));
}

}  // namespace
}  // namespace brook::tool
