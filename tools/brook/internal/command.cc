#include "tools/brook/internal/command.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace brook::tool {

std::string ParsedArgs::Get(const std::string& name) const {
  auto it = flags.find(name);
  if (it != flags.end()) return it->second;
  auto d = defaults.find(name);
  return d == defaults.end() ? "" : d->second;
}

absl::StatusOr<ParsedArgs> ParseArgs(const Command& command,
                                     absl::Span<const std::string> args) {
  ParsedArgs parsed;
  std::map<std::string, const FlagSpec*> specs;
  for (const FlagSpec& flag : command.flags) {
    specs[flag.name] = &flag;
    parsed.defaults[flag.name] = flag.default_value;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!absl::StartsWith(arg, "--") || arg == "--") {
      parsed.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name == "help") {
      parsed.help = true;
      continue;
    }
    auto it = specs.find(name);
    if (it == specs.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " for 'brook ", command.name,
                       "'; see 'brook ", command.name, " --help'"));
    }
    if (it->second->kind == FlagKind::kBoolean) {
      if (value.has_value() && *value != "true" && *value != "false") {
        return absl::InvalidArgumentError(absl::StrCat(
            "flag --", name, " takes true or false, not '", *value, "'"));
      }
      parsed.flags[name] = value.value_or("true");
      continue;
    }
    if (!value.has_value()) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "flag --", name, " of 'brook ", command.name, "' needs a value"));
      }
      value = args[++i];
    }
    parsed.flags[name] = *value;
  }
  return parsed;
}

std::string Usage(const Command& command) {
  std::string usage =
      absl::StrCat("usage: brook ", command.name, " ", command.synopsis, "\n\n",
                   command.summary, "\n");
  if (!command.flags.empty()) absl::StrAppend(&usage, "\nflags:\n");
  for (const FlagSpec& flag : command.flags) {
    std::string head = absl::StrCat(
        "  --", flag.name, flag.kind == FlagKind::kValue ? "=VALUE" : "");
    absl::StrAppend(&usage, head, "\n      ", flag.help);
    if (!flag.default_value.empty()) {
      absl::StrAppend(&usage, " (default: ", flag.default_value, ")");
    }
    absl::StrAppend(&usage, "\n");
  }
  absl::StrAppend(&usage, "  --help\n      print this message\n");
  return usage;
}

std::vector<std::string> SplitList(absl::string_view list) {
  return absl::StrSplit(list, ',', absl::SkipWhitespace());
}

}  // namespace brook::tool
