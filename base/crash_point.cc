#include "brook/base/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "brook/base/logging.h"

namespace brook {
namespace {

struct Armed {
  std::string name;      // empty: disarmed
  std::string arm_file;  // empty: counting from the start
  bool stop = false;     // BROOK_CRASH_POINT_ACTION=stop: SIGSTOP, not SIGKILL
  std::atomic<int> hits_left{1};
};

Armed& GetArmed() {
  static Armed* armed = [] {
    auto* a = new Armed();
    if (const char* name = std::getenv("BROOK_CRASH_POINT")) a->name = name;
    if (const char* f = std::getenv("BROOK_CRASH_POINT_ARM_FILE")) {
      a->arm_file = f;
    }
    if (const char* action = std::getenv("BROOK_CRASH_POINT_ACTION")) {
      a->stop = std::string(action) == "stop";
    }
    int hits = 1;
    if (const char* n = std::getenv("BROOK_CRASH_POINT_HITS")) {
      if (!absl::SimpleAtoi(n, &hits) || hits < 1) hits = 1;
    }
    a->hits_left = hits;
    return a;
  }();
  return *armed;
}

bool Reached(absl::string_view name) {
  Armed& armed = GetArmed();
  if (armed.name.empty() || armed.name != name) return false;
  // Until the test creates the arm file, passing the point does not count.
  if (!armed.arm_file.empty() && access(armed.arm_file.c_str(), F_OK) != 0) {
    return false;
  }
  return armed.hits_left.fetch_sub(1) == 1;
}

void Die(absl::string_view name, absl::string_view where) {
  LOG(ERROR) << "crash point " << name << " reached" << where
             << ": killing the process";
  google::FlushLogFiles(google::GLOG_INFO);
  raise(SIGKILL);
}

// Freezes the whole process until SIGCONT, then returns.
void Stop(absl::string_view name, absl::string_view where) {
  LOG(WARNING) << "crash point " << name << " reached" << where
               << ": stopping the process";
  google::FlushLogFiles(google::GLOG_INFO);
  raise(SIGSTOP);
  LOG(WARNING) << "crash point " << name << ": continued after SIGCONT";
}

}  // namespace

void CrashPoint(absl::string_view name) { CrashPoint(name, ""); }

void CrashPoint(absl::string_view name, absl::string_view where) {
  if (!Reached(name)) return;
  const std::string detail =
      where.empty() ? "" : absl::StrCat(" (", where, ")");
  if (GetArmed().stop) {
    Stop(name, detail);
  } else {
    Die(name, detail);
  }
}

bool CrashPointSet(absl::string_view name) {
  return !GetArmed().name.empty() && GetArmed().name == name;
}

}  // namespace brook
