// windowed_page_views: page views per page per one-minute tumbling window,
// with Brook's DSL, exactly once, one final count per window. It reads
// views keyed by page from --input_topic (the record timestamp is the event
// time), counts them per page and window
// (GroupByKey().WindowedBy(TimeWindows).Count()), holds each window's
// updates back until stream time has passed the window's end + grace
// (Suppressed::UntilWindowCloses) and writes that window's final count to
// --output_topic: the key in Kafka Streams' time-windowed format (the
// page's bytes, then the window start as 8 bytes big-endian), the value an
// 8-byte big-endian count (LongSerializer). A Java consumer reads it with
// TimeWindowedDeserializer(StringDeserializer, 60000) and LongDeserializer.
// --final_results=false skips the suppression and writes every update
// (1, 2, ..., n per window) as soon as it is counted. --rate_limit_ms=L
// (with --final_results=false) rate-limits the updates instead
// (Suppressed::UntilTimeLimit): a window's count is written once stream
// time has passed L ms after the first update held back, with the latest
// count then, so each window's counts rise and its last one is its views
// once stream time has moved past its last update + L.
//
// With no --input_topic it creates "<application_id>-views" and writes
// --demo_records views of --keys pages, two per second of event time, every
// 50th without a key (dropped, and counted in the dropped-records metric,
// which the program prints when it stops), then (with final results) one
// view per page an hour later, which closes every earlier window. With no
// --output_topic it writes to "<application_id>-counts".
//
// --until_done (generated input only) stops once every window is counted,
// reads the output back with read_committed, checks that each page and
// window has exactly one result, its views (with --final_results=false:
// that its counts run 1..n), and prints the first windows.
//
//   build/examples/windowed_page_views --bootstrap_servers=127.0.0.1:9092
//       --until_done
#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/status_macros.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"
#include "examples/example_app.h"

ABSL_FLAG(std::string, input_topic, "",
          "topic of page views keyed by page; empty: create "
          "<application_id>-views and write demo views to it");
ABSL_FLAG(std::string, output_topic, "",
          "topic of windowed counts; empty: <application_id>-counts");
ABSL_FLAG(int64_t, window_size_ms, 60000, "tumbling window size");
ABSL_FLAG(int64_t, grace_ms, 0,
          "grace period: how late a view may come for its window");
ABSL_FLAG(int64_t, demo_records, 6000, "views to write without --input_topic");
ABSL_FLAG(int32_t, keys, 10, "pages of the demo views");
ABSL_FLAG(bool, final_results, true,
          "write one final count per page and window, once the window has "
          "closed (Suppressed::UntilWindowCloses); false: write every update");
ABSL_FLAG(int64_t, rate_limit_ms, 0,
          "with --final_results=false: hold each window's updates back for "
          "this long in event time and write the latest "
          "(Suppressed::UntilTimeLimit); 0: write every update");
ABSL_FLAG(bool, until_done, false,
          "without --input_topic: stop when every view is counted, verify the "
          "output read back with read_committed, print the first windows");

namespace brook {
namespace {

using S = std::string;
constexpr int64_t kDemoStepMs = 500;

// (page, window start) -> views.
using WindowCounts = std::map<std::pair<S, int64_t>, int64_t>;

absl::StatusOr<Topology> PageViewsTopology(const S& input, const S& output,
                                           int64_t size_ms, int64_t grace_ms,
                                           bool final_results,
                                           int64_t rate_limit_ms) {
  StreamsBuilder builder;
  KTable<Windowed<S>, int64_t> counts =
      builder.Stream<S, S>(input)
          .GroupByKey()
          .WindowedBy(TimeWindows::OfSizeAndGrace(absl::Milliseconds(size_ms),
                                                  absl::Milliseconds(grace_ms)))
          .Count(Materialized<S, int64_t>::As("views-per-window"));
  if (final_results) {
    counts = counts.Suppress(
        Suppressed::UntilWindowCloses().WithName("final-views"));
  } else if (rate_limit_ms > 0) {
    counts = counts.Suppress(
        Suppressed::UntilTimeLimit(absl::Milliseconds(rate_limit_ms),
                                   BufferConfig::Unbounded())
            .WithName("rate-limited-views"));
  }
  counts.ToStream().To(output);
  return builder.Build();
}

// Writes the demo views and returns the counts they should give.
absl::StatusOr<WindowCounts> WriteDemo(const ClientConfig& client,
                                       const S& topic, int64_t size_ms) {
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                         Producer::Create(client));
  WindowCounts expected;
  const int64_t n = absl::GetFlag(FLAGS_demo_records);
  const int32_t keys = absl::GetFlag(FLAGS_keys);
  const int64_t start_ms = examples::DemoEventTimeStartMs();
  for (int64_t i = 0; i < n; ++i) {
    ProducerRecord r{.topic = topic,
                     .value = absl::StrCat("user-", i % 7),
                     .timestamp_ms = start_ms + i * kDemoStepMs};
    if (i % 50 != 49) {
      r.key = absl::StrCat("page-", i % keys);
      ++expected[{*r.key, r.timestamp_ms / size_ms * size_ms}];
    }
    BROOK_RETURN_IF_ERROR(producer->Send(std::move(r)));
  }
  if (absl::GetFlag(FLAGS_final_results) ||
      absl::GetFlag(FLAGS_rate_limit_ms) > 0) {
    // An hour later, one view per page: every page's earlier windows close
    // (these windows stay open: no result for them).
    for (int32_t k = 0; k < keys; ++k) {
      BROOK_RETURN_IF_ERROR(producer->Send(
          {.topic = topic,
           .key = absl::StrCat("page-", k),
           .value = "closer",
           .timestamp_ms = start_ms + n * kDemoStepMs + 3'600'000}));
    }
  }
  BROOK_RETURN_IF_ERROR(producer->Flush(absl::Seconds(60)));
  std::cerr << "windowed_page_views: wrote " << n << " views to " << topic
            << "\n";
  return expected;
}

// --until_done: waits for one committed update per counted view, checks the
// counts and prints the first windows.
absl::Status Verify(const ClientConfig& client, const S& output,
                    const WindowCounts& expected, int64_t size_ms,
                    const std::atomic<bool>& stop) {
  const bool final_results = absl::GetFlag(FLAGS_final_results);
  const bool rate_limited =
      !final_results && absl::GetFlag(FLAGS_rate_limit_ms) > 0;
  int64_t total = 0;
  for (const auto& [window, n] : expected) total += final_results ? 1 : n;
  BROOK_ASSIGN_OR_RETURN(
      std::vector<ConsumerRecord> records,
      examples::ReadCommittedUntil(
          client, output,
          [&](const std::vector<ConsumerRecord>& records) {
            if (!rate_limited) {
              return static_cast<int64_t>(records.size()) >= total;
            }
            // Done when every window's latest count is its views.
            WindowCounts latest;
            for (const ConsumerRecord& r : records) {
              if (!r.key.has_value() || r.key->size() < 8 ||
                  !r.value.has_value() || r.value->size() != 8) {
                return true;  // Verify below reports it
              }
              const size_t n = r.key->size() - 8;
              int64_t& count =
                  latest[{r.key->substr(0, n),
                          static_cast<int64_t>(
                              absl::big_endian::Load64(r.key->data() + n))}];
              count = std::max(count,
                               static_cast<int64_t>(
                                   absl::big_endian::Load64(r.value->data())));
            }
            return latest == expected;
          },
          stop));
  std::sort(records.begin(), records.end(),
            [](const ConsumerRecord& a, const ConsumerRecord& b) {
              return std::tie(a.partition, a.offset) <
                     std::tie(b.partition, b.offset);
            });
  WindowCounts last;
  int64_t problems = 0;
  for (const ConsumerRecord& r : records) {
    if (!r.key.has_value() || r.key->size() < 8 || !r.value.has_value() ||
        r.value->size() != 8) {
      ++problems;
      continue;
    }
    const size_t n = r.key->size() - 8;
    const int64_t start =
        static_cast<int64_t>(absl::big_endian::Load64(r.key->data() + n));
    const int64_t count =
        static_cast<int64_t>(absl::big_endian::Load64(r.value->data()));
    int64_t& seen = last[{r.key->substr(0, n), start}];
    if (final_results && seen != 0 && ++problems <= 5) {
      std::cerr << "windowed_page_views: " << r.key->substr(0, n) << "@"
                << start << " has a second final result, " << count << "\n";
    } else if (rate_limited && count <= seen && ++problems <= 5) {
      std::cerr << "windowed_page_views: " << r.key->substr(0, n) << "@"
                << start << " went from " << seen << " to " << count << "\n";
    } else if (!final_results && !rate_limited && count != seen + 1 &&
               ++problems <= 5) {
      std::cerr << "windowed_page_views: " << r.key->substr(0, n) << "@"
                << start << " went from " << seen << " to " << count << "\n";
    }
    seen = count;
  }
  if (last != expected) ++problems;
  std::cout << "first windows in " << output
            << " (read back with read_committed):\n";
  int printed = 0;
  for (const auto& [window, n] : last) {
    if (printed++ == 6) break;
    std::cout << "  " << window.first << " ["
              << absl::FormatTime("%H:%M:%S",
                                  absl::FromUnixMillis(window.second),
                                  absl::UTCTimeZone())
              << ", +" << size_ms / 1000 << "s) " << n << " views\n";
  }
  std::cout << "verified " << records.size() << " count updates for "
            << last.size() << " page windows against the input: "
            << (problems != 0   ? "MISMATCH"
                : final_results ? "one final count per window, exactly"
                : rate_limited  ? "each window's counts rising to its views"
                                : "every window counted 1..n exactly once")
            << "\n";
  if (problems != 0) {
    return absl::DataLossError(absl::StrCat("the counts in ", output,
                                            " do not match the input (",
                                            problems, " problems)"));
  }
  return absl::OkStatus();
}

absl::Status Run() {
  const examples::ExampleFlags flags = examples::ReadExampleFlags(
      "windowed_page_views", absl::GetFlag(FLAGS_input_topic),
      absl::GetFlag(FLAGS_output_topic));
  const int64_t size_ms = absl::GetFlag(FLAGS_window_size_ms);
  if (const S format = examples::DescribeFormat(); !format.empty()) {
    const examples::ExampleTopics topics =
        examples::TopicNames(flags, "views", "counts");
    BROOK_ASSIGN_OR_RETURN(
        Topology topology,
        PageViewsTopology(topics.input, topics.output, size_ms,
                          absl::GetFlag(FLAGS_grace_ms),
                          absl::GetFlag(FLAGS_final_results),
                          absl::GetFlag(FLAGS_rate_limit_ms)));
    return examples::PrintDescription(topology, format);
  }
  BROOK_ASSIGN_OR_RETURN(const S bootstrap, examples::ResolveBootstrap(flags));
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const bool until_done = absl::GetFlag(FLAGS_until_done);
  if (until_done && !flags.input_topic.empty()) {
    return absl::InvalidArgumentError(
        "--until_done needs generated input: leave --input_topic empty");
  }
  const int64_t rate_limit_ms = absl::GetFlag(FLAGS_rate_limit_ms);
  if (rate_limit_ms < 0 ||
      (rate_limit_ms > 0 && absl::GetFlag(FLAGS_final_results))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--rate_limit_ms=", rate_limit_ms,
        ": needs a value >= 0, and --final_results=false when above 0 (final "
        "results and rate limiting are two kinds of suppression)"));
  }
  WindowCounts expected;
  BROOK_ASSIGN_OR_RETURN(examples::ExampleTopics topics,
                         examples::PrepareTopics(
                             flags, client, "views", "counts",
                             [&](const S& topic) -> absl::Status {
                               BROOK_ASSIGN_OR_RETURN(
                                   expected, WriteDemo(client, topic, size_ms));
                               return absl::OkStatus();
                             }));
  BROOK_ASSIGN_OR_RETURN(
      Topology topology,
      PageViewsTopology(topics.input, topics.output, size_ms,
                        absl::GetFlag(FLAGS_grace_ms),
                        absl::GetFlag(FLAGS_final_results), rate_limit_ms));
  std::cerr << topology.Describe();
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<KafkaStreams> streams,
                         KafkaStreams::Create(topology, examples::ExampleConfig(
                                                            flags, bootstrap)));
  std::cerr << "windowed_page_views: counting views of " << topics.input
            << " per page and " << size_ms << " ms window into "
            << topics.output
            << (absl::GetFlag(FLAGS_final_results) ? " (final results only)"
                : rate_limit_ms > 0
                    ? absl::StrCat(" (updates rate-limited to one per ",
                                   rate_limit_ms, " ms of event time)")
                    : " (every update)")
            << "; stop with Ctrl-C\n";
  if (!until_done) {
    absl::Status ran = examples::RunUntilStopped(*streams);
    examples::PrintDroppedRecords(flags, *streams);
    return ran;
  }
  return examples::RunAndVerify(
      flags, *streams, [&](const std::atomic<bool>& stop) {
        return Verify(client, topics.output, expected, size_ms, stop);
      });
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  brook::examples::ParseExampleCommandLine(
      argc, argv,
      "counts page views per page and one-minute window, exactly once, with "
      "Brook's DSL, one final count per window.\nWith no --input_topic it "
      "creates one and writes demo views.");
  return brook::examples::ExampleMain(argv[0], "windowed_page_views",
                                      brook::Run);
}
