// The installed programs' command line without a broker: --describe prints
// only the topology to stdout (the contract of `brook describe <binary>`),
// and --help lists each program's own flags.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

struct ProgramRun {
  int exit_code = -1;
  std::string out;  // stdout only; stderr goes to the test's log
};

// Runs build/<binary> with `args` and no broker in its environment.
ProgramRun RunProgram(const std::string& binary, const std::string& args) {
  const std::string command =
      absl::StrCat("env -u BROOK_BOOTSTRAP_SERVERS ",
                   testing::BinaryPath(binary), " ", args);
  ProgramRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    run.out.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(DescribeFlagTest, DotIsTheWholeStdout) {
  const ProgramRun run = RunProgram("examples/word_count", "--describe=dot");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_TRUE(absl::StartsWith(run.out, "digraph topology {\n")) << run.out;
  EXPECT_TRUE(absl::EndsWith(run.out, "\n}\n")) << run.out;
  // Word count repartitions: two sub-topologies, the store, the default
  // topic names (no broker was asked).
  EXPECT_TRUE(absl::StrContains(run.out, "subgraph cluster_sub1")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "shape=cylinder")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "\"brook-word-count-lines\""))
      << run.out;
}

TEST(DescribeFlagTest, TextAndMermaid) {
  const ProgramRun text =
      RunProgram("examples/repartition_example", "--describe=text");
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_TRUE(absl::StartsWith(text.out, "Topologies:\n")) << text.out;
  const ProgramRun mermaid = RunProgram(
      "examples/enrich_orders", "--describe=mermaid --input_topic=orders");
  EXPECT_EQ(mermaid.exit_code, 0);
  EXPECT_TRUE(absl::StartsWith(mermaid.out, "flowchart TD\n")) << mermaid.out;
  EXPECT_TRUE(absl::StrContains(mermaid.out, "[/\"orders\"/]")) << mermaid.out;
}

TEST(DescribeFlagTest, AnUnknownFormatFailsWithNothingOnStdout) {
  const ProgramRun run = RunProgram("examples/word_count", "--describe=svg");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
}

// absl prints --help's usage to stdout and exits with code 1.
TEST(HelpFlagTest, EveryProgramListsItsOwnFlags) {
  const struct {
    const char* binary;
    const char* flag;
  } cases[] = {
      {"examples/brook_copier", "--processing_guarantee"},
      {"examples/copier_demo", "--records"},
      {"examples/uppercase", "--input_topic"},
      {"examples/word_count", "--describe"},
      {"examples/join_example", "--payments_topic"},
  };
  for (const auto& c : cases) {
    const ProgramRun run = RunProgram(c.binary, "--help");
    EXPECT_EQ(run.exit_code, 1) << c.binary;
    EXPECT_TRUE(absl::StrContains(run.out, c.flag)) << c.binary << ":\n"
                                                    << run.out;
    EXPECT_FALSE(absl::StrContains(run.out, "No flags matched"))
        << c.binary << ":\n"
        << run.out;
  }
}

}  // namespace
}  // namespace brook
