// StreamsConfig: configuration of a Brook application (KafkaStreams).
// Field names follow Kafka Streams' config keys, which error messages use.
// Threading model: a plain value, copied into KafkaStreams at Create().
#ifndef BROOK_RUNTIME_STREAMS_CONFIG_H_
#define BROOK_RUNTIME_STREAMS_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

#include "brook/kafka/client_config.h"
#include "brook/runtime/error_handlers.h"
#include "brook/runtime/processing_guarantee.h"
#include "brook/runtime/timestamp_extractor.h"
#include "brook/state/bytes_stores.h"

namespace brook {

// metrics.recording.level (StreamsConfig::metrics_recording_level).
enum class MetricsRecordingLevel {
  kInfo,   // every metric but the per-call store latencies
  kDebug,  // also times every get, put and delete of every state store
};

struct StreamsConfig {
  // application.id: the consumer group, the prefix of every transactional.id
  // and internal topic, and the state directory's name. Required.
  std::string application_id;

  // bootstrap.servers. Required.
  std::string bootstrap_servers;

  // num.stream.threads: each thread has its own consumer (a group member),
  // its own transactional producer and its own tasks.
  int num_stream_threads = 1;

  // processing.guarantee. Brook defaults to exactly_once_v2, its reason to
  // exist; Kafka Streams defaults to at_least_once.
  ProcessingGuarantee processing_guarantee =
      ProcessingGuarantee::kExactlyOnceV2;

  // commit.interval.ms; zero picks Kafka Streams' default for the guarantee:
  // 100 ms under exactly-once (outputs become visible only at commit), 30 s
  // under at-least-once (a longer interval only costs replay after a crash).
  absl::Duration commit_interval = absl::ZeroDuration();

  // commit.max.records: a thread also commits after processing this many
  // records since its last commit, bounding a transaction's size.
  int64_t commit_max_records = 100000;

  // state.dir: root of the local state. Holds the process id that keeps
  // transactional.ids stable across restarts; one running instance per
  // directory.
  std::string state_dir = "/tmp/brook";

  // partition.queues: read each assigned partition from its own librdkafka
  // queue instead of pausing it for back-pressure. A task reads a partition
  // only while it holds fewer than partition.read.ahead.records of it, and
  // librdkafka stops fetching a partition whose queue holds
  // partition.queue.max.records or partition.queue.max.bytes, keeping what
  // it prefetched (a paused partition's prefetch is dropped and fetched
  // again on resume in librdkafka 2.0.2, which is why
  // buffered.records.per.partition must be so high without this). Restoring
  // tasks' partitions are simply not read. With it on, Brook never pauses a
  // partition, and buffered.records.per.partition is unused.
  //
  // The input memory budget is then, per stream thread, about
  //   partitions x (partition.queue.max.bytes + max.partition.fetch.bytes
  //                 + partition.read.ahead.records x record size)
  // plus librdkafka's per-record overhead (about 250 bytes a record in its
  // queue), which partition.queue.max.records bounds for small records. The
  // defaults: 6 partitions of 10-byte records stay under 20 MiB. With the
  // queues on, max.partition.fetch.bytes defaults to 256 KiB instead of
  // librdkafka's 1 MiB (consumer_config overrides it): measured with
  // scripts/compare (1M records, 6 partitions, EOS), peak RSS fell from
  // 107 to 56 MiB (passthrough) and from 118 to 71 MiB (count) at the same
  // throughput.
  // On by default since issue 10 (2.2x passthrough and 1.2x count
  // throughput of pause/resume on a quiet machine; bench/README.md); off
  // selects the pause/resume path, with buffered.records.per.partition.
  bool partition_queues = true;
  // partition.queue.max.records (librdkafka's queued.min.messages, which
  // is per partition once partitions have their own queues): a partition
  // stops being fetched while its queue holds this many records (a fetch
  // response may add up to max.partition.fetch.bytes of records past it).
  // 2,000 since issue 10's second round: against 10,000, peak RSS fell from
  // 57-70 to 43-46 MiB (passthrough, 6 partitions) and from 288-353 to
  // 203-251 MiB (60 partitions), with 6-partition throughput unchanged
  // within the noise (bench/README.md).
  int64_t partition_queue_max_records = 2000;
  // partition.queue.max.bytes (librdkafka's queued.max.messages.kbytes,
  // rounded up to KiB, per partition): the same bound in bytes. A fetch
  // response may overshoot it by up to max.partition.fetch.bytes.
  int64_t partition_queue_max_bytes = int64_t{1} << 20;
  // partition.read.ahead.records: records of each partition a task holds
  // ready for processing, refilled every loop iteration. At least one per
  // partition is needed to pick the lowest timestamp across a task's
  // partitions; more than max.records.per.task.per.iteration gains nothing.
  int64_t partition_read_ahead_records = 200;

  // buffered.records.per.partition: a partition whose queue holds this many
  // records is paused until its queue is half drained. Kafka Streams uses
  // 1000; Brook uses far more because librdkafka drops a paused partition's
  // prefetched records and fetches them again on resume. Measured with
  // bench/passthrough_bench (1M records, 3 partitions, at-least-once, 1 s
  // commits): 82k records/s at 10,000, 462k at 100,000, 452k never pausing.
  // The cost is memory: up to this many records per partition (about
  // 30 MB per partition for 100-byte records) when input outruns
  // processing.
  int64_t buffered_records_per_partition = 100000;

  // input.buffer.max.bytes: a process-wide cap, over every stream thread and
  // partition, on the memory of records polled but not yet processed (as in
  // Kafka Streams). Past it, a partition that receives a record is paused;
  // paused partitions resume once the total is below half of it (and their
  // own queue below half of buffered.records.per.partition). Without it the
  // buffers grow with the partition count: up to
  // buffered.records.per.partition records each.
  int64_t input_buffer_max_bytes = int64_t{512} << 20;

  // max.records.per.task.per.iteration: how many records one task may
  // process before the thread moves to the next task and polls again. Keeps
  // a hot partition from starving the others and the consumer polled.
  int64_t max_records_per_task_per_iteration = 100;

  // max.task.idle.ms: how long a task that reads several partitions (a
  // join, a merge) waits, when one of them has no buffered record, before
  // it processes the others anyway. It waits without a deadline while the
  // empty partition's lag is unknown or positive (its records are on the
  // way, so processing now would run one input ahead of the other in stream
  // time: late drops, missed joins); this bound applies only once the
  // partition is known to be caught up. 0 (Kafka Streams' default, and
  // Brook's) waits only for data known to be fetchable; -1 never waits, so
  // a join whose table or other side is fetched later than the stream can
  // miss matches at start-up. Enforced processing is counted per task.
  // Unlike Kafka Streams, the lag counts an open transaction's records
  // (librdkafka 2.0.2 exposes the high watermark, not the last stable
  // offset): under exactly-once a join reading a repartition topic of its
  // own application can wait up to a commit interval per hop
  // (docs/architecture.md, "Waiting for all inputs").
  int64_t max_task_idle_ms = 0;

  // statestore.cache.max.bytes: the byte budget of the record cache in
  // front of each table-producing DSL store (aggregations, Table()) in each
  // task. A cache keeps a key's updates until the next commit (or until it
  // is the least recently used entry over budget) and then writes and
  // forwards one update per key: fewer changelog records and downstream
  // updates when keys repeat within a commit interval. 0 turns caching off:
  // every input record gives its own update downstream. Brook's default is
  // 0, unlike Kafka Streams' 10 MiB, so that output follows input one to
  // one unless asked otherwise; set e.g. 10 << 20 for Kafka Streams'
  // behaviour. Unlike Kafka Streams, the budget applies to each store of
  // each task, not to the whole instance.
  int64_t cache_max_bytes = 0;

  // restore.records.per.iteration: changelog records a thread restores per
  // loop iteration before it processes and polls again.
  int64_t restore_records_per_iteration = 10000;

  // state.cleanup.delay.ms: task directories no thread of this instance has
  // owned for this long are deleted (their state moved elsewhere). The
  // cleaner runs this often too (at most every 30 s).
  absl::Duration state_cleanup_delay = absl::Minutes(10);

  // repartition.purge.interval.ms: how often the consumed records of
  // repartition topics are deleted (up to the committed offsets) after a
  // commit. Zero purges after every commit.
  absl::Duration repartition_purge_interval = absl::Seconds(30);

  // replication.factor of the changelog topics Brook creates; -1 takes the
  // broker's default.replication.factor.
  int16_t replication_factor = -1;

  // RocksDB settings shared by all persistent stores: one memory budget,
  // compression, and an options hook (state/bytes_stores.h).
  RocksDBConfig rocksdb;

  // poll.ms: how long a poll may block when no task has buffered records.
  absl::Duration poll_timeout = absl::Milliseconds(100);

  // max.poll.records: records taken from the consumer per loop iteration.
  int64_t max_poll_records = 500;

  // max.poll.interval.ms: a thread that does not poll for this long is
  // removed from the group and its tasks move. A watchdog logs a warning
  // when a thread has not polled for half of it.
  absl::Duration max_poll_interval = absl::Minutes(5);

  // session.timeout.ms: how long a crashed instance keeps its partitions.
  absl::Duration session_timeout = absl::Seconds(45);

  // group.instance.id: set it to enable static membership; thread i joins as
  // "<group.instance.id>-<i>", so a restart within session.timeout.ms keeps
  // its partitions without a rebalance. Must be unique per instance.
  std::string group_instance_id;

  // transaction.timeout.ms: the broker aborts a transaction left open this
  // long by a producer that died (Kafka Streams: 10 s under exactly-once).
  absl::Duration transaction_timeout = absl::Seconds(10);

  // task.timeout.ms: how long a transient condition may keep a task from
  // starting, or a commit from completing (a task directory still locked by
  // a sibling thread, a ListOffsets timeout, a leader change, a broker
  // restarting) before the thread fails, naming the task and the cause.
  // Until then Brook retries on later loop iterations while it keeps
  // polling. Kafka Streams' default, 5 minutes.
  absl::Duration task_timeout = absl::Minutes(5);

  // Upper bound for one blocking Kafka call (init, commit, abort, offsets).
  absl::Duration client_call_timeout = absl::Seconds(60);

  // deserialization.exception.handler, processing.exception.handler,
  // production.exception.handler and errors.dead.letter.queue.topic.name:
  // what a task does with a record it cannot deserialize, a record a
  // processor fails on, and an output too large to produce. All fail the
  // task by default. See runtime/error_handlers.h.
  RecordErrorPolicies error_policies;

  // default.timestamp.extractor: used by sources that set none.
  TimestampExtractor default_timestamp_extractor = RecordTimestampExtractor();

  // metrics.http.address / metrics.http.port: where a MetricsServer
  // (metrics/metrics_server.h) started for this instance listens. The
  // runtime itself starts no server: the application does, with
  // MetricsServer::Start(). Loopback by default, so nothing is exposed
  // beyond the host unless asked for. Port -1 (the default) means no
  // server; 0 picks a free port (MetricsServer::port() tells which).
  std::string metrics_http_address = "127.0.0.1";
  int32_t metrics_http_port = -1;
  // metrics.recording.level: kInfo, the default as in Kafka Streams, counts
  // every store's calls and times its flushes; kDebug also times each get,
  // put and delete (brook_store_get_latency_avg_seconds, ...), which costs
  // two clock reads per call on the hot path.
  MetricsRecordingLevel metrics_recording_level = MetricsRecordingLevel::kInfo;

  // librdkafka properties for every client Brook makes (consumers,
  // producers, admin), e.g. security: security.protocol=SASL_SSL,
  // sasl.mechanism=SCRAM-SHA-512, sasl.username, sasl.password,
  // ssl.ca.location. The per-client maps below override it key by key
  // (ForClients()). Keys Brook controls are rejected as in those maps.
  ClientConfig client_config;
  // librdkafka properties added to, and overriding, what Brook sets. Keys
  // Brook must control (group.id, enable.auto.commit, transactional.id, ...)
  // are rejected.
  ClientConfig consumer_config;
  // The restore consumer's (changelogs, outside the group): e.g. its
  // prefetch limits, queued.min.messages (1,000,000) and
  // queued.max.messages.kbytes (131072, i.e. 128 MiB, held only while
  // restoring), which Brook raises from librdkafka's defaults so that
  // 2.0.2's one-second fetch back-off on a full queue does not pace a
  // restore.
  ClientConfig restore_consumer_config;
  ClientConfig producer_config;
  ClientConfig admin_config;

  absl::Duration EffectiveCommitInterval() const;

  // This config with client_config merged into consumer_config,
  // restore_consumer_config, producer_config and admin_config (a key a map
  // sets already keeps its value there). KafkaStreams::Create applies it, so
  // config() shows the merged maps.
  StreamsConfig ForClients() const;

  // Rejects missing or contradictory settings; the error names the key.
  absl::Status Validate() const;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_STREAMS_CONFIG_H_
