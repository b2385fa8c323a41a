// dsl_bench: DSL pipelines end to end on a real broker, variants alternated
// in one run, each with a fresh application.id in this process. Reports
// records/s and the process's CPU per record as medians, and their ratios.
// The clock starts at Start() and stops when every sub-topology has
// processed every record and Close() has committed them. CPU is this
// process's user+system time over the same window: Brook, librdkafka's
// threads, RocksDB; not the broker. After each run the output is read back
// with read_committed and must hold exactly the expected records (EOS) or
// at least them (ALOS).
//
// --workload=word_count (default): lines -> words -> repartition -> count
//   in RocksDB -> output, under exactly-once and at-least-once. The input
//   is --lines lines of --words_per_line words from a vocabulary of
//   --vocabulary words, so lines x words_per_line count updates.
// --workload=chain: what fusion costs for real. --lines records pass
//   through five stateless operators (filter, mapValues, filter, mapValues,
//   peek) under exactly-once, written with the DSL (fused, and one node
//   per operator) and hand-written as one processor (the bench/fusion_bench
//   chain, with Kafka, serdes and transactions around it).
// --workload=cache: the word count under exactly-once with the record cache
//   off (statestore.cache.max.bytes=0, Brook's default) and on
//   (--cache_max_bytes, 10 MiB as Kafka Streams' default). Also reports the
//   changelog records and count updates each wrote (read back
//   read_committed). With the cache the output is checked differently: per
//   word the counts strictly increase, and the last ones add up to the
//   words.
//
//   build/bench/dsl_bench --bootstrap_servers=$(scripts/kafka bootstrap)
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

#include "bench/five_operator_chain.h"
#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"

ABSL_FLAG(std::string, workload, "word_count", "word_count, chain or cache");
ABSL_FLAG(int64_t, cache_max_bytes, int64_t{10} << 20,
          "statestore.cache.max.bytes of --workload=cache's cached variant");
ABSL_FLAG(std::string, bootstrap_servers, "",
          "bootstrap.servers (default: $BROOK_BOOTSTRAP_SERVERS)");
ABSL_FLAG(int64_t, lines, 200000, "input lines");
ABSL_FLAG(int32_t, words_per_line, 5, "words per line");
ABSL_FLAG(int32_t, vocabulary, 10000, "distinct words");
ABSL_FLAG(int32_t, partitions, 6, "partitions of the input");
ABSL_FLAG(int32_t, repetitions, 3, "runs per guarantee, alternated");
ABSL_FLAG(int64_t, commit_interval_ms, 100, "commit.interval.ms");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-dsl-bench", "state.dir");

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

// Value lengths 1..29 cycle; every 7th length is filtered out, as are none
// of the empty ones (there are none): the expected output count.
int64_t ChainOutputs(int64_t lines) {
  int64_t n = 0;
  for (int64_t i = 0; i < lines; ++i) {
    if ((i % 29 + 1) % 7 != 0) ++n;
  }
  return n;
}

absl::Status Preload(const ClientConfig& client, const S& topic, bool chain) {
  BROOK_ASSIGN_OR_RETURN(auto producer, Producer::Create(client));
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> word(0,
                                          absl::GetFlag(FLAGS_vocabulary) - 1);
  for (int64_t i = 0; i < absl::GetFlag(FLAGS_lines); ++i) {
    S line;
    if (chain) {
      line.assign(static_cast<size_t>(i % 29 + 1), 'x');
    } else {
      for (int w = 0; w < absl::GetFlag(FLAGS_words_per_line); ++w) {
        absl::StrAppend(&line, w ? " " : "", "word", word(rng));
      }
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
  int64_t changelog = 0;  // records in the counts store's changelog
};

enum class Variant {
  kWordCountEos,
  kWordCountAlos,
  kFused,
  kUnfused,
  kHand,
  kWordCountEosCached
};

const char* VariantName(Variant v) {
  switch (v) {
    case Variant::kWordCountEos:
      return "word count, exactly_once_v2";
    case Variant::kWordCountAlos:
      return "word count, at_least_once";
    case Variant::kFused:
      return "chain, DSL fused";
    case Variant::kUnfused:
      return "chain, DSL one node per operator";
    case Variant::kHand:
      return "chain, hand-written processor";
    case Variant::kWordCountEosCached:
      return "word count, exactly_once_v2, record cache on";
  }
  return "?";
}

absl::StatusOr<RunResult> RunOnce(const S& bootstrap, const S& input,
                                  Variant variant, int run) {
  const bool eos = variant != Variant::kWordCountAlos;
  const bool chain = variant == Variant::kFused ||
                     variant == Variant::kUnfused || variant == Variant::kHand;
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const S app = absl::StrCat("dslb-", absl::ToUnixSeconds(absl::Now()), "-",
                             run, "-", static_cast<int>(variant));
  const S output = app + "-out";
  BROOK_ASSIGN_OR_RETURN(auto admin, Admin::Create(client));
  BROOK_RETURN_IF_ERROR(admin->CreateTopic(
      {output, absl::GetFlag(FLAGS_partitions)}, absl::Seconds(30)));
  absl::StatusOr<Topology> topology =
      variant == Variant::kHand ? bench::HandWrittenChainTopology(input, output)
      : variant == Variant::kFused
          ? bench::FiveOperatorChain(input, output, true)
      : variant == Variant::kUnfused
          ? bench::FiveOperatorChain(input, output, false)
          : WordCount(input, output);
  BROOK_RETURN_IF_ERROR(topology.status());
  StreamsConfig config;
  config.application_id = app;
  config.bootstrap_servers = bootstrap;
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.num_stream_threads = absl::GetFlag(FLAGS_threads);
  config.processing_guarantee = eos ? ProcessingGuarantee::kExactlyOnceV2
                                    : ProcessingGuarantee::kAtLeastOnce;
  config.commit_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_commit_interval_ms));
  const bool cached = variant == Variant::kWordCountEosCached;
  if (cached) config.cache_max_bytes = absl::GetFlag(FLAGS_cache_max_bytes);
  BROOK_ASSIGN_OR_RETURN(auto streams, KafkaStreams::Create(*topology, config));
  const int64_t lines = absl::GetFlag(FLAGS_lines);
  // Records the sub-topologies process, and records expected out.
  const int64_t words =
      chain ? ChainOutputs(lines) : lines * absl::GetFlag(FLAGS_words_per_line);
  const int64_t to_process = chain ? lines : lines + words;
  const absl::Time start = absl::Now();
  const double cpu_start = CpuSeconds();
  BROOK_RETURN_IF_ERROR(streams->Start());
  const absl::Time deadline = start + absl::Minutes(10);
  while (true) {
    int64_t processed = 0;
    for (const StreamThreadMetrics& m : streams->Metrics()) {
      processed += m.records_processed;
    }
    if (processed >= to_process) break;
    if (streams->state() == KafkaStreams::State::kError) {
      return streams->error();
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(app, ": ", processed, " of ", to_process,
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
  if (cached) {
    // Counts have gaps: per word they must strictly increase, and the last
    // ones must add up to the words.
    std::map<S, int64_t> last;
    for (const ConsumerRecord& c : out) {
      if (!c.key || !c.value || c.value->size() != 8) {
        return absl::DataLossError(absl::StrCat(app, ": a malformed count"));
      }
      const int64_t n =
          static_cast<int64_t>(absl::big_endian::Load64(c.value->data()));
      int64_t& prev = last[*c.key];
      if (n <= prev) {
        return absl::DataLossError(absl::StrCat(
            app, ": word ", *c.key, " went from ", prev, " to ", n));
      }
      prev = n;
    }
    int64_t total = 0;
    for (const auto& [word, n] : last) total += n;
    if (total != words) {
      return absl::DataLossError(absl::StrCat(app, ": final counts add up to ",
                                              total, " for ", words, " words"));
    }
  } else if (eos ? r.output != words : r.output < words) {
    return absl::DataLossError(absl::StrCat(
        app, ": ", r.output, " count updates for ", words, " words"));
  }
  if (!chain) {
    BROOK_ASSIGN_OR_RETURN(
        auto changelog,
        ReadTopic(client, app + "-counts-changelog",
                  IsolationLevel::kReadCommitted, absl::Seconds(120)));
    r.changelog = static_cast<int64_t>(changelog.size());
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
  const S workload = absl::GetFlag(FLAGS_workload);
  if (workload != "word_count" && workload != "chain" && workload != "cache") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--workload='", workload, "': expected word_count, chain or cache"));
  }
  const bool chain = workload == "chain";
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const S input = absl::StrCat("dslb-in-", absl::ToUnixSeconds(absl::Now()));
  BROOK_ASSIGN_OR_RETURN(auto admin, Admin::Create(client));
  BROOK_RETURN_IF_ERROR(admin->CreateTopic(
      {input, absl::GetFlag(FLAGS_partitions)}, absl::Seconds(30)));
  BROOK_RETURN_IF_ERROR(Preload(client, input, chain));
  const int64_t lines = absl::GetFlag(FLAGS_lines);
  const int64_t per_run =
      chain ? lines : lines * absl::GetFlag(FLAGS_words_per_line);
  std::cerr << "preloaded " << lines << " records to " << input << "\n";
  const std::vector<Variant> variants =
      chain ? std::vector<Variant>{Variant::kHand, Variant::kFused,
                                   Variant::kUnfused}
      : workload == "cache" ? std::vector<Variant>{Variant::kWordCountEos,
                                                   Variant::kWordCountEosCached}
                            : std::vector<Variant>{Variant::kWordCountEos,
                                                   Variant::kWordCountAlos};
  std::map<Variant, std::vector<double>> rate, cpu_us, changelog, output;
  for (int run = 0; run < absl::GetFlag(FLAGS_repetitions); ++run) {
    for (Variant v : variants) {
      BROOK_ASSIGN_OR_RETURN(RunResult r, RunOnce(bootstrap, input, v, run));
      rate[v].push_back(per_run / r.seconds);
      cpu_us[v].push_back(r.cpu_seconds * 1e6 / per_run);
      changelog[v].push_back(static_cast<double>(r.changelog));
      output[v].push_back(static_cast<double>(r.output));
      std::cerr << absl::StrFormat(
          "run %d %s: %.2f s, %.0f records/s, %.2f us CPU/record, %d out, "
          "%d changelog\n",
          run, VariantName(v), r.seconds, per_run / r.seconds,
          r.cpu_seconds * 1e6 / per_run, r.output, r.changelog);
    }
  }
  admin->DeleteTopic(input, absl::Seconds(30)).IgnoreError();  // best effort
  if (chain) {
    std::cout << absl::StrFormat(
        "chain of 5 stateless operators, %d records (values of 1-29 bytes), "
        "%d partitions, %d thread(s), exactly_once_v2, "
        "commit.interval.ms=%d, medians of %d\n",
        lines, absl::GetFlag(FLAGS_partitions), absl::GetFlag(FLAGS_threads),
        absl::GetFlag(FLAGS_commit_interval_ms),
        absl::GetFlag(FLAGS_repetitions));
  } else {
    std::cout << absl::StrFormat(
        "word count, %d lines x %d words (%d words, vocabulary %d), %d "
        "partitions, %d thread(s), commit.interval.ms=%d, medians of %d\n",
        lines, absl::GetFlag(FLAGS_words_per_line), per_run,
        absl::GetFlag(FLAGS_vocabulary), absl::GetFlag(FLAGS_partitions),
        absl::GetFlag(FLAGS_threads), absl::GetFlag(FLAGS_commit_interval_ms),
        absl::GetFlag(FLAGS_repetitions));
  }
  if (workload == "cache") {
    std::cout << absl::StrFormat(
        "cached variant: statestore.cache.max.bytes=%d\n"
        "| variant | words/s | CPU us per word | count updates out | "
        "changelog records |\n|---|--:|--:|--:|--:|\n",
        absl::GetFlag(FLAGS_cache_max_bytes));
    for (Variant v : variants) {
      std::cout << absl::StrFormat("| %s | %.0f | %.2f | %.0f | %.0f |\n",
                                   VariantName(v), Median(rate[v]),
                                   Median(cpu_us[v]), Median(output[v]),
                                   Median(changelog[v]));
    }
  } else {
    std::cout << absl::StrFormat(
        "| variant | %s/s | CPU us per %s |\n|---|--:|--:|\n",
        chain ? "records" : "words", chain ? "record" : "word");
    for (Variant v : variants) {
      std::cout << absl::StrFormat("| %s | %.0f | %.2f |\n", VariantName(v),
                                   Median(rate[v]), Median(cpu_us[v]));
    }
  }
  const Variant base = variants[0];
  for (size_t i = 1; i < variants.size(); ++i) {
    std::cout << absl::StrFormat(
        "%s / %s: throughput %.2f, CPU per record %.2f\n",
        VariantName(variants[i]), VariantName(base),
        Median(rate[variants[i]]) / Median(rate[base]),
        Median(cpu_us[variants[i]]) / Median(cpu_us[base]));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  absl::Status s = brook::Main();
  if (brook::bench::g_peeked == -1) return 3;  // keeps the peeks observable
  if (!s.ok()) {
    std::cerr << "dsl_bench: " << s << "\n";
    return 1;
  }
  return 0;
}
