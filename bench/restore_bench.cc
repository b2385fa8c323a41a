// restore_bench: what state costs at recovery. For each state size (keys),
// against one broker in one run:
//   1. a child process builds a RocksDB store of N keys (a "latest value per
//      key" table, exactly-once, changelogged) and is killed with SIGKILL;
//   2. a child restarts on the same state directory: the time until it is
//      RUNNING again and how many changelog records it restored (only the
//      tail the store had not committed locally);
//   3. a child starts on an empty state directory: a full restore of the
//      changelog, with its throughput in records/s and MB/s.
// Brook's claim is that (2) stays flat as N grows while (3) grows with N;
// Kafka Streams under exactly-once does (3) after every crash.
//
// The children are this binary with --child. They use static membership, so
// a restart takes its partition back at once instead of waiting for the
// killed member's session to expire.
//
//   build/bench/restore_bench --bootstrap_servers=$(scripts/kafka bootstrap)
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/producer.h"
#include "brook/runtime/kafka_streams.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/stores.h"

ABSL_FLAG(std::string, bootstrap_servers, "",
          "bootstrap.servers (default $BROOK_BOOTSTRAP_SERVERS)");
ABSL_FLAG(std::vector<std::string>, keys,
          std::vector<std::string>({"10000", "100000", "1000000"}),
          "state sizes to measure, in keys");
ABSL_FLAG(int32_t, value_bytes, 100, "bytes per value");
ABSL_FLAG(std::string, work_dir, "/tmp/brook-restore-bench",
          "state directories");
ABSL_FLAG(std::string, out, "", "also write the table here");
// Child mode.
ABSL_FLAG(bool, child, false, "run as the measured application");
ABSL_FLAG(std::string, application_id, "", "child: application.id");
ABSL_FLAG(std::string, input_topic, "", "child: input topic");
ABSL_FLAG(std::string, state_dir, "", "child: state.dir");

namespace brook {
namespace {

using S = std::string;
using Table = KeyValueStore<S, S>;
std::atomic<bool> g_stop{false};

class Latest final : public Processor<S, S> {
 public:
  absl::Status Init(ProcessorContext<NoOutput, NoOutput>& c) override {
    BROOK_ASSIGN_OR_RETURN(table_, c.GetStateStore<Table>("table"));
    return absl::OkStatus();
  }
  absl::Status Process(const Record<S, S>& r) override {
    return table_->Put(r.key.value_or(""), r.value.value_or(""));
  }

 private:
  Table* table_ = nullptr;
};

int RunChild() {
  std::signal(SIGTERM, [](int) { g_stop.store(true); });
  Topology t;
  t.AddSource<S, S>("in", {absl::GetFlag(FLAGS_input_topic)}, Serdes::Bytes(),
                    Serdes::Bytes())
      .AddProcessor<S, S, NoOutput, NoOutput>(
          "latest", [] { return std::make_unique<Latest>(); }, {"in"})
      .AddStateStore(Stores::KeyValueStoreBuilder<S, S>(
                         "table", Serdes::Bytes(), Serdes::Bytes()),
                     {"latest"});
  StreamsConfig config;
  config.application_id = absl::GetFlag(FLAGS_application_id);
  config.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.group_instance_id = "restore-bench";
  config.session_timeout = absl::Seconds(10);
  auto app = KafkaStreams::Create(t, config);
  if (!app.ok()) {
    std::cerr << "child: " << app.status() << "\n";
    return 1;
  }
  (*app)->SetStateListener([](KafkaStreams::State s, KafkaStreams::State) {
    if (s == KafkaStreams::State::kRunning) std::cout << "RUNNING" << std::endl;
  });
  if (absl::Status s = (*app)->Start(); !s.ok()) {
    std::cerr << "child: " << s << "\n";
    return 1;
  }
  while (!g_stop.load()) absl::SleepFor(absl::Milliseconds(20));
  (*app)->Close(absl::Seconds(30)).IgnoreError();  // Measured already.
  return 0;
}

// A child process whose stdout goes to a file the parent watches.
struct Child {
  pid_t pid = -1;
  std::string out;
};

Child Spawn(const std::string& self, const std::string& app,
            const std::string& topic, const std::string& state_dir,
            const std::string& out) {
  std::vector<std::string> args = {
      self,
      "--child",
      "--bootstrap_servers=" + absl::GetFlag(FLAGS_bootstrap_servers),
      "--application_id=" + app,
      "--input_topic=" + topic,
      "--state_dir=" + state_dir};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, (out + ".err").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  Child c;
  c.out = out;
  if (posix_spawn(&c.pid, self.c_str(), &actions, nullptr, argv.data(),
                  environ) != 0) {
    c.pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return c;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits until the child printed RUNNING; returns the time it took.
absl::StatusOr<absl::Duration> WaitRunning(const Child& c, absl::Time start) {
  while (absl::Now() - start < absl::Minutes(10)) {
    if (absl::StrContains(Slurp(c.out), "RUNNING")) return absl::Now() - start;
    if (waitpid(c.pid, nullptr, WNOHANG) != 0) {
      return absl::InternalError("child died; see " + c.out + ".err");
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::DeadlineExceededError("child never reached RUNNING");
}

void Stop(Child& c, int sig) {
  kill(c.pid, sig);
  waitpid(c.pid, nullptr, 0);
}

// The restore counters the child logged (glog, stderr): the last
// "restore progress" line is not enough, so the total comes from the
// "restored state store ... N records" lines.
// Seconds the restore itself took, from the final "restore progress: N
// records in X s" line; 0 if there was none.
double RestoreSeconds(const Child& c) {
  double seconds = 0;
  for (absl::string_view line : absl::StrSplit(Slurp(c.out + ".err"), '\n')) {
    size_t at = line.find(" records in ");
    if (line.find("restore progress") == absl::string_view::npos ||
        at == absl::string_view::npos) {
      continue;
    }
    std::vector<absl::string_view> words =
        absl::StrSplit(line.substr(at + 12), ' ');
    if (!words.empty()) (void)absl::SimpleAtod(words[0], &seconds);
  }
  return seconds;
}

int64_t RestoredRecords(const Child& c) {
  int64_t total = 0;
  for (absl::string_view line : absl::StrSplit(Slurp(c.out + ".err"), '\n')) {
    size_t at = line.find("restored state store");
    if (at == absl::string_view::npos) continue;
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
    int64_t n = 0;
    if (words.size() >= 2 && absl::SimpleAtoi(words[words.size() - 2], &n))
      total += n;
  }
  return total;
}

int64_t CommittedOffset(const std::string& app, const std::string& topic) {
  auto consumer = Consumer::Create(
      {{"bootstrap.servers", absl::GetFlag(FLAGS_bootstrap_servers)},
       {"group.id", app}},
      nullptr);
  if (!consumer.ok()) return -1;
  auto c = (*consumer)->Committed({{topic, 0}}, absl::Seconds(10));
  return c.ok() ? (*c)[0].offset : -1;
}

absl::Status Measure(const std::string& self, int64_t keys, std::string* row) {
  const ClientConfig config = {
      {"bootstrap.servers", absl::GetFlag(FLAGS_bootstrap_servers)}};
  const std::string run =
      absl::StrCat(keys, "-", absl::ToUnixMillis(absl::Now()));
  const std::string topic = "restore-bench-in-" + run;
  const std::string app = "restore-bench-" + run;
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::Create(config));
  BROOK_RETURN_IF_ERROR(admin->CreateTopic({topic, 1}, absl::Seconds(30)));
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                         Producer::Create(config));
  const std::string value(absl::GetFlag(FLAGS_value_bytes), 'v');
  for (int64_t i = 0; i < keys; ++i) {
    BROOK_RETURN_IF_ERROR(producer->Send({.topic = topic,
                                          .partition = 0,
                                          .key = absl::StrFormat("key-%09d", i),
                                          .value = value}));
  }
  BROOK_RETURN_IF_ERROR(producer->Flush(absl::Seconds(300)));

  const std::string work = absl::GetFlag(FLAGS_work_dir) + "/" + run;
  std::filesystem::create_directories(work);
  // 1. Build the state, then kill -9.
  Child build = Spawn(self, app, topic, work + "/a", work + "/build.out");
  while (CommittedOffset(app, topic) < keys)
    absl::SleepFor(absl::Milliseconds(200));
  Stop(build, SIGKILL);
  // 2. Restart on the same directory.
  absl::Time start = absl::Now();
  Child again = Spawn(self, app, topic, work + "/a", work + "/again.out");
  BROOK_ASSIGN_OR_RETURN(absl::Duration recovery, WaitRunning(again, start));
  Stop(again, SIGTERM);
  const int64_t tail = RestoredRecords(again);
  // 3. Start on an empty directory: full restore.
  start = absl::Now();
  Child fresh = Spawn(self, app, topic, work + "/b", work + "/fresh.out");
  BROOK_ASSIGN_OR_RETURN(absl::Duration full, WaitRunning(fresh, start));
  Stop(fresh, SIGTERM);
  const int64_t restored = RestoredRecords(fresh);
  const double restore_s = std::max(RestoreSeconds(fresh), 1e-3);
  const double mb = restored * (value.size() + 13.0) / 1e6;
  *row = absl::StrFormat(
      "| %d | %.1f MB | %.2f s | %d | %.2f s | %d | %.2f s | %.0f | %.1f |",
      keys, keys * (value.size() + 13.0) / 1e6, absl::ToDoubleSeconds(recovery),
      tail, absl::ToDoubleSeconds(full), restored, restore_s,
      restored / restore_s, mb / restore_s);
  admin->DeleteTopic(topic, absl::Seconds(30)).IgnoreError();  // Tidy only.
  admin->DeleteTopic(app + "-table-changelog", absl::Seconds(30)).IgnoreError();
  std::filesystem::remove_all(work);
  return absl::OkStatus();
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_bootstrap_servers).empty() &&
      std::getenv("BROOK_BOOTSTRAP_SERVERS")) {
    absl::SetFlag(&FLAGS_bootstrap_servers,
                  std::getenv("BROOK_BOOTSTRAP_SERVERS"));
  }
  if (absl::GetFlag(FLAGS_child)) {
    brook::InitLogging(argv[0]);
    return brook::RunChild();
  }
  if (absl::GetFlag(FLAGS_bootstrap_servers).empty()) {
    std::cerr << "restore_bench: pass --bootstrap_servers or set "
                 "BROOK_BOOTSTRAP_SERVERS\n";
    return 2;
  }
  const std::string self =
      std::filesystem::canonical("/proc/self/exe").string();
  std::string table =
      "| keys | state (key+value bytes) | restart after kill -9: time to "
      "RUNNING | records "
      "restored | fresh instance: time to RUNNING | records restored | restore "
      "time | "
      "restore records/s | restore MB/s "
      "|\n|---|---|---|---|---|---|---|---|---|\n";
  for (const std::string& k : absl::GetFlag(FLAGS_keys)) {
    int64_t keys = 0;
    if (!absl::SimpleAtoi(k, &keys)) continue;
    std::string row;
    absl::Status s = brook::Measure(self, keys, &row);
    if (!s.ok())
      row = absl::StrCat("| ", keys, " | failed: ", s.message(), " |");
    std::cerr << row << "\n";
    table += row + "\n";
  }
  std::cout << table;
  if (!absl::GetFlag(FLAGS_out).empty())
    std::ofstream(absl::GetFlag(FLAGS_out)) << table;
  return 0;
}
