// RAII holders for librdkafka handles and the conversions every client uses:
// config maps to rd_kafka_conf_t, librdkafka errors to absl::Status.
// Thread-safety: free functions, no shared state.
#ifndef BROOK_KAFKA_INTERNAL_RDKAFKA_HANDLE_H_
#define BROOK_KAFKA_INTERNAL_RDKAFKA_HANDLE_H_

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

#include "brook/kafka/client_config.h"
#include "brook/kafka/internal/client_errors.h"
#include "brook/kafka/topic_partition.h"

namespace brook::internal {

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_destroy(rk);
    ForgetClient(rk);  // after destroy: no callback runs any more
  }
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
  void operator()(rd_kafka_consumer_group_metadata_t* g) const {
    rd_kafka_consumer_group_metadata_destroy(g);
  }
  void operator()(const rd_kafka_metadata_t* m) const {
    rd_kafka_metadata_destroy(m);
  }
};

template <typename T>
using RdPtr = std::unique_ptr<T, RdKafkaDeleter>;

// Builds a librdkafka config; an unknown key or bad value yields
// kInvalidArgument naming the key and librdkafka's reason.
absl::StatusOr<RdPtr<rd_kafka_conf_t>> BuildConf(const ClientConfig& config);

// Creates the client; librdkafka's refusal becomes kInvalidArgument.
// Takes ownership of `conf` in every case.
absl::StatusOr<RdPtr<rd_kafka_t>> NewClient(rd_kafka_type_t type,
                                            RdPtr<rd_kafka_conf_t> conf);

// Status for a plain error code. `what` names the operation.
absl::Status FromRespErr(rd_kafka_resp_err_t err, absl::string_view what);

// Status for a transactional-API error object, classified per
// kafka/errors.h. Takes ownership of `error`; nullptr means success.
absl::Status FromError(rd_kafka_error_t* error, absl::string_view what);

// Milliseconds for librdkafka calls; infinite durations become -1.
int ToTimeoutMs(absl::Duration d);

// The partition count of `topic` from the cluster's metadata, asked through
// any client `rk`. kNotFound if the topic does not exist; kUnavailable if
// no metadata came within `timeout`.
absl::StatusOr<int32_t> TopicPartitionCount(rd_kafka_t* rk,
                                            const std::string& topic,
                                            absl::Duration timeout);

RdPtr<rd_kafka_topic_partition_list_t> ToList(
    absl::Span<const TopicPartition> partitions);
RdPtr<rd_kafka_topic_partition_list_t> ToList(
    absl::Span<const TopicPartitionOffset> offsets);
std::vector<TopicPartitionOffset> FromList(
    const rd_kafka_topic_partition_list_t* list);

}  // namespace brook::internal

#endif  // BROOK_KAFKA_INTERNAL_RDKAFKA_HANDLE_H_
