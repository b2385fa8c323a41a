// passthrough_bench: end-to-end copy throughput of Brook's copier against raw
// librdkafka loops on the same broker, in the same process and the same run.
//
// It preloads one input topic, then copies all of it to a fresh output topic
// once per variant and repetition:
//
//   raw_nocommit  raw consume -> produce loop, no commits (the copy ceiling)
//   raw_alos      the same loop; every interval: flush, then commit offsets
//   raw_eos       the same loop inside transactions; every interval:
//                 send_offsets_to_transaction, commit_transaction
//   brook_alos    examples::Copier (examples/copier.h), at-least-once
//   brook_eos     examples::Copier, exactly_once_v2
//
// The clock runs from the first output record to the moment the group's
// committed offsets cover the whole input (raw_nocommit: the last record is
// delivered), as perf.md 5.5 prescribes. A watcher reads both milestones
// from Kafka (the output's high watermarks, the group's committed offsets),
// the same way for every variant, so the harness depends on nothing inside
// the copier but Create() and Run(). What comes before the first output,
// "startup", is reported separately: it is dominated by librdkafka waiting
// up to a second for a new output topic's metadata (librdkafka#3202).
//
// After each run a read_committed count of the output guards correctness.
//
// Variants run interleaved, round after round, so that noise on the shared
// machine spreads over all of them; the report gives medians, min-max and
// ratios of medians measured in this run (STYLE.md: never a bare time).
//
// This file is the one place besides kafka/ that includes librdkafka: the
// raw_* variants measure the library itself, without Brook's wrappers.
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/client_config.h"
#include "brook/kafka/errors.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/runtime/streams_config.h"
#include "examples/copier.h"

ABSL_FLAG(std::string, bootstrap_servers, "",
          "Kafka bootstrap.servers (default: $BROOK_BOOTSTRAP_SERVERS)");
ABSL_FLAG(int64_t, records, 300000, "records preloaded and copied per run");
ABSL_FLAG(int32_t, value_bytes, 100, "bytes per record value");
ABSL_FLAG(int32_t, partitions, 3, "partitions of the input and output topics");
ABSL_FLAG(std::vector<std::string>, commit_intervals_ms,
          std::vector<std::string>({"100", "1000"}),
          "commit intervals (ms) for the alos and eos variants");
ABSL_FLAG(int32_t, repetitions, 3, "runs of every variant, interleaved");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(300),
          "a run that has not finished after this long is a TIMEOUT");
ABSL_FLAG(bool, consumer_prefetch, true,
          "raise librdkafka's prefetch limits (queued.min.messages, "
          "queued.max.messages.kbytes) in every variant, so that 2.0.2's ~1 s "
          "fetch back-off on a full prefetch queue does not pace the copy");
ABSL_FLAG(bool, brook_partition_queues, true,
          "run the brook_* variants with StreamsConfig::partition_queues "
          "(the default); false: pause/resume");
ABSL_FLAG(std::vector<std::string>, variants, {},
          "run only these variants (e.g. raw_eos,brook_eos); default: all");
ABSL_FLAG(absl::Duration, watch_period, absl::Milliseconds(5),
          "how often the watcher polls the output's watermarks and the "
          "group's committed offsets: the timing's resolution, at a small "
          "cost to the broker");
ABSL_FLAG(bool, warmup, true,
          "copy once with the first variant (raw_nocommit unless --variants "
          "says otherwise), unreported, before the first round");
ABSL_FLAG(std::string, out, "", "also write the Markdown report to this file");

namespace brook {
namespace {

// Payloads are identical from run to run (perf.md 5.6).
constexpr uint64_t kPayloadSeed = 20241128;
constexpr int kKeyCardinality = 10000;
constexpr int kPollTimeoutMs = 10;  // as the copier's poll
constexpr absl::Duration kWatchPeriod = absl::Milliseconds(2);
constexpr absl::Duration kAdminTimeout = absl::Seconds(30);
// How long past its deadline a run may take to notice and return before the
// harness abandons it.
constexpr absl::Duration kGrace = absl::Seconds(30);

// ---------------------------------------------------------------------------
// Variants and results.

enum class Loop { kRaw, kBrook };
enum class Commit { kNone, kAtLeastOnce, kExactlyOnce };

struct Variant {
  Loop loop;
  Commit commit;
  absl::Duration interval;  // zero for Commit::kNone

  std::string Name() const {
    const char* loop_name = loop == Loop::kRaw ? "raw" : "brook";
    const char* mode = commit == Commit::kNone          ? "nocommit"
                       : commit == Commit::kAtLeastOnce ? "alos"
                                                        : "eos";
    return absl::StrCat(loop_name, "_", mode);
  }
  std::string IntervalLabel() const {
    return commit == Commit::kNone ? "-" : absl::FormatDuration(interval);
  }
};

// Everything one run needs, copied into the thread that runs it.
struct RunSpec {
  Variant variant;
  std::string bootstrap_servers;
  std::string input_topic;
  std::string output_topic;
  std::string group_id;   // group.id, application.id: unique per run
  std::string state_dir;  // root of the copier's state directories
  int32_t partitions = 0;
  int64_t records = 0;
  absl::Time deadline;
};

// When a run reached each milestone, and what it did on the way.
struct Measurement {
  absl::Time started_at = absl::InfiniteFuture();       // before the clients
  absl::Time first_output_at = absl::InfiniteFuture();  // first output in log
  absl::Time done_at = absl::InfiniteFuture();  // every offset committed
  int64_t commits = 0;
  int64_t retries = 0;  // raw: retriable transaction errors retried
  int64_t aborts = 0;   // brook: aborted transactions

  // The measured window (perf.md 5.5): first output record -> last commit.
  absl::Duration elapsed() const { return done_at - first_output_at; }
  // Excluded from it: creating the clients, joining the group, starting to
  // fetch, and librdkafka's wait for the new output topic's metadata.
  absl::Duration startup() const { return first_output_at - started_at; }
};

enum class Outcome { kOk, kInvalid, kTimeout, kError };

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kInvalid:
      return "INVALID";
    case Outcome::kTimeout:
      return "TIMEOUT";
    case Outcome::kError:
      return "ERROR";
  }
  return "?";
}

struct RunResult {
  int variant_index = 0;
  int round = 0;
  Outcome outcome = Outcome::kError;
  Measurement measurement;
  int64_t output_records = -1;
  // CPU time of this process (loop, librdkafka threads, watcher) per record
  // copied, over the whole run: startup included, the broker excluded.
  double client_cpu_us_per_record = 0;
  double cpu_busy_percent = 0;  // both cores, broker included
  double steal_percent = 0;
  std::string detail;
};

// ---------------------------------------------------------------------------
// Matched client settings (perf.md 3.1 and 5.1). Every variant gets these, so
// the ratios measure the loop and the commit protocol rather than a config
// difference. The copier sets some of them itself; passing them again pins
// them. The keys the copier owns and rejects (group.id, isolation.level,
// enable.auto.commit, enable.auto.offset.store,
// partition.assignment.strategy, enable.idempotence, transactional.id) are
// set for the raw clients only, to the values the copier uses.

ClientConfig MatchedConsumerConfig(const std::string& bootstrap) {
  ClientConfig config = {
      {"bootstrap.servers", bootstrap},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"socket.nagle.disable", "true"},
      // Brook's value: a partition it resumes after pausing waits for the
      // fetch the broker holds, up to this long (librdkafka's default is
      // 500). The raw loops never pause, so for them it changes nothing.
      {"fetch.wait.max.ms", "100"},
      {"fetch.min.bytes", "1"},
  };
  if (absl::GetFlag(FLAGS_consumer_prefetch)) {
    // librdkafka 2.0.2 stops fetching a partition whose prefetch queue holds
    // queued.min.messages (100,000) records or queued.max.messages.kbytes
    // (64 MiB) and backs off for about a second (2.1 made that back-off
    // fetch.queue.backoff.ms). Draining a larger backlog then runs at about
    // one queue per second with the CPU idle, whatever the loop costs
    // (observed: 1M records at ~190k records/s, 90% idle). Limits above the
    // input's size take that pacing out of every variant alike.
    config["queued.min.messages"] = "10000000";
    config["queued.max.messages.kbytes"] = "2097151";
  }
  return config;
}

ClientConfig MatchedProducerConfig(const std::string& bootstrap) {
  return {
      {"bootstrap.servers", bootstrap},
      {"socket.nagle.disable", "true"},
      {"linger.ms", "5"},
      {"acks", "all"},
      {"retry.backoff.ms", "100"},
  };
}

// ---------------------------------------------------------------------------
// RAII for librdkafka handles.

template <typename T, auto Destroy>
struct RdDeleter {
  void operator()(T* p) const { Destroy(p); }
};
using RdConf =
    std::unique_ptr<rd_kafka_conf_t,
                    RdDeleter<rd_kafka_conf_t, rd_kafka_conf_destroy>>;
using RdClient =
    std::unique_ptr<rd_kafka_t, RdDeleter<rd_kafka_t, rd_kafka_destroy>>;
using RdMessage =
    std::unique_ptr<rd_kafka_message_t,
                    RdDeleter<rd_kafka_message_t, rd_kafka_message_destroy>>;
using RdError =
    std::unique_ptr<rd_kafka_error_t,
                    RdDeleter<rd_kafka_error_t, rd_kafka_error_destroy>>;
using RdList =
    std::unique_ptr<rd_kafka_topic_partition_list_t,
                    RdDeleter<rd_kafka_topic_partition_list_t,
                              rd_kafka_topic_partition_list_destroy>>;
using RdGroupMetadata =
    std::unique_ptr<rd_kafka_consumer_group_metadata_t,
                    RdDeleter<rd_kafka_consumer_group_metadata_t,
                              rd_kafka_consumer_group_metadata_destroy>>;

absl::Status RespStatus(rd_kafka_resp_err_t err, absl::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::UnknownError(absl::StrCat(what, ": ", rd_kafka_err2name(err),
                                         " (", rd_kafka_err2str(err), ")"));
}

absl::StatusOr<RdConf> BuildConf(const ClientConfig& config, void* opaque) {
  RdConf conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [key, value] : config) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", key, "'='", value, "': ", errstr));
    }
  }
  rd_kafka_conf_set_opaque(conf.get(), opaque);
  return conf;
}

absl::StatusOr<RdClient> NewClient(rd_kafka_type_t type, RdConf conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create Kafka client: ", errstr));
  }
  conf.release();  // rd_kafka_new took it
  return RdClient(rk);
}

// Time left until `deadline`, as librdkafka's int timeout (at least 1 ms).
int RemainingMs(absl::Time deadline) {
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  return static_cast<int>(
      std::clamp<int64_t>(ms, 1, std::numeric_limits<int>::max()));
}

// ---------------------------------------------------------------------------
// The raw librdkafka copy loop: the simplest correct one, and the copier's
// original (poll 10 ms, copy, commit when the interval since the batch's
// first record has passed), so that the difference is what Brook's runtime
// adds. An error of any class fails the run rather than being recovered: a
// baseline that needed recovery is not a baseline.
//
// Threading model: owned by the thread that calls Run(); librdkafka runs the
// rebalance and delivery callbacks inside that thread's poll calls.
class RawCopy {
 public:
  static absl::StatusOr<std::unique_ptr<RawCopy>> Create(const RunSpec& spec);

  absl::StatusOr<Measurement> Run(const std::atomic<bool>& cancel);

 private:
  explicit RawCopy(const RunSpec& spec)
      : spec_(spec), next_offsets_(spec.partitions, -1) {}

  absl::Status CreateClients();
  bool Done() const {
    return spec_.variant.commit == Commit::kNone ? consumed_ >= spec_.records
                                                 : committed_ >= spec_.records;
  }
  absl::Status Handle(const rd_kafka_message_t& message);
  absl::Status Produce(const rd_kafka_message_t& message);
  absl::Status MaybeCommit();
  absl::Status CommitOffsets();
  absl::Status CommitTransaction();
  // Calls a transactional API until it succeeds, retrying retriable errors
  // (librdkafka's contract) until the run's deadline.
  absl::Status RetryTransactional(absl::string_view what,
                                  const std::function<rd_kafka_error_t*()>& fn);
  absl::Status FirstAsyncError() const;
  RdList PendingOffsets() const;

  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions,
                          void* opaque);
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message,
                         void* opaque);

  const RunSpec spec_;
  std::vector<int64_t> next_offsets_;  // by partition; -1: none this batch
  int64_t consumed_ = 0;
  int64_t uncommitted_ = 0;
  int64_t committed_ = 0;
  int64_t delivered_ = 0;
  bool transaction_open_ = false;
  absl::Time batch_start_;
  absl::Time assigned_at_ = absl::InfiniteFuture();
  absl::Time first_record_at_ = absl::InfiniteFuture();
  absl::Time first_delivery_at_ = absl::InfiniteFuture();
  // First errors from callbacks, returned by the loop.
  rd_kafka_resp_err_t rebalance_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_resp_err_t delivery_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  Measurement measurement_;

  // Declared last, so destroyed first: destroying a client may still run the
  // callbacks, which use the members above.
  RdClient producer_;
  RdClient consumer_;
};

absl::StatusOr<std::unique_ptr<RawCopy>> RawCopy::Create(const RunSpec& spec) {
  std::unique_ptr<RawCopy> copy(new RawCopy(spec));
  BROOK_RETURN_IF_ERROR(copy->CreateClients());
  return copy;
}

absl::Status RawCopy::CreateClients() {
  const bool eos = spec_.variant.commit == Commit::kExactlyOnce;
  ClientConfig producer_config = MatchedProducerConfig(spec_.bootstrap_servers);
  producer_config["client.id"] = spec_.group_id + "-p";
  producer_config["enable.idempotence"] = "true";
  if (eos) {
    producer_config["transactional.id"] = spec_.group_id;
    producer_config["transaction.timeout.ms"] = "10000";  // as the copier
  }
  BROOK_ASSIGN_OR_RETURN(RdConf pconf, BuildConf(producer_config, this));
  rd_kafka_conf_set_dr_msg_cb(pconf.get(), &RawCopy::OnDelivery);
  BROOK_ASSIGN_OR_RETURN(producer_,
                         NewClient(RD_KAFKA_PRODUCER, std::move(pconf)));
  if (eos) {
    BROOK_RETURN_IF_ERROR(RetryTransactional("init transactions", [&] {
      return rd_kafka_init_transactions(producer_.get(),
                                        RemainingMs(spec_.deadline));
    }));
  }

  ClientConfig consumer_config = MatchedConsumerConfig(spec_.bootstrap_servers);
  consumer_config["client.id"] = spec_.group_id + "-c";
  consumer_config["group.id"] = spec_.group_id;
  consumer_config["enable.auto.commit"] = "false";
  consumer_config["enable.auto.offset.store"] = "false";
  consumer_config["partition.assignment.strategy"] = "range";
  // As the copier (and Kafka Streams): read_committed under exactly-once
  // only. The input holds no transactions, so either reads the same records.
  consumer_config["isolation.level"] =
      eos ? "read_committed" : "read_uncommitted";
  BROOK_ASSIGN_OR_RETURN(RdConf cconf, BuildConf(consumer_config, this));
  rd_kafka_conf_set_rebalance_cb(cconf.get(), &RawCopy::OnRebalance);
  BROOK_ASSIGN_OR_RETURN(consumer_,
                         NewClient(RD_KAFKA_CONSUMER, std::move(cconf)));
  BROOK_RETURN_IF_ERROR(RespStatus(rd_kafka_poll_set_consumer(consumer_.get()),
                                   "rd_kafka_poll_set_consumer"));
  RdList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), spec_.input_topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  return RespStatus(rd_kafka_subscribe(consumer_.get(), topics.get()),
                    "subscribe");
}

absl::StatusOr<Measurement> RawCopy::Run(const std::atomic<bool>& cancel) {
  while (!Done()) {
    if (cancel.load(std::memory_order_relaxed) ||
        absl::Now() > spec_.deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("consumed ", consumed_, ", committed ", committed_));
    }
    RdMessage message(rd_kafka_consumer_poll(consumer_.get(), kPollTimeoutMs));
    if (message != nullptr) BROOK_RETURN_IF_ERROR(Handle(*message));
    BROOK_RETURN_IF_ERROR(FirstAsyncError());
    BROOK_RETURN_IF_ERROR(MaybeCommit());
  }
  if (spec_.variant.commit == Commit::kNone) {
    BROOK_RETURN_IF_ERROR(RespStatus(
        rd_kafka_flush(producer_.get(), RemainingMs(spec_.deadline)), "flush"));
    BROOK_RETURN_IF_ERROR(FirstAsyncError());
    if (delivered_ < consumed_) {
      return absl::DataLossError(absl::StrCat("flushed, yet only ", delivered_,
                                              " of ", consumed_, " delivered"));
    }
  }
  measurement_.done_at = absl::Now();
  // A cross-check of the watcher: its first output should follow the first
  // delivery report by a few milliseconds.
  LOG(INFO) << spec_.group_id << ": after assignment: first record "
            << absl::FormatDuration(first_record_at_ - assigned_at_)
            << ", first delivery "
            << absl::FormatDuration(first_delivery_at_ - assigned_at_)
            << ", done "
            << absl::FormatDuration(measurement_.done_at - assigned_at_);
  // One member, so the only revocation is this close, after the last commit.
  BROOK_RETURN_IF_ERROR(
      RespStatus(rd_kafka_consumer_close(consumer_.get()), "close consumer"));
  return measurement_;
}

absl::Status RawCopy::Handle(const rd_kafka_message_t& message) {
  if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (message.err == RD_KAFKA_RESP_ERR__FATAL) {
      return RespStatus(message.err, "consumer");
    }
    LOG(WARNING) << spec_.group_id
                 << ": consumer error: " << rd_kafka_err2str(message.err);
    return absl::OkStatus();
  }
  if (consumed_ >= spec_.records) return absl::OkStatus();  // never expected
  if (message.partition < 0 || message.partition >= spec_.partitions) {
    return absl::InternalError(
        absl::StrCat("record from unexpected partition ", message.partition));
  }
  // One clock read per batch, not per record, as in the copier.
  if (uncommitted_ == 0) {
    batch_start_ = absl::Now();
    if (consumed_ == 0) first_record_at_ = batch_start_;
  }
  if (spec_.variant.commit == Commit::kExactlyOnce && !transaction_open_) {
    RdError error(rd_kafka_begin_transaction(producer_.get()));
    if (error != nullptr) {
      return absl::AbortedError(absl::StrCat(
          "begin transaction: ", rd_kafka_error_string(error.get())));
    }
    transaction_open_ = true;
  }
  BROOK_RETURN_IF_ERROR(Produce(message));
  next_offsets_[message.partition] = message.offset + 1;
  ++uncommitted_;
  ++consumed_;
  return absl::OkStatus();
}

absl::Status RawCopy::Produce(const rd_kafka_message_t& message) {
  const int64_t timestamp = rd_kafka_message_timestamp(&message, nullptr);
  while (true) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(spec_.output_topic.c_str()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(message.key, message.key_len),
        RD_KAFKA_V_VALUE(message.payload, message.len),
        RD_KAFKA_V_TIMESTAMP(timestamp > 0 ? timestamp : 0), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_poll(producer_.get(), 0);  // serve delivery reports
      return absl::OkStatus();
    }
    // A full local queue is back-pressure, as in brook::Producer::Send().
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || absl::Now() > spec_.deadline) {
      return RespStatus(err, "produce");
    }
    rd_kafka_poll(producer_.get(), 10);
  }
}

absl::Status RawCopy::MaybeCommit() {
  if (spec_.variant.commit == Commit::kNone || uncommitted_ == 0 ||
      absl::Now() - batch_start_ < spec_.variant.interval) {
    return absl::OkStatus();
  }
  BROOK_RETURN_IF_ERROR(spec_.variant.commit == Commit::kExactlyOnce
                            ? CommitTransaction()
                            : CommitOffsets());
  committed_ += uncommitted_;
  uncommitted_ = 0;
  std::fill(next_offsets_.begin(), next_offsets_.end(), -1);
  ++measurement_.commits;
  return absl::OkStatus();
}

absl::Status RawCopy::CommitOffsets() {
  BROOK_RETURN_IF_ERROR(RespStatus(
      rd_kafka_flush(producer_.get(), RemainingMs(spec_.deadline)), "flush"));
  BROOK_RETURN_IF_ERROR(FirstAsyncError());
  RdList offsets = PendingOffsets();
  BROOK_RETURN_IF_ERROR(
      RespStatus(rd_kafka_commit(consumer_.get(), offsets.get(), /*async=*/0),
                 "commit offsets"));
  for (int i = 0; i < offsets->cnt; ++i) {
    BROOK_RETURN_IF_ERROR(
        RespStatus(offsets->elems[i].err, "commit offset of a partition"));
  }
  return absl::OkStatus();
}

absl::Status RawCopy::CommitTransaction() {
  RdList offsets = PendingOffsets();
  // Fresh group metadata for every commit, as KIP-447 requires.
  RdGroupMetadata group(rd_kafka_consumer_group_metadata(consumer_.get()));
  BROOK_RETURN_IF_ERROR(RetryTransactional("send offsets", [&] {
    return rd_kafka_send_offsets_to_transaction(producer_.get(), offsets.get(),
                                                group.get(),
                                                RemainingMs(spec_.deadline));
  }));
  BROOK_RETURN_IF_ERROR(RetryTransactional("commit transaction", [&] {
    return rd_kafka_commit_transaction(producer_.get(),
                                       RemainingMs(spec_.deadline));
  }));
  transaction_open_ = false;
  return absl::OkStatus();
}

absl::Status RawCopy::RetryTransactional(
    absl::string_view what, const std::function<rd_kafka_error_t*()>& fn) {
  while (true) {
    RdError error(fn());
    if (error == nullptr) return absl::OkStatus();
    const std::string message =
        absl::StrCat(what, ": ", rd_kafka_error_string(error.get()));
    if (!rd_kafka_error_is_retriable(error.get()) ||
        absl::Now() > spec_.deadline) {
      return absl::AbortedError(message);
    }
    LOG(INFO) << spec_.group_id << ": retrying after " << message;
    ++measurement_.retries;
    absl::SleepFor(absl::Milliseconds(100));  // as the copier's retry
  }
}

absl::Status RawCopy::FirstAsyncError() const {
  BROOK_RETURN_IF_ERROR(RespStatus(rebalance_error_, "assign in rebalance"));
  return RespStatus(delivery_error_, "delivery");
}

RdList RawCopy::PendingOffsets() const {
  RdList list(rd_kafka_topic_partition_list_new(spec_.partitions));
  for (int32_t p = 0; p < spec_.partitions; ++p) {
    if (next_offsets_[p] < 0) continue;
    rd_kafka_topic_partition_list_add(list.get(), spec_.input_topic.c_str(), p)
        ->offset = next_offsets_[p];
  }
  return list;
}

void RawCopy::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions,
                          void* opaque) {
  auto* self = static_cast<RawCopy*>(opaque);
  const bool assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
  const rd_kafka_resp_err_t result =
      rd_kafka_assign(rk, assign ? partitions : nullptr);
  if (result != RD_KAFKA_RESP_ERR_NO_ERROR &&
      self->rebalance_error_ == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->rebalance_error_ = result;
  }
  if (assign && self->assigned_at_ == absl::InfiniteFuture()) {
    self->assigned_at_ = absl::Now();
  }
}

void RawCopy::OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message,
                         void* opaque) {
  auto* self = static_cast<RawCopy*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (self->delivered_++ == 0) self->first_delivery_at_ = absl::Now();
  } else if (self->delivery_error_ == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->delivery_error_ = message->err;
  }
}

// ---------------------------------------------------------------------------
// The Brook variants: examples::Copier on its own thread, watched from this
// one.

StreamsConfig BrookConfig(const RunSpec& spec) {
  StreamsConfig config;
  config.application_id = spec.group_id;
  config.bootstrap_servers = spec.bootstrap_servers;
  config.state_dir = spec.state_dir;
  config.processing_guarantee = spec.variant.commit == Commit::kExactlyOnce
                                    ? ProcessingGuarantee::kExactlyOnceV2
                                    : ProcessingGuarantee::kAtLeastOnce;
  config.commit_interval = spec.variant.interval;
  // Commit on the interval only, as the raw loops do; a record cap would
  // otherwise turn the longer intervals into "every N records".
  config.commit_max_records = std::numeric_limits<int64_t>::max();
  config.consumer_config = MatchedConsumerConfig(spec.bootstrap_servers);
  config.producer_config = MatchedProducerConfig(spec.bootstrap_servers);
  // bootstrap.servers is StreamsConfig's own setting.
  config.consumer_config.erase("bootstrap.servers");
  config.producer_config.erase("bootstrap.servers");
  config.partition_queues = absl::GetFlag(FLAGS_brook_partition_queues);
  if (config.partition_queues) {
    // The prefetch limits are then per partition and are the memory budget:
    // leave them to Brook's (StreamsConfig::partition_queue_max_*).
    config.consumer_config.erase("queued.min.messages");
    config.consumer_config.erase("queued.max.messages.kbytes");
  }
  return config;
}

absl::StatusOr<Measurement> RunRawCopy(const RunSpec& spec,
                                       const std::atomic<bool>& cancel) {
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<RawCopy> copy, RawCopy::Create(spec));
  return copy->Run(cancel);
}

// ---------------------------------------------------------------------------
// Milestones read from Kafka, the same way for every variant.

// Watches a run from outside, through Kafka: first until the output topic's
// high watermarks show a record (read_uncommitted, so an open transaction's
// records count), then, for variants that commit, until the group's
// committed offsets cover the whole input (stable offsets only: under
// exactly-once they appear when the transaction's markers are written).
// Polls every few milliseconds with its own client, which never joins the
// group.
//
// Threading model: Start(), WaitUntilCommitted() and Stop() from one thread;
// the poller runs on its own thread, which publishes its results before
// notifying finished_.
class ProgressWatcher {
 public:
  static absl::StatusOr<std::unique_ptr<ProgressWatcher>> Start(
      const RunSpec& spec) {
    BROOK_ASSIGN_OR_RETURN(
        std::unique_ptr<Consumer> consumer,
        Consumer::Create({{"bootstrap.servers", spec.bootstrap_servers},
                          {"group.id", spec.group_id},
                          {"isolation.level", "read_uncommitted"}},
                         /*listener=*/nullptr));
    std::unique_ptr<ProgressWatcher> watcher(
        new ProgressWatcher(spec, std::move(consumer)));
    watcher->thread_ = std::thread([w = watcher.get()] { w->Poll(); });
    return watcher;
  }

  ~ProgressWatcher() { Stop(); }

  // Waits until the group has committed every input record. Gives up at
  // `deadline`, on `cancel`, or when `gave_up` (if given) is notified.
  absl::Status WaitUntilCommitted(absl::Time deadline,
                                  const std::atomic<bool>& cancel,
                                  const absl::Notification* gave_up) {
    while (!finished_.WaitForNotificationWithTimeout(kWatchPeriod)) {
      if (cancel.load() || absl::Now() > deadline) {
        return absl::DeadlineExceededError("offsets not all committed");
      }
      if (gave_up != nullptr && gave_up->HasBeenNotified()) {
        return absl::AbortedError("the copier stopped first");
      }
    }
    if (!error_.ok()) return error_;
    if (committed_at_ == absl::InfiniteFuture()) {
      return absl::InternalError("the watcher stopped before the commit");
    }
    return absl::OkStatus();
  }

  // Stops polling. Afterwards the milestones seen (InfiniteFuture if not).
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  absl::Time first_output_at() const { return first_output_at_; }
  absl::Time committed_at() const { return committed_at_; }
  const absl::Status& error() const { return error_; }

 private:
  ProgressWatcher(const RunSpec& spec, std::unique_ptr<Consumer> consumer)
      : spec_(spec),
        period_(absl::GetFlag(FLAGS_watch_period)),
        consumer_(std::move(consumer)) {}

  void Poll() {
    error_ = PollUntil([this]() { return AnyOutput(); }, first_output_at_);
    if (error_.ok() && spec_.variant.commit != Commit::kNone) {
      error_ = PollUntil([this]() { return AllCommitted(); }, committed_at_);
    }
    finished_.Notify();
  }

  // Calls `reached` every few milliseconds until it returns true, then sets
  // `at`. Retriable errors (a partition without a leader yet) mean "not yet".
  template <typename Fn>
  absl::Status PollUntil(Fn reached, absl::Time& at) {
    while (!stop_.load()) {
      absl::StatusOr<bool> done = reached();
      if (!done.ok() && !IsRetriable(done.status())) return done.status();
      if (done.ok() && *done) {
        at = absl::Now();
        return absl::OkStatus();
      }
      absl::SleepFor(period_);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<bool> AnyOutput() {
    for (int32_t p = 0; p < spec_.partitions; ++p) {
      BROOK_ASSIGN_OR_RETURN(auto marks,
                             consumer_->QueryWatermarks({spec_.output_topic, p},
                                                        absl::Seconds(5)));
      if (marks.second > 0) return true;
    }
    return false;
  }

  // The input starts at offset 0 in every partition, so its records are all
  // committed when the committed offsets add up to their number.
  absl::StatusOr<bool> AllCommitted() {
    std::vector<TopicPartition> partitions;
    for (int32_t p = 0; p < spec_.partitions; ++p) {
      partitions.push_back({spec_.input_topic, p});
    }
    BROOK_ASSIGN_OR_RETURN(std::vector<TopicPartitionOffset> committed,
                           consumer_->Committed(partitions, absl::Seconds(5)));
    int64_t total = 0;
    for (const TopicPartitionOffset& c : committed) {
      total += std::max<int64_t>(c.offset, 0);
    }
    return total >= spec_.records;
  }

  const RunSpec spec_;
  const absl::Duration period_;
  const std::unique_ptr<Consumer> consumer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  // Written by the poller before finished_ is notified.
  absl::Notification finished_;
  absl::Time first_output_at_ = absl::InfiniteFuture();
  absl::Time committed_at_ = absl::InfiniteFuture();
  absl::Status error_;
};

// examples::Copier on its own thread until the watcher sees every offset
// committed, then a clean stop. Only Create() and Run() are used, and
// stats() once at the end: polling it would add work inside the copier.
absl::StatusOr<Measurement> RunBrookCopy(const RunSpec& spec,
                                         ProgressWatcher& watcher,
                                         const std::atomic<bool>& cancel) {
  BROOK_ASSIGN_OR_RETURN(
      std::unique_ptr<examples::Copier> copier,
      examples::Copier::Create(BrookConfig(spec), spec.input_topic,
                               spec.output_topic));
  std::atomic<bool> stop{false};
  absl::Status run_status;
  absl::Notification returned;
  std::thread thread([&] {
    run_status = copier->Run(stop);
    returned.Notify();
  });
  const absl::Status committed =
      watcher.WaitUntilCommitted(spec.deadline, cancel, &returned);
  stop.store(true);
  // A Run() that never returns hangs this join; RunBounded() then abandons
  // this whole thread, whose stack keeps the copier alive.
  thread.join();
  BROOK_RETURN_IF_ERROR(run_status);
  BROOK_RETURN_IF_ERROR(committed);
  Measurement m;
  const examples::CopierStats stats = copier->stats();
  m.commits = stats.commits;
  m.aborts = stats.aborts;
  return m;
}

// One copy by the variant's loop, timed by the watcher.
absl::StatusOr<Measurement> RunVariant(const RunSpec& spec,
                                       const std::atomic<bool>& cancel) {
  const absl::Time started_at = absl::Now();
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<ProgressWatcher> watcher,
                         ProgressWatcher::Start(spec));
  const bool commits = spec.variant.commit != Commit::kNone;
  absl::StatusOr<Measurement> m = spec.variant.loop == Loop::kRaw
                                      ? RunRawCopy(spec, cancel)
                                      : RunBrookCopy(spec, *watcher, cancel);
  if (m.ok() && commits && spec.variant.loop == Loop::kRaw) {
    // The raw loop knows when it committed; the watcher still has to see it.
    BROOK_RETURN_IF_ERROR(
        watcher->WaitUntilCommitted(spec.deadline, cancel, nullptr));
    LOG(INFO) << spec.group_id << ": watcher saw the last commit "
              << absl::FormatDuration(watcher->committed_at() - m->done_at)
              << " after the loop";
  }
  watcher->Stop();
  if (!m.ok()) return m.status();
  BROOK_RETURN_IF_ERROR(watcher->error());
  m->started_at = started_at;
  m->first_output_at = watcher->first_output_at();
  if (commits) m->done_at = watcher->committed_at();
  if (!(m->first_output_at <= m->done_at &&
        m->done_at < absl::InfiniteFuture())) {
    return absl::InternalError("milestones missing or out of order");
  }
  return m;
}

// ---------------------------------------------------------------------------
// Bounded execution: every wait of the harness ends.

int abandoned_runs = 0;  // touched by the main thread only

// Runs `body` on its own thread until `deadline`, then asks it to stop; a
// body still stuck kGrace later (e.g. inside a blocking librdkafka call) is
// abandoned: its thread is detached and the run reported as a timeout, so
// one hung variant cannot hang the benchmark.
absl::StatusOr<Measurement> RunBounded(
    absl::Time deadline,
    std::function<absl::StatusOr<Measurement>(const std::atomic<bool>&)> body) {
  struct Shared {
    std::atomic<bool> cancel{false};
    absl::Notification done;
    absl::StatusOr<Measurement> result = absl::UnknownError("not run");
  };
  auto shared = std::make_shared<Shared>();
  std::thread thread([shared, body = std::move(body)] {
    shared->result = body(shared->cancel);
    shared->done.Notify();
  });
  if (!shared->done.WaitForNotificationWithDeadline(deadline + kGrace)) {
    shared->cancel.store(true);
    if (!shared->done.WaitForNotificationWithTimeout(kGrace)) {
      thread.detach();
      ++abandoned_runs;
      return absl::DeadlineExceededError("stuck past its deadline; abandoned");
    }
  }
  thread.join();
  return shared->result;
}

// ---------------------------------------------------------------------------
// Input and verification.

// Writes `records` records with keys "k<i % 10000>" and pseudo-random
// printable values from a fixed seed. Returns the key + value bytes written.
absl::StatusOr<int64_t> Preload(const std::string& bootstrap,
                                const std::string& topic, int64_t records,
                                int32_t value_bytes) {
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                         Producer::Create(MatchedProducerConfig(bootstrap)));
  std::mt19937_64 rng(kPayloadSeed);
  std::string value(value_bytes, ' ');
  int64_t bytes = 0;
  for (int64_t i = 0; i < records; ++i) {
    for (char& c : value) c = static_cast<char>(' ' + rng() % 95);
    std::string key = absl::StrCat("k", i % kKeyCardinality);
    bytes += static_cast<int64_t>(key.size() + value.size());
    BROOK_RETURN_IF_ERROR(producer->Send(
        {.topic = topic, .key = std::move(key), .value = value}));
  }
  BROOK_RETURN_IF_ERROR(producer->Flush(absl::Seconds(120)));
  return bytes;
}

// Counts the output's records visible to read_committed. Transaction markers
// are written after EndTxn returns (perf.md 3.2), so the last transaction
// may not be visible at once: read again, for up to ~10 s, until `expected`.
absl::StatusOr<int64_t> CountCommitted(const std::string& bootstrap,
                                       const std::string& topic,
                                       int64_t expected) {
  int64_t count = 0;
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (attempt > 0) absl::SleepFor(absl::Seconds(1));
    BROOK_ASSIGN_OR_RETURN(
        std::vector<ConsumerRecord> records,
        ReadTopic({{"bootstrap.servers", bootstrap}}, topic,
                  IsolationLevel::kReadCommitted, absl::Seconds(60)));
    count = static_cast<int64_t>(records.size());
    if (count >= expected) break;
  }
  return count;
}

// /proc/stat's aggregate line, to log how busy and how stolen the machine
// was during each run (perf.md 5.6).
struct CpuTimes {
  int64_t busy = 0;
  int64_t steal = 0;
  int64_t total = 0;
};

CpuTimes ReadCpuTimes() {
  std::ifstream stat("/proc/stat");
  std::string label;
  stat >> label;  // "cpu"
  CpuTimes t;
  // user nice system idle iowait irq softirq steal
  for (int i = 0; i < 8; ++i) {
    int64_t v = 0;
    stat >> v;
    t.total += v;
    if (i == 7) t.steal = v;
    if (i != 3 && i != 4 && i != 7) t.busy += v;
  }
  return t;
}

absl::Duration ProcessCpuTime() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) +
         absl::DurationFromTimeval(usage.ru_stime);
}

double Percent(int64_t part, int64_t whole) {
  return whole > 0 ? 100.0 * static_cast<double>(part) / whole : 0.0;
}

std::string LoadAverage() {
  std::ifstream loadavg("/proc/loadavg");
  std::string one, five, fifteen;
  loadavg >> one >> five >> fifteen;
  return absl::StrCat(one, " ", five, " ", fifteen);
}

// ---------------------------------------------------------------------------
// Orchestration.

struct BenchConfig {
  std::string bootstrap_servers;
  int64_t records = 0;
  int32_t value_bytes = 0;
  int32_t partitions = 0;
  int32_t repetitions = 0;
  std::vector<absl::Duration> intervals;
  absl::Duration timeout;
  bool warmup = true;
  std::string out;
};

absl::StatusOr<BenchConfig> ConfigFromFlags() {
  BenchConfig c;
  c.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  if (c.bootstrap_servers.empty() &&
      std::getenv("BROOK_BOOTSTRAP_SERVERS") != nullptr) {
    c.bootstrap_servers = std::getenv("BROOK_BOOTSTRAP_SERVERS");
  }
  if (c.bootstrap_servers.empty()) {
    return absl::InvalidArgumentError(
        "no broker: pass --bootstrap_servers=$(scripts/kafka bootstrap) or "
        "set BROOK_BOOTSTRAP_SERVERS");
  }
  c.records = absl::GetFlag(FLAGS_records);
  c.value_bytes = absl::GetFlag(FLAGS_value_bytes);
  c.partitions = absl::GetFlag(FLAGS_partitions);
  c.repetitions = absl::GetFlag(FLAGS_repetitions);
  c.timeout = absl::GetFlag(FLAGS_timeout);
  c.warmup = absl::GetFlag(FLAGS_warmup);
  c.out = absl::GetFlag(FLAGS_out);
  if (c.records <= 0 || c.value_bytes < 0 || c.partitions <= 0 ||
      c.repetitions <= 0 || c.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--records, --partitions, --repetitions and --timeout must be "
        "positive, --value_bytes not negative");
  }
  for (const std::string& ms : absl::GetFlag(FLAGS_commit_intervals_ms)) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(ms, &value) || value <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("--commit_intervals_ms: '",
                                                     ms,
                                                     "' is not a positive "
                                                     "number of milliseconds"));
    }
    c.intervals.push_back(absl::Milliseconds(value));
  }
  return c;
}

// raw_nocommit, then for each interval: raw_alos, brook_alos, raw_eos,
// brook_eos. A round runs them in this order.
std::vector<Variant> AllVariants(const std::vector<absl::Duration>& intervals) {
  std::vector<Variant> variants = {
      {Loop::kRaw, Commit::kNone, absl::ZeroDuration()}};
  for (absl::Duration interval : intervals) {
    for (Commit commit : {Commit::kAtLeastOnce, Commit::kExactlyOnce}) {
      for (Loop loop : {Loop::kRaw, Loop::kBrook}) {
        variants.push_back({loop, commit, interval});
      }
    }
  }
  return variants;
}

absl::StatusOr<std::vector<Variant>> MakeVariants(
    const std::vector<absl::Duration>& intervals) {
  const std::vector<std::string> only = absl::GetFlag(FLAGS_variants);
  std::vector<Variant> variants;
  for (const Variant& v : AllVariants(intervals)) {
    if (only.empty() ||
        std::find(only.begin(), only.end(), v.Name()) != only.end()) {
      variants.push_back(v);
    }
  }
  if (variants.empty()) {
    return absl::InvalidArgumentError(
        "--variants matches none of raw_nocommit, raw_alos, raw_eos, "
        "brook_alos, brook_eos");
  }
  return variants;
}

struct Context {
  BenchConfig config;
  std::vector<Variant> variants;
  std::unique_ptr<Admin> admin;
  std::string prefix;  // of every topic and group of this process
  std::string input_topic;
  std::string state_dir;    // temporary root of the copiers' state
  int64_t input_bytes = 0;  // key + value bytes of the input
  int runs_started = 0;
};

void Verify(const Context& ctx, const RunSpec& spec, RunResult& result) {
  absl::StatusOr<int64_t> count = CountCommitted(
      ctx.config.bootstrap_servers, spec.output_topic, spec.records);
  if (!count.ok()) {
    result.outcome = Outcome::kError;
    result.detail = absl::StrCat("verify: ", count.status().ToString());
    return;
  }
  result.output_records = *count;
  const bool exact = spec.variant.commit == Commit::kExactlyOnce;
  if (exact ? *count == spec.records : *count >= spec.records) {
    result.outcome = Outcome::kOk;
    return;
  }
  result.outcome = Outcome::kInvalid;
  result.detail = absl::StrCat("read_committed count ", *count, ", expected ",
                               exact ? "exactly " : "at least ", spec.records);
}

// Whether the copy finished, so that its milestones are set.
bool Timed(const RunResult& r) {
  return r.outcome == Outcome::kOk || r.outcome == Outcome::kInvalid;
}

double RecordsPerSecond(const Context& ctx, const RunResult& r) {
  return ctx.config.records / absl::ToDoubleSeconds(r.measurement.elapsed());
}

void LogRun(const Context& ctx, const RunResult& r) {
  const Variant& v = ctx.variants[r.variant_index];
  const bool timed = Timed(r);
  const double seconds =
      timed ? absl::ToDoubleSeconds(r.measurement.elapsed()) : 0.0;
  std::cerr << absl::StrFormat(
      "[round %d] %s %s: %s in %.2fs after %dms startup, %.0f records/s, %d "
      "commits, %d retries, %d aborts, cpu %.0f%% busy, steal %.1f%%%s%s\n",
      r.round, v.Name(), v.IntervalLabel(), OutcomeName(r.outcome), seconds,
      timed ? absl::ToInt64Milliseconds(r.measurement.startup()) : 0,
      timed ? RecordsPerSecond(ctx, r) : 0.0, r.measurement.commits,
      r.measurement.retries, r.measurement.aborts, r.cpu_busy_percent,
      r.steal_percent, r.detail.empty() ? "" : ": ", r.detail);
}

// One copy of the whole input by variant `index` into a fresh output topic,
// then the correctness check; the output topic is deleted afterwards.
RunResult RunOnce(Context& ctx, int index, int round) {
  const Variant& variant = ctx.variants[index];
  const int n = ++ctx.runs_started;
  RunSpec spec{
      .variant = variant,
      .bootstrap_servers = ctx.config.bootstrap_servers,
      .input_topic = ctx.input_topic,
      .output_topic = absl::StrCat(ctx.prefix, "-out-", n),
      .group_id = absl::StrCat(ctx.prefix, "-", n, "-", variant.Name()),
      .state_dir = ctx.state_dir,
      .partitions = ctx.config.partitions,
      .records = ctx.config.records};
  RunResult result{.variant_index = index, .round = round};
  absl::Status created = ctx.admin->CreateTopic(
      {.name = spec.output_topic, .partitions = spec.partitions},
      kAdminTimeout);
  if (!created.ok()) {
    result.detail = absl::StrCat("create output: ", created.ToString());
    return result;
  }
  const CpuTimes before = ReadCpuTimes();
  const absl::Duration cpu_before = ProcessCpuTime();
  spec.deadline = absl::Now() + ctx.config.timeout;
  absl::StatusOr<Measurement> measured =
      RunBounded(spec.deadline, [spec](const std::atomic<bool>& cancel) {
        return RunVariant(spec, cancel);
      });
  const CpuTimes after = ReadCpuTimes();
  result.client_cpu_us_per_record =
      absl::ToDoubleMicroseconds(ProcessCpuTime() - cpu_before) / spec.records;
  result.cpu_busy_percent =
      Percent(after.busy - before.busy, after.total - before.total);
  result.steal_percent =
      Percent(after.steal - before.steal, after.total - before.total);
  if (measured.ok()) {
    result.measurement = *measured;
    Verify(ctx, spec, result);
  } else {
    result.outcome = absl::IsDeadlineExceeded(measured.status())
                         ? Outcome::kTimeout
                         : Outcome::kError;
    result.detail = measured.status().ToString();
  }
  absl::Status deleted =
      ctx.admin->DeleteTopic(spec.output_topic, kAdminTimeout);
  if (!deleted.ok()) LOG(WARNING) << "delete output topic: " << deleted;
  return result;
}

absl::StatusOr<std::vector<RunResult>> PreloadAndRun(Context& ctx) {
  const BenchConfig& c = ctx.config;
  const absl::Time start = absl::Now();
  BROOK_ASSIGN_OR_RETURN(
      ctx.input_bytes,
      Preload(c.bootstrap_servers, ctx.input_topic, c.records, c.value_bytes));
  std::cerr << "preloaded " << c.records << " records (" << ctx.input_bytes
            << " bytes) into " << ctx.input_topic << " in "
            << absl::FormatDuration(absl::Now() - start) << "\n";
  if (c.warmup) {
    // Warms the broker's fetch path and the page cache; not reported.
    LogRun(ctx, RunOnce(ctx, /*index=*/0, /*round=*/0));
  }
  std::vector<RunResult> results;
  for (int round = 1; round <= c.repetitions; ++round) {
    for (int i = 0; i < static_cast<int>(ctx.variants.size()); ++i) {
      results.push_back(RunOnce(ctx, i, round));
      LogRun(ctx, results.back());
    }
  }
  return results;
}

// ---------------------------------------------------------------------------
// Report.

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// One variant's runs. Statistics cover the valid (ok) runs only.
struct Summary {
  int ok = 0;
  int total = 0;
  double median = 0;  // records/s
  double min = 0;
  double max = 0;
  double median_commits = 0;
  absl::Duration median_startup;  // assignment -> first output
  double median_cpu_us = 0;       // client CPU per record
  std::string failures;           // e.g. "INVALID x1, TIMEOUT x1"
};

Summary Summarize(const std::vector<RunResult>& results, int index,
                  int64_t records) {
  Summary s;
  std::vector<double> rates, commits, startups, cpu;
  int failed[4] = {0, 0, 0, 0};
  for (const RunResult& r : results) {
    if (r.variant_index != index) continue;
    ++s.total;
    ++failed[static_cast<int>(r.outcome)];
    if (r.outcome != Outcome::kOk) continue;
    rates.push_back(records / absl::ToDoubleSeconds(r.measurement.elapsed()));
    commits.push_back(static_cast<double>(r.measurement.commits));
    startups.push_back(absl::ToDoubleSeconds(r.measurement.startup()));
    cpu.push_back(r.client_cpu_us_per_record);
  }
  s.ok = static_cast<int>(rates.size());
  if (!rates.empty()) {
    s.median = Median(rates);
    s.min = *std::min_element(rates.begin(), rates.end());
    s.max = *std::max_element(rates.begin(), rates.end());
    s.median_commits = Median(commits);
    s.median_startup = absl::Seconds(Median(startups));
    s.median_cpu_us = Median(cpu);
  }
  for (Outcome o : {Outcome::kInvalid, Outcome::kTimeout, Outcome::kError}) {
    const int count = failed[static_cast<int>(o)];
    if (count == 0) continue;
    if (!s.failures.empty()) s.failures += ", ";
    absl::StrAppend(&s.failures, OutcomeName(o), " x", count);
  }
  return s;
}

std::string Thousands(double value) {
  std::string digits = absl::StrCat(std::llround(value));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    if (digits[i - 1] != '-') digits.insert(i, ",");
  }
  return digits;
}

int FindVariant(const std::vector<Variant>& variants, Loop loop, Commit commit,
                absl::Duration interval) {
  for (int i = 0; i < static_cast<int>(variants.size()); ++i) {
    const Variant& v = variants[i];
    if (v.loop == loop && v.commit == commit && v.interval == interval) {
      return i;
    }
  }
  return -1;
}

// a.median / b.median, or "-" when either has no valid run.
std::string Ratio(const std::vector<Summary>& s, int a, int b) {
  if (a < 0 || b < 0 || s[a].ok == 0 || s[b].ok == 0) return "-";
  return absl::StrFormat("%.2f", s[a].median / s[b].median);
}

void AppendThroughputTable(const Context& ctx,
                           const std::vector<Summary>& summaries,
                           std::string& out) {
  const std::vector<Variant>& variants = ctx.variants;
  const int nocommit =
      FindVariant(variants, Loop::kRaw, Commit::kNone, absl::ZeroDuration());
  const double bytes_per_record =
      static_cast<double>(ctx.input_bytes) / ctx.config.records;
  absl::StrAppend(
      &out,
      "| variant | commit interval | records/s (median) | min - max | spread "
      "| MB/s | / raw_nocommit | / raw_alos | commits | startup "
      "| client CPU/record | status |\n",
      "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
  for (int i = 0; i < static_cast<int>(variants.size()); ++i) {
    const Variant& v = variants[i];
    const Summary& s = summaries[i];
    const int alos = v.commit == Commit::kNone
                         ? -1
                         : FindVariant(variants, Loop::kRaw,
                                       Commit::kAtLeastOnce, v.interval);
    const std::string status =
        s.failures.empty()
            ? absl::StrCat("ok ", s.ok, "/", s.total)
            : absl::StrCat(s.failures, "; ok ", s.ok, "/", s.total);
    if (s.ok == 0) {
      absl::StrAppend(&out, "| ", v.Name(), " | ", v.IntervalLabel(),
                      " | - | - | - | - | - | - | - | - | - | ", status,
                      " |\n");
      continue;
    }
    absl::StrAppendFormat(
        &out,
        "| %s | %s | %s | %s - %s | %.0f%% | %.1f | %s | %s | %s | %dms | "
        "%.2f us | %s |\n",
        v.Name(), v.IntervalLabel(), Thousands(s.median), Thousands(s.min),
        Thousands(s.max), 100 * (s.max - s.min) / s.median,
        s.median * bytes_per_record / 1e6, Ratio(summaries, i, nocommit),
        Ratio(summaries, i, alos),
        v.commit == Commit::kNone ? "-" : Thousands(s.median_commits),
        absl::ToInt64Milliseconds(s.median_startup), s.median_cpu_us, status);
  }
}

void AppendOverheadTable(const Context& ctx,
                         const std::vector<Summary>& summaries,
                         std::string& out) {
  absl::StrAppend(&out,
                  "| commit interval | brook_eos / raw_eos (framework, EOS) "
                  "| brook_alos / raw_alos (framework, ALOS) "
                  "| brook_eos / brook_alos (Brook's EOS tax) "
                  "| raw_eos / raw_alos (protocol's EOS tax) |\n",
                  "|---|--:|--:|--:|--:|\n");
  for (absl::Duration interval : ctx.config.intervals) {
    auto find = [&](Loop loop, Commit commit) {
      return FindVariant(ctx.variants, loop, commit, interval);
    };
    const int raw_alos = find(Loop::kRaw, Commit::kAtLeastOnce);
    const int raw_eos = find(Loop::kRaw, Commit::kExactlyOnce);
    const int brook_alos = find(Loop::kBrook, Commit::kAtLeastOnce);
    const int brook_eos = find(Loop::kBrook, Commit::kExactlyOnce);
    absl::StrAppend(&out, "| ", absl::FormatDuration(interval), " | ",
                    Ratio(summaries, brook_eos, raw_eos), " | ",
                    Ratio(summaries, brook_alos, raw_alos), " | ",
                    Ratio(summaries, brook_eos, brook_alos), " | ",
                    Ratio(summaries, raw_eos, raw_alos), " |\n");
  }
}

void AppendRunsTable(const Context& ctx, const std::vector<RunResult>& results,
                     std::string& out) {
  absl::StrAppend(&out,
                  "| # | round | variant | commit interval | records/s | "
                  "commits | startup | client CPU/record | machine busy | "
                  "steal | status |\n",
                  "|--:|--:|---|---|--:|--:|--:|--:|--:|--:|---|\n");
  int n = 0;
  for (const RunResult& r : results) {
    const Variant& v = ctx.variants[r.variant_index];
    const bool timed = Timed(r);
    absl::StrAppendFormat(
        &out,
        "| %d | %d | %s | %s | %s | %d | %s | %.2f us | %.0f%% | %.1f%% | "
        "%s%s%s |\n",
        ++n, r.round, v.Name(), v.IntervalLabel(),
        timed ? Thousands(RecordsPerSecond(ctx, r)) : "-",
        r.measurement.commits,
        timed ? absl::StrCat(absl::ToInt64Milliseconds(r.measurement.startup()),
                             "ms")
              : "-",
        r.client_cpu_us_per_record, r.cpu_busy_percent, r.steal_percent,
        OutcomeName(r.outcome), r.detail.empty() ? "" : ": ", r.detail);
  }
}

std::string Report(const Context& ctx, const std::vector<RunResult>& results,
                   absl::Time started, const std::string& load_before) {
  const BenchConfig& c = ctx.config;
  std::vector<Summary> summaries;
  for (int i = 0; i < static_cast<int>(ctx.variants.size()); ++i) {
    summaries.push_back(Summarize(results, i, c.records));
  }
  std::string out = "## Passthrough benchmark\n\n";
  absl::StrAppend(
      &out, "- started ",
      absl::FormatTime("%Y-%m-%d %H:%M %Z", started, absl::UTCTimeZone()),
      ", took ",
      absl::FormatDuration(
          absl::Trunc(absl::Now() - started, absl::Seconds(1))),
      "; ", std::thread::hardware_concurrency(), " cores; load average ",
      load_before, " before, ", LoadAverage(), " after\n", "- librdkafka ",
      rd_kafka_version_str(), ", broker ", c.bootstrap_servers, "\n",
      "- input: ", Thousands(c.records), " records, ", c.value_bytes,
      "-byte values, keys k0..k", kKeyCardinality - 1, ", ", c.partitions,
      " partitions, ", absl::StrFormat("%.1f", ctx.input_bytes / 1e6),
      " MB of keys and values\n", "- ", c.repetitions,
      " runs per variant, interleaved round by round; clock: first output "
      "record -> every offset committed (raw_nocommit: last record "
      "delivered); consumer prefetch limits ",
      absl::GetFlag(FLAGS_consumer_prefetch) ? "raised" : "librdkafka's",
      "\n\n");
  AppendThroughputTable(ctx, summaries, out);
  absl::StrAppend(
      &out,
      "\nMedians and min - max over the valid runs; spread = (max - min) / "
      "median; MB/s counts keys and values (10^6 bytes); ratios are of "
      "medians; commits = median number of commits per run; startup = "
      "median time from the start of a run (before its clients exist) to its "
      "first output record, outside the measured window.\n\n"
      "### Overheads at each commit interval (ratios of medians; 1.00 = no "
      "cost)\n\n");
  AppendOverheadTable(ctx, summaries, out);
  absl::StrAppend(&out, "\n### Every run, in the order run\n\n");
  AppendRunsTable(ctx, results, out);
  return out;
}

absl::StatusOr<int> RunBenchmark() {
  const absl::Time started = absl::Now();
  const std::string load_before = LoadAverage();
  Context ctx;
  BROOK_ASSIGN_OR_RETURN(ctx.config, ConfigFromFlags());
  BROOK_ASSIGN_OR_RETURN(ctx.variants, MakeVariants(ctx.config.intervals));
  ctx.prefix =
      absl::StrCat("brook-bench-", absl::ToUnixSeconds(started), "-", getpid());
  ctx.input_topic = ctx.prefix + "-in";
  char state_dir[] = "/tmp/brook-bench-XXXXXX";
  if (mkdtemp(state_dir) == nullptr) {
    return absl::InternalError("cannot create a state directory under /tmp");
  }
  ctx.state_dir = state_dir;
  BROOK_ASSIGN_OR_RETURN(
      ctx.admin,
      Admin::Create({{"bootstrap.servers", ctx.config.bootstrap_servers}}));
  BROOK_RETURN_IF_ERROR(ctx.admin->CreateTopic(
      {.name = ctx.input_topic, .partitions = ctx.config.partitions},
      kAdminTimeout));
  absl::StatusOr<std::vector<RunResult>> results = PreloadAndRun(ctx);
  absl::Status deleted = ctx.admin->DeleteTopic(ctx.input_topic, kAdminTimeout);
  if (!deleted.ok()) LOG(WARNING) << "delete input topic: " << deleted;
  std::error_code ignored;  // a leftover temp dir is harmless
  std::filesystem::remove_all(ctx.state_dir, ignored);
  BROOK_RETURN_IF_ERROR(results.status());

  const std::string report = Report(ctx, *results, started, load_before);
  std::cout << report << std::flush;
  if (!ctx.config.out.empty()) {
    std::ofstream file(ctx.config.out);
    file << report;
    if (!file.good()) {
      return absl::UnavailableError(
          absl::StrCat("cannot write --out=", ctx.config.out));
    }
  }
  const bool all_ok =
      std::all_of(results->begin(), results->end(),
                  [](const RunResult& r) { return r.outcome == Outcome::kOk; });
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  absl::StatusOr<int> exit_code = brook::RunBenchmark();
  if (!exit_code.ok()) {
    std::cerr << "passthrough_bench: " << exit_code.status() << "\n";
    return 2;
  }
  if (brook::abandoned_runs > 0) {
    // Abandoned runs still hold threads and clients; skip the destructors
    // that would wait for them.
    std::cerr << brook::abandoned_runs << " run(s) abandoned\n";
    std::_Exit(*exit_code);
  }
  return *exit_code;
}
