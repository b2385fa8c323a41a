// count_app: a stateful Brook application for the state tests, run as a
// child process. For every input record it increments the count of the
// record's key in a KeyValueStore<string, int64> ("counts") and writes
// "<input value>:<count>" under the same key to the output topic, exactly
// once, until SIGTERM. A correct run therefore outputs, per key, the counts
// 1, 2, 3, ... with no gap and no repeat, whatever crashes happen: a store
// ahead of or behind the committed input would break the sequence.
//
// --fail_after_records=N makes the processor fail after updating the store
// for its N-th record (the transaction aborts; the store must forget the
// update). --dump_dir writes each task's store contents to
// <dump_dir>/<task>.txt when the task closes cleanly. At exit it prints the
// restore counters.
#include <csignal>
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "base/logging.h"
#include "runtime/kafka_streams.h"
#include "runtime/serdes.h"
#include "runtime/stores.h"

ABSL_FLAG(std::string, bootstrap_servers, "", "bootstrap.servers");
ABSL_FLAG(std::string, application_id, "", "application.id");
ABSL_FLAG(std::string, input_topic, "", "input topic");
ABSL_FLAG(std::string, output_topic, "", "output topic");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-count-app", "state.dir");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads");
ABSL_FLAG(bool, in_memory, false,
          "keep the store in memory instead of RocksDB");
ABSL_FLAG(int64_t, fail_after_records, 0, "fail after this many records");
ABSL_FLAG(std::string, dump_dir, "", "dump store contents here on clean close");
ABSL_FLAG(int64_t, session_timeout_ms, 6000, "session.timeout.ms");

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

using S = std::string;
using Counts = brook::KeyValueStore<S, int64_t>;

class Count final : public brook::Processor<S, S, S, S> {
 public:
  absl::Status Init(brook::ProcessorContext<S, S>& context) override {
    context_ = &context;
    absl::StatusOr<Counts*> store = context.GetStateStore<Counts>("counts");
    if (!store.ok()) return store.status();
    counts_ = *store;
    return absl::OkStatus();
  }

  absl::Status Process(const brook::Record<S, S>& record) override {
    const S key = record.key.value_or("");
    absl::StatusOr<std::optional<int64_t>> current = counts_->Get(key);
    if (!current.ok()) return current.status();
    const int64_t count = current->value_or(0) + 1;
    if (absl::Status s = counts_->Put(key, count); !s.ok()) return s;
    static std::atomic<int64_t> seen{0};
    const int64_t fail_after = absl::GetFlag(FLAGS_fail_after_records);
    if (fail_after > 0 && ++seen == fail_after) {
      return absl::InternalError("count_app: failing on purpose");
    }
    brook::Record<S, S> out = record;
    out.value = absl::StrCat(record.value.value_or(""), ":", count);
    return context_->Forward(out);
  }

  void Close() override {
    const std::string dir = absl::GetFlag(FLAGS_dump_dir);
    if (dir.empty() || counts_ == nullptr) return;
    std::ofstream out(
        absl::StrCat(dir, "/", context_->task_id().ToString(), ".txt"));
    counts_
        ->All([&](const S& k, const int64_t& v) {
          out << k << "=" << v << "\n";
          return absl::OkStatus();
        })
        .IgnoreError();  // A partial dump makes the comparing test fail.
  }

 private:
  brook::ProcessorContext<S, S>* context_ = nullptr;
  Counts* counts_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  brook::StoreOptions store_options;
  store_options.persistent = !absl::GetFlag(FLAGS_in_memory);
  brook::Topology topology;
  topology
      .AddSource<S, S>("input", {absl::GetFlag(FLAGS_input_topic)},
                       brook::Serdes::String(), brook::Serdes::String())
      .AddProcessor<S, S, S, S>(
          "count", [] { return std::make_unique<Count>(); }, {"input"})
      .AddStateStore(brook::Stores::KeyValueStoreBuilder<S, int64_t>(
                         "counts", brook::Serdes::String(),
                         brook::Serdes::Int64(), store_options),
                     {"count"})
      .AddSink<S, S>("output", absl::GetFlag(FLAGS_output_topic),
                     brook::Serdes::String(), brook::Serdes::String(),
                     {"count"});

  brook::StreamsConfig config;
  config.application_id = absl::GetFlag(FLAGS_application_id);
  config.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.num_stream_threads = absl::GetFlag(FLAGS_threads);
  config.session_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_session_timeout_ms));
  config.consumer_config["heartbeat.interval.ms"] = "1000";

  auto app = brook::KafkaStreams::Create(topology, config);
  if (!app.ok()) {
    std::cerr << "count_app: " << app.status() << "\n";
    return 1;
  }
  (*app)->SetStateListener([](auto s, auto old) {
    std::cerr << "count_app: state " << brook::KafkaStreams::StateName(old)
              << " -> " << brook::KafkaStreams::StateName(s) << std::endl;
  });
  if (absl::Status s = (*app)->Start(); !s.ok()) {
    std::cerr << "count_app: " << s << "\n";
    return 1;
  }
  while (!g_stop.load() &&
         (*app)->state() != brook::KafkaStreams::State::kError) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  absl::Status closed = (*app)->Close(absl::Seconds(60));
  int64_t restored = 0, wiped = 0, processed = 0;
  for (const auto& m : (*app)->Metrics()) {
    restored += m.restored_records;
    wiped += m.stores_wiped;
    processed += m.records_processed;
  }
  std::cerr << "count_app: processed " << processed << " restored " << restored
            << " wiped " << wiped << "\n";
  if ((*app)->state() == brook::KafkaStreams::State::kError) {
    std::cerr << "count_app: failed: " << (*app)->error() << "\n";
    return 3;
  }
  return closed.ok() ? 0 : 1;
}
