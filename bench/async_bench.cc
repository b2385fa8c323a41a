// async_bench: KStream::MapValuesAsync throughput against worker count, on a
// real broker, under exactly-once, beside the alternatives a user has
// without it. --records records (--keys keys) go through a function that
// sleeps --handler_ms (a simulated remote call), once per entry of
// --configs, each with a fresh application.id in this process:
//   async:N    MapValuesAsync with N workers, one stream thread, on
//              --partitions partitions;
//   threads:N  MapValues (the call on the stream thread), N stream threads,
//              on an input of N partitions (one thread per partition; N
//              above --partitions is "more partitions").
// The list runs --repeat times, alternating, and the table gives medians.
// The clock runs from the first call of the function (after the group
// join) to the last result forwarded; Close() then commits. After each run the
// output is read back read_committed and must hold exactly --records
// records.
//
//   build/bench/async_bench --bootstrap_servers=$(scripts/kafka bootstrap)
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/operators/kstream.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"

ABSL_FLAG(std::string, bootstrap_servers, "", "bootstrap.servers");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-async-bench", "state.dir");
ABSL_FLAG(int32_t, partitions, 6, "input and output partitions");
ABSL_FLAG(int64_t, records, 3000, "input records");
ABSL_FLAG(int32_t, keys, 240, "distinct keys");
ABSL_FLAG(int64_t, handler_ms, 10, "how long the function sleeps");
ABSL_FLAG(std::string, configs,
          "async:1,async:4,async:16,async:64,threads:6,threads:24",
          "what to run: async:<workers> or threads:<stream threads>");
ABSL_FLAG(int32_t, repeat, 1, "runs of each config, alternating");
ABSL_FLAG(int32_t, max_in_flight, 64, "AsyncOptions.max_in_flight");
ABSL_FLAG(int64_t, commit_interval_ms, 100, "commit.interval.ms");

namespace brook {
namespace {

using S = std::string;

struct RunConfig {
  std::string name;  // as given: "async:16"
  bool async = true;
  int n = 1;  // workers, or stream threads
};

absl::StatusOr<RunConfig> ParseConfig(absl::string_view text) {
  RunConfig c{.name = std::string(text)};
  std::pair<absl::string_view, absl::string_view> kv =
      absl::StrSplit(text, absl::MaxSplits(':', 1));
  if ((kv.first != "async" && kv.first != "threads") ||
      !absl::SimpleAtoi(kv.second, &c.n) || c.n < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--configs: \"", text, "\" is not async:<n> or threads:<n>"));
  }
  c.async = kv.first == "async";
  return c;
}

absl::StatusOr<double> RunOnce(const S& bootstrap, const S& input,
                               const RunConfig& run) {
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const S app = absl::StrCat("asyncb-", absl::ToUnixMicros(absl::Now()), "-",
                             run.async ? "a" : "t", run.n);
  const S output = app + "-out";
  BROOK_ASSIGN_OR_RETURN(auto admin, Admin::Create(client));
  BROOK_RETURN_IF_ERROR(admin->CreateTopic(
      {output, absl::GetFlag(FLAGS_partitions)}, absl::Seconds(30)));
  const absl::Duration handler =
      absl::Milliseconds(absl::GetFlag(FLAGS_handler_ms));
  // The clock starts at the first call of the function (a thread's
  // processed count moves only after its batch, too late for a start).
  auto first_call = std::make_shared<std::atomic<int64_t>>(0);
  auto call = [handler, first_call](const S& v) {
    int64_t zero = 0;
    first_call->compare_exchange_strong(zero, absl::ToUnixMicros(absl::Now()));
    absl::SleepFor(handler);
    return v;
  };
  StreamsBuilder builder;
  if (run.async) {
    builder.Stream<S, S>(input)
        .MapValuesAsync(
            [call](const S&, const S& v) -> absl::StatusOr<S> {
              return call(v);
            },
            AsyncOptions{.parallelism = run.n,
                         .max_in_flight = absl::GetFlag(FLAGS_max_in_flight)})
        .To(output);
  } else {
    builder.Stream<S, S>(input)
        .MapValues([call](const S& v) { return call(v); })
        .To(output);
  }
  BROOK_ASSIGN_OR_RETURN(Topology topology, builder.Build());
  StreamsConfig config;
  config.application_id = app;
  config.bootstrap_servers = bootstrap;
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.processing_guarantee = ProcessingGuarantee::kExactlyOnceV2;
  config.commit_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_commit_interval_ms));
  config.num_stream_threads = run.async ? 1 : run.n;
  BROOK_ASSIGN_OR_RETURN(auto streams, KafkaStreams::Create(topology, config));
  const int64_t records = absl::GetFlag(FLAGS_records);
  BROOK_RETURN_IF_ERROR(streams->Start());
  const absl::Time deadline = absl::Now() + absl::Minutes(10);
  for (;;) {
    int64_t processed = 0, completed = 0;
    for (const StreamThreadMetrics& m : streams->Metrics()) {
      processed += m.records_processed;
      completed += m.background_completed;
    }
    if ((run.async ? completed : processed) >= records) break;
    if (streams->state() == KafkaStreams::State::kError) {
      return streams->error();
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(app, ": ", completed, " of ", records, " completed"));
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  const double seconds = absl::ToDoubleSeconds(
      absl::Now() - absl::FromUnixMicros(first_call->load()));
  BROOK_RETURN_IF_ERROR(streams->Close(absl::Seconds(60)));
  streams.reset();
  std::filesystem::remove_all(absl::GetFlag(FLAGS_state_dir) + "/" + app);
  BROOK_ASSIGN_OR_RETURN(
      auto out, ReadTopic(client, output, IsolationLevel::kReadCommitted,
                          absl::Seconds(120)));
  if (static_cast<int64_t>(out.size()) != records) {
    return absl::InternalError(absl::StrCat(
        app, ": ", out.size(), " records out, expected ", records));
  }
  return records / seconds;
}

// Creates `topic` with `partitions` partitions and writes the input: key
// k<i % keys> (each key in one partition), value v<i>.
absl::Status WriteInput(const ClientConfig& client, const S& topic,
                        int partitions) {
  BROOK_ASSIGN_OR_RETURN(auto admin, Admin::Create(client));
  BROOK_RETURN_IF_ERROR(
      admin->CreateTopic({topic, partitions}, absl::Seconds(30)));
  BROOK_ASSIGN_OR_RETURN(auto producer, Producer::Create(client));
  const int keys = absl::GetFlag(FLAGS_keys);
  for (int64_t i = 0; i < absl::GetFlag(FLAGS_records); ++i) {
    const int key = static_cast<int>(i % keys);
    BROOK_RETURN_IF_ERROR(producer->Send({.topic = topic,
                                          .partition = key % partitions,
                                          .key = absl::StrCat("k", key),
                                          .value = absl::StrCat("v", i)}));
  }
  return producer->Flush(absl::Seconds(60));
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2]
                           : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

absl::Status Main() {
  const S bootstrap = absl::GetFlag(FLAGS_bootstrap_servers);
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const S prefix = absl::StrCat("asyncb-in-", absl::ToUnixSeconds(absl::Now()));
  std::vector<RunConfig> runs;
  for (absl::string_view c :
       absl::StrSplit(absl::GetFlag(FLAGS_configs), ',')) {
    BROOK_ASSIGN_OR_RETURN(RunConfig run, ParseConfig(c));
    runs.push_back(run);
  }
  // One input per partition count, written once.
  std::map<int, S> inputs;
  for (const RunConfig& run : runs) {
    const int partitions = run.async ? absl::GetFlag(FLAGS_partitions) : run.n;
    if (inputs.contains(partitions)) continue;
    const S topic = absl::StrCat(prefix, "-p", partitions);
    BROOK_RETURN_IF_ERROR(WriteInput(client, topic, partitions));
    inputs[partitions] = topic;
  }
  std::map<std::string, std::vector<double>> rates;
  for (int r = 0; r < absl::GetFlag(FLAGS_repeat); ++r) {
    for (const RunConfig& run : runs) {
      const int partitions =
          run.async ? absl::GetFlag(FLAGS_partitions) : run.n;
      BROOK_ASSIGN_OR_RETURN(double rate,
                             RunOnce(bootstrap, inputs[partitions], run));
      std::cerr << "async_bench: round " << r + 1 << " " << run.name << ": "
                << absl::StrFormat("%.1f", rate) << " records/s\n";
      rates[run.name].push_back(rate);
    }
  }
  const double base = Median(rates[runs.front().name]);
  std::cout << absl::StrFormat(
      "| config | partitions | stream threads | workers | records/s (median "
      "of %d) | ratio to %s |\n| --- | --: | --: | --: | --: | --: |\n",
      absl::GetFlag(FLAGS_repeat), runs.front().name);
  for (const RunConfig& run : runs) {
    const double rate = Median(rates[run.name]);
    std::cout << absl::StrFormat(
        "| %s | %d | %d | %s | %.1f | %.2f |\n", run.name,
        run.async ? absl::GetFlag(FLAGS_partitions) : run.n,
        run.async ? 1 : run.n, run.async ? absl::StrCat(run.n) : "-", rate,
        rate / base);
  }
  std::cout << absl::StrFormat(
      "One call at a time is bounded by %.0f records/s (%d ms function).\n",
      1000.0 / absl::GetFlag(FLAGS_handler_ms),
      static_cast<int>(absl::GetFlag(FLAGS_handler_ms)));
  return absl::OkStatus();
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  absl::Status s = brook::Main();
  if (!s.ok()) {
    std::cerr << "async_bench: " << s << "\n";
    return 1;
  }
  return 0;
}
