#include "tools/brook/describe.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace brook::tool {

absl::StatusOr<std::string> DescribeTopology(const std::string& binary,
                                             const std::string& format) {
  if (format != "text" && format != "dot" && format != "mermaid") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--format must be text, dot or mermaid, not '", format, "'"));
  }
  if (access(binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot run '", binary, "': ", std::strerror(errno)));
  }
  const std::string flag = absl::StrCat("--describe=", format);
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execl(binary.c_str(), binary.c_str(), flag.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipe_fds[1]);
  std::string output;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(pipe_fds[0], buffer, sizeof(buffer));
    if (n > 0) {
      output.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string what = absl::StrCat("'", binary, " ", flag, "'");
  if (WIFSIGNALED(status)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " was killed by signal ", WTERMSIG(status)));
  }
  if (WEXITSTATUS(status) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " exited with status ", WEXITSTATUS(status),
                     "; does the program support --describe?"));
  }
  return output;
}

namespace {

int RunDescribe(const ParsedArgs& args, Io io) {
  if (args.positional.size() != 1) {
    io.err << "brook describe: give exactly one application binary\n";
    return kExitUsage;
  }
  absl::StatusOr<std::string> description =
      DescribeTopology(args.positional[0], args.Get("format"));
  if (!description.ok()) {
    io.err << "brook describe: " << description.status().message() << "\n";
    return absl::IsInvalidArgument(description.status()) ? kExitUsage
                                                         : kExitError;
  }
  io.out << *description;
  return kExitOk;
}

}  // namespace

Command DescribeCommand() {
  return Command{
      .name = "describe",
      .synopsis = "<app binary> [--format=text|dot|mermaid]",
      .summary =
          "Prints the topology of an application by running its "
          "binary with --describe=<format>.",
      .flags = {{"format", "text, dot or mermaid", FlagKind::kValue, "text"}},
      .run = RunDescribe,
  };
}

}  // namespace brook::tool
