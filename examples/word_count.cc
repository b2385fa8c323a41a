// word_count: the classic first Kafka Streams program, written with Brook's
// DSL. It reads lines from --input_topic, splits them into lower-case words,
// counts each word exactly once (through a repartition topic, since the
// word becomes the key) and writes "<word>" -> count (an 8-byte big-endian
// int64, Kafka's LongSerializer format) to --output_topic on every update,
// until SIGTERM or SIGINT; then it commits and leaves the group.
//
// With no --input_topic it creates "<application_id>-lines" and writes
// --demo_lines demo lines to it (or the lines of --input_file); with no
// --output_topic it writes to "<application_id>-counts". A missing output
// topic is created with the input's partition count.
//
// --until_done (with generated input only; scripts/demo uses it) stops once
// every word it wrote has its count committed, then reads the output back
// with read_committed, checks it against a count made here from the input
// (each word's updates run 1..n; n is the word's occurrences) and prints the
// top words. It exits 1 if anything is missing, doubled or wrong.
//
//   build/examples/word_count --bootstrap_servers=127.0.0.1:9092
//   kafka-console-consumer.sh --topic brook-word-count-counts --from-beginning
//       --property print.key=true --value-deserializer
//       org.apache.kafka.common.serialization.LongDeserializer
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/metrics/metrics_server.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"
#include "examples/example_app.h"

ABSL_FLAG(std::string, input_topic, "",
          "topic of text lines; empty: create <application_id>-lines and "
          "write demo lines to it");
ABSL_FLAG(std::string, output_topic, "",
          "topic of word counts; empty: <application_id>-counts");
ABSL_FLAG(int64_t, demo_lines, 1000,
          "demo lines to write without --input_topic");
ABSL_FLAG(std::string, input_file, "",
          "without --input_topic: write this file's lines as the input "
          "instead of the demo lines");
ABSL_FLAG(bool, until_done, false,
          "without --input_topic: stop when every word written is counted, "
          "verify the output read back with read_committed, print the top "
          "words");
ABSL_FLAG(int32_t, top, 10, "words printed by --until_done");
ABSL_FLAG(int64_t, cache_max_bytes, 0,
          "statestore.cache.max.bytes: the record cache of the counts store "
          "(0: off, one output per word occurrence; e.g. 10485760: one "
          "output per word and commit)");
ABSL_FLAG(int32_t, metrics_port, -1,
          "metrics.http.port: serve /metrics (Prometheus), /healthz and "
          "/topology on 127.0.0.1 at this port (0: any free one, printed; "
          "-1: no server)");

namespace brook {
namespace {

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

// The demo input: --input_file's lines, else --demo_lines built-in ones.
absl::StatusOr<std::vector<S>> DemoLines() {
  static const char* const kLines[] = {
      "all streams flow to the sea",
      "the sea is not full",
      "a stream of records is a stream of facts",
      "a table is the latest fact per key",
      "exactly once means once",
  };
  std::vector<S> lines;
  if (const S file = absl::GetFlag(FLAGS_input_file); !file.empty()) {
    std::ifstream in(file);
    if (!in) {
      return absl::NotFoundError(
          absl::StrCat("--input_file: cannot read '", file, "'"));
    }
    for (S line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  for (int64_t i = 0; i < absl::GetFlag(FLAGS_demo_lines); ++i) {
    lines.push_back(kLines[i % std::size(kLines)]);
  }
  return lines;
}

absl::Status WriteLines(const ClientConfig& config, const S& topic,
                        const std::vector<S>& lines) {
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                         Producer::Create(config));
  for (const S& line : lines) {
    BROOK_RETURN_IF_ERROR(producer->Send({.topic = topic, .value = line}));
  }
  BROOK_RETURN_IF_ERROR(producer->Flush(absl::Seconds(60)));
  std::cerr << "word_count: wrote " << lines.size() << " lines to " << topic
            << "\n";
  return absl::OkStatus();
}

// Decodes Kafka's LongSerializer format.
absl::StatusOr<int64_t> DecodeCount(const ConsumerRecord& r) {
  if (!r.value.has_value() || r.value->size() != 8) {
    return absl::DataLossError(absl::StrCat("output record at ", r.topic, "-",
                                            r.partition, "@", r.offset,
                                            " is not an 8-byte count"));
  }
  uint64_t v = 0;
  for (unsigned char c : *r.value) v = (v << 8) | c;
  return static_cast<int64_t>(v);
}

// --until_done: waits until the output holds one committed update per word
// occurrence, then checks each word's updates against `expected` and prints
// the top words.
absl::Status VerifyAndPrintTop(const ClientConfig& client, const S& output,
                               const std::map<S, int64_t>& expected,
                               int64_t total, const std::atomic<bool>& stop) {
  std::vector<ConsumerRecord> records;
  const absl::Time deadline = absl::Now() + absl::Minutes(5);
  while (true) {
    BROOK_ASSIGN_OR_RETURN(
        records, ReadTopic(client, output, IsolationLevel::kReadCommitted,
                           absl::Seconds(60)));
    if (static_cast<int64_t>(records.size()) >= total) break;
    if (stop.load() || absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("only ", records.size(), " of ", total,
                       " word counts were committed to ", output));
    }
    absl::SleepFor(absl::Seconds(1));
  }
  // Per word, the updates in offset order (one word, one partition).
  std::sort(records.begin(), records.end(),
            [](const ConsumerRecord& a, const ConsumerRecord& b) {
              return std::tie(a.partition, a.offset) <
                     std::tie(b.partition, b.offset);
            });
  std::map<S, int64_t> last;
  int64_t problems = 0;
  for (const ConsumerRecord& r : records) {
    BROOK_ASSIGN_OR_RETURN(int64_t count, DecodeCount(r));
    const S word = r.key.value_or("");
    int64_t& seen = last[word];
    if (count != seen + 1 && ++problems <= 5) {
      std::cerr << "word_count: '" << word << "' went from " << seen << " to "
                << count << " at " << r.partition << "@" << r.offset << "\n";
    }
    seen = count;
  }
  if (last != expected) ++problems;
  std::vector<std::pair<int64_t, S>> top;
  for (const auto& [word, n] : last) top.push_back({-n, word});
  std::sort(top.begin(), top.end());
  std::cout << "top words in " << output
            << " (read back with read_committed):\n";
  for (int i = 0; i < absl::GetFlag(FLAGS_top) && i < (int)top.size(); ++i) {
    std::cout << "  " << -top[i].first << "\t" << top[i].second << "\n";
  }
  std::cout << "verified " << records.size() << " count updates for "
            << last.size() << " distinct words against the input: "
            << (problems == 0 ? "every word counted 1..n exactly once"
                              : "MISMATCH")
            << "\n";
  if (problems != 0) {
    return absl::DataLossError(absl::StrCat("the counts in ", output,
                                            " do not match the input (",
                                            problems, " problems)"));
  }
  return absl::OkStatus();
}

examples::ExampleFlags Flags() {
  return examples::ReadExampleFlags("word_count",
                                    absl::GetFlag(FLAGS_input_topic),
                                    absl::GetFlag(FLAGS_output_topic));
}

absl::Status Run() {
  const examples::ExampleFlags flags = Flags();
  if (const S format = examples::DescribeFormat(); !format.empty()) {
    const examples::ExampleTopics topics =
        examples::TopicNames(flags, "lines", "counts");
    BROOK_ASSIGN_OR_RETURN(Topology topology,
                           WordCountTopology(topics.input, topics.output));
    return examples::PrintDescription(topology, format);
  }
  BROOK_ASSIGN_OR_RETURN(const S bootstrap, examples::ResolveBootstrap(flags));
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const bool until_done = absl::GetFlag(FLAGS_until_done);
  if (until_done && !flags.input_topic.empty()) {
    return absl::InvalidArgumentError(
        "--until_done needs generated input: leave --input_topic empty");
  }
  std::map<S, int64_t> expected;  // occurrences per word written
  int64_t total = 0;
  BROOK_ASSIGN_OR_RETURN(
      examples::ExampleTopics topics,
      examples::PrepareTopics(
          flags, client, "lines", "counts", [&](const S& topic) {
            BROOK_ASSIGN_OR_RETURN(std::vector<S> lines, DemoLines());
            for (const S& line : lines) {
              for (S& w : Words(line)) {
                ++expected[std::move(w)];
                ++total;
              }
            }
            return WriteLines(client, topic, lines);
          }));
  BROOK_ASSIGN_OR_RETURN(Topology topology,
                         WordCountTopology(topics.input, topics.output));
  std::cerr << topology.Describe();
  StreamsConfig config = examples::ExampleConfig(flags, bootstrap);
  config.cache_max_bytes = absl::GetFlag(FLAGS_cache_max_bytes);
  config.metrics_http_port = absl::GetFlag(FLAGS_metrics_port);
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<KafkaStreams> streams,
                         KafkaStreams::Create(topology, std::move(config)));
  // Declared after `streams`, so it stops before the instance is freed.
  std::unique_ptr<MetricsServer> metrics;
  if (streams->config().metrics_http_port >= 0) {
    BROOK_ASSIGN_OR_RETURN(metrics, MetricsServer::Start(streams.get()));
    std::cerr << "word_count: metrics at http://" << metrics->address() << ":"
              << metrics->port() << "/metrics (also /healthz, /topology)\n";
  }
  std::cerr << "word_count: counting words of " << topics.input << " into "
            << topics.output << "; stop with Ctrl-C\n";
  if (!until_done) return examples::RunUntilStopped(*streams);
  // The check runs while the instance counts; when it is done it stops the
  // instance, and a failed instance ends it.
  return examples::RunAndVerify(
      flags, *streams, [&](const std::atomic<bool>& stop) {
        return VerifyAndPrintTop(client, topics.output, expected, total, stop);
      });
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  brook::examples::ParseExampleCommandLine(
      argc, argv,
      "counts the words of a topic of text lines, exactly once, with Brook's "
      "DSL.\nWith no --input_topic it creates one and writes demo lines.");
  return brook::examples::ExampleMain(argv[0], "word_count", brook::Run);
}
