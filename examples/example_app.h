// What the DSL examples share: one flag shape (the brief's: the broker, the
// application id, an input and an output topic, a state directory), the
// broker address, creating topics and demo input, the StreamsConfig, and
// running until SIGTERM or SIGINT.
// Threading model: call from main()'s thread; the stop flag is set from a
// signal handler and read with atomics.
#ifndef BROOK_EXAMPLES_EXAMPLE_APP_H_
#define BROOK_EXAMPLES_EXAMPLE_APP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "brook/kafka/client_config.h"
#include "brook/kafka/consumer_record.h"
#include "brook/kafka/producer_record.h"
#include "brook/runtime/kafka_streams.h"
#include "brook/runtime/streams_config.h"
#include "brook/runtime/topology.h"

namespace brook::examples {

// The flags every example takes. Each example defines --input_topic and
// --output_topic (their help says what the topics hold); example_app.cc
// defines the rest (--bootstrap_servers, --application_id, --state_dir,
// --threads, --partitions, --session_timeout_ms) once for all.
struct ExampleFlags {
  std::string program;  // prefixes messages: "word_count: ..."
  std::string bootstrap_servers;
  std::string application_id;
  std::string input_topic;
  std::string output_topic;
  std::string state_dir;
  int32_t threads = 1;
  int32_t partitions = 3;  // of the topics the example creates
  int64_t session_timeout_ms = 45000;
};

// The parsed flags of `program` (e.g. "word_count"): an empty
// --application_id becomes "brook-<program>" and an empty --state_dir
// "/tmp/brook-<program>", with '_' as '-' ("brook-word-count").
// REQUIRES: absl::ParseCommandLine has run.
ExampleFlags ReadExampleFlags(const std::string& program,
                              const std::string& input_topic,
                              const std::string& output_topic);

// The flags' broker address, else $BROOK_BOOTSTRAP_SERVERS, else an error
// that says how to give one.
absl::StatusOr<std::string> ResolveBootstrap(const ExampleFlags& flags);

struct ExampleTopics {
  std::string input;
  std::string output;
  bool generated_input = false;  // created here and filled by `write_demo`
};

// The input topic: --input_topic, or "<application_id>-<input_suffix>",
// created and filled by write_demo(topic). The output topic: --output_topic,
// or "<application_id>-<output_suffix>"; created with the input's partition
// count if missing.
absl::StatusOr<ExampleTopics> PrepareTopics(
    const ExampleFlags& flags, const ClientConfig& client,
    const std::string& input_suffix, const std::string& output_suffix,
    const std::function<absl::Status(const std::string& topic)>& write_demo);

// The StreamsConfig of the flags (exactly-once, the session timeout with a
// heartbeat of a third of it, at most 3 s).
StreamsConfig ExampleConfig(const ExampleFlags& flags,
                            const std::string& bootstrap);

// The event time of a demo's first record: three hours ago, rounded down
// to the hour (so that windows of any size dividing an hour line up with
// it). Demo records must not carry old timestamps: the broker deletes
// records older than a topic's retention.ms by their timestamp, and a
// windowed store's changelog keeps them only for the window's retention
// plus one day, so a demo dated years back would lose its output and
// changelog at the broker's next retention check (every 5 minutes).
int64_t DemoEventTimeStartMs();

// Makes SIGTERM and SIGINT set the stop flag.
void InstallStopSignals();
bool StopRequested();
void RequestStop();

// Starts `streams`, waits for a stop request or an instance error, and
// closes it: the instance's error if it failed, else Close()'s status.
absl::Status RunUntilStopped(KafkaStreams& streams);

// What --until_done runs beside the instance: reads the output back and
// checks it. `stop` turns true once the instance has stopped (on its own
// error or a signal): a verifier still waiting for output should give up.
using Verifier = std::function<absl::Status(const std::atomic<bool>& stop)>;

// Runs `streams` until stopped, as RunUntilStopped does, with `verify` on a
// checker thread that requests the stop when it returns. Returns the
// instance's error if it failed, else the verifier's error, else Close()'s
// status. Prints the dropped-records metric when the instance has stopped.
absl::Status RunAndVerify(const ExampleFlags& flags, KafkaStreams& streams,
                          const Verifier& verify);

// Prints "<program>: dropped-records none" or
// "<program>: dropped-records <reason>=<n> ..." to stderr (the example
// tests look for this line).
void PrintDroppedRecords(const ExampleFlags& flags,
                         const KafkaStreams& streams);

// Writes `records` with one producer (murmur2 partitioner, as Java's and
// Brook's sinks, so that keys land where a join expects them) and waits
// for delivery.
absl::Status WriteRecords(const ClientConfig& client,
                          const std::vector<ProducerRecord>& records);

// Reads `topic` from the beginning with read_committed, again every
// second, until `done(records)` holds; DeadlineExceeded after `timeout` or
// once `stop` is set.
absl::StatusOr<std::vector<ConsumerRecord>> ReadCommittedUntil(
    const ClientConfig& client, const std::string& topic,
    const std::function<bool(const std::vector<ConsumerRecord>&)>& done,
    const std::atomic<bool>& stop, absl::Duration timeout = absl::Minutes(5));

// --describe=text|dot|mermaid: "" (run the example) or the format in which
// to print the topology to stdout instead of running.
std::string DescribeFormat();

// The topic names PrepareTopics would pick, without a broker: --input_topic
// or "<application_id>-<input_suffix>", likewise the output.
ExampleTopics TopicNames(const ExampleFlags& flags,
                         const std::string& input_suffix,
                         const std::string& output_suffix);

// Prints `topology` in `format` (DescribeFormat()) to stdout and nothing
// else: the contract of `brook describe <binary>`. InvalidArgument for an
// unknown format.
absl::Status PrintDescription(const Topology& topology,
                              const std::string& format);

// Sets the usage message, makes --help list the shared flags of
// example_app.cc beside the example's own, and parses the command line.
void ParseExampleCommandLine(int argc, char** argv, const std::string& usage);

// The body of every example's main() after flag parsing: logging, the stop
// signals, `run`, and "<program>: <error>" with exit code 1 on failure.
int ExampleMain(const char* argv0, const std::string& program,
                const std::function<absl::Status()>& run);

}  // namespace brook::examples

#endif  // BROOK_EXAMPLES_EXAMPLE_APP_H_
