#include "examples/example_app.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "examples/help_flags.h"

ABSL_FLAG(std::string, bootstrap_servers, "",
          "bootstrap.servers (default: $BROOK_BOOTSTRAP_SERVERS)");
ABSL_FLAG(std::string, application_id, "",
          "application.id; empty: brook-<program>, e.g. brook-word-count");
ABSL_FLAG(std::string, state_dir, "",
          "state.dir; empty: /tmp/brook-<program>, e.g. /tmp/brook-word-count");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads");
ABSL_FLAG(std::string, describe, "",
          "text, dot or mermaid: print the topology to stdout in that format "
          "and exit without connecting to a broker");
ABSL_FLAG(int32_t, partitions, 3, "partitions of topics this program creates");
ABSL_FLAG(int64_t, session_timeout_ms, 45000,
          "session.timeout.ms: how long a crashed instance keeps its tasks");

namespace brook::examples {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

// Creates `topic` unless it exists.
absl::Status EnsureTopic(Admin& admin, const ExampleFlags& flags,
                         const std::string& topic, int32_t partitions) {
  absl::Status s = admin.CreateTopic({topic, partitions}, absl::Seconds(30));
  if (s.ok()) std::cerr << flags.program << ": created topic " << topic << "\n";
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
}

}  // namespace

ExampleFlags ReadExampleFlags(const std::string& program,
                              const std::string& input_topic,
                              const std::string& output_topic) {
  const std::string name =
      absl::StrCat("brook-", absl::StrReplaceAll(program, {{"_", "-"}}));
  ExampleFlags flags = {
      .program = program,
      .bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers),
      .application_id = absl::GetFlag(FLAGS_application_id),
      .input_topic = input_topic,
      .output_topic = output_topic,
      .state_dir = absl::GetFlag(FLAGS_state_dir),
      .threads = absl::GetFlag(FLAGS_threads),
      .partitions = absl::GetFlag(FLAGS_partitions),
      .session_timeout_ms = absl::GetFlag(FLAGS_session_timeout_ms)};
  if (flags.application_id.empty()) flags.application_id = name;
  if (flags.state_dir.empty()) flags.state_dir = "/tmp/" + name;
  return flags;
}

absl::StatusOr<std::string> ResolveBootstrap(const ExampleFlags& flags) {
  if (!flags.bootstrap_servers.empty()) return flags.bootstrap_servers;
  if (const char* env = std::getenv("BROOK_BOOTSTRAP_SERVERS");
      env != nullptr && *env != '\0') {
    return std::string(env);
  }
  return absl::InvalidArgumentError(
      "no broker: pass --bootstrap_servers or set BROOK_BOOTSTRAP_SERVERS");
}

absl::StatusOr<ExampleTopics> PrepareTopics(
    const ExampleFlags& flags, const ClientConfig& client,
    const std::string& input_suffix, const std::string& output_suffix,
    const std::function<absl::Status(const std::string& topic)>& write_demo) {
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::Create(client));
  ExampleTopics topics{flags.input_topic, flags.output_topic, false};
  int32_t partitions = flags.partitions;
  if (topics.input.empty()) {
    topics.input = absl::StrCat(flags.application_id, "-", input_suffix);
    topics.generated_input = true;
    BROOK_RETURN_IF_ERROR(EnsureTopic(*admin, flags, topics.input, partitions));
    BROOK_RETURN_IF_ERROR(write_demo(topics.input));
  } else {
    BROOK_ASSIGN_OR_RETURN(
        partitions, admin->PartitionCount(topics.input, absl::Seconds(30)));
  }
  if (topics.output.empty()) {
    topics.output = absl::StrCat(flags.application_id, "-", output_suffix);
  }
  BROOK_RETURN_IF_ERROR(EnsureTopic(*admin, flags, topics.output, partitions));
  return topics;
}

StreamsConfig ExampleConfig(const ExampleFlags& flags,
                            const std::string& bootstrap) {
  StreamsConfig config;
  config.application_id = flags.application_id;
  config.bootstrap_servers = bootstrap;
  config.state_dir = flags.state_dir;
  config.num_stream_threads = flags.threads;
  config.session_timeout = absl::Milliseconds(flags.session_timeout_ms);
  config.consumer_config["heartbeat.interval.ms"] =
      absl::StrCat(std::min<int64_t>(3000, flags.session_timeout_ms / 3));
  return config;
}

int64_t DemoEventTimeStartMs() {
  constexpr int64_t kHourMs = 3'600'000;
  const int64_t now = absl::ToUnixMillis(absl::Now());
  return (now - 3 * kHourMs) / kHourMs * kHourMs;
}

void InstallStopSignals() {
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
}
bool StopRequested() { return g_stop.load(); }
void RequestStop() { g_stop.store(true); }

absl::Status RunUntilStopped(KafkaStreams& streams) {
  BROOK_RETURN_IF_ERROR(streams.Start());
  while (!g_stop.load() && streams.state() != KafkaStreams::State::kError) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  absl::Status closed = streams.Close(absl::Seconds(30));
  if (streams.state() == KafkaStreams::State::kError) return streams.error();
  return closed;
}

absl::Status RunAndVerify(const ExampleFlags& flags, KafkaStreams& streams,
                          const Verifier& verify) {
  std::atomic<bool> stop{false};
  absl::Status verified;
  std::thread checker([&] {
    verified = verify(stop);
    RequestStop();
  });
  absl::Status ran = RunUntilStopped(streams);
  stop.store(true);
  checker.join();
  PrintDroppedRecords(flags, streams);
  if (streams.state() == KafkaStreams::State::kError) return ran;
  BROOK_RETURN_IF_ERROR(verified);
  return ran;
}

void PrintDroppedRecords(const ExampleFlags& flags,
                         const KafkaStreams& streams) {
  std::map<std::string, int64_t> dropped;
  for (const StreamThreadMetrics& m : streams.Metrics()) {
    for (const auto& [reason, n] : m.dropped_records) dropped[reason] += n;
  }
  std::cerr << flags.program << ": dropped-records";
  if (dropped.empty()) std::cerr << " none";
  for (const auto& [reason, n] : dropped) {
    std::cerr << " " << reason << "=" << n;
  }
  std::cerr << "\n";
}

absl::Status WriteRecords(const ClientConfig& client,
                          const std::vector<ProducerRecord>& records) {
  ClientConfig config = client;
  config["partitioner"] = "murmur2_random";
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                         Producer::Create(config));
  for (const ProducerRecord& r : records) {
    BROOK_RETURN_IF_ERROR(producer->Send(r));
  }
  return producer->Flush(absl::Seconds(60));
}

absl::StatusOr<std::vector<ConsumerRecord>> ReadCommittedUntil(
    const ClientConfig& client, const std::string& topic,
    const std::function<bool(const std::vector<ConsumerRecord>&)>& done,
    const std::atomic<bool>& stop, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    BROOK_ASSIGN_OR_RETURN(
        std::vector<ConsumerRecord> records,
        ReadTopic(client, topic, IsolationLevel::kReadCommitted,
                  absl::Seconds(60)));
    if (done(records)) return records;
    if (stop.load() || absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("only ", records.size(), " records were committed to ",
                       topic, " when the wait ended"));
    }
    absl::SleepFor(absl::Seconds(1));
  }
}

std::string DescribeFormat() { return absl::GetFlag(FLAGS_describe); }

ExampleTopics TopicNames(const ExampleFlags& flags,
                         const std::string& input_suffix,
                         const std::string& output_suffix) {
  ExampleTopics topics{flags.input_topic, flags.output_topic, false};
  if (topics.input.empty()) {
    topics.input = absl::StrCat(flags.application_id, "-", input_suffix);
    topics.generated_input = true;
  }
  if (topics.output.empty()) {
    topics.output = absl::StrCat(flags.application_id, "-", output_suffix);
  }
  return topics;
}

absl::Status PrintDescription(const Topology& topology,
                              const std::string& format) {
  if (format == "text") {
    std::cout << topology.Describe();
  } else if (format == "dot") {
    std::cout << topology.ToDot();
  } else if (format == "mermaid") {
    std::cout << topology.ToMermaid();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--describe='", format, "': give text, dot or mermaid"));
  }
  std::cout.flush();
  return absl::OkStatus();
}

void ParseExampleCommandLine(int argc, char** argv, const std::string& usage) {
  const std::string path = argv[0];
  const std::string program = path.substr(path.rfind('/') + 1);
  ParseCommandLineWithHelp(
      argc, argv, usage,
      {"examples/example_app.cc", absl::StrCat("examples/", program, ".cc")});
}

int ExampleMain(const char* argv0, const std::string& program,
                const std::function<absl::Status()>& run) {
  InitLogging(argv0);
  InstallStopSignals();
  if (absl::Status s = run(); !s.ok()) {
    std::cerr << program << ": " << s << "\n";
    return 1;
  }
  return 0;
}

}  // namespace brook::examples
