// Machine and process load (machine.h), from /proc and getrusage().
#include "bench/passthrough/machine.h"

#include <sys/resource.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace brook::passthrough_bench {

CpuTimes ReadCpuTimes() {
  std::ifstream stat("/proc/stat");
  std::string label;
  stat >> label;  // "cpu"
  CpuTimes t;
  // user nice system idle iowait irq softirq steal
  for (int i = 0; i < 8; ++i) {
    int64_t v = 0;
    stat >> v;
    t.total += v;
    if (i == 7) t.steal = v;
    if (i != 3 && i != 4 && i != 7) t.busy += v;
  }
  return t;
}

absl::Duration ProcessCpuTime() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) +
         absl::DurationFromTimeval(usage.ru_stime);
}

double Percent(int64_t part, int64_t whole) {
  return whole > 0 ? 100.0 * static_cast<double>(part) / whole : 0.0;
}

std::string LoadAverage() {
  std::ifstream loadavg("/proc/loadavg");
  std::string one, five, fifteen;
  loadavg >> one >> five >> fifteen;
  return absl::StrCat(one, " ", five, " ", fifteen);
}

}  // namespace brook::passthrough_bench
