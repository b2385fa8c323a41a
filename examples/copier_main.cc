// brook_copier: copies one topic to another exactly once until SIGTERM or
// SIGINT, then commits and leaves the group.
//
//   brook_copier --bootstrap_servers=127.0.0.1:9092 --application_id=copy
//       --input_topic=in --output_topic=out --state_dir=/var/lib/brook
#include <csignal>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

#include "brook/base/logging.h"
#include "brook/runtime/streams_config.h"
#include "examples/copier.h"
#include "examples/help_flags.h"

ABSL_FLAG(std::string, bootstrap_servers, "", "Kafka bootstrap.servers");
ABSL_FLAG(std::string, application_id, "brook-copier", "application.id");
ABSL_FLAG(std::string, input_topic, "", "topic to copy from");
ABSL_FLAG(std::string, output_topic, "", "topic to copy to");
ABSL_FLAG(std::string, state_dir, "/tmp/brook", "state directory root");
ABSL_FLAG(std::string, processing_guarantee, "exactly_once_v2",
          "exactly_once_v2 or at_least_once");
ABSL_FLAG(int64_t, commit_interval_ms, 0, "commit interval; 0 = default");
ABSL_FLAG(std::vector<std::string>, consumer_config, {},
          "extra librdkafka consumer properties, key=value,key=value");

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

}  // namespace

int main(int argc, char** argv) {
  brook::examples::ParseCommandLineWithHelp(
      argc, argv,
      "copies --input_topic to --output_topic exactly once until "
      "SIGTERM or SIGINT.",
      {"examples/copier_main.cc"});
  brook::InitLogging(argv[0]);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  brook::StreamsConfig config;
  config.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  config.application_id = absl::GetFlag(FLAGS_application_id);
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.commit_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_commit_interval_ms));
  auto guarantee = brook::ParseProcessingGuarantee(
      absl::GetFlag(FLAGS_processing_guarantee));
  if (!guarantee.has_value()) {
    std::cerr << "brook_copier: --processing_guarantee must be exactly_once_v2 "
                 "or at_least_once\n";
    return 2;
  }
  config.processing_guarantee = *guarantee;
  for (const std::string& kv : absl::GetFlag(FLAGS_consumer_config)) {
    std::pair<std::string, std::string> p =
        absl::StrSplit(kv, absl::MaxSplits('=', 1));
    // The group's timeouts are StreamsConfig settings of their own.
    int64_t ms = 0;
    if (p.first == "session.timeout.ms" && absl::SimpleAtoi(p.second, &ms)) {
      config.session_timeout = absl::Milliseconds(ms);
    } else if (p.first == "max.poll.interval.ms" &&
               absl::SimpleAtoi(p.second, &ms)) {
      config.max_poll_interval = absl::Milliseconds(ms);
    } else {
      config.consumer_config[p.first] = p.second;
    }
  }

  absl::StatusOr<std::unique_ptr<brook::examples::Copier>> copier =
      brook::examples::Copier::Create(config, absl::GetFlag(FLAGS_input_topic),
                                      absl::GetFlag(FLAGS_output_topic));
  if (!copier.ok()) {
    std::cerr << "brook_copier: " << copier.status() << "\n";
    return 1;
  }
  absl::Status status = (*copier)->Run(g_stop);
  const brook::examples::CopierStats stats = (*copier)->stats();
  std::cerr << "brook_copier: copied " << stats.records_copied << " records in "
            << stats.commits << " commits, " << stats.aborts << " aborts\n";
  if (!status.ok()) {
    std::cerr << "brook_copier: " << status << "\n";
    return 1;
  }
  return 0;
}
