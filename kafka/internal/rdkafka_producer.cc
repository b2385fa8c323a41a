#include "brook/kafka/internal/rdkafka_producer.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/crash_point.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/errors.h"
#include "brook/kafka/internal/rdkafka_consumer.h"

namespace brook {

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(
    const ClientConfig& config) {
  return internal::RdKafkaProducer::Create(config);
}

namespace internal {

absl::StatusOr<std::unique_ptr<Producer>> RdKafkaProducer::Create(
    const ClientConfig& config) {
  if (!config.contains("bootstrap.servers")) {
    return absl::InvalidArgumentError(
        "Kafka producer config lacks 'bootstrap.servers'");
  }
  ClientConfig effective = config;
  effective["enable.idempotence"] = "true";
  // Keys land where Kafka's Java producer and Kafka Streams put them
  // (librdkafka's own default, consistent_random, hashes with CRC32).
  effective.try_emplace("partitioner", "murmur2_random");
  auto txn = effective.find("transactional.id");
  std::unique_ptr<RdKafkaProducer> producer(
      new RdKafkaProducer(txn == effective.end() ? "" : txn->second));
  BROOK_ASSIGN_OR_RETURN(RdPtr<rd_kafka_conf_t> conf, BuildConf(effective));
  rd_kafka_conf_set_opaque(conf.get(), producer.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &RdKafkaProducer::DeliveryCallback);
  if (!producer->transactional_id_.empty() && CrashPointSet("commit.inside")) {
    producer->HookCommitCrashPoint(conf.get());
  }
  BROOK_ASSIGN_OR_RETURN(producer->rk_,
                         NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  return std::unique_ptr<Producer>(std::move(producer));
}

// The Kafka protocol's EndTxn request (ApiKey 26), the last step of a
// commit: the coordinator answers once the commit is decided and durable in
// its transaction log; the markers follow from the broker on its own.
constexpr int16_t kEndTxnApiKey = 26;

void RdKafkaProducer::HookCommitCrashPoint(rd_kafka_conf_t* conf) {
  rd_kafka_conf_interceptor_add_on_new(conf, "brook-commit-crash-point",
                                       &RdKafkaProducer::OnNew, this);
}

rd_kafka_resp_err_t RdKafkaProducer::OnNew(rd_kafka_t* rk,
                                           const rd_kafka_conf_t* /*conf*/,
                                           void* opaque, char* /*errstr*/,
                                           size_t /*errstr_size*/) {
  return rd_kafka_interceptor_add_on_response_received(
      rk, "brook-commit-crash-point", &RdKafkaProducer::OnResponseReceived,
      opaque);
}

rd_kafka_resp_err_t RdKafkaProducer::OnResponseReceived(
    rd_kafka_t* /*rk*/, int /*sockfd*/, const char* /*brokername*/,
    int32_t brokerid, int16_t api_key, int16_t /*api_version*/,
    int32_t /*corr_id*/, size_t /*size*/, int64_t /*rtt*/,
    rd_kafka_resp_err_t err, void* opaque) {
  auto* self = static_cast<RdKafkaProducer*>(opaque);
  if (api_key != kEndTxnApiKey || err != RD_KAFKA_RESP_ERR_NO_ERROR ||
      !self->committing_.load()) {
    return RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  CrashPoint("commit.inside",
             absl::StrCat("EndTxn(commit) response from broker ", brokerid,
                          " received, not yet parsed"));
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

void RdKafkaProducer::DeliveryCallback(rd_kafka_t* rk,
                                       const rd_kafka_message_t* msg,
                                       void* opaque) {
  auto* self = static_cast<RdKafkaProducer*>(opaque);
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    auto it = self->topics_.find(msg->rkt);
    if (it == self->topics_.end()) {
      // Not expected (the report carries the handle Send() used), but an
      // offset must never go missing: find the topic by name.
      auto by_name = self->topic_by_name_.find(
          absl::string_view(rd_kafka_topic_name(msg->rkt)));
      if (by_name == self->topic_by_name_.end()) return;
      it = self->topics_.find(by_name->second);
    }
    if (it == self->topics_.end() || msg->partition < 0) return;
    std::vector<int64_t>& delivered = it->second.delivered;
    if (static_cast<size_t>(msg->partition) >= delivered.size()) {
      delivered.resize(msg->partition + 1, -1);
    }
    delivered[msg->partition] =
        std::max(delivered[msg->partition], static_cast<int64_t>(msg->offset));
    return;
  }
  if (!self->delivery_error_.ok()) return;
  // Records purged by an abort report __PURGE_QUEUE/__PURGE_INFLIGHT; the
  // abort itself is what the caller acts on.
  if (msg->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
      msg->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
    return;
  }
  self->delivery_error_ = FromRespErr(
      msg->err, absl::StrCat("delivery to ", rd_kafka_topic_name(msg->rkt), "-",
                             msg->partition, " failed"));
  if (!self->transactional_id_.empty()) {
    // Inside a transaction a lost record (a message timeout after a long
    // stall, say) can only be undone by aborting: the transaction is
    // abortable whatever the delivery error was, as librdkafka's commit
    // would also say.
    self->delivery_error_ =
        WithKafkaErrorCode(KafkaError(KafkaErrorClass::kAbortable,
                                      self->delivery_error_.message()),
                           KafkaErrorCode(self->delivery_error_));
  }
}

absl::StatusOr<int32_t> RdKafkaProducer::PartitionCount(
    const std::string& topic, absl::Duration timeout) {
  return TopicPartitionCount(rk_.get(), topic, timeout);
}

std::string RdKafkaProducer::What(absl::string_view call) const {
  if (transactional_id_.empty()) return std::string(call);
  return absl::StrCat(call, " (transactional.id '", transactional_id_, "')");
}

RdKafkaProducer::~RdKafkaProducer() {
  // The topic handles go before the client they belong to; rk_ is destroyed
  // after this body, with every report served.
  last_topic_handle_ = nullptr;
  topic_by_name_.clear();
  topics_.clear();
}

absl::StatusOr<rd_kafka_topic_t*> RdKafkaProducer::TopicHandle(
    const std::string& topic) {
  if (last_topic_handle_ != nullptr && topic == last_topic_name_) {
    return last_topic_handle_;
  }
  auto it = topic_by_name_.find(topic);
  if (it != topic_by_name_.end()) {
    last_topic_name_ = topic;
    last_topic_handle_ = it->second;
    return it->second;
  }
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk_.get(), topic.c_str(),
                                                /*conf=*/nullptr);
  if (handle == nullptr) {
    return FromRespErr(rd_kafka_last_error(),
                       What(absl::StrCat("produce to ", topic)));
  }
  topics_[handle] =
      TopicState{.name = topic, .handle = RdPtr<rd_kafka_topic_t>(handle)};
  topic_by_name_[topic] = handle;
  last_topic_name_ = topic;
  last_topic_handle_ = handle;
  return handle;
}

absl::Status RdKafkaProducer::Send(const ProducerRecord& record) {
  if (!delivery_error_.ok()) return delivery_error_;
  BROOK_ASSIGN_OR_RETURN(rd_kafka_topic_t * topic, TopicHandle(record.topic));
  rd_kafka_headers_t* headers = nullptr;
  if (!record.headers.empty()) {
    headers = rd_kafka_headers_new(record.headers.size());
    for (const Header& h : record.headers) {
      rd_kafka_header_add(headers, h.first.data(),
                          static_cast<ssize_t>(h.first.size()), h.second.data(),
                          static_cast<ssize_t>(h.second.size()));
    }
  }
  // A full local queue is back-pressure: serve delivery reports and retry,
  // for at most a bounded time.
  const char* key = record.key ? record.key->data() : nullptr;
  const size_t key_size = record.key ? record.key->size() : 0;
  char* value =
      record.value ? const_cast<char*>(record.value->data()) : nullptr;
  const size_t value_size = record.value ? record.value->size() : 0;
  const int32_t partition =
      record.partition < 0 ? RD_KAFKA_PARTITION_UA : record.partition;
  std::optional<absl::Time> deadline;
  while (true) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_size),
        RD_KAFKA_V_VALUE(value, value_size),
        RD_KAFKA_V_TIMESTAMP(record.timestamp_ms), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Delivery reports are served every kServeEvery sends, not after
      // each one (a poll per send cost a queue lock and a wake-up per
      // record); Flush() serves the rest, and a failed delivery is still
      // reported by the next call after it is served.
      constexpr int64_t kServeEvery = 256;
      if (++unserved_sends_ >= kServeEvery) {
        unserved_sends_ = 0;
        rd_kafka_poll(rk_.get(), 0);
      }
      return delivery_error_;
    }
    if (!deadline.has_value()) deadline = absl::Now() + absl::Seconds(30);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || absl::Now() > *deadline) {
      if (headers != nullptr) rd_kafka_headers_destroy(headers);
      std::string what = What(absl::StrCat("produce to ", record.topic));
      if (err == RD_KAFKA_RESP_ERR__STATE && !transactional_id_.empty()) {
        // A delivery the broker refused (or that timed out) has failed the
        // transaction, and librdkafka refuses records until it is aborted.
        // The failed delivery's report says why: serve it, and report the
        // transaction as abortable rather than as a state error that ends
        // the caller.
        unserved_sends_ = 0;
        rd_kafka_poll(rk_.get(), 0);
        if (!delivery_error_.ok()) return delivery_error_;
        return WithKafkaErrorCode(
            KafkaError(KafkaErrorClass::kAbortable,
                       absl::StrCat(what,
                                    ": the transaction refuses records "
                                    "(_STATE) and must be aborted")),
            "_STATE");
      }
      if (err == RD_KAFKA_RESP_ERR__FATAL) {
        // _FATAL alone does not say why (a fenced producer, say): name the
        // error that made the producer fail for good.
        char reason[512];
        const rd_kafka_resp_err_t cause =
            rd_kafka_fatal_error(rk_.get(), reason, sizeof(reason));
        absl::StrAppend(&what, " after fatal error ", rd_kafka_err2name(cause),
                        " (", reason, ")");
        // The status carries the cause's code, so that callers tell a
        // fencing from other fatal errors by code (KafkaErrorCode()).
        return WithKafkaErrorCode(FromRespErr(err, what),
                                  rd_kafka_err2name(cause));
      }
      return FromRespErr(err, what);
    }
    unserved_sends_ = 0;
    rd_kafka_poll(rk_.get(), 10);
  }
}

absl::Status RdKafkaProducer::Flush(absl::Duration timeout) {
  BROOK_RETURN_IF_ERROR(FromRespErr(
      rd_kafka_flush(rk_.get(), ToTimeoutMs(timeout)), What("flush")));
  return delivery_error_;
}

absl::Status RdKafkaProducer::InitTransactions(absl::Duration timeout) {
  return ExplainWithAuthenticationError(
      rk_.get(),
      FromError(rd_kafka_init_transactions(rk_.get(), ToTimeoutMs(timeout)),
                What("init transactions")));
}

absl::Status RdKafkaProducer::BeginTransaction() {
  return FromError(rd_kafka_begin_transaction(rk_.get()),
                   What("begin transaction"));
}

absl::Status RdKafkaProducer::SendOffsetsToTransaction(
    absl::Span<const TopicPartitionOffset> offsets, const GroupMetadata& group,
    absl::Duration timeout) {
  if (offsets.empty()) return absl::OkStatus();
  auto list = ToList(offsets);
  const auto& metadata = static_cast<const RdGroupMetadata&>(group);
  return FromError(
      rd_kafka_send_offsets_to_transaction(
          rk_.get(), list.get(), metadata.get(), ToTimeoutMs(timeout)),
      What("send offsets to transaction"));
}

absl::Status RdKafkaProducer::CommitTransaction(absl::Duration timeout) {
  // Delivery failures make librdkafka's commit fail as abortable on its own;
  // checking first gives the caller the delivery error itself.
  if (!delivery_error_.ok()) {
    return KafkaError(KafkaErrorClass::kAbortable,
                      absl::StrCat(What("commit transaction"), ": ",
                                   delivery_error_.message()));
  }
  committing_ = true;
  rd_kafka_error_t* error =
      rd_kafka_commit_transaction(rk_.get(), ToTimeoutMs(timeout));
  committing_ = false;
  return FromError(error, What("commit transaction"));
}

absl::flat_hash_map<TopicPartition, int64_t>
RdKafkaProducer::TakeDeliveredOffsets() {
  absl::flat_hash_map<TopicPartition, int64_t> taken;
  for (auto& [handle, state] : topics_) {
    for (size_t p = 0; p < state.delivered.size(); ++p) {
      if (state.delivered[p] < 0) continue;
      taken[TopicPartition{state.name, static_cast<int32_t>(p)}] =
          state.delivered[p];
      state.delivered[p] = -1;
    }
  }
  return taken;
}

absl::Status RdKafkaProducer::AbortTransaction(absl::Duration timeout) {
  absl::Status status =
      FromError(rd_kafka_abort_transaction(rk_.get(), ToTimeoutMs(timeout)),
                What("abort transaction"));
  if (status.ok()) {
    delivery_error_ = absl::OkStatus();
    for (auto& [handle, state] : topics_) {
      std::fill(state.delivered.begin(), state.delivered.end(), -1);
    }
  }
  return status;
}

}  // namespace internal
}  // namespace brook
