// word_count_bench: the DSL word count (lines -> words -> repartition ->
// count in RocksDB -> output) end to end on a real broker, under
// exactly-once and at-least-once, alternated in one run. Reports records/s
// and the process's CPU per record, as medians, and the EOS/ALOS ratios.
//
// One input of --lines lines, --words_per_line words each from a vocabulary
// of --vocabulary words (so --lines x --words_per_line count updates), is
// preloaded once. Each run counts all of it with a fresh application.id in
// this process: the clock starts at Start() and stops when both
// sub-topologies have processed every record (lines, then words) and
// Close() has committed them. CPU is this process's user+system time over
// the same window: Brook, librdkafka's threads, RocksDB; not the broker.
// After each run the output is read back with read_committed and must hold
// exactly one update per word (EOS) or at least one (ALOS).
//
//   build/bench/word_count_bench --bootstrap_servers=$(scripts/kafka bootstrap)
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

#include "base/logging.h"
#include "base/status_macros.h"
#include "kafka/admin.h"
#include "kafka/producer.h"
#include "kafka/topic_reader.h"
#include "operators/streams_builder.h"
#include "runtime/kafka_streams.h"

ABSL_FLAG(std::string, bootstrap_servers, "",
          "bootstrap.servers (default: $BROOK_BOOTSTRAP_SERVERS)");
ABSL_FLAG(int64_t, lines, 200000, "input lines");
ABSL_FLAG(int32_t, words_per_line, 5, "words per line");
ABSL_FLAG(int32_t, vocabulary, 10000, "distinct words");
ABSL_FLAG(int32_t, partitions, 6, "partitions of the input");
ABSL_FLAG(int32_t, repetitions, 3, "runs per guarantee, alternated");
ABSL_FLAG(int64_t, commit_interval_ms, 100, "commit.interval.ms");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-word-count-bench", "state.dir");

namespace brook {
namespace {

using S = std::string;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec / 1e6;
}

absl::StatusOr<Topology> WordCount(const S& input, const S& output) {
  StreamsBuilder builder;
  builder.Stream<S, S>(input)
      .FlatMapValues([](const S& line) {
        return std::vector<S>(absl::StrSplit(line, ' ', absl::SkipEmpty()));
      })
      .GroupBy([](const std::optional<S>&, const S& word) { return word; })
      .Count(Materialized<S, int64_t>::As("counts"))
      .ToStream()
      .To(output);
  return builder.Build();
}

absl::Status Preload(const ClientConfig& client, const S& topic) {
  BROOK_ASSIGN_OR_RETURN(auto producer, Producer::Create(client));
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> word(0,
                                          absl::GetFlag(FLAGS_vocabulary) - 1);
  for (int64_t i = 0; i < absl::GetFlag(FLAGS_lines); ++i) {
    S line;
    for (int w = 0; w < absl::GetFlag(FLAGS_words_per_line); ++w) {
      absl::StrAppend(&line, w ? " " : "", "word", word(rng));
    }
    BROOK_RETURN_IF_ERROR(producer->Send(
        {.topic = topic, .key = absl::StrCat("line-", i), .value = line}));
  }
  return producer->Flush(absl::Seconds(120));
}

struct RunResult {
  double seconds = 0;
  double cpu_seconds = 0;
  int64_t output = 0;
};

absl::StatusOr<RunResult> RunOnce(const S& bootstrap, const S& input, bool eos,
                                  int run) {
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const S app = absl::StrCat("wcb-", absl::ToUnixSeconds(absl::Now()), "-", run,
                             eos ? "-eos" : "-alos");
  const S output = app + "-counts";
  BROOK_ASSIGN_OR_RETURN(auto admin, Admin::Create(client));
  BROOK_RETURN_IF_ERROR(admin->CreateTopic(
      {output, absl::GetFlag(FLAGS_partitions)}, absl::Seconds(30)));
  BROOK_ASSIGN_OR_RETURN(Topology topology, WordCount(input, output));
  StreamsConfig config;
  config.application_id = app;
  config.bootstrap_servers = bootstrap;
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.num_stream_threads = absl::GetFlag(FLAGS_threads);
  config.processing_guarantee = eos ? ProcessingGuarantee::kExactlyOnceV2
                                    : ProcessingGuarantee::kAtLeastOnce;
  config.commit_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_commit_interval_ms));
  BROOK_ASSIGN_OR_RETURN(auto streams, KafkaStreams::Create(topology, config));
  const int64_t lines = absl::GetFlag(FLAGS_lines);
  const int64_t words = lines * absl::GetFlag(FLAGS_words_per_line);
  const absl::Time start = absl::Now();
  const double cpu_start = CpuSeconds();
  BROOK_RETURN_IF_ERROR(streams->Start());
  const absl::Time deadline = start + absl::Minutes(10);
  while (true) {
    int64_t processed = 0;
    for (const StreamThreadMetrics& m : streams->Metrics()) {
      processed += m.records_processed;
    }
    if (processed >= lines + words) break;
    if (streams->state() == KafkaStreams::State::kError) {
      return streams->error();
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(app, ": ", processed, " of ", lines + words,
                       " records processed in 10 minutes"));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  BROOK_RETURN_IF_ERROR(streams->Close(absl::Seconds(60)));
  RunResult r;
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.cpu_seconds = CpuSeconds() - cpu_start;
  streams.reset();
  BROOK_ASSIGN_OR_RETURN(
      auto out, ReadTopic(client, output, IsolationLevel::kReadCommitted,
                          absl::Seconds(120)));
  r.output = static_cast<int64_t>(out.size());
  if (eos ? r.output != words : r.output < words) {
    return absl::DataLossError(absl::StrCat(
        app, ": ", r.output, " count updates for ", words, " words"));
  }
  admin->DeleteTopic(output, absl::Seconds(30)).IgnoreError();  // best effort
  std::filesystem::remove_all(absl::GetFlag(FLAGS_state_dir) + "/" + app);
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

absl::Status Main() {
  S bootstrap = absl::GetFlag(FLAGS_bootstrap_servers);
  if (bootstrap.empty() && std::getenv("BROOK_BOOTSTRAP_SERVERS")) {
    bootstrap = std::getenv("BROOK_BOOTSTRAP_SERVERS");
  }
  if (bootstrap.empty()) {
    return absl::InvalidArgumentError(
        "no broker: pass --bootstrap_servers or set BROOK_BOOTSTRAP_SERVERS");
  }
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const S input = absl::StrCat("wcb-lines-", absl::ToUnixSeconds(absl::Now()));
  BROOK_ASSIGN_OR_RETURN(auto admin, Admin::Create(client));
  BROOK_RETURN_IF_ERROR(admin->CreateTopic(
      {input, absl::GetFlag(FLAGS_partitions)}, absl::Seconds(30)));
  BROOK_RETURN_IF_ERROR(Preload(client, input));
  const int64_t lines = absl::GetFlag(FLAGS_lines);
  const int64_t words = lines * absl::GetFlag(FLAGS_words_per_line);
  std::cerr << "preloaded " << lines << " lines (" << words << " words) to "
            << input << "\n";
  std::map<bool, std::vector<double>> rate, cpu_us;
  for (int run = 0; run < absl::GetFlag(FLAGS_repetitions); ++run) {
    for (bool eos : {true, false}) {
      BROOK_ASSIGN_OR_RETURN(RunResult r, RunOnce(bootstrap, input, eos, run));
      rate[eos].push_back(words / r.seconds);
      cpu_us[eos].push_back(r.cpu_seconds * 1e6 / words);
      std::cerr << absl::StrFormat(
          "run %d %s: %.2f s, %.0f words/s, %.2f us CPU/word, %d updates\n",
          run, eos ? "eos " : "alos", r.seconds, words / r.seconds,
          r.cpu_seconds * 1e6 / words, r.output);
    }
  }
  admin->DeleteTopic(input, absl::Seconds(30)).IgnoreError();  // best effort
  std::cout << absl::StrFormat(
      "word count, %d lines x %d words (%d words, vocabulary %d), %d "
      "partitions, %d thread(s), commit.interval.ms=%d, medians of %d\n"
      "| guarantee | words/s | lines/s | CPU us per word |\n"
      "|---|--:|--:|--:|\n",
      lines, absl::GetFlag(FLAGS_words_per_line), words,
      absl::GetFlag(FLAGS_vocabulary), absl::GetFlag(FLAGS_partitions),
      absl::GetFlag(FLAGS_threads), absl::GetFlag(FLAGS_commit_interval_ms),
      absl::GetFlag(FLAGS_repetitions));
  for (bool eos : {true, false}) {
    std::cout << absl::StrFormat(
        "| %s | %.0f | %.0f | %.2f |\n",
        eos ? "exactly_once_v2" : "at_least_once", Median(rate[eos]),
        Median(rate[eos]) / absl::GetFlag(FLAGS_words_per_line),
        Median(cpu_us[eos]));
  }
  std::cout << absl::StrFormat("EOS/ALOS throughput %.2f, CPU per word %.2f\n",
                               Median(rate[true]) / Median(rate[false]),
                               Median(cpu_us[true]) / Median(cpu_us[false]));
  return absl::OkStatus();
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  if (absl::Status s = brook::Main(); !s.ok()) {
    std::cerr << "word_count_bench: " << s << "\n";
    return 1;
  }
  return 0;
}
