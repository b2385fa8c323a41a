// count_app: a stateful Brook application for the state tests, run as a
// child process. For every input record it increments the count of the
// record's key in a KeyValueStore<string, int64> ("counts") and writes
// "<input value>:<count>" under the same key to the output topic, exactly
// once, until SIGTERM. A correct run therefore outputs, per key, the counts
// 1, 2, 3, ... with no gap and no repeat, whatever crashes happen: a store
// ahead of or behind the committed input would break the sequence.
//
// --store=window counts per key and tumbling window of --window_ms (by the
// record's timestamp) in a window store; --store=session counts per key and
// session (records of a key less than --gap_ms apart) in a session store.
// Both output under the key "<key>@<window or session start>", so the same
// per-key check applies: counts 1, 2, 3, ... per window or session.
//
// --fail_after_records=N makes the processor fail after updating the store
// for its N-th record (the transaction aborts; the store must forget the
// update). --dump_dir writes each task's store contents (kv and window) to
// <dump_dir>/<task>.txt when the task closes cleanly. At exit it prints the
// restore counters.
#include <climits>
#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include "brook/base/logging.h"
#include "brook/runtime/kafka_streams.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/stores.h"
#include "brook/state/session_bytes_store.h"
#include "brook/state/window_bytes_store.h"

ABSL_FLAG(std::string, bootstrap_servers, "", "bootstrap.servers");
ABSL_FLAG(std::string, application_id, "", "application.id");
ABSL_FLAG(std::string, input_topic, "", "input topic");
ABSL_FLAG(std::string, output_topic, "", "output topic");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-count-app", "state.dir");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads");
ABSL_FLAG(bool, in_memory, false,
          "keep the store in memory instead of RocksDB");
ABSL_FLAG(int64_t, fail_after_records, 0, "fail after this many records");
ABSL_FLAG(std::string, store, "kv", "kv, window or session");
ABSL_FLAG(int64_t, window_ms, 1000, "--store=window: tumbling window size");
ABSL_FLAG(int64_t, gap_ms, 1000, "--store=session: inactivity gap");
ABSL_FLAG(std::string, dump_dir, "", "dump store contents here on clean close");
ABSL_FLAG(int64_t, session_timeout_ms, 6000, "session.timeout.ms");
ABSL_FLAG(int64_t, transaction_timeout_ms, 10000, "transaction.timeout.ms");

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

// Retention far beyond any test's event times: nothing expires.
constexpr int64_t kRetentionMs = int64_t{365} * 24 * 3600 * 1000;

int64_t DecodeCount(absl::string_view bytes) {
  absl::StatusOr<int64_t> n = brook::Serdes::Int64()->Deserialize("", bytes);
  return n.ok() ? *n : -1;
}

std::string EncodeCount(int64_t n) {
  return brook::Serdes::Int64()->Serialize("", n);
}

// --store=window: a count per key and tumbling window.
// Threading model: one per task, called on its stream thread only.
class WindowCount final : public brook::Processor<S, S, S, S> {
 public:
  absl::Status Init(brook::ProcessorContext<S, S>& context) override {
    context_ = &context;
    absl::StatusOr<brook::WindowBytesStore*> store =
        context.GetStateStore<brook::WindowBytesStore>("counts");
    if (!store.ok()) return store.status();
    windows_ = *store;
    return absl::OkStatus();
  }

  absl::Status Process(const brook::Record<S, S>& record) override {
    const S key = record.key.value_or("");
    const int64_t size = absl::GetFlag(FLAGS_window_ms);
    const int64_t start = record.timestamp_ms - record.timestamp_ms % size;
    absl::StatusOr<std::optional<std::string>> current =
        windows_->Fetch(key, start);
    if (!current.ok()) return current.status();
    const int64_t count = current->has_value() ? DecodeCount(**current) + 1 : 1;
    absl::StatusOr<bool> put = windows_->Put(key, start, EncodeCount(count));
    if (!put.ok()) return put.status();
    if (!*put) return absl::InternalError("count_app: window expired");
    return context_->Forward(record.WithKeyValue<S, S>(
        absl::StrCat(key, "@", start),
        absl::StrCat(record.value.value_or(""), ":", count)));
  }

  void Close() override {
    const std::string dir = absl::GetFlag(FLAGS_dump_dir);
    if (dir.empty() || windows_ == nullptr) return;
    std::ofstream out(
        absl::StrCat(dir, "/", context_->task_id().ToString(), ".txt"));
    for (auto it = windows_->FetchAll(0, INT64_MAX); it->Valid(); it->Next()) {
      out << it->key() << "@" << it->window_start_ms() << "="
          << DecodeCount(it->value()) << "\n";
    }
  }

 private:
  brook::ProcessorContext<S, S>* context_ = nullptr;
  brook::WindowBytesStore* windows_ = nullptr;
};

// --store=session: a count per key and session; a record within gap_ms of a
// session joins it (sessions it bridges merge, their counts added).
// Threading model: one per task, called on its stream thread only.
class SessionCount final : public brook::Processor<S, S, S, S> {
 public:
  absl::Status Init(brook::ProcessorContext<S, S>& context) override {
    context_ = &context;
    absl::StatusOr<brook::SessionBytesStore*> store =
        context.GetStateStore<brook::SessionBytesStore>("counts");
    if (!store.ok()) return store.status();
    sessions_ = *store;
    return absl::OkStatus();
  }

  absl::Status Process(const brook::Record<S, S>& record) override {
    const S key = record.key.value_or("");
    const int64_t ts = record.timestamp_ms;
    const int64_t gap = absl::GetFlag(FLAGS_gap_ms);
    int64_t start = ts, end = ts, count = 1;
    std::vector<std::pair<int64_t, int64_t>> merged;
    for (auto it = sessions_->FindSessions(key, ts - gap, ts + gap);
         it->Valid(); it->Next()) {
      start = std::min(start, it->start_ms());
      end = std::max(end, it->end_ms());
      count += DecodeCount(it->value());
      merged.emplace_back(it->start_ms(), it->end_ms());
    }
    for (const auto& [s, e] : merged) {
      absl::StatusOr<bool> removed = sessions_->Put(key, s, e, std::nullopt);
      if (!removed.ok()) return removed.status();
    }
    absl::StatusOr<bool> put =
        sessions_->Put(key, start, end, EncodeCount(count));
    if (!put.ok()) return put.status();
    if (!*put) return absl::InternalError("count_app: session expired");
    return context_->Forward(record.WithKeyValue<S, S>(
        absl::StrCat(key, "@", start),
        absl::StrCat(record.value.value_or(""), ":", count)));
  }

 private:
  brook::ProcessorContext<S, S>* context_ = nullptr;
  brook::SessionBytesStore* sessions_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  brook::StoreOptions store_options;
  store_options.persistent = !absl::GetFlag(FLAGS_in_memory);
  const std::string kind = absl::GetFlag(FLAGS_store);
  std::shared_ptr<const brook::StoreBuilder> store;
  std::function<std::unique_ptr<brook::Processor<S, S, S, S>>()> processor;
  if (kind == "kv") {
    store = brook::Stores::KeyValueStoreBuilder<S, int64_t>(
        "counts", brook::Serdes::String(), brook::Serdes::Int64(),
        store_options);
    processor = [] { return std::make_unique<Count>(); };
  } else if (kind == "window") {
    store = brook::Stores::WindowStoreBuilder("counts", kRetentionMs,
                                              store_options);
    processor = [] { return std::make_unique<WindowCount>(); };
  } else if (kind == "session") {
    store = brook::Stores::SessionStoreBuilder("counts", kRetentionMs,
                                               store_options);
    processor = [] { return std::make_unique<SessionCount>(); };
  } else {
    std::cerr << "count_app: --store must be kv, window or session\n";
    return 2;
  }
  brook::Topology topology;
  topology
      .AddSource<S, S>("input", {absl::GetFlag(FLAGS_input_topic)},
                       brook::Serdes::String(), brook::Serdes::String())
      .AddProcessor<S, S, S, S>("count", processor, {"input"})
      .AddStateStore(store, {"count"})
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
  config.transaction_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_transaction_timeout_ms));
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
