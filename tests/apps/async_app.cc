// async_app: a Brook application used by the integration tests as a child
// process: input -> MapValuesAsync(sleep, then the value unchanged) ->
// output, run with KafkaStreams until SIGTERM. The function simulates a
// slow remote call. With --with_store it also counts each key's records in
// a store through KeyState and writes "<value>/<count>". At exit it prints
// its threads' metrics to stderr.
#include <csignal>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/operators/kstream.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/stores.h"

ABSL_FLAG(std::string, bootstrap_servers, "", "bootstrap.servers");
ABSL_FLAG(std::string, application_id, "", "application.id");
ABSL_FLAG(std::string, input_topic, "", "input topic");
ABSL_FLAG(std::string, output_topic, "", "output topic");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-async-app", "state.dir");
ABSL_FLAG(int64_t, session_timeout_ms, 6000, "session.timeout.ms");
ABSL_FLAG(int64_t, max_poll_interval_ms, 300000, "max.poll.interval.ms");
ABSL_FLAG(int64_t, transaction_timeout_ms, 10000, "transaction.timeout.ms");
ABSL_FLAG(int64_t, commit_interval_ms, 0, "commit.interval.ms; 0 = default");
ABSL_FLAG(int64_t, handler_ms, 30, "how long the function sleeps per record");
ABSL_FLAG(int32_t, parallelism, 16, "AsyncOptions.parallelism");
ABSL_FLAG(int32_t, max_in_flight, 64, "AsyncOptions.max_in_flight");
ABSL_FLAG(bool, with_store, false,
          "count each key's records in a store (KeyState) and append "
          "\"/<count>\" to the value");

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  const absl::Duration handler =
      absl::Milliseconds(absl::GetFlag(FLAGS_handler_ms));
  brook::StreamsBuilder builder;
  const brook::AsyncOptions options{
      .parallelism = absl::GetFlag(FLAGS_parallelism),
      .max_in_flight = absl::GetFlag(FLAGS_max_in_flight)};
  auto input = builder.Stream<std::string, std::string>(
      absl::GetFlag(FLAGS_input_topic));
  if (absl::GetFlag(FLAGS_with_store)) {
    builder.AddStateStore(
        brook::Stores::KeyValueStoreBuilder<std::string, int64_t>(
            "seen", brook::Serdes::String(), brook::Serdes::Int64()));
    input
        .MapValuesAsync<int64_t>(
            [handler](
                const std::string&, const std::string& value,
                brook::KeyState<int64_t>& seen) -> absl::StatusOr<std::string> {
              absl::SleepFor(handler);
              const int64_t n = seen.Get().value_or(0) + 1;
              seen.Put(n);
              return absl::StrCat(value, "/", n);
            },
            "seen", options)
        .To(absl::GetFlag(FLAGS_output_topic));
  } else {
    input
        .MapValuesAsync(
            [handler](const std::string&,
                      const std::string& value) -> absl::StatusOr<std::string> {
              absl::SleepFor(handler);
              return value;
            },
            options)
        .To(absl::GetFlag(FLAGS_output_topic));
  }
  absl::StatusOr<brook::Topology> topology = builder.Build();
  if (!topology.ok()) {
    std::cerr << "async_app: " << topology.status() << "\n";
    return 1;
  }

  brook::StreamsConfig config;
  config.application_id = absl::GetFlag(FLAGS_application_id);
  config.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.processing_guarantee = brook::ProcessingGuarantee::kExactlyOnceV2;
  config.session_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_session_timeout_ms));
  config.transaction_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_transaction_timeout_ms));
  config.max_poll_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_max_poll_interval_ms));
  config.commit_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_commit_interval_ms));
  config.consumer_config["heartbeat.interval.ms"] = "500";

  auto app = brook::KafkaStreams::Create(*topology, config);
  if (!app.ok()) {
    std::cerr << "async_app: " << app.status() << "\n";
    return 1;
  }
  if (absl::Status s = (*app)->Start(); !s.ok()) {
    std::cerr << "async_app: " << s << "\n";
    return 1;
  }
  while (!g_stop.load() &&
         (*app)->state() != brook::KafkaStreams::State::kError) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  absl::Status closed = (*app)->Close(absl::Seconds(60));
  for (const auto& m : (*app)->Metrics()) {
    std::cerr << "async_app: " << m.name << " processed " << m.records_processed
              << ", commits " << m.commits << ", commit max "
              << m.commit_latency_max_ms << " ms, aborts " << m.aborts
              << ", migrations " << m.task_migrations << ", rebalances "
              << m.rebalances << ", max poll gap " << m.max_poll_gap_ms
              << " ms, background completed " << m.background_completed
              << ", handler avg " << m.background_handler_latency_avg_ms
              << " ms, queue wait avg " << m.background_queue_wait_avg_ms
              << " ms, max " << m.background_queue_wait_max_ms << " ms\n";
  }
  if ((*app)->state() == brook::KafkaStreams::State::kError) {
    std::cerr << "async_app: failed: " << (*app)->error() << "\n";
    return 1;
  }
  if (!closed.ok()) {
    std::cerr << "async_app: " << closed << "\n";
    return 1;
  }
  return 0;
}
