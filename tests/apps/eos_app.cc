// eos_app: a Brook application used by the integration tests as a child
// process: source(input) -> "forward" processor -> sink(output), run with
// KafkaStreams until SIGTERM. The processor forwards each record unchanged;
// it can stall once (to exceed max.poll.interval.ms) after a number of
// records, to test that a slow instance's tasks move without breaking
// exactly-once. With --fail_every=N it fails (a non-OK status from
// Process()) on every record whose value ends in a number divisible by N,
// and the processing error handler writes those records to
// --dead_letter_topic.
#include <csignal>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/runtime/kafka_streams.h"
#include "brook/runtime/serdes.h"

ABSL_FLAG(std::string, bootstrap_servers, "", "bootstrap.servers");
ABSL_FLAG(std::string, application_id, "", "application.id");
ABSL_FLAG(std::string, input_topic, "", "input topic");
ABSL_FLAG(std::string, output_topic, "", "output topic");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-eos-app", "state.dir");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads");
ABSL_FLAG(std::string, processing_guarantee, "exactly_once_v2", "guarantee");
ABSL_FLAG(int64_t, session_timeout_ms, 6000, "session.timeout.ms");
ABSL_FLAG(int64_t, max_poll_interval_ms, 300000, "max.poll.interval.ms");
ABSL_FLAG(int64_t, transaction_timeout_ms, 10000, "transaction.timeout.ms");
ABSL_FLAG(int64_t, commit_interval_ms, 0, "commit.interval.ms; 0 = default");
ABSL_FLAG(int64_t, stall_after_records, 0,
          "stall once after this many records (0: never)");
ABSL_FLAG(int64_t, stall_ms, 0, "how long to stall");
ABSL_FLAG(int64_t, max_records_per_task_per_iteration, 100,
          "max.records.per.task.per.iteration");
ABSL_FLAG(bool, partition_queues, true,
          "partition.queues: per-partition queues instead of pause/resume");
ABSL_FLAG(int64_t, fail_every, 0,
          "fail on values whose number is a multiple of this (0: never); "
          "the records go to --dead_letter_topic");
ABSL_FLAG(std::string, dead_letter_topic, "",
          "errors.dead.letter.queue.topic.name");
ABSL_FLAG(int64_t, buffered_records_per_partition, 1000,
          "buffered.records.per.partition");

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

using brook::Record;

class Forward final : public brook::Processor<std::string, std::string,
                                              std::string, std::string> {
 public:
  absl::Status Init(
      brook::ProcessorContext<std::string, std::string>& c) override {
    context_ = &c;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<std::string, std::string>& r) override {
    static std::atomic<int64_t> seen{0};
    const int64_t fail_every = absl::GetFlag(FLAGS_fail_every);
    if (fail_every > 0 && r.value.has_value()) {
      int64_t n = 0;
      const size_t dash = r.value->rfind('-');
      if (dash != std::string::npos &&
          absl::SimpleAtoi(r.value->substr(dash + 1), &n) &&
          n % fail_every == 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("eos_app refuses ", *r.value));
      }
    }
    // The record is forwarded first, so the stall always holds a
    // transaction open (its output is in it): a stall longer than
    // transaction.timeout.ms always ends with that transaction aborted by
    // the broker.
    absl::Status forwarded = context_->Forward(r);
    const int64_t stall_after = absl::GetFlag(FLAGS_stall_after_records);
    if (stall_after > 0 && ++seen == stall_after) {
      LOG(WARNING) << "eos_app: stalling " << absl::GetFlag(FLAGS_stall_ms)
                   << " ms in task " << context_->task_id().ToString();
      absl::SleepFor(absl::Milliseconds(absl::GetFlag(FLAGS_stall_ms)));
      LOG(WARNING) << "eos_app: stall over";
    }
    return forwarded;
  }

 private:
  brook::ProcessorContext<std::string, std::string>* context_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  brook::Topology topology;
  topology
      .AddSource<std::string, std::string>(
          "input", {absl::GetFlag(FLAGS_input_topic)}, brook::Serdes::String(),
          brook::Serdes::String())
      .AddProcessor<std::string, std::string, std::string, std::string>(
          "forward", [] { return std::make_unique<Forward>(); }, {"input"})
      .AddSink<std::string, std::string>(
          "output", absl::GetFlag(FLAGS_output_topic), brook::Serdes::String(),
          brook::Serdes::String(), {"forward"});

  brook::StreamsConfig config;
  config.application_id = absl::GetFlag(FLAGS_application_id);
  config.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.num_stream_threads = absl::GetFlag(FLAGS_threads);
  auto guarantee = brook::ParseProcessingGuarantee(
      absl::GetFlag(FLAGS_processing_guarantee));
  if (!guarantee) {
    std::cerr << "eos_app: bad --processing_guarantee\n";
    return 2;
  }
  config.processing_guarantee = *guarantee;
  config.session_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_session_timeout_ms));
  config.transaction_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_transaction_timeout_ms));
  config.max_poll_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_max_poll_interval_ms));
  config.commit_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_commit_interval_ms));
  config.max_records_per_task_per_iteration =
      absl::GetFlag(FLAGS_max_records_per_task_per_iteration);
  config.buffered_records_per_partition =
      absl::GetFlag(FLAGS_buffered_records_per_partition);
  config.partition_queues = absl::GetFlag(FLAGS_partition_queues);
  config.consumer_config["heartbeat.interval.ms"] = "1000";
  if (absl::GetFlag(FLAGS_fail_every) > 0) {
    config.error_policies.processing = brook::DeadLetterHandler();
    config.error_policies.dead_letter_queue_topic =
        absl::GetFlag(FLAGS_dead_letter_topic);
  }

  auto app = brook::KafkaStreams::Create(topology, config);
  if (!app.ok()) {
    std::cerr << "eos_app: " << app.status() << "\n";
    return 1;
  }
  (*app)->SetStateListener([](auto s, auto old) {
    std::cerr << "eos_app: state " << brook::KafkaStreams::StateName(old)
              << " -> " << brook::KafkaStreams::StateName(s) << "\n";
  });
  if (absl::Status s = (*app)->Start(); !s.ok()) {
    std::cerr << "eos_app: " << s << "\n";
    return 1;
  }
  while (!g_stop.load() &&
         (*app)->state() != brook::KafkaStreams::State::kError) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  absl::Status closed = (*app)->Close(absl::Seconds(60));
  for (auto m : (*app)->Metrics()) {
    std::cerr << "eos_app: " << m.name << " processed " << m.records_processed
              << ", commits " << m.commits << ", aborts " << m.aborts
              << ", migrations " << m.task_migrations << ", producer resets "
              << m.producer_resets << ", rebalances " << m.rebalances
              << ", dead-lettered " << m.dead_letter_records["processing-error"]
              << ", max poll gap " << m.max_poll_gap_ms << " ms\n";
  }
  if ((*app)->state() == brook::KafkaStreams::State::kError) {
    std::cerr << "eos_app: failed: " << (*app)->error() << "\n";
    return 1;
  }
  if (!closed.ok()) {
    std::cerr << "eos_app: " << closed << "\n";
    return 1;
  }
  return 0;
}
