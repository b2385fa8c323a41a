#include "tools/chaos/harness.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/topic_reader.h"
#include "tools/chaos/feeder.h"

namespace brook::chaos {
namespace {

std::string DescribeStatus(int status) {
  if (status == -1) return "still running";
  if (WIFEXITED(status)) return absl::StrCat("exit code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

// The last line of `log` that says why count_app stopped ("count_app:
// failed: ...", or the error it printed at start-up), or its last line.
std::string LastWords(const std::string& log) {
  std::ifstream in(log);
  std::string line, last, failed;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (absl::StartsWith(line, "== chaos: start")) failed.clear();
    last = line;
    if (absl::StartsWith(line, "count_app: ") &&
        !absl::StartsWith(line, "count_app: state ") &&
        !absl::StartsWith(line, "count_app: processed ")) {
      failed = line;
    }
  }
  return (failed.empty() ? last : failed).substr(0, 300);
}

void AppendLine(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << std::endl;
}

}  // namespace

const char* FaultName(Fault fault) {
  switch (fault) {
    case Fault::kKill9:
      return "instance kill -9";
    case Fault::kTerm:
      return "instance SIGTERM";
    case Fault::kZombie:
      return "instance SIGSTOP (zombie)";
    case Fault::kRebalanceStorm:
      return "rebalance storm";
    case Fault::kBrokerKill9:
      return "broker kill -9";
    case Fault::kBrokerPause:
      return "broker SIGSTOP";
    case Fault::kPartition:
      return "instance partitioned";
  }
  return "?";
}

std::string RunSummary::ToString() const {
  std::string out = "faults injected:\n";
  int total = 0;
  for (int i = 0; i < kFaultKinds; ++i) {
    auto it = faults.find(static_cast<Fault>(i));
    const int n = it == faults.end() ? 0 : it->second;
    total += n;
    absl::StrAppendFormat(&out, "  %-26s %4d\n",
                          FaultName(static_cast<Fault>(i)), n);
  }
  absl::StrAppendFormat(&out, "  %-26s %4d\n", "total", total);
  absl::StrAppendFormat(
      &out,
      "feeder: %d records in transactions that returned (%d transactions "
      "failed under faults)\ndrained: %s\n",
      fed, feeder_failed_transactions, drained ? "yes" : "NO");
  absl::StrAppend(&out, report.ToString());
  absl::StrAppend(&out, report.ok() ? "verdict: PASS\n" : "verdict: FAIL\n");
  return out;
}

Harness::Harness(HarnessOptions options)
    : options_(std::move(options)), rng_(options_.seed) {
  if (options_.log_dir.empty()) {
    options_.log_dir = absl::StrCat(options_.state_root, "/logs");
  }
  application_id_ = absl::StrCat("chaos-", options_.seed, "-",
                                 absl::ToUnixSeconds(absl::Now()));
  input_topic_ = absl::StrCat(application_id_, "-input");
  output_topic_ = absl::StrCat(application_id_, "-output");
}

Harness::~Harness() {
  for (auto& i : instances_) {
    if (i->process != nullptr) i->process->Kill(SIGKILL);
  }
  HealAll();
  if (own_broker_) StopBroker();
}

absl::Status Harness::RunScript(const std::string& command) {
  const std::string log = absl::StrCat(options_.log_dir, "/broker-script.log");
  AppendLine(log,
             absl::StrCat("== ", absl::FormatTime(absl::Now()), " ", command));
  // The harness kills and pauses this broker, so it must be its own: with
  // BROOK_BOOTSTRAP_SERVERS set (a developer's shell, a CI job pointing
  // tests at a running broker), the script would start nothing, and the
  // round would read a stale address from an earlier run's directory.
  const std::string line = absl::StrCat(
      "env -u BROOK_BOOTSTRAP_SERVERS BROOK_KAFKA_DIR='", kafka_dir_, "' '",
      options_.kafka_script, "' ", command, " >>'", log, "' 2>&1");
  const int rc = std::system(line.c_str());
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("scripts/kafka ", command, " failed (", DescribeStatus(rc),
                     "); see ", log, " and ", kafka_dir_, "/broker.out"));
  }
  return absl::OkStatus();
}

absl::Status Harness::StartBroker() {
  if (!options_.bootstrap_servers.empty()) {
    bootstrap_ = options_.bootstrap_servers;
    return absl::OkStatus();
  }
  kafka_dir_ = absl::StrCat(options_.state_root, "/kafka");
  // A broker left over from an interrupted run in this directory goes first.
  RunScript("down").IgnoreError();  // nothing to stop is fine
  BROOK_RETURN_IF_ERROR(RunScript("up"));
  own_broker_ = true;
  std::ifstream in(absl::StrCat(kafka_dir_, "/bootstrap"));
  std::getline(in, bootstrap_);
  bootstrap_ = std::string(absl::StripAsciiWhitespace(bootstrap_));
  if (bootstrap_.empty()) {
    return absl::InternalError("scripts/kafka up wrote no bootstrap address");
  }
  return absl::OkStatus();
}

void Harness::StopBroker() {
  if (BrokerPid() > 0) kill(BrokerPid(), SIGCONT);  // in case it is paused
  RunScript("down").IgnoreError();  // logged in broker-script.log
  own_broker_ = false;
}

int Harness::BrokerPid() {
  std::ifstream in(absl::StrCat(kafka_dir_, "/broker.pid"));
  std::string text;
  std::getline(in, text);
  int pid = 0;
  return absl::SimpleAtoi(text, &pid) ? pid : -1;
}

absl::Status Harness::RestartBroker() {
  absl::Status s;
  for (int attempt = 0; attempt < 3; ++attempt) {
    s = RunScript("restart");
    if (s.ok()) return s;
    LOG(WARNING) << "chaos: broker restart failed, retrying: " << s;
    absl::SleepFor(absl::Seconds(2));
  }
  return s;
}

void Harness::StartInstance(Instance& instance) {
  ++instance.starts;
  AppendLine(instance.log, absl::StrCat("== chaos: start #", instance.starts,
                                        " at ", absl::FormatTime(absl::Now())));
  std::vector<std::string> args;
  if (instance.gid != 0) {
    // setpriv execs the app, so the child's pid is the app's.
    args = {setpriv_, absl::StrCat("--regid=", instance.gid), "--clear-groups"};
  }
  for (std::string arg :
       {options_.app, absl::StrCat("--bootstrap_servers=", bootstrap_),
        absl::StrCat("--application_id=", application_id_),
        absl::StrCat("--input_topic=", input_topic_),
        absl::StrCat("--output_topic=", output_topic_),
        absl::StrCat("--state_dir=", instance.state_dir),
        absl::StrCat("--threads=", options_.threads)}) {
    args.push_back(std::move(arg));
  }
  instance.process =
      std::make_unique<testing::ChildProcess>(std::move(args), instance.log);
  if (!instance.process->started()) {
    AddE7(absl::StrCat("instance ", instance.index, " could not be started"));
    instance.process.reset();
  }
}

void Harness::StopInstance(Instance& instance, int sig) {
  if (instance.process == nullptr) return;
  if (sig == SIGKILL) {
    instance.process->Kill(SIGKILL);
  } else {
    const int status = instance.process->Stop(sig, 90000);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      AddE7(absl::StrCat(
          "instance ", instance.index,
          " did not close cleanly on SIGTERM: ", DescribeStatus(status), " (",
          instance.log, ": ", LastWords(instance.log), ")"));
    }
  }
  AppendLine(instance.log, absl::StrCat("== chaos: stopped with signal ", sig,
                                        " at ", absl::FormatTime(absl::Now())));
  instance.process.reset();
}

void Harness::AddE7(std::string detail) {
  Note(absl::StrCat("E7 violation: ", detail));
  e7_.push_back({Invariant::kE7, std::move(detail)});
}

void Harness::Reap() {
  for (size_t i = 0; i < static_cast<size_t>(options_.instances); ++i) {
    Instance& instance = *instances_[i];
    if (instance.process == nullptr) continue;
    const int status = instance.process->Wait(0);
    if (status == -1) continue;
    AddE7(absl::StrCat("instance ", instance.index, " exited on its own (",
                       DescribeStatus(status), ") at ",
                       absl::FormatTime(absl::Now()), "; ", instance.log, ": ",
                       LastWords(instance.log)));
    instance.process.reset();
    StartInstance(instance);
  }
}

void Harness::Pause(absl::Duration d) {
  const absl::Time end = absl::Now() + d;
  while (absl::Now() < end) {
    Reap();
    absl::SleepFor(std::min(absl::Milliseconds(200), end - absl::Now()));
  }
}

Harness::Instance& Harness::Pick() {
  std::uniform_int_distribution<int> pick(0, options_.instances - 1);
  Instance& instance = *instances_[pick(rng_)];
  Note(absl::StrCat("  target: instance ", instance.index));
  return instance;
}

void Harness::Note(const std::string& line) {
  LOG(INFO) << "chaos: " << line;
  AppendLine(absl::StrCat(options_.log_dir, "/faults.log"),
             absl::StrCat(absl::FormatTime("%H:%M:%E3S", absl::Now(),
                                           absl::UTCTimeZone()),
                          " ", line));
}

void Harness::RebalanceStorm() {
  // An extra member joins for the storm's length while the others leave
  // and rejoin one after another.
  Instance& extra = *instances_.back();
  StartInstance(extra);
  const absl::Time end = absl::Now() + options_.storm;
  std::uniform_int_distribution<int> gap_ms(1000, 3000);
  while (absl::Now() < end) {
    Instance& instance = Pick();
    Note(absl::StrCat("  storm: instance ", instance.index, " leaves"));
    StopInstance(instance, SIGTERM);
    Pause(absl::Milliseconds(gap_ms(rng_)));
    Note(absl::StrCat("  storm: instance ", instance.index, " joins"));
    StartInstance(instance);
    Pause(absl::Milliseconds(gap_ms(rng_)));
  }
  StopInstance(extra, SIGTERM);
}

std::string Harness::PreparePartitions() {
  if (geteuid() != 0) return "not root";
  if (std::system("iptables -w -L OUTPUT -n >/dev/null 2>&1") != 0) {
    return "iptables is missing or refused (apt-get install iptables)";
  }
  if (bootstrap_.rfind(':') == std::string::npos) {
    return absl::StrCat("no port in '", bootstrap_, "'");
  }
  for (const char* path : {"/usr/bin/setpriv", "/bin/setpriv"}) {
    if (access(path, X_OK) == 0) {
      setpriv_ = path;
      break;
    }
  }
  if (setpriv_.empty()) return "setpriv (util-linux) is missing";
  // Each instance runs with a group id of its own (still as root, so files
  // are no matter); the owner match drops that group's packets.
  for (auto& instance : instances_) instance->gid = 61000 + instance->index;
  return "";
}

absl::Status Harness::SetPartition(const Instance& instance, bool cut) {
  const std::string port = bootstrap_.substr(bootstrap_.rfind(':') + 1);
  const std::string rule = absl::StrCat(
      "iptables -w ", cut ? "-I" : "-D", " OUTPUT -o lo -p tcp --dport ", port,
      " -m owner --gid-owner ", instance.gid,
      " -m comment --comment brook-chaos -j DROP >/dev/null 2>&1");
  if (std::system(rule.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("failed: ", rule));
  }
  return absl::OkStatus();
}

void Harness::HealAll() {
  if (!partitions_) return;
  for (const auto& instance : instances_) {
    // Delete until none is left (a rule added twice, or after a crash).
    for (int i = 0; i < 10 && SetPartition(*instance, false).ok(); ++i) {
    }
  }
}

void Harness::Inject(Fault fault) {
  ++injected_[fault];
  Note(absl::StrCat("injecting ", FaultName(fault)));
  switch (fault) {
    case Fault::kKill9: {
      Instance& instance = Pick();
      StopInstance(instance, SIGKILL);
      Pause(absl::Seconds(1));
      StartInstance(instance);
      break;
    }
    case Fault::kTerm: {
      Instance& instance = Pick();
      StopInstance(instance, SIGTERM);
      Pause(absl::Seconds(1));
      StartInstance(instance);
      break;
    }
    case Fault::kZombie: {
      Instance& instance = Pick();
      if (instance.process == nullptr) break;
      instance.process->Signal(SIGSTOP);
      absl::SleepFor(options_.zombie_stop);
      instance.process->Signal(SIGCONT);
      break;
    }
    case Fault::kRebalanceStorm:
      RebalanceStorm();
      break;
    case Fault::kBrokerKill9: {
      const int pid = BrokerPid();
      if (pid > 0) kill(pid, SIGKILL);
      for (int i = 0; i < 100 && pid > 0 && kill(pid, 0) == 0; ++i) {
        absl::SleepFor(absl::Milliseconds(100));
      }
      Pause(options_.broker_down);
      if (absl::Status s = RestartBroker(); !s.ok()) {
        LOG(ERROR) << "chaos: " << s;
      }
      break;
    }
    case Fault::kBrokerPause: {
      const int pid = BrokerPid();
      if (pid > 0) kill(pid, SIGSTOP);
      Pause(options_.broker_pause);
      if (pid > 0) kill(pid, SIGCONT);
      break;
    }
    case Fault::kPartition: {
      Instance& instance = Pick();
      if (absl::Status s = SetPartition(instance, true); !s.ok()) {
        Note(absl::StrCat("  partition not set: ", s.ToString()));
        break;
      }
      Pause(options_.partition);
      if (absl::Status s = SetPartition(instance, false); !s.ok()) {
        Note(absl::StrCat("  partition not healed: ", s.ToString()));
        HealAll();
      }
      break;
    }
  }
}

bool Harness::Drain() {
  const ClientConfig base = {{"bootstrap.servers", bootstrap_}};
  const absl::Time deadline = absl::Now() + options_.drain_timeout;
  // What the group must reach: one past the last committed input record of
  // each partition (markers and aborted records may follow it).
  absl::StatusOr<std::vector<ConsumerRecord>> input =
      ReadTopic(base, input_topic_, IsolationLevel::kReadCommitted,
                options_.drain_timeout);
  if (!input.ok()) {
    LOG(ERROR) << "chaos: cannot read the input to drain: " << input.status();
    return false;
  }
  std::vector<int64_t> needed(options_.partitions, 0);
  for (const ConsumerRecord& r : *input) {
    needed[r.partition] = std::max(needed[r.partition], r.offset + 1);
  }
  ClientConfig config = base;
  config["group.id"] = application_id_;
  config["isolation.level"] = "read_committed";
  auto consumer = Consumer::Create(config, nullptr);
  if (!consumer.ok()) return false;
  std::vector<TopicPartition> tps;
  for (int p = 0; p < options_.partitions; ++p)
    tps.push_back({input_topic_, p});
  while (absl::Now() < deadline) {
    Pause(absl::Seconds(1));
    auto committed = (*consumer)->Committed(tps, absl::Seconds(10));
    if (!committed.ok()) continue;
    int64_t behind = 0;
    for (const TopicPartitionOffset& c : *committed) {
      behind += std::max<int64_t>(0, needed[c.tp.partition] - c.offset);
    }
    if (behind == 0) return true;
    LOG_EVERY_N(INFO, 10) << "chaos: draining, " << behind
                          << " records not committed yet";
  }
  return false;
}

void Harness::StopAll() {
  for (auto& instance : instances_) {
    if (instance->process != nullptr) instance->process->Signal(SIGTERM);
  }
  for (auto& instance : instances_) {
    if (instance->process == nullptr) continue;
    int status = instance->process->Wait(90000);
    if (status == -1) status = instance->process->Kill(SIGKILL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      AddE7(absl::StrCat(
          "instance ", instance->index,
          " did not close cleanly at the end: ", DescribeStatus(status), " (",
          instance->log, ": ", LastWords(instance->log), ")"));
    }
    instance->process.reset();
  }
}

absl::StatusOr<RunSummary> Harness::Run() {
  std::filesystem::create_directories(options_.log_dir);
  BROOK_RETURN_IF_ERROR(StartBroker());
  const ClientConfig base = {{"bootstrap.servers", bootstrap_}};
  {
    BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::Create(base));
    for (const std::string& topic : {input_topic_, output_topic_}) {
      BROOK_RETURN_IF_ERROR(
          admin->CreateTopic({topic, options_.partitions}, absl::Seconds(60)));
    }
  }
  LOG(INFO) << "chaos: application " << application_id_ << " on " << bootstrap_
            << ", logs in " << options_.log_dir;
  for (int i = 0; i <= options_.instances; ++i) {
    auto instance = std::make_unique<Instance>();
    instance->index = i;
    instance->state_dir =
        absl::StrCat(options_.state_root, "/", application_id_, "/i", i);
    instance->log = absl::StrCat(options_.log_dir, "/instance-", i, ".log");
    std::filesystem::create_directories(instance->state_dir);
    instances_.push_back(std::move(instance));
  }
  if (std::find(options_.faults.begin(), options_.faults.end(),
                Fault::kPartition) != options_.faults.end()) {
    const std::string why_not = PreparePartitions();
    partitions_ = why_not.empty();
    Note(partitions_ ? "network partitions: on (each instance runs with a "
                       "group id of its own; iptables drops its packets to "
                       "the broker)"
                     : absl::StrCat("network partitions: off (", why_not, ")"));
    HealAll();
  }
  for (int i = 0; i < options_.instances; ++i) StartInstance(*instances_[i]);

  Feeder feeder({.config = base,
                 .topic = input_topic_,
                 .transactional_id = absl::StrCat(application_id_, "-feeder"),
                 .rate = options_.rate,
                 .abort_ratio = options_.abort_ratio,
                 .keys = options_.keys,
                 .seed = options_.seed});
  feeder.Start();
  const absl::Time end = absl::Now() + options_.duration;
  Pause(options_.warmup);

  // Every allowed kind once first, in an order drawn from the seed, so that
  // a short run covers them all; then kinds at random.
  std::vector<Fault> kinds = options_.faults;
  if (!own_broker_) {
    std::erase_if(kinds, [](Fault f) {
      return f == Fault::kBrokerKill9 || f == Fault::kBrokerPause;
    });
  }
  if (!partitions_) {
    std::erase_if(kinds, [](Fault f) { return f == Fault::kPartition; });
  }
  std::vector<Fault> plan = kinds;
  std::shuffle(plan.begin(), plan.end(), rng_);
  std::uniform_int_distribution<int64_t> gap_ms(
      absl::ToInt64Milliseconds(options_.min_gap),
      absl::ToInt64Milliseconds(options_.max_gap));
  std::uniform_int_distribution<size_t> pick_kind(0, kinds.size() - 1);
  for (size_t n = 0; !kinds.empty() && absl::Now() < end; ++n) {
    Inject(n < plan.size() ? plan[n] : kinds[pick_kind(rng_)]);
    Pause(std::min(absl::Milliseconds(gap_ms(rng_)),
                   std::max(end - absl::Now(), absl::ZeroDuration())));
  }
  Pause(std::max(end - absl::Now(), absl::ZeroDuration()));

  Note("stopping the input and draining");
  feeder.Stop();
  RunSummary summary;
  summary.faults = injected_;
  summary.fed = feeder.sent();
  summary.feeder_failed_transactions = feeder.failed_transactions();
  summary.drained = Drain();
  Note(summary.drained ? "drained; stopping the instances"
                       : "the drain timed out; stopping the instances");
  StopAll();

  KafkaSource source;
  source.config = base;
  source.application_id = application_id_;
  source.input_topic = input_topic_;
  source.output_topic = output_topic_;
  BROOK_ASSIGN_OR_RETURN(VerifierInput in, ReadFromKafka(source));
  std::vector<std::string> logs;
  for (const auto& instance : instances_) logs.push_back(instance->log);
  in.external = e7_;
  for (Violation& v : ScanInstanceLogs(logs)) in.external.push_back(v);
  summary.report = Check(in);
  if (own_broker_) StopBroker();
  return summary;
}

}  // namespace brook::chaos
