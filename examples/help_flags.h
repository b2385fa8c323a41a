// --help for Brook's programs: absl lists only the flags of files that
// look like the program's main file (<program>.cc or <program>_main.cc), so
// a program whose file is named otherwise ("brook_copier" from
// copier_main.cc) printed "No flags matched". ParseCommandLineWithHelp
// names the files whose flags --help lists.
// Threading model: call once from main()'s thread before other threads
// start.
#ifndef BROOK_EXAMPLES_HELP_FLAGS_H_
#define BROOK_EXAMPLES_HELP_FLAGS_H_

#include <string>
#include <vector>

namespace brook::examples {

// Sets `usage` as the usage message, makes --help (and --helpfull's first
// part) list the flags defined in `flag_files` (source paths ending as
// given, e.g. "examples/copier_main.cc"), and parses the command line.
// --help prints the usage and exits with code 1 (absl's behaviour).
void ParseCommandLineWithHelp(int argc, char** argv, const std::string& usage,
                              const std::vector<std::string>& flag_files);

}  // namespace brook::examples

#endif  // BROOK_EXAMPLES_HELP_FLAGS_H_
