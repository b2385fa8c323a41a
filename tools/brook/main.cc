// brook: the operator's command-line tool (issue 11). Each subcommand lives
// in its own file; this file only finds the one named on the command line.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "tools/brook/describe.h"
#include "tools/brook/internal/command.h"
#include "tools/brook/lag.h"
#include "tools/brook/reset.h"
#include "tools/brook/state_inspect.h"
#include "tools/brook/state_verify.h"

namespace brook::tool {
namespace {

std::vector<Command> AllCommands() {
  return {LagCommand(), StateInspectCommand(), ResetCommand(),
          DescribeCommand(), StateVerifyCommand()};
}

// `text` in lines of at most `width` columns, each indented by `indent`.
std::string Wrap(const std::string& text, size_t indent, size_t width) {
  std::string out;
  std::string line;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      absl::StrAppend(&out, std::string(indent, ' '), line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!line.empty())
    absl::StrAppend(&out, std::string(indent, ' '), line, "\n");
  return out;
}

std::string MainUsage(const std::vector<Command>& commands) {
  std::string usage =
      "usage: brook <command> [flags]\n\nOperates Brook applications.\n\n"
      "commands:\n";
  for (const Command& c : commands) {
    absl::StrAppend(&usage, "  ", c.name, "\n", Wrap(c.summary, 6, 78));
  }
  absl::StrAppend(&usage, "\n'brook <command> --help' describes a command.\n");
  return usage;
}

int Main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const std::vector<Command> commands = AllCommands();
  if (args.empty() || args[0] == "--help" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout) << MainUsage(commands);
    return args.empty() ? kExitUsage : kExitOk;
  }
  for (const Command& command : commands) {
    // A name has one or two words ("lag", "state inspect").
    const size_t space = command.name.find(' ');
    size_t words = 1;
    if (space == std::string::npos) {
      if (args[0] != command.name) continue;
    } else {
      if (args.size() < 2 || args[0] != command.name.substr(0, space) ||
          args[1] != command.name.substr(space + 1)) {
        continue;
      }
      words = 2;
    }
    absl::StatusOr<ParsedArgs> parsed = ParseArgs(
        command, std::vector<std::string>(args.begin() + words, args.end()));
    if (!parsed.ok()) {
      std::cerr << "brook: " << parsed.status().message() << "\n";
      return kExitUsage;
    }
    if (parsed->help) {
      std::cout << Usage(command);
      return kExitOk;
    }
    return command.run(*parsed, Io{std::cout, std::cerr});
  }
  std::cerr << "brook: unknown command '" << args[0]
            << (args.size() > 1 && args[0] == "state" ? " " + args[1] : "")
            << "'\n\n"
            << MainUsage(commands);
  return kExitUsage;
}

}  // namespace
}  // namespace brook::tool

int main(int argc, char** argv) { return brook::tool::Main(argc, argv); }
