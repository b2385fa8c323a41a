// `brook describe`: prints an application's topology by running its binary
// with --describe=<format>. The contract with the binary: it writes exactly
// the description to stdout and exits 0, without connecting to Kafka.
// Threading model: functions only.
#ifndef BROOK_TOOLS_BROOK_DESCRIBE_H_
#define BROOK_TOOLS_BROOK_DESCRIBE_H_

#include <string>

#include "absl/status/statusor.h"

#include "tools/brook/internal/command.h"

namespace brook::tool {

// Runs `binary --describe=<format>` (no shell) and returns its stdout; its
// stderr passes through. kInvalidArgument for a format other than text,
// dot or mermaid; kNotFound if the binary cannot be run; kFailedPrecondition
// naming the binary if it exits non-zero or is killed.
absl::StatusOr<std::string> DescribeTopology(const std::string& binary,
                                             const std::string& format);

Command DescribeCommand();

}  // namespace brook::tool

#endif  // BROOK_TOOLS_BROOK_DESCRIBE_H_
