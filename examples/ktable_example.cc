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
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/producer.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"
#include "examples/example_app.h"

ABSL_FLAG(std::string, input_topic, "",
          "topic of user -> city (a tombstone: the user left); empty: create "
          "<application_id>-user-cities and write demo updates");
ABSL_FLAG(std::string, output_topic, "",
          "topic of users per city; empty: <application_id>-users-per-city");
ABSL_FLAG(int64_t, demo_updates, 1000,
          "demo updates to write without --input_topic");

namespace brook {
namespace {

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

examples::ExampleFlags Flags() {
  return examples::ReadExampleFlags("ktable_example",
                                    absl::GetFlag(FLAGS_input_topic),
                                    absl::GetFlag(FLAGS_output_topic));
}

absl::Status Run() {
  const examples::ExampleFlags flags = Flags();
  if (const S format = examples::DescribeFormat(); !format.empty()) {
    const examples::ExampleTopics topics =
        examples::TopicNames(flags, "user-cities", "users-per-city");
    BROOK_ASSIGN_OR_RETURN(Topology topology,
                           UsersPerCityTopology(topics.input, topics.output));
    return examples::PrintDescription(topology, format);
  }
  BROOK_ASSIGN_OR_RETURN(const S bootstrap, examples::ResolveBootstrap(flags));
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  BROOK_ASSIGN_OR_RETURN(
      examples::ExampleTopics topics,
      examples::PrepareTopics(
          flags, client, "user-cities", "users-per-city", [&](const S& topic) {
            return WriteDemoUpdates(client, topic,
                                    absl::GetFlag(FLAGS_demo_updates));
          }));
  BROOK_ASSIGN_OR_RETURN(Topology topology,
                         UsersPerCityTopology(topics.input, topics.output));
  std::cerr << topology.Describe();
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<KafkaStreams> streams,
                         KafkaStreams::Create(topology, examples::ExampleConfig(
                                                            flags, bootstrap)));
  std::cerr << "ktable_example: counting users per city of " << topics.input
            << " into " << topics.output << "; stop with Ctrl-C\n";
  return examples::RunUntilStopped(*streams);
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  brook::examples::ParseExampleCommandLine(
      argc, argv,
      "counts users per city from a table of user -> city, exactly once, "
      "with Brook's DSL (KTable::GroupBy with a subtractor).\nWith no "
      "--input_topic it creates one and writes demo updates.");
  return brook::examples::ExampleMain(argv[0], "ktable_example", brook::Run);
}
