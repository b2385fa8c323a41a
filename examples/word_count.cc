// word_count: the classic first Kafka Streams program, written with Brook's
// DSL. It reads lines from --input_topic, splits them into lower-case words,
// counts each word exactly once (through a repartition topic, since the
// word becomes the key) and writes "<word>" -> count (an 8-byte big-endian
// int64, Kafka's LongSerializer format) to --output_topic on every update,
// until SIGTERM or SIGINT; then it commits and leaves the group.
//
// With no --input_topic it creates "<application_id>-lines" and writes
// --demo_lines demo lines to it; with no --output_topic it writes to
// "<application_id>-counts". A missing output topic is created with the
// input's partition count.
//
//   build/examples/word_count --bootstrap_servers=127.0.0.1:9092
//   kafka-console-consumer.sh --topic brook-word-count-counts --from-beginning
//       --property print.key=true --value-deserializer
//       org.apache.kafka.common.serialization.LongDeserializer
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

#include "base/logging.h"
#include "base/status_macros.h"
#include "kafka/admin.h"
#include "kafka/producer.h"
#include "operators/streams_builder.h"
#include "runtime/kafka_streams.h"

ABSL_FLAG(std::string, bootstrap_servers, "",
          "bootstrap.servers (default: $BROOK_BOOTSTRAP_SERVERS)");
ABSL_FLAG(std::string, application_id, "brook-word-count", "application.id");
ABSL_FLAG(std::string, input_topic, "",
          "topic of text lines; empty: create <application_id>-lines and "
          "write demo lines to it");
ABSL_FLAG(std::string, output_topic, "",
          "topic of word counts; empty: <application_id>-counts");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-word-count", "state.dir");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads");
ABSL_FLAG(int32_t, partitions, 3, "partitions of topics this program creates");
ABSL_FLAG(int64_t, demo_lines, 1000,
          "demo lines to write without --input_topic");
ABSL_FLAG(int64_t, session_timeout_ms, 45000,
          "session.timeout.ms: how long a crashed instance keeps its tasks");

namespace brook {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

using S = std::string;

// Lower-case words: runs of letters, digits and apostrophes.
std::vector<S> Words(const S& line) {
  std::vector<S> words;
  S word;
  for (char c : line) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '\'') {
      word += absl::ascii_tolower(static_cast<unsigned char>(c));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

absl::StatusOr<Topology> WordCountTopology(const S& input, const S& output) {
  StreamsBuilder builder;
  builder.Stream<S, S>(input)
      .FlatMapValues([](const S& line) { return Words(line); })
      .GroupBy([](const std::optional<S>&, const S& word) { return word; })
      .Count(Materialized<S, int64_t>::As("counts"))
      .ToStream()
      .To(output);
  return builder.Build();
}

// Creates `topic` unless it exists.
absl::Status EnsureTopic(Admin& admin, const S& topic, int32_t partitions) {
  absl::Status s = admin.CreateTopic({topic, partitions}, absl::Seconds(30));
  if (s.ok()) std::cerr << "word_count: created topic " << topic << "\n";
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
}

absl::Status WriteDemoLines(const ClientConfig& config, const S& topic,
                            int64_t n) {
  static const char* const kLines[] = {
      "all streams flow to the sea",
      "the sea is not full",
      "a stream of records is a stream of facts",
      "a table is the latest fact per key",
      "exactly once means once",
  };
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                         Producer::Create(config));
  for (int64_t i = 0; i < n; ++i) {
    BROOK_RETURN_IF_ERROR(producer->Send(
        {.topic = topic, .value = kLines[i % std::size(kLines)]}));
  }
  BROOK_RETURN_IF_ERROR(producer->Flush(absl::Seconds(60)));
  std::cerr << "word_count: wrote " << n << " demo lines to " << topic << "\n";
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
    input = app + "-lines";
    BROOK_RETURN_IF_ERROR(EnsureTopic(*admin, input, partitions));
    BROOK_RETURN_IF_ERROR(
        WriteDemoLines(client, input, absl::GetFlag(FLAGS_demo_lines)));
  } else {
    BROOK_ASSIGN_OR_RETURN(partitions,
                           admin->PartitionCount(input, absl::Seconds(30)));
  }
  if (output.empty()) output = app + "-counts";
  BROOK_RETURN_IF_ERROR(EnsureTopic(*admin, output, partitions));

  BROOK_ASSIGN_OR_RETURN(Topology topology, WordCountTopology(input, output));
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
  std::cerr << "word_count: counting words of " << input << " into " << output
            << "; stop with Ctrl-C\n";
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
      "counts the words of a topic of text lines, exactly once, with Brook's "
      "DSL.\nWith no --input_topic it creates one and writes demo lines.");
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  std::signal(SIGTERM, brook::OnSignal);
  std::signal(SIGINT, brook::OnSignal);
  if (absl::Status s = brook::Run(); !s.ok()) {
    std::cerr << "word_count: " << s << "\n";
    return 1;
  }
  return 0;
}
