// brook_chaos: a chaos round against the count application. Starts a broker
// of its own (unless --bootstrap_servers names one), runs --instances
// instances of count_app, feeds input at --rate records/s, injects faults
// at random intervals drawn from --seed, drains, stops and verifies.
// Prints the faults injected, the records and the verdict per invariant;
// exits 0 on PASS, 1 on a violation, 2 when the round could not run.
// docs/chaos.md has the details.
#include <unistd.h>

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"

#include "tools/chaos/harness.h"

ABSL_FLAG(std::string, bootstrap_servers, "",
          "an existing cluster (broker faults are then skipped); empty: start "
          "an own broker in <state_root>/kafka");
ABSL_FLAG(int32_t, instances, 3, "count_app instances");
ABSL_FLAG(int32_t, threads, 2, "stream threads per instance");
ABSL_FLAG(int32_t, partitions, 6, "partitions of the input and output");
ABSL_FLAG(double, minutes, 0, "length of the faulty phase, in minutes");
ABSL_FLAG(double, seconds, 120, "length of the faulty phase (if no --minutes)");
ABSL_FLAG(uint64_t, seed, 1, "seed of the fault schedule and the input");
ABSL_FLAG(double, rate, 200, "input records per second");
ABSL_FLAG(int32_t, keys, 500, "size of the input key space");
ABSL_FLAG(double, abort_ratio, 0.05, "share of input transactions aborted");
ABSL_FLAG(std::string, app, BROOK_CHAOS_DEFAULT_APP, "count_app binary");
ABSL_FLAG(std::string, kafka_script, BROOK_CHAOS_KAFKA_SCRIPT,
          "scripts/kafka, to start, kill and restart the own broker");
ABSL_FLAG(std::string, state_root, "",
          "state directories (default /tmp/brook-chaos-<pid>)");
ABSL_FLAG(std::string, log_dir, "", "logs (default <state_root>/logs)");
ABSL_FLAG(std::vector<std::string>, faults,
          std::vector<std::string>({"kill9", "term", "zombie", "storm",
                                    "broker_kill9", "broker_pause",
                                    "partition"}),
          "fault kinds to inject (partition needs root and iptables; "
          "without them it is left out and the run says why)");
ABSL_FLAG(double, partition_seconds, 12,
          "how long a partitioned instance is cut off from the broker");
ABSL_FLAG(double, warmup_seconds, 10, "before the first fault");
ABSL_FLAG(double, min_gap_seconds, 3, "least gap between faults");
ABSL_FLAG(double, max_gap_seconds, 15, "largest gap between faults");
ABSL_FLAG(double, zombie_seconds, 10,
          "SIGSTOP length of a zombie (session timeout is 6 s)");
ABSL_FLAG(double, storm_seconds, 16, "length of a rebalance storm");
ABSL_FLAG(double, broker_down_seconds, 3, "broker downtime after kill -9");
ABSL_FLAG(double, broker_pause_seconds, 35,
          "broker SIGSTOP length (librdkafka's request timeout is 30 s)");
ABSL_FLAG(double, drain_seconds, 180, "bound on the final drain");

// From base/logging.h, which this file cannot include: glog defines a
// (gflags) FLAGS_log_dir that clashes with the --log_dir flag above.
namespace brook {
void InitLogging(const char* argv0);
}  // namespace brook

namespace {

absl::Duration Seconds(const absl::Flag<double>& flag) {
  return absl::Seconds(absl::GetFlag(flag));
}

bool ParseFaults(const std::vector<std::string>& names,
                 std::vector<brook::chaos::Fault>& out) {
  using brook::chaos::Fault;
  const std::pair<const char*, Fault> kNames[] = {
      {"kill9", Fault::kKill9},
      {"term", Fault::kTerm},
      {"zombie", Fault::kZombie},
      {"storm", Fault::kRebalanceStorm},
      {"broker_kill9", Fault::kBrokerKill9},
      {"broker_pause", Fault::kBrokerPause},
      {"partition", Fault::kPartition}};
  for (const std::string& name : names) {
    bool found = false;
    for (const auto& [n, f] : kNames) {
      if (name == n) {
        out.push_back(f);
        found = true;
      }
    }
    if (!found) {
      std::cerr << "brook_chaos: unknown fault '" << name
                << "' in --faults (kill9, term, zombie, storm, broker_kill9, "
                   "broker_pause, partition)\n";
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  brook::chaos::HarnessOptions o;
  o.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  o.kafka_script = absl::GetFlag(FLAGS_kafka_script);
  o.app = absl::GetFlag(FLAGS_app);
  o.state_root = absl::GetFlag(FLAGS_state_root);
  if (o.state_root.empty()) {
    o.state_root = absl::StrCat("/tmp/brook-chaos-", getpid());
  }
  o.log_dir = absl::GetFlag(FLAGS_log_dir);
  o.instances = absl::GetFlag(FLAGS_instances);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.partitions = absl::GetFlag(FLAGS_partitions);
  o.duration = absl::GetFlag(FLAGS_minutes) > 0
                   ? absl::Minutes(absl::GetFlag(FLAGS_minutes))
                   : Seconds(FLAGS_seconds);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.rate = absl::GetFlag(FLAGS_rate);
  o.keys = absl::GetFlag(FLAGS_keys);
  o.abort_ratio = absl::GetFlag(FLAGS_abort_ratio);
  o.warmup = Seconds(FLAGS_warmup_seconds);
  o.min_gap = Seconds(FLAGS_min_gap_seconds);
  o.max_gap = Seconds(FLAGS_max_gap_seconds);
  o.zombie_stop = Seconds(FLAGS_zombie_seconds);
  o.storm = Seconds(FLAGS_storm_seconds);
  o.broker_down = Seconds(FLAGS_broker_down_seconds);
  o.broker_pause = Seconds(FLAGS_broker_pause_seconds);
  o.drain_timeout = Seconds(FLAGS_drain_seconds);
  o.partition = Seconds(FLAGS_partition_seconds);
  o.faults.clear();
  if (!ParseFaults(absl::GetFlag(FLAGS_faults), o.faults)) return 2;
  if (o.instances < 1 || o.keys < 1 || o.rate <= 0 || o.min_gap > o.max_gap) {
    std::cerr << "brook_chaos: --instances, --keys and --rate must be "
                 "positive, and --min_gap_seconds <= --max_gap_seconds\n";
    return 2;
  }
  if (access(o.app.c_str(), X_OK) != 0) {
    std::cerr << "brook_chaos: --app=" << o.app
              << " is not an executable (build count_app first)\n";
    return 2;
  }

  brook::chaos::Harness harness(o);
  absl::StatusOr<brook::chaos::RunSummary> summary = harness.Run();
  if (!summary.ok()) {
    std::cerr << "brook_chaos: the round could not run: " << summary.status()
              << "\n";
    return 2;
  }
  std::cout << "brook_chaos: seed " << o.seed << ", "
            << absl::FormatDuration(o.duration) << ", " << o.instances
            << " instances x " << o.threads << " threads, logs in "
            << (o.log_dir.empty() ? o.state_root + "/logs" : o.log_dir) << "\n"
            << summary->ToString();
  return summary->report.ok() && summary->drained ? 0 : 1;
}
