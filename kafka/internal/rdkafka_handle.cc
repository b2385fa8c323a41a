#include "brook/kafka/internal/rdkafka_handle.h"

#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

#include "brook/base/status_macros.h"
#include "brook/kafka/client_config.h"
#include "brook/kafka/errors.h"

namespace brook::internal {

absl::StatusOr<RdPtr<rd_kafka_conf_t>> BuildConf(const ClientConfig& config) {
  RdPtr<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  InstallErrorCallback(conf.get());
  char errstr[512];
  for (const auto& [key, value] : config) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      // librdkafka's message may quote the value: a secret's is hidden.
      std::string why = errstr;
      if (IsSecretConfigKey(key) && !value.empty()) {
        absl::StrReplaceAll({{value, "[hidden]"}}, &why);
      }
      return absl::InvalidArgumentError(
          absl::StrCat("Kafka client config '", key, "'='",
                       RedactedConfigValue(key, value), "' rejected: ", why));
    }
  }
  return conf;
}

absl::StatusOr<RdPtr<rd_kafka_t>> NewClient(rd_kafka_type_t type,
                                            RdPtr<rd_kafka_conf_t> conf) {
  char errstr[512];
  // rd_kafka_new takes the conf only on success.
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create Kafka client: ", errstr));
  }
  conf.release();
  return RdPtr<rd_kafka_t>(rk);
}

namespace {

absl::Status ClassifyRespErr(rd_kafka_resp_err_t err, absl::string_view what);
absl::Status ClassifyError(rd_kafka_error_t* error, absl::string_view what);

}  // namespace

absl::Status FromRespErr(rd_kafka_resp_err_t err, absl::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return WithKafkaErrorCode(ClassifyRespErr(err, what), rd_kafka_err2name(err));
}

namespace {

absl::Status ClassifyRespErr(rd_kafka_resp_err_t err, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", rd_kafka_err2name(err), " (",
                                     rd_kafka_err2str(err), ")");
  switch (err) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return KafkaError(KafkaErrorClass::kRetriable, message);
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
    case RD_KAFKA_RESP_ERR__FATAL:
      return KafkaError(KafkaErrorClass::kFatal, message);
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
      return KafkaError(KafkaErrorClass::kAbortable, message);
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return absl::NotFoundError(message);
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return absl::AlreadyExistsError(message);
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
      return absl::InvalidArgumentError(message);
    case RD_KAFKA_RESP_ERR__STATE:
      return absl::FailedPreconditionError(message);
    default:
      return absl::UnknownError(message);
  }
}

}  // namespace

absl::Status FromError(rd_kafka_error_t* error, absl::string_view what) {
  if (error == nullptr) return absl::OkStatus();
  const std::string code = rd_kafka_error_name(error);
  return WithKafkaErrorCode(ClassifyError(error, what), code);
}

namespace {

absl::Status ClassifyError(rd_kafka_error_t* error, absl::string_view what) {
  RdPtr<rd_kafka_error_t> owned(error);
  std::string message = absl::StrCat(what, ": ", rd_kafka_error_name(error),
                                     " (", rd_kafka_error_string(error), ")");
  // librdkafka's rule: an error with none of the three flags is fatal.
  if (rd_kafka_error_is_fatal(error)) {
    return KafkaError(KafkaErrorClass::kFatal, message);
  }
  if (rd_kafka_error_txn_requires_abort(error)) {
    return KafkaError(KafkaErrorClass::kAbortable, message);
  }
  if (rd_kafka_error_is_retriable(error)) {
    return KafkaError(KafkaErrorClass::kRetriable, message);
  }
  if (rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__STATE) {
    return absl::FailedPreconditionError(message);
  }
  return KafkaError(KafkaErrorClass::kFatal, message);
}

}  // namespace

int ToTimeoutMs(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return -1;
  if (d <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms > std::numeric_limits<int>::max()) return -1;
  return static_cast<int>(ms);
}

RdPtr<rd_kafka_topic_partition_list_t> ToList(
    absl::Span<const TopicPartition> partitions) {
  RdPtr<rd_kafka_topic_partition_list_t> list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const TopicPartition& tp : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(),
                                      tp.partition);
  }
  return list;
}

RdPtr<rd_kafka_topic_partition_list_t> ToList(
    absl::Span<const TopicPartitionOffset> offsets) {
  RdPtr<rd_kafka_topic_partition_list_t> list(
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const TopicPartitionOffset& tpo : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), tpo.tp.topic.c_str(),
                                      tpo.tp.partition)
        ->offset = tpo.offset;
  }
  return list;
}

std::vector<TopicPartitionOffset> FromList(
    const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartitionOffset> out;
  if (list == nullptr) return out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    out.push_back({{p.topic, p.partition}, p.offset});
  }
  return out;
}

absl::StatusOr<int32_t> TopicPartitionCount(rd_kafka_t* rk,
                                            const std::string& topic,
                                            absl::Duration timeout) {
  const std::string what = absl::StrCat("describe topic '", topic, "'");
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk, /*all_topics=*/0, rkt, &raw, ToTimeoutMs(timeout));
  rd_kafka_topic_destroy(rkt);
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
      err == RD_KAFKA_RESP_ERR__TRANSPORT) {
    return ExplainWithAuthenticationError(
        rk, absl::UnavailableError(absl::StrCat(
                what, ": no metadata from the cluster within ",
                absl::FormatDuration(timeout), " (", rd_kafka_err2name(err),
                "); is the broker at bootstrap.servers running?")));
  }
  BROOK_RETURN_IF_ERROR(FromRespErr(err, what));
  RdPtr<const rd_kafka_metadata_t> metadata(raw);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = metadata->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return absl::NotFoundError(
          absl::StrCat("topic '", topic, "' does not exist"));
    }
    BROOK_RETURN_IF_ERROR(FromRespErr(t.err, what));
    return t.partition_cnt;
  }
  return absl::NotFoundError(
      absl::StrCat("topic '", topic, "' does not exist"));
}

}  // namespace brook::internal
