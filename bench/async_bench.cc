// async_bench: KStream::MapValuesAsync throughput against worker count, on a
// real broker, under exactly-once. --records records (--keys keys) on
// --partitions partitions go through a function that sleeps --handler_ms
// (a simulated remote call), once per --workers value, each with a fresh
// application.id in this process, one stream thread. The clock runs from
// the first record processed (after the group join) to the last result
// forwarded; Close() then commits. Reports records/s and the ratio to the
// first worker count. After each run the output is read back
// read_committed and must hold exactly --records records.
//
//   build/bench/async_bench --bootstrap_servers=$(scripts/kafka bootstrap)
#include <filesystem>
#include <iostream>
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

#include "base/logging.h"
#include "base/status_macros.h"
#include "kafka/admin.h"
#include "kafka/producer.h"
#include "kafka/topic_reader.h"
#include "operators/kstream.h"
#include "operators/streams_builder.h"
#include "runtime/kafka_streams.h"

ABSL_FLAG(std::string, bootstrap_servers, "", "bootstrap.servers");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-async-bench", "state.dir");
ABSL_FLAG(int32_t, partitions, 6, "input and output partitions");
ABSL_FLAG(int64_t, records, 1200, "input records");
ABSL_FLAG(int32_t, keys, 60, "distinct keys");
ABSL_FLAG(int64_t, handler_ms, 10, "how long the function sleeps");
ABSL_FLAG(std::string, workers, "1,4,16", "AsyncOptions.parallelism values");
ABSL_FLAG(int32_t, max_in_flight, 64, "AsyncOptions.max_in_flight");
ABSL_FLAG(int64_t, commit_interval_ms, 100, "commit.interval.ms");

namespace brook {
namespace {

using S = std::string;

absl::StatusOr<double> RunOnce(const S& bootstrap, const S& input,
                               int workers) {
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const S app =
      absl::StrCat("asyncb-", absl::ToUnixSeconds(absl::Now()), "-", workers);
  const S output = app + "-out";
  BROOK_ASSIGN_OR_RETURN(auto admin, Admin::Create(client));
  BROOK_RETURN_IF_ERROR(admin->CreateTopic(
      {output, absl::GetFlag(FLAGS_partitions)}, absl::Seconds(30)));
  const absl::Duration handler =
      absl::Milliseconds(absl::GetFlag(FLAGS_handler_ms));
  StreamsBuilder builder;
  builder.Stream<S, S>(input)
      .MapValuesAsync(
          [handler](const S&, const S& v) -> absl::StatusOr<S> {
            absl::SleepFor(handler);
            return v;
          },
          AsyncOptions{.parallelism = workers,
                       .max_in_flight = absl::GetFlag(FLAGS_max_in_flight)})
      .To(output);
  BROOK_ASSIGN_OR_RETURN(Topology topology, builder.Build());
  StreamsConfig config;
  config.application_id = app;
  config.bootstrap_servers = bootstrap;
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.processing_guarantee = ProcessingGuarantee::kExactlyOnceV2;
  config.commit_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_commit_interval_ms));
  BROOK_ASSIGN_OR_RETURN(auto streams, KafkaStreams::Create(topology, config));
  const int64_t records = absl::GetFlag(FLAGS_records);
  BROOK_RETURN_IF_ERROR(streams->Start());
  const absl::Time deadline = absl::Now() + absl::Minutes(10);
  std::optional<absl::Time> first;
  for (;;) {
    int64_t processed = 0, completed = 0;
    for (const StreamThreadMetrics& m : streams->Metrics()) {
      processed += m.records_processed;
      completed += m.background_completed;
    }
    if (!first.has_value() && processed > 0) first = absl::Now();
    if (completed >= records) break;
    if (streams->state() == KafkaStreams::State::kError) {
      return streams->error();
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(app, ": ", completed, " of ", records, " completed"));
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - *first);
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

absl::Status Main() {
  const S bootstrap = absl::GetFlag(FLAGS_bootstrap_servers);
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const S input = absl::StrCat("asyncb-in-", absl::ToUnixSeconds(absl::Now()));
  const int partitions = absl::GetFlag(FLAGS_partitions);
  BROOK_ASSIGN_OR_RETURN(auto admin, Admin::Create(client));
  BROOK_RETURN_IF_ERROR(
      admin->CreateTopic({input, partitions}, absl::Seconds(30)));
  BROOK_ASSIGN_OR_RETURN(auto producer, Producer::Create(client));
  const int keys = absl::GetFlag(FLAGS_keys);
  for (int64_t i = 0; i < absl::GetFlag(FLAGS_records); ++i) {
    const int key = static_cast<int>(i % keys);
    BROOK_RETURN_IF_ERROR(producer->Send({.topic = input,
                                          .partition = key % partitions,
                                          .key = absl::StrCat("k", key),
                                          .value = absl::StrCat("v", i)}));
  }
  BROOK_RETURN_IF_ERROR(producer->Flush(absl::Seconds(60)));
  double base = 0;
  for (absl::string_view w :
       absl::StrSplit(absl::GetFlag(FLAGS_workers), ',')) {
    int workers = 0;
    if (!absl::SimpleAtoi(w, &workers)) {
      return absl::InvalidArgumentError(absl::StrCat("bad --workers: ", w));
    }
    BROOK_ASSIGN_OR_RETURN(double rate, RunOnce(bootstrap, input, workers));
    if (base == 0) base = rate;
    std::cout << absl::StrFormat(
        "workers %2d: %8.1f records/s, %5.2fx the first; one worker's bound "
        "%.0f records/s\n",
        workers, rate, rate / base, 1000.0 / absl::GetFlag(FLAGS_handler_ms));
  }
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
