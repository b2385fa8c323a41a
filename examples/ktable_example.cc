// ktable_example: users per city. --input_topic holds where each user lives,
// keyed by user ("ann" -> "paris"; a tombstone: the user left). The program
// reads it as a KTable (the latest city per user), re-groups the table by
// city (KTable::GroupBy, through the repartition topic
// "<application_id>-users-by-city-repartition") and counts the users per
// city exactly once: a user moving from paris to rome decrements paris and
// increments rome, a tombstone decrements the user's last city. Each update
// of a city's count goes to --output_topic as "<city>" -> count (an 8-byte
// big-endian int64, Kafka's LongSerializer format), until SIGTERM or SIGINT.
//
// With no --input_topic it creates "<application_id>-user-cities" and
// writes --demo_updates demo updates; with no --output_topic it writes to
// "<application_id>-users-per-city". A missing output topic is created with
// the input's partition count.
//
//   build/examples/ktable_example --bootstrap_servers=127.0.0.1:9092
//   kafka-console-consumer.sh --topic brook-ktable-example-users-per-city
//       --from-beginning --property print.key=true --value-deserializer
//       org.apache.kafka.common.serialization.LongDeserializer
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "base/logging.h"
#include "base/status_macros.h"
#include "kafka/admin.h"
#include "kafka/producer.h"
#include "operators/streams_builder.h"
#include "runtime/kafka_streams.h"

ABSL_FLAG(std::string, bootstrap_servers, "",
          "bootstrap.servers (default: $BROOK_BOOTSTRAP_SERVERS)");
ABSL_FLAG(std::string, application_id, "brook-ktable-example",
          "application.id");
ABSL_FLAG(std::string, input_topic, "",
          "topic of user -> city (a tombstone: the user left); empty: create "
          "<application_id>-user-cities and write demo updates");
ABSL_FLAG(std::string, output_topic, "",
          "topic of users per city; empty: <application_id>-users-per-city");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-ktable-example", "state.dir");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads");
ABSL_FLAG(int32_t, partitions, 3, "partitions of topics this program creates");
ABSL_FLAG(int64_t, demo_updates, 1000,
          "demo updates to write without --input_topic");
ABSL_FLAG(int64_t, session_timeout_ms, 45000,
          "session.timeout.ms: how long a crashed instance keeps its tasks");

namespace brook {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

using S = std::string;

absl::StatusOr<Topology> UsersPerCityTopology(const S& input, const S& output) {
  StreamsBuilder builder;
  builder.Table<S, S>(input, {}, Materialized<S, S>::As("user-city"))
      .GroupBy(
          [](const S& user, const S& city) { return std::pair(city, user); },
          Grouped<S, S>::As("users-by-city"))
      .Count(Materialized<S, int64_t>::As("users-per-city"))
      .ToStream()
      .To(output);
  return builder.Build();
}

absl::Status EnsureTopic(Admin& admin, const S& topic, int32_t partitions) {
  absl::Status s = admin.CreateTopic({topic, partitions}, absl::Seconds(30));
  if (s.ok()) std::cerr << "ktable_example: created topic " << topic << "\n";
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
}

// 50 users moving between 6 cities; every 10th update is a tombstone.
absl::Status WriteDemoUpdates(const ClientConfig& config, const S& topic,
                              int64_t n) {
  static const char* const kCities[] = {"paris", "rome",   "oslo",
                                        "lima",  "austin", "kyoto"};
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                         Producer::Create(config));
  for (int64_t i = 0; i < n; ++i) {
    ProducerRecord r{.topic = topic, .key = absl::StrCat("user-", i * 7 % 50)};
    if (i % 10 != 9) r.value = kCities[(i / 3) % std::size(kCities)];
    BROOK_RETURN_IF_ERROR(producer->Send(r));
  }
  BROOK_RETURN_IF_ERROR(producer->Flush(absl::Seconds(60)));
  std::cerr << "ktable_example: wrote " << n << " demo updates to " << topic
            << "\n";
  return absl::OkStatus();
}

absl::Status Run() {
  S bootstrap = absl::GetFlag(FLAGS_bootstrap_servers);
  if (bootstrap.empty() && std::getenv("BROOK_BOOTSTRAP_SERVERS") != nullptr) {
    bootstrap = std::getenv("BROOK_BOOTSTRAP_SERVERS");
  }
  if (bootstrap.empty()) {
    return absl::InvalidArgumentError(
        "no broker: pass --bootstrap_servers or set BROOK_BOOTSTRAP_SERVERS");
  }
  const S app = absl::GetFlag(FLAGS_application_id);
  S input = absl::GetFlag(FLAGS_input_topic);
  S output = absl::GetFlag(FLAGS_output_topic);
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::Create(client));
  int32_t partitions = absl::GetFlag(FLAGS_partitions);
  if (input.empty()) {
    input = app + "-user-cities";
    BROOK_RETURN_IF_ERROR(EnsureTopic(*admin, input, partitions));
    BROOK_RETURN_IF_ERROR(
        WriteDemoUpdates(client, input, absl::GetFlag(FLAGS_demo_updates)));
  } else {
    BROOK_ASSIGN_OR_RETURN(partitions,
                           admin->PartitionCount(input, absl::Seconds(30)));
  }
  if (output.empty()) output = app + "-users-per-city";
  BROOK_RETURN_IF_ERROR(EnsureTopic(*admin, output, partitions));

  BROOK_ASSIGN_OR_RETURN(Topology topology,
                         UsersPerCityTopology(input, output));
  std::cerr << topology.Describe();

  StreamsConfig config;
  config.application_id = app;
  config.bootstrap_servers = bootstrap;
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.num_stream_threads = absl::GetFlag(FLAGS_threads);
  const int64_t session_ms = absl::GetFlag(FLAGS_session_timeout_ms);
  config.session_timeout = absl::Milliseconds(session_ms);
  config.consumer_config["heartbeat.interval.ms"] =
      absl::StrCat(std::min<int64_t>(3000, session_ms / 3));
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<KafkaStreams> streams,
                         KafkaStreams::Create(topology, config));
  BROOK_RETURN_IF_ERROR(streams->Start());
  std::cerr << "ktable_example: counting users per city of " << input
            << " into " << output << "; stop with Ctrl-C\n";
  while (!g_stop.load() && streams->state() != KafkaStreams::State::kError) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  absl::Status closed = streams->Close(absl::Seconds(30));
  if (streams->state() == KafkaStreams::State::kError) return streams->error();
  return closed;
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "counts users per city from a table of user -> city, exactly once, "
      "with Brook's DSL (KTable::GroupBy with a subtractor).\nWith no "
      "--input_topic it creates one and writes demo updates.");
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  std::signal(SIGTERM, brook::OnSignal);
  std::signal(SIGINT, brook::OnSignal);
  if (absl::Status s = brook::Run(); !s.ok()) {
    std::cerr << "ktable_example: " << s << "\n";
    return 1;
  }
  return 0;
}
