// Command: one `brook` subcommand, its flags and how it runs; and the small
// command-line parser every subcommand shares.
//
// Flags are written `--name=value` or `--name value`; a boolean flag is
// `--name` (or `--name=true|false`). `--help` anywhere prints the command's
// usage. Anything not starting with "--" is a positional argument.
// Threading model: plain values and functions; no shared state.
#ifndef BROOK_TOOLS_BROOK_INTERNAL_COMMAND_H_
#define BROOK_TOOLS_BROOK_INTERNAL_COMMAND_H_

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace brook::tool {

// Exit codes of every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // the operation failed
inline constexpr int kExitUsage = 2;  // bad arguments, or a refused reset

enum class FlagKind { kValue, kBoolean };

struct FlagSpec {
  std::string name;  // without the leading "--"
  std::string help;
  FlagKind kind = FlagKind::kValue;
  std::string default_value;  // shown in usage; "" means none
};

class ParsedArgs {
 public:
  bool help = false;
  std::vector<std::string> positional;
  // Flags given on the command line, by name; booleans are "true"/"false".
  std::map<std::string, std::string> flags;

  // The flag's value, or its default from the spec.
  std::string Get(const std::string& name) const;
  bool Has(const std::string& name) const { return flags.contains(name); }
  bool GetBool(const std::string& name) const { return Get(name) == "true"; }

  // Every flag's default value, from the command's FlagSpecs.
  std::map<std::string, std::string> defaults;
};

// What a subcommand's Run gets.
struct Io {
  std::ostream& out;  // results
  std::ostream& err;  // errors, warnings and progress
};

struct Command {
  std::string name;      // "lag", "state inspect", ...
  std::string synopsis;  // the arguments after the name, for usage
  std::string summary;   // one line for `brook --help`
  std::vector<FlagSpec> flags;
  // Returns the process exit code.
  std::function<int(const ParsedArgs&, Io)> run;
};

// Parses `args` (the words after the command's name). kInvalidArgument,
// naming the flag and the command, for an unknown flag or a value missing.
absl::StatusOr<ParsedArgs> ParseArgs(const Command& command,
                                     absl::Span<const std::string> args);

// "usage: brook <name> <synopsis>", the summary and each flag with its help.
std::string Usage(const Command& command);

// Splits "a,b,,c" into {"a", "b", "c"}.
std::vector<std::string> SplitList(absl::string_view list);

}  // namespace brook::tool

#endif  // BROOK_TOOLS_BROOK_INTERNAL_COMMAND_H_
