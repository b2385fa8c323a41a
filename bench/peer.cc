// brook_peer: the Brook side of bench/compare. Runs one workload with the
// DSL until SIGTERM, with the flags of the Kafka Streams peer
// (bench/kstreams/.../KStreamsPeer.java), so that the two differ only in
// the runtime:
//   passthrough  input -> output, string keys and values
//   count        count by key in a RocksDB store (no record cache unless
//                --cache_max_bytes gives one), each update to the output
//                as an 8-byte big-endian count
//   windowed-count  count by key per 1-minute tumbling window (no grace),
//                each update to the output with Kafka Streams' windowed key
//                (key | start, 8 bytes big endian) and an 8-byte count
//   join         inner join of --input_topic (left) with --right_topic
//                within --join_window_ms either way, --join_grace_ms of
//                grace; the result is "left+right"
//
//   build/bench/brook_peer --workload=count --guarantee=eos
//       --bootstrap_servers=127.0.0.1:9092 --application_id=a
//       --input_topic=in --output_topic=out --state_dir=/tmp/b
#include <atomic>
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"

ABSL_FLAG(std::string, workload, "",
          "passthrough, count, windowed-count or join");
ABSL_FLAG(std::string, guarantee, "eos", "eos or alos");
ABSL_FLAG(std::string, bootstrap_servers, "", "bootstrap.servers");
ABSL_FLAG(std::string, application_id, "", "application.id");
ABSL_FLAG(std::string, input_topic, "", "input topic");
ABSL_FLAG(std::string, right_topic, "", "join: the right input topic");
ABSL_FLAG(std::string, output_topic, "", "output topic");
ABSL_FLAG(int64_t, join_window_ms, 1000,
          "join: JoinWindows' time difference (before = after)");
ABSL_FLAG(int64_t, join_grace_ms, 600000, "join: JoinWindows' grace");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-peer", "state.dir");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads");
ABSL_FLAG(int64_t, commit_interval_ms, 100, "commit.interval.ms");
ABSL_FLAG(bool, partition_queues, true,
          "partition.queues: per-partition queues instead of pause/resume");
ABSL_FLAG(int64_t, buffered_records_per_partition, 0,
          "buffered.records.per.partition; 0 = Brook's default");
ABSL_FLAG(std::vector<std::string>, consumer_config, {},
          "extra librdkafka consumer settings, key=value,...");
ABSL_FLAG(int64_t, rocksdb_memory_budget_bytes, 0,
          "RocksDBConfig::memory_budget_bytes (0: Brook's default)");
ABSL_FLAG(int64_t, cache_max_bytes, 0,
          "statestore.cache.max.bytes (0: no record cache)");
ABSL_FLAG(int64_t, max_task_idle_ms, 0,
          "max.task.idle.ms (0, both runtimes' default, is what the Kafka "
          "Streams peer sets; -1 never waits for an empty input)");

namespace brook {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

using S = std::string;

absl::Status Run() {
  const S workload = absl::GetFlag(FLAGS_workload);
  const S input = absl::GetFlag(FLAGS_input_topic);
  const S output = absl::GetFlag(FLAGS_output_topic);
  StreamsBuilder b;
  if (workload == "passthrough") {
    b.Stream<S, S>(input).To(output);
  } else if (workload == "count") {
    b.Stream<S, S>(input)
        .GroupByKey()
        .Count(Materialized<S, int64_t>::As("counts"))
        .ToStream()
        .To(output);
  } else if (workload == "windowed-count") {
    b.Stream<S, S>(input)
        .GroupByKey()
        .WindowedBy(TimeWindows::OfSizeWithNoGrace(absl::Minutes(1)))
        .Count(Materialized<S, int64_t>::As("windowed-counts"))
        .ToStream()
        .To(output);
  } else if (workload == "join") {
    const S right = absl::GetFlag(FLAGS_right_topic);
    if (right.empty()) {
      return absl::InvalidArgumentError("--workload=join needs --right_topic");
    }
    b.Stream<S, S>(input)
        .Join(
            b.Stream<S, S>(right),
            [](const S& l, const S& r) { return absl::StrCat(l, "+", r); },
            JoinWindows::OfTimeDifferenceAndGrace(
                absl::Milliseconds(absl::GetFlag(FLAGS_join_window_ms)),
                absl::Milliseconds(absl::GetFlag(FLAGS_join_grace_ms))))
        .To(output);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--workload='", workload,
                     "': expected passthrough, count, windowed-count or join"));
  }
  BROOK_ASSIGN_OR_RETURN(Topology topology, b.Build());
  StreamsConfig config;
  config.application_id = absl::GetFlag(FLAGS_application_id);
  config.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.num_stream_threads = absl::GetFlag(FLAGS_threads);
  config.commit_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_commit_interval_ms));
  config.partition_queues = absl::GetFlag(FLAGS_partition_queues);
  if (absl::GetFlag(FLAGS_rocksdb_memory_budget_bytes) > 0) {
    config.rocksdb.memory_budget_bytes =
        absl::GetFlag(FLAGS_rocksdb_memory_budget_bytes);
  }
  if (absl::GetFlag(FLAGS_buffered_records_per_partition) > 0) {
    config.buffered_records_per_partition =
        absl::GetFlag(FLAGS_buffered_records_per_partition);
  }
  for (const S& kv : absl::GetFlag(FLAGS_consumer_config)) {
    const size_t eq = kv.find('=');
    if (eq == S::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--consumer_config: '", kv, "' is not key=value"));
    }
    config.consumer_config[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  config.cache_max_bytes = absl::GetFlag(FLAGS_cache_max_bytes);
  // Both peers set it (the join's tasks read two inputs): by default, wait
  // for an input with records on the way, as both runtimes' default.
  config.max_task_idle_ms = absl::GetFlag(FLAGS_max_task_idle_ms);
  const S guarantee = absl::GetFlag(FLAGS_guarantee);
  if (guarantee != "eos" && guarantee != "alos") {
    return absl::InvalidArgumentError(
        absl::StrCat("--guarantee='", guarantee, "': expected eos or alos"));
  }
  config.processing_guarantee = guarantee == "eos"
                                    ? ProcessingGuarantee::kExactlyOnceV2
                                    : ProcessingGuarantee::kAtLeastOnce;
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<KafkaStreams> streams,
                         KafkaStreams::Create(topology, config));
  BROOK_RETURN_IF_ERROR(streams->Start());
  std::cerr << "brook_peer: started " << workload << "\n";
  while (!g_stop.load() && streams->state() != KafkaStreams::State::kError) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  // What the harness cannot see from outside: how long commits took.
  for (const StreamThreadMetrics& m : streams->Metrics()) {
    std::cerr << "brook_peer: " << m.name << ": " << m.records_processed
              << " records, " << m.commits << " commits, commit latency avg "
              << m.commit_latency_avg_ms << " ms max "
              << m.commit_latency_max_ms << " ms, max poll gap "
              << m.max_poll_gap_ms << " ms\n";
  }
  absl::Status closed = streams->Close(absl::Seconds(60));
  if (streams->state() == KafkaStreams::State::kError) return streams->error();
  return closed;
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  std::signal(SIGTERM, brook::OnSignal);
  std::signal(SIGINT, brook::OnSignal);
  if (absl::Status s = brook::Run(); !s.ok()) {
    std::cerr << "brook_peer: " << s << "\n";
    return 1;
  }
  return 0;
}
