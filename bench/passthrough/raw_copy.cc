// The raw librdkafka copy loops (raw_nocommit, raw_alos, raw_eos) that
// passthrough_bench measures Brook's copier against, and the client settings
// all variants share.
//
// This file is the one place besides kafka/ that includes librdkafka: the
// raw_* variants measure the library itself, without Brook's wrappers.
#include "bench/passthrough/raw_copy.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include "bench/passthrough/run.h"
#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/client_config.h"

namespace brook::passthrough_bench {

ClientConfig MatchedConsumerConfig(const RunSpec& spec) {
  ClientConfig config = {
      {"bootstrap.servers", spec.bootstrap_servers},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"socket.nagle.disable", "true"},
      // Brook's value: a partition it resumes after pausing waits for the
      // fetch the broker holds, up to this long (librdkafka's default is
      // 500). The raw loops never pause, so for them it changes nothing.
      {"fetch.wait.max.ms", "100"},
      {"fetch.min.bytes", "1"},
  };
  if (spec.consumer_prefetch) {
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

namespace {

constexpr int kPollTimeoutMs = 10;  // as the copier's poll

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

  ClientConfig consumer_config = MatchedConsumerConfig(spec_);
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
  // A copy keeps the record's headers, as Brook's copier does (and Kafka
  // Streams). Asking librdkafka 2.0.2 whether a record has any costs an
  // allocation even when it has none (the header count is parsed from a
  // shadow buffer): about a tenth of the copier's stream thread in issue
  // 10's profile, work that a loop copying key and value only would skip.
  rd_kafka_headers_t* parsed = nullptr;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &parsed) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    headers = rd_kafka_headers_copy(parsed);
  }
  while (true) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(spec_.output_topic.c_str()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(message.key, message.key_len),
        RD_KAFKA_V_VALUE(message.payload, message.len),
        RD_KAFKA_V_TIMESTAMP(timestamp > 0 ? timestamp : 0),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {  // the producer owns headers
      rd_kafka_poll(producer_.get(), 0);      // serve delivery reports
      return absl::OkStatus();
    }
    // A full local queue is back-pressure, as in brook::Producer::Send().
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || absl::Now() > spec_.deadline) {
      if (headers != nullptr) rd_kafka_headers_destroy(headers);
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

}  // namespace

absl::StatusOr<Measurement> RunRawCopy(const RunSpec& spec,
                                       const std::atomic<bool>& cancel) {
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<RawCopy> copy, RawCopy::Create(spec));
  return copy->Run(cancel);
}

const char* LibrdkafkaVersion() { return rd_kafka_version_str(); }

}  // namespace brook::passthrough_bench
