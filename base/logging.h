// Logging for Brook: glog's LOG(severity) and CHECK, which every module uses.
//
// A broken invariant is a CHECK with a message; user input must never be able
// to trigger one. Everything that can fail for reasons outside Brook's code
// returns absl::Status instead.
#ifndef BROOK_BASE_LOGGING_H_
#define BROOK_BASE_LOGGING_H_

#include <glog/logging.h>

namespace brook {

// Sends glog's output to stderr instead of files under /tmp and installs its
// failure signal handler. Programs call this once at the top of main();
// a library embedding Brook may configure glog itself instead.
// Thread-safety: call before starting any thread.
void InitLogging(const char* argv0);

}  // namespace brook

#endif  // BROOK_BASE_LOGGING_H_
