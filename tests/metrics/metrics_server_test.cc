// MetricsServer scraped over HTTP (httplib::Client) while a KafkaStreams
// instance runs on the real broker: the figures must move.
#include "brook/metrics/metrics_server.h"

#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/operators/kstream.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/serdes.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::CreateTopic;
using ::brook::testing::ProduceRawValue;
using ::brook::testing::ProduceValues;
using ::brook::testing::UniqueName;
using S = std::string;

// What the gate processor does with a record whose value is "stall": it
// forwards it (which opens the thread's transaction), then waits while
// g_stall is set.
std::atomic<bool> g_stall{false};
std::atomic<int> g_stalled{0};  // processors waiting now

class Gate final : public Processor<S, S, S, S> {
 public:
  absl::Status Init(ProcessorContext<S, S>& c) override {
    context_ = &c;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<S, S>& r) override {
    if (r.value == "poison") {
      return absl::InvalidArgumentError("cannot process poison");
    }
    absl::Status s = context_->Forward(r);
    if (r.value == "stall") {
      ++g_stalled;
      while (g_stall.load()) absl::SleepFor(absl::Milliseconds(10));
      --g_stalled;
    }
    return s;
  }

 private:
  ProcessorContext<S, S>* context_ = nullptr;
};

Topology GateTopology(const std::string& in, const std::string& out) {
  Topology t;
  t.AddSource<S, S>("in", {in}, Serdes::String(), Serdes::String())
      .AddProcessor<S, S, S, S>("gate", [] { return std::make_unique<Gate>(); },
                                {"in"})
      .AddSink<S, S>("out", out, Serdes::String(), Serdes::String(), {"gate"});
  return t;
}

// The samples of one scrape: "name{labels}" -> value.
using Scrape = std::map<std::string, double>;

Scrape Parse(const std::string& body) {
  Scrape out;
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space == absl::string_view::npos ||
        !absl::SimpleAtod(line.substr(space + 1), &value)) {
      ADD_FAILURE() << "not a sample line: " << line;
      continue;
    }
    out[std::string(line.substr(0, space))] = value;
  }
  return out;
}

// The sum of the samples of `name` whose labels contain `label_part`.
double Sum(const Scrape& scrape, const std::string& name,
           const std::string& label_part = "") {
  double sum = 0;
  for (const auto& [key, value] : scrape) {
    const bool name_matches = key == name || absl::StartsWith(key, name + "{");
    if (name_matches && absl::StrContains(key, label_part)) sum += value;
  }
  return sum;
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_stall = false;
    in_ = UniqueName("metrics-in");
    out_ = UniqueName("metrics-out");
    config_.application_id = UniqueName("metrics-app");
    config_.bootstrap_servers = testing::BootstrapServers();
    config_.state_dir = ::testing::TempDir() + "/" + config_.application_id;
    config_.session_timeout = absl::Seconds(6);
    config_.metrics_http_port = 0;  // any free port
  }
  void TearDown() override {
    g_stall = false;
    std::filesystem::remove_all(config_.state_dir);
  }

  // Creates the topics, the instance and its server, and starts both.
  void StartApp(int partitions) {
    StartApp(partitions, GateTopology(in_, out_));
  }
  void StartApp(int partitions, const Topology& topology) {
    CreateTopic(in_, partitions);
    CreateTopic(out_, partitions);
    auto app = KafkaStreams::Create(topology, config_);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = *std::move(app);
    auto server = MetricsServer::Start(app_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
    client_.emplace("127.0.0.1", server_->port());
    client_->set_read_timeout(30, 0);
    ASSERT_TRUE(app_->Start().ok());
  }

  httplib::Result Get(const std::string& path) { return client_->Get(path); }

  Scrape ScrapeMetrics() {
    httplib::Result res = Get("/metrics");
    if (!res) {
      ADD_FAILURE() << "GET /metrics failed: "
                    << httplib::to_string(res.error());
      return {};
    }
    EXPECT_EQ(res->status, 200);
    EXPECT_TRUE(absl::StartsWith(res->get_header_value("Content-Type"),
                                 "text/plain; version=0.0.4"));
    return Parse(res->body);
  }

  // Scrapes until `done` holds for a scrape; returns the last scrape.
  Scrape ScrapeUntil(const std::function<bool(const Scrape&)>& done,
                     absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    Scrape s = ScrapeMetrics();
    while (!done(s) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(200));
      s = ScrapeMetrics();
    }
    return s;
  }

  std::string in_, out_;
  StreamsConfig config_;
  std::unique_ptr<KafkaStreams> app_;
  std::unique_ptr<MetricsServer> server_;
  std::optional<httplib::Client> client_;
};

TEST_F(MetricsServerTest, ProcessedRecordsRiseAndHealthFollowsTheInstance) {
  StartApp(2);
  ProduceValues(in_, "r", 200);
  Scrape s = ScrapeUntil(
      [](const Scrape& s) {
        // Records are counted when processed, commits after they commit.
        return Sum(s, "brook_thread_process_total") >= 200 &&
               Sum(s, "brook_thread_commit_total") >= 1;
      },
      absl::Seconds(60));
  ASSERT_GE(Sum(s, "brook_thread_process_total"), 200);
  EXPECT_EQ(Sum(s, "brook_instance_state", "state=\"RUNNING\""), 1);
  EXPECT_GE(Sum(s, "brook_thread_commit_total"), 1);
  EXPECT_GE(Sum(s, "brook_thread_commit_latency_seconds_count"), 1);
  EXPECT_EQ(Sum(s, "brook_thread_commit_latency_seconds_bucket", "le=\"+Inf\""),
            Sum(s, "brook_thread_commit_latency_seconds_count"));
  EXPECT_GE(Sum(s, "brook_thread_rebalances_total"), 1);
  EXPECT_EQ(Sum(s, "brook_task_process_total", "task=\"0_0\"") +
                Sum(s, "brook_task_process_total", "task=\"0_1\""),
            Sum(s, "brook_task_process_total"));

  const double before = Sum(s, "brook_thread_process_total");
  ProduceValues(in_, "more", 100);
  s = ScrapeUntil(
      [&](const Scrape& s) {
        return Sum(s, "brook_thread_process_total") >= before + 100;
      },
      absl::Seconds(60));
  EXPECT_GE(Sum(s, "brook_thread_process_total"), before + 100);

  httplib::Result health = Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->body;
  EXPECT_TRUE(absl::StartsWith(health->body, "RUNNING")) << health->body;

  httplib::Result topology = Get("/topology");
  ASSERT_TRUE(topology);
  EXPECT_EQ(topology->status, 200);
  EXPECT_TRUE(absl::StrContains(topology->body, "Sub-topology"))
      << topology->body;
  httplib::Result mermaid = Get("/topology?format=mermaid");
  ASSERT_TRUE(mermaid);
  EXPECT_TRUE(absl::StrContains(mermaid->body, "flowchart")) << mermaid->body;
  httplib::Result dot = Get("/topology?format=dot");
  ASSERT_TRUE(dot);
  EXPECT_EQ(dot->status, 200) << dot->body;
  EXPECT_TRUE(absl::StartsWith(dot->body, "digraph topology {")) << dot->body;
  EXPECT_TRUE(absl::StrContains(dot->body, "subgraph cluster_sub0"))
      << dot->body;
  httplib::Result bogus = Get("/topology?format=svg");
  ASSERT_TRUE(bogus);
  EXPECT_EQ(bogus->status, 400);
  EXPECT_TRUE(absl::StrContains(bogus->body, "mermaid or dot")) << bogus->body;

  ASSERT_TRUE(app_->Close(absl::Seconds(60)).ok());
  health = Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  EXPECT_TRUE(absl::StartsWith(health->body, "NOT_RUNNING")) << health->body;
}

// A processor stuck mid-transaction: the input keeps coming, so the lag of
// its partition must rise; the transaction it holds open must age. Both
// come back down once it moves on.
class StuckProcessorTest : public MetricsServerTest {
 protected:
  // Processes 50 records, then stalls the thread on a "stall" record with
  // 300 more behind it. Returns the scrape taken while stuck.
  Scrape StallWithBacklog() {
    StartApp(1);
    ProduceValues(in_, "warm", 50);
    Scrape s = ScrapeUntil(
        [](const Scrape& s) {
          return Sum(s, "brook_partition_committed_offset") >= 50 &&
                 Sum(s, "brook_partition_consumer_lag") == 0;
        },
        absl::Seconds(60));
    // A scrape reads the threads before the lag: the one that saw the
    // last commit may still show its transaction open. The thread is idle
    // now, so a fresh scrape must not.
    s = ScrapeMetrics();
    EXPECT_EQ(Sum(s, "brook_consumer_lag_up"), 1);
    EXPECT_EQ(Sum(s, "brook_partition_consumer_lag", "partition=\"0\""), 0);
    EXPECT_EQ(Sum(s, "brook_thread_open_transaction_age_seconds"), 0);
    g_stall = true;
    ProduceRawValue(in_, "stall");
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (g_stalled.load() == 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_EQ(g_stalled.load(), 1);
    ProduceValues(in_, "behind", 300);
    absl::SleepFor(absl::Seconds(2));
    return ScrapeMetrics();
  }

  Scrape Release() {
    g_stall = false;
    return ScrapeUntil(
        [](const Scrape& s) {
          return Sum(s, "brook_partition_committed_offset") >= 351 &&
                 Sum(s, "brook_partition_consumer_lag") == 0;
        },
        absl::Seconds(60));
  }
};

TEST_F(StuckProcessorTest, LagPerPartitionRisesWhileStuckAndFallsAfter) {
  Scrape stuck = StallWithBacklog();
  // The stalled record and the 300 behind it are not committed.
  EXPECT_GE(Sum(stuck, "brook_partition_consumer_lag",
                "topic=\"" + in_ + "\",partition=\"0\""),
            301);
  EXPECT_EQ(Sum(stuck, "brook_partition_committed_offset"), 50);
  EXPECT_GE(Sum(stuck, "brook_thread_poll_gap_seconds"), 1.5);
  Scrape after = Release();
  EXPECT_EQ(Sum(after, "brook_partition_consumer_lag"), 0);
  EXPECT_EQ(Sum(after, "brook_partition_committed_offset"), 351);
  EXPECT_GE(Sum(after, "brook_thread_process_total"), 351);
  ASSERT_TRUE(app_->Close(absl::Seconds(60)).ok());
}

TEST_F(StuckProcessorTest, OpenTransactionAgeGrowsWhileStuckAndResetsAfter) {
  Scrape stuck = StallWithBacklog();
  const double age = Sum(stuck, "brook_thread_open_transaction_age_seconds");
  EXPECT_GE(age, 1.5);
  // The stalled record was forwarded into the open transaction: the output
  // partition holds an undecided record, and its last stable offset stays.
  const std::string out_labels = "topic=\"" + out_ + "\"";
  EXPECT_EQ(Sum(stuck, "brook_output_health_up"), 1);
  EXPECT_GE(Sum(stuck, "brook_output_partition_undecided_records", out_labels),
            1);
  absl::SleepFor(absl::Seconds(1));
  Scrape later = ScrapeMetrics();
  EXPECT_GE(Sum(later, "brook_thread_open_transaction_age_seconds"), age + 0.9);
  EXPECT_GE(
      Sum(later, "brook_output_partition_lso_stalled_seconds", out_labels),
      0.9);
  Scrape after = Release();
  // Commits every 100 ms: a transaction open now is young.
  EXPECT_LT(Sum(after, "brook_thread_open_transaction_age_seconds"), 1);
  after = ScrapeUntil(
      [&](const Scrape& s) {
        return Sum(s, "brook_output_partition_undecided_records", out_labels) ==
               0;
      },
      absl::Seconds(30));
  EXPECT_EQ(Sum(after, "brook_output_partition_undecided_records", out_labels),
            0);
  EXPECT_EQ(
      Sum(after, "brook_output_partition_lso_stalled_seconds", out_labels), 0);
  ASSERT_TRUE(app_->Close(absl::Seconds(60)).ok());
}

TEST_F(MetricsServerTest, HealthIs503WithTheErrorOnceTheInstanceFails) {
  StartApp(1);
  ProduceRawValue(in_, "poison");
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (app_->state() != KafkaStreams::State::kError &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(app_->state(), KafkaStreams::State::kError);
  httplib::Result health = Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  EXPECT_TRUE(absl::StartsWith(health->body, "ERROR")) << health->body;
  EXPECT_TRUE(absl::StrContains(health->body, "cannot process poison"))
      << health->body;
  EXPECT_EQ(Sum(ScrapeMetrics(), "brook_instance_state", "state=\"ERROR\""), 1);
  app_->Close(absl::Seconds(60)).IgnoreError();  // already failed
}

// MapValuesAsync with its calls held: the records the task took sit between
// the position and the committed offset, and the commit waits for them.
// brook_partition_uncommitted_records shows that gap while it lasts, and
// 0 once the commit closes it.
TEST_F(MetricsServerTest, UncommittedRecordsShowTheGapAnAsyncCommitWaitsFor) {
  StreamsBuilder b;
  b.Stream<S, S>(in_)
      .MapValuesAsync(
          [](const S&, const S& v) -> absl::StatusOr<S> {
            while (g_stall.load()) absl::SleepFor(absl::Milliseconds(10));
            return v;
          },
          AsyncOptions{.parallelism = 2, .max_in_flight = 64})
      .To(out_);
  absl::StatusOr<Topology> topology = b.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  StartApp(1, *topology);
  ProduceValues(in_, "warm", 10);
  Scrape s = ScrapeUntil(
      [](const Scrape& s) {
        return Sum(s, "brook_partition_committed_offset") >= 10;
      },
      absl::Seconds(60));
  EXPECT_EQ(Sum(s, "brook_partition_committed_offset"), 10);
  EXPECT_EQ(Sum(s, "brook_partition_uncommitted_records"), 0);
  g_stall = true;
  ProduceValues(in_, "held", 20);
  s = ScrapeUntil(
      [](const Scrape& s) {
        return Sum(s, "brook_partition_uncommitted_records") > 0;
      },
      absl::Seconds(30));
  const double gap = Sum(s, "brook_partition_uncommitted_records",
                         "topic=\"" + in_ + "\",partition=\"0\"");
  EXPECT_GE(gap, 1);
  EXPECT_LE(gap, 20);
  EXPECT_EQ(Sum(s, "brook_partition_committed_offset"), 10);
  g_stall = false;
  s = ScrapeUntil(
      [](const Scrape& s) {
        return Sum(s, "brook_partition_committed_offset") >= 30 &&
               Sum(s, "brook_partition_uncommitted_records") == 0;
      },
      absl::Seconds(60));
  EXPECT_EQ(Sum(s, "brook_partition_committed_offset"), 30);
  EXPECT_EQ(Sum(s, "brook_partition_uncommitted_records"), 0);
  ASSERT_TRUE(app_->Close(absl::Seconds(60)).ok());
}

TEST_F(MetricsServerTest, StoreMetricsFollowTheCountsStore) {
  StreamsBuilder b;
  b.Stream<S, S>(in_)
      .GroupByKey()
      .Count(Materialized<S, int64_t>::As("counts"))
      .ToStream()
      .To(out_);
  absl::StatusOr<Topology> topology = b.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  config_.metrics_recording_level = MetricsRecordingLevel::kDebug;
  StartApp(2, *topology);
  ProduceValues(in_, "v", 200);  // 200 distinct keys
  const std::string store = "store=\"counts\"";
  Scrape s = ScrapeUntil(
      [&](const Scrape& s) {
        return Sum(s, "brook_partition_committed_offset") >= 200 &&
               Sum(s, "brook_store_put_total", store) >= 200 &&
               Sum(s, "brook_store_estimate_num_keys", store) >= 200;
      },
      absl::Seconds(60));
  // One put per key, whatever the record cache merged; one read per key
  // before it (a key's first count finds nothing).
  EXPECT_EQ(Sum(s, "brook_store_put_total", store), 200);
  EXPECT_GE(Sum(s, "brook_store_get_total", store), 200);
  EXPECT_EQ(Sum(s, "brook_store_delete_total", store), 0);
  for (const char* task : {"task=\"0_0\"", "task=\"0_1\""}) {
    SCOPED_TRACE(task);
    const std::string labels = absl::StrCat(task, ",", store);
    EXPECT_GE(Sum(s, "brook_store_flush_total", labels), 1);
    EXPECT_GT(Sum(s, "brook_store_flush_latency_max_seconds", labels), 0);
    EXPECT_GT(Sum(s, "brook_store_put_total", labels), 0);
    EXPECT_GT(Sum(s, "brook_store_cur_size_all_mem_tables_bytes", labels), 0);
    // metrics.recording.level=DEBUG: the count's reads and writes are timed.
    EXPECT_GT(Sum(s, "brook_store_get_latency_max_seconds", labels), 0);
    EXPECT_GT(Sum(s, "brook_store_put_latency_avg_seconds", labels), 0);
  }
  EXPECT_EQ(Sum(s, "brook_store_estimate_num_keys", store), 200);
  ASSERT_TRUE(app_->Close(absl::Seconds(60)).ok());
}

}  // namespace
}  // namespace brook
