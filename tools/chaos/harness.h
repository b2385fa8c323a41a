// Harness: one chaos run. It runs K instances of count_app as child
// processes, feeds input at a set rate (Feeder), injects faults at random
// intervals drawn from a seed, then drains, stops everything and runs the
// verifier (verifier.h). docs/chaos.md describes the faults.
//
// Threading model: owned by the thread that calls Run(); the feeder runs on
// its own thread.
#ifndef BROOK_TOOLS_CHAOS_HARNESS_H_
#define BROOK_TOOLS_CHAOS_HARNESS_H_

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "tests/testing/child_process.h"
#include "tools/chaos/verifier.h"

namespace brook::chaos {

enum class Fault {
  kKill9,           // kill -9 of an instance, then restart it
  kTerm,            // SIGTERM (clean close) of an instance, then restart it
  kZombie,          // SIGSTOP of an instance beyond the session timeout
  kRebalanceStorm,  // instances leaving and joining every few seconds
  kBrokerKill9,     // kill -9 of the broker, restart on the same port
  kBrokerPause,     // SIGSTOP of the broker beyond the request timeout
  kPartition,       // an instance cut off from the broker (iptables), then
                    // healed: a zombie that keeps running
};
inline constexpr int kFaultKinds = 7;
const char* FaultName(Fault fault);

struct HarnessOptions {
  // Empty: start an own broker with `kafka_script` in <state_root>/kafka.
  std::string bootstrap_servers;
  std::string kafka_script;  // scripts/kafka
  std::string app;           // count_app binary
  std::string state_root;
  std::string log_dir;  // default <state_root>/logs
  int instances = 3;
  int threads = 2;
  int partitions = 6;
  absl::Duration duration = absl::Minutes(2);  // input and faults
  absl::Duration warmup = absl::Seconds(10);   // before the first fault
  uint64_t seed = 1;
  double rate = 200;  // input records per second
  int keys = 500;
  double abort_ratio = 0.05;
  // Gap between two faults, drawn uniformly.
  absl::Duration min_gap = absl::Seconds(3);
  absl::Duration max_gap = absl::Seconds(15);
  // count_app's session.timeout.ms is 6 s: a zombie outlives it.
  absl::Duration zombie_stop = absl::Seconds(10);
  absl::Duration storm = absl::Seconds(16);
  absl::Duration broker_down = absl::Seconds(3);
  // librdkafka's request.timeout.ms default is 30 s.
  absl::Duration broker_pause = absl::Seconds(35);
  // Longer than count_app's session timeout, so the group moves the cut-off
  // instance's tasks while it still runs.
  absl::Duration partition = absl::Seconds(12);
  absl::Duration drain_timeout = absl::Minutes(3);
  // Faults the run may inject. Broker faults need an own broker.
  // Partitions need root and iptables (the instances then run with group
  // ids of their own, whose packets to the broker are dropped); without
  // them the run says so and leaves that fault out.
  std::vector<Fault> faults = {Fault::kKill9,       Fault::kTerm,
                               Fault::kZombie,      Fault::kRebalanceStorm,
                               Fault::kBrokerKill9, Fault::kBrokerPause,
                               Fault::kPartition};
};

struct RunSummary {
  std::map<Fault, int> faults;
  int64_t fed = 0;  // records the feeder saw committed or aborted
  int64_t feeder_failed_transactions = 0;
  bool drained = false;
  Report report;
  std::string ToString() const;
};

class Harness {
 public:
  explicit Harness(HarnessOptions options);
  ~Harness();

  // Runs the whole round. An error means the harness could not do its job
  // (no broker, no topics, Kafka unreadable at the end), not a violation:
  // violations are in the summary's report.
  absl::StatusOr<RunSummary> Run();

 private:
  struct Instance {
    int index = 0;
    std::string state_dir;
    std::string log;
    std::unique_ptr<testing::ChildProcess> process;
    int starts = 0;
    int gid = 0;  // runs with this group id when partitions are possible
  };

  absl::Status StartBroker();
  void StopBroker();
  absl::Status RestartBroker();
  int BrokerPid();
  absl::Status RunScript(const std::string& command);

  void StartInstance(Instance& instance);
  // Stops an instance with `sig` and checks a SIGTERM close was clean.
  void StopInstance(Instance& instance, int sig);
  // Restarts instances that exited on their own, recording each (E7).
  void Reap();
  // Sleeps `d` while reaping.
  void Pause(absl::Duration d);
  // Picks a random instance (of the K) and notes it as the fault's target.
  Instance& Pick();
  // Logs `line` and appends it, timed, to <log_dir>/faults.log, the
  // timeline to read the instance logs against.
  void Note(const std::string& line);

  // Can instances be cut off from the broker? Empty if so, else why not.
  // If so, gives each instance a group id of its own.
  std::string PreparePartitions();
  // Adds (cut) or deletes the rule that drops `instance`'s packets to the
  // broker's port.
  absl::Status SetPartition(const Instance& instance, bool cut);
  // Deletes every partition rule this run may have left.
  void HealAll();

  void Inject(Fault fault);
  void RebalanceStorm();
  // Waits until the group's offsets cover the committed input.
  bool Drain();
  void StopAll();

  void AddE7(std::string detail);

  HarnessOptions options_;
  std::mt19937_64 rng_;
  std::string kafka_dir_;
  std::string bootstrap_;
  bool own_broker_ = false;
  std::string application_id_, input_topic_, output_topic_;
  std::vector<std::unique_ptr<Instance>> instances_;  // [K] joins in storms
  std::vector<Violation> e7_;
  std::map<Fault, int> injected_;
  bool partitions_ = false;
  std::string setpriv_;  // its path, when partitions are on
};

}  // namespace brook::chaos

#endif  // BROOK_TOOLS_CHAOS_HARNESS_H_
