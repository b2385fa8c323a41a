#include "tools/brook/internal/command.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "tools/brook/internal/table.h"

namespace brook::tool {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Command TestCommand() {
  return Command{.name = "state inspect",
                 .synopsis = "<dir>",
                 .summary = "test",
                 .flags = {{"format", "f", FlagKind::kValue, "text"},
                           {"dry-run", "d", FlagKind::kBoolean}},
                 .run = nullptr};
}

TEST(ParseArgsTest, ReadsBothFlagSpellingsBooleansAndPositionals) {
  auto parsed = ParseArgs(TestCommand(),
                          {"dir", "--format", "json", "--dry-run", "more"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Get("format"), "json");
  EXPECT_TRUE(parsed->GetBool("dry-run"));
  EXPECT_THAT(parsed->positional, ElementsAre("dir", "more"));

  parsed = ParseArgs(TestCommand(), {"--format=dot"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Get("format"), "dot");
  EXPECT_FALSE(parsed->GetBool("dry-run"));
}

TEST(ParseArgsTest, DefaultsApplyWhenAFlagIsAbsent) {
  auto parsed = ParseArgs(TestCommand(), {});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Get("format"), "text");
  EXPECT_FALSE(parsed->Has("format"));
}

TEST(ParseArgsTest, AnUnknownFlagIsNamedWithTheCommand) {
  auto parsed = ParseArgs(TestCommand(), {"--fromat=json"});
  ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("--fromat"));
  EXPECT_THAT(parsed.status().message(), HasSubstr("brook state inspect"));
}

TEST(ParseArgsTest, AValueFlagAtTheEndWithoutValueIsAnError) {
  auto parsed = ParseArgs(TestCommand(), {"--format"});
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseArgsTest, HelpIsSeenAnywhere) {
  auto parsed = ParseArgs(TestCommand(), {"x", "--help"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->help);
  EXPECT_THAT(Usage(TestCommand()), HasSubstr("--format=VALUE"));
}

TEST(TableTest, AlignsColumnsAndRightAlignsNumbers) {
  Table table({"TOPIC", "LAG"});
  table.AddRow({"a", "5"});
  table.AddRow({"longer", "1234"});
  EXPECT_EQ(table.ToString(),
            "TOPIC   LAG\n"
            "a          5\n"
            "longer  1234\n");
}

TEST(TableTest, JsonStringEscapes) {
  EXPECT_EQ(JsonString("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
}

}  // namespace
}  // namespace brook::tool
