#include "tests/testing/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/base/logging.h"

extern char** environ;

namespace brook::testing {

ChildProcess::ChildProcess(const std::vector<std::string>& args,
                           const std::string& log,
                           const std::vector<std::string>& env) {
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  int rc =
      posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    LOG(ERROR) << "cannot start " << args[0] << ": " << rc;
    pid_ = -1;
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Kill(SIGKILL);
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int ChildProcess::Kill(int sig, absl::Duration bound) {
  if (pid_ <= 0) return exit_status_;
  kill(pid_, sig);
  const absl::Time deadline = absl::Now() + bound;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      // A shutdown that hangs must fail the test that caused it, not show up
      // as the ctest timeout of the whole binary.
      ADD_FAILURE() << "pid " << pid_ << " did not exit within "
                    << absl::FormatDuration(bound) << " of signal " << sig
                    << "; killed with SIGKILL";
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  pid_ = -1;
  return status;
}

int ChildProcess::Stop(int sig, int timeout_ms) {
  if (pid_ <= 0) return exit_status_;
  kill(pid_, sig);
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      LOG(WARNING) << "pid " << pid_ << " still running " << timeout_ms
                   << " ms after signal " << sig << ": killing it with SIGKILL";
      return Kill(SIGKILL);
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  pid_ = -1;
  return status;
}

int ChildProcess::Wait(int timeout_ms) {
  if (pid_ <= 0) return exit_status_;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) return -1;
    absl::SleepFor(absl::Milliseconds(20));
  }
  pid_ = -1;
  return status;
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) return true;
  // Reaped here: keep the status for Wait(), Kill() and Stop().
  exit_status_ = status;
  pid_ = -1;
  return false;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace brook::testing
