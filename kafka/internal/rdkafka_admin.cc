#include "kafka/internal/rdkafka_admin.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "base/status_macros.h"

namespace brook {

absl::StatusOr<std::unique_ptr<Admin>> Admin::Create(
    const ClientConfig& config) {
  return internal::RdKafkaAdmin::Create(config);
}

namespace internal {

absl::StatusOr<std::unique_ptr<Admin>> RdKafkaAdmin::Create(
    const ClientConfig& config) {
  if (!config.contains("bootstrap.servers")) {
    return absl::InvalidArgumentError(
        "Kafka admin config lacks 'bootstrap.servers'");
  }
  BROOK_ASSIGN_OR_RETURN(RdPtr<rd_kafka_conf_t> conf, BuildConf(config));
  std::unique_ptr<RdKafkaAdmin> admin(new RdKafkaAdmin());
  BROOK_ASSIGN_OR_RETURN(admin->rk_,
                         NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  return std::unique_ptr<Admin>(std::move(admin));
}

absl::StatusOr<RdPtr<rd_kafka_event_t>> RdKafkaAdmin::AwaitResult(
    rd_kafka_queue_t* queue, absl::Duration timeout, absl::string_view what) {
  // The request itself carries request_timeout; this bound is a backstop.
  RdPtr<rd_kafka_event_t> event(
      rd_kafka_queue_poll(queue, ToTimeoutMs(timeout + absl::Seconds(5))));
  if (event == nullptr) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, ": no answer from the cluster within ",
                     absl::FormatDuration(timeout),
                     "; is the broker at bootstrap.servers running?"));
  }
  BROOK_RETURN_IF_ERROR(FromRespErr(rd_kafka_event_error(event.get()), what));
  return event;
}

absl::Status RdKafkaAdmin::CreateTopic(const NewTopic& topic,
                                       absl::Duration timeout) {
  const std::string what = absl::StrCat("create topic '", topic.name, "'");
  char errstr[512];
  rd_kafka_NewTopic_t* new_topic =
      rd_kafka_NewTopic_new(topic.name.c_str(), topic.partitions,
                            topic.replication_factor, errstr, sizeof(errstr));
  if (new_topic == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", errstr));
  }
  for (const auto& [key, value] : topic.configs) {
    rd_kafka_NewTopic_set_config(new_topic, key.c_str(), value.c_str());
  }
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(rk_.get()));
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(rk_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, ToTimeoutMs(timeout),
                                            errstr, sizeof(errstr));
  rd_kafka_AdminOptions_set_operation_timeout(options, ToTimeoutMs(timeout),
                                              errstr, sizeof(errstr));
  rd_kafka_CreateTopics(rk_.get(), &new_topic, 1, options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_NewTopic_destroy(new_topic);

  BROOK_ASSIGN_OR_RETURN(RdPtr<rd_kafka_event_t> event,
                         AwaitResult(queue.get(), timeout, what));
  const rd_kafka_CreateTopics_result_t* result =
      rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      return FromRespErr(err,
                         absl::StrCat(what, msg ? ": " : "", msg ? msg : ""));
    }
  }
  // CreateTopics returns once the controller accepted the topic; wait until
  // the metadata shows it so that producers and consumers find it.
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<int32_t> partitions =
        PartitionCount(topic.name, absl::Seconds(5));
    if (partitions.ok() && *partitions == topic.partitions)
      return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          what, ": created, but its metadata did not show ", topic.partitions,
          " partitions within ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

absl::Status RdKafkaAdmin::DeleteTopic(const std::string& name,
                                       absl::Duration timeout) {
  const std::string what = absl::StrCat("delete topic '", name, "'");
  rd_kafka_DeleteTopic_t* del = rd_kafka_DeleteTopic_new(name.c_str());
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(rk_.get()));
  char errstr[512];
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(rk_.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, ToTimeoutMs(timeout),
                                              errstr, sizeof(errstr));
  rd_kafka_DeleteTopics(rk_.get(), &del, 1, options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_DeleteTopic_destroy(del);
  BROOK_ASSIGN_OR_RETURN(RdPtr<rd_kafka_event_t> event,
                         AwaitResult(queue.get(), timeout, what));
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_DeleteTopics_result_topics(
      rd_kafka_event_DeleteTopics_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    BROOK_RETURN_IF_ERROR(
        FromRespErr(rd_kafka_topic_result_error(results[i]), what));
  }
  return absl::OkStatus();
}

absl::Status RdKafkaAdmin::DeleteRecords(
    absl::Span<const TopicPartitionOffset> before_offsets,
    absl::Duration timeout) {
  if (before_offsets.empty()) return absl::OkStatus();
  const std::string what =
      absl::StrCat("delete records of ", before_offsets[0].tp.ToString(),
                   before_offsets.size() > 1 ? " and others" : "");
  auto list = ToList(before_offsets);
  rd_kafka_DeleteRecords_t* del = rd_kafka_DeleteRecords_new(list.get());
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(rk_.get()));
  char errstr[512];
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(rk_.get(), RD_KAFKA_ADMIN_OP_DELETERECORDS);
  rd_kafka_AdminOptions_set_request_timeout(options, ToTimeoutMs(timeout),
                                            errstr, sizeof(errstr));
  rd_kafka_AdminOptions_set_operation_timeout(options, ToTimeoutMs(timeout),
                                              errstr, sizeof(errstr));
  rd_kafka_DeleteRecords(rk_.get(), &del, 1, options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_DeleteRecords_destroy(del);
  BROOK_ASSIGN_OR_RETURN(RdPtr<rd_kafka_event_t> event,
                         AwaitResult(queue.get(), timeout, what));
  const rd_kafka_topic_partition_list_t* offsets =
      rd_kafka_DeleteRecords_result_offsets(
          rd_kafka_event_DeleteRecords_result(event.get()));
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = offsets->elems[i];
    BROOK_RETURN_IF_ERROR(FromRespErr(
        p.err, absl::StrCat("delete records of ", p.topic, "-", p.partition,
                            " below offset ", before_offsets[i].offset)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int32_t> RdKafkaAdmin::PartitionCount(const std::string& topic,
                                                     absl::Duration timeout) {
  return TopicPartitionCount(rk_.get(), topic, timeout);
}

absl::StatusOr<std::map<std::string, std::string>>
RdKafkaAdmin::DescribeTopicConfigs(const std::string& topic,
                                   absl::Duration timeout) {
  // An unknown topic answers UNKNOWN_TOPIC_OR_PART, which says less than
  // the metadata does: ask it first.
  BROOK_RETURN_IF_ERROR(PartitionCount(topic, timeout).status());
  const std::string what =
      absl::StrCat("describe configs of topic '", topic, "'");
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(rk_.get()));
  char errstr[512];
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(rk_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  rd_kafka_AdminOptions_set_request_timeout(options, ToTimeoutMs(timeout),
                                            errstr, sizeof(errstr));
  rd_kafka_DescribeConfigs(rk_.get(), &resource, 1, options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_ConfigResource_destroy(resource);
  BROOK_ASSIGN_OR_RETURN(RdPtr<rd_kafka_event_t> event,
                         AwaitResult(queue.get(), timeout, what));
  size_t count = 0;
  const rd_kafka_ConfigResource_t** resources =
      rd_kafka_DescribeConfigs_result_resources(
          rd_kafka_event_DescribeConfigs_result(event.get()), &count);
  std::map<std::string, std::string> configs;
  for (size_t i = 0; i < count; ++i) {
    BROOK_RETURN_IF_ERROR(
        FromRespErr(rd_kafka_ConfigResource_error(resources[i]), what));
    size_t n = 0;
    const rd_kafka_ConfigEntry_t** entries =
        rd_kafka_ConfigResource_configs(resources[i], &n);
    for (size_t j = 0; j < n; ++j) {
      const char* value = rd_kafka_ConfigEntry_value(entries[j]);
      if (value == nullptr) continue;  // sensitive or unset
      configs[rd_kafka_ConfigEntry_name(entries[j])] = value;
    }
  }
  return configs;
}

}  // namespace internal
}  // namespace brook
