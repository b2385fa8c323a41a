#include "examples/help_flags.h"

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"

namespace brook::examples {

void ParseCommandLineWithHelp(int argc, char** argv, const std::string& usage,
                              const std::vector<std::string>& flag_files) {
  absl::SetProgramUsageMessage(usage);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [flag_files](absl::string_view file) {
    for (const std::string& f : flag_files) {
      if (absl::EndsWith(file, f)) return true;
    }
    return false;
  };
  absl::SetFlagsUsageConfig(config);
  absl::ParseCommandLine(argc, argv);
}

}  // namespace brook::examples
