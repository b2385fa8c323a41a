// uppercase: a Brook application written with the processor API. It reads
// string records from --input_topic, upper-cases their values and writes them
// to --output_topic, exactly once, until SIGTERM or SIGINT; then it commits
// and leaves the group. Start several copies with the same --application_id
// (and different --state_dir) to share the partitions.
//
//   build/examples/uppercase --bootstrap_servers=127.0.0.1:9092
//       --application_id=upper --input_topic=words --output_topic=WORDS
#include <csignal>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/runtime/kafka_streams.h"
#include "brook/runtime/serdes.h"
#include "examples/help_flags.h"

ABSL_FLAG(std::string, bootstrap_servers, "", "bootstrap.servers");
ABSL_FLAG(std::string, application_id, "brook-uppercase", "application.id");
ABSL_FLAG(std::string, input_topic, "", "topic to read");
ABSL_FLAG(std::string, output_topic, "", "topic to write");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-uppercase", "state.dir");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads");

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

using S = std::string;

// Forwards each record with its value upper-cased; tombstones pass through.
class Uppercase final : public brook::Processor<S, S, S, S> {
 public:
  absl::Status Init(brook::ProcessorContext<S, S>& context) override {
    context_ = &context;
    return absl::OkStatus();
  }
  absl::Status Process(const brook::Record<S, S>& record) override {
    brook::Record<S, S> out = record;
    if (out.value.has_value()) absl::AsciiStrToUpper(&*out.value);
    return context_->Forward(out);
  }

 private:
  brook::ProcessorContext<S, S>* context_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  brook::examples::ParseCommandLineWithHelp(
      argc, argv,
      "upper-cases the values of --input_topic into --output_topic "
      "exactly once (processor API).",
      {"examples/uppercase.cc"});
  brook::InitLogging(argv[0]);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  brook::Topology topology;
  topology
      .AddSource<S, S>("words", {absl::GetFlag(FLAGS_input_topic)},
                       brook::Serdes::String(), brook::Serdes::String())
      .AddProcessor<S, S, S, S>(
          "uppercase", [] { return std::make_unique<Uppercase>(); }, {"words"})
      .AddSink<S, S>("shouted", absl::GetFlag(FLAGS_output_topic),
                     brook::Serdes::String(), brook::Serdes::String(),
                     {"uppercase"});
  std::cerr << topology.Describe();

  brook::StreamsConfig config;
  config.application_id = absl::GetFlag(FLAGS_application_id);
  config.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.num_stream_threads = absl::GetFlag(FLAGS_threads);

  auto app = brook::KafkaStreams::Create(topology, config);
  if (!app.ok()) {
    std::cerr << "uppercase: " << app.status() << "\n";
    return 1;
  }
  if (absl::Status s = (*app)->Start(); !s.ok()) {
    std::cerr << "uppercase: " << s << "\n";
    return 1;
  }
  while (!g_stop.load() &&
         (*app)->state() != brook::KafkaStreams::State::kError) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  absl::Status closed = (*app)->Close(absl::Seconds(30));
  if ((*app)->state() == brook::KafkaStreams::State::kError) {
    std::cerr << "uppercase: " << (*app)->error() << "\n";
    return 1;
  }
  if (!closed.ok()) {
    std::cerr << "uppercase: " << closed << "\n";
    return 1;
  }
  return 0;
}
