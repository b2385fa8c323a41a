#include "examples/example_app.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "base/status_macros.h"
#include "kafka/admin.h"

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

}  // namespace brook::examples
