// ChildProcess: a program the test starts, signals and waits for, with its
// stdout and stderr appended to a log file.
// Threading model: owned by one test thread.
#ifndef BROOK_TESTS_TESTING_CHILD_PROCESS_H_
#define BROOK_TESTS_TESTING_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace brook::testing {

class ChildProcess {
 public:
  // Starts args[0] with `args` and this process's environment plus `env`
  // ("NAME=value" entries); output goes to `log` (appended).
  ChildProcess(const std::vector<std::string>& args, const std::string& log,
               const std::vector<std::string>& env = {});
  // Kills a child that is still running (SIGKILL) and reaps it.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Sends `sig` without waiting (SIGSTOP, SIGCONT).
  void Signal(int sig);
  // Sends `sig`, waits for the exit and returns the wait status. A child
  // still running `bound` after the signal fails the current test, is killed
  // with SIGKILL and reaped (its status then says SIGKILL).
  int Kill(int sig, absl::Duration bound = absl::Seconds(60));
  // Waits up to `timeout_ms` for the child to exit on its own; returns the
  // wait status, or -1 if it is still running.
  int Wait(int timeout_ms);
  // Waits up to `timeout_ms` for the child to exit after `sig`, then
  // SIGKILLs it. Returns the wait status.
  int Stop(int sig, int timeout_ms);
  // False once the child has exited (it is then reaped; Wait, Kill and Stop
  // return its wait status).
  bool Running();

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;  // wait status once reaped, else -1
};

// The text of a log file, for assertions and failure messages.
std::string ReadFile(const std::string& path);

}  // namespace brook::testing

#endif  // BROOK_TESTS_TESTING_CHILD_PROCESS_H_
