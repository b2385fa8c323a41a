#include "brook/kafka/internal/rdkafka_admin.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/status_macros.h"

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
    return ExplainWithAuthenticationError(
        rk_.get(), absl::DeadlineExceededError(absl::StrCat(
                       what, ": no answer from the cluster within ",
                       absl::FormatDuration(timeout),
                       "; is the broker at bootstrap.servers running?")));
  }
  BROOK_RETURN_IF_ERROR(ExplainWithAuthenticationError(
      rk_.get(), FromRespErr(rd_kafka_event_error(event.get()), what)));
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

rd_kafka_AdminOptions_t* RdKafkaAdmin::NewOptions(rd_kafka_admin_op_t op,
                                                  absl::Duration timeout) {
  char errstr[512];
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk_.get(), op);
  rd_kafka_AdminOptions_set_request_timeout(options, ToTimeoutMs(timeout),
                                            errstr, sizeof(errstr));
  return options;
}

absl::StatusOr<std::vector<std::string>> RdKafkaAdmin::ListTopics(
    absl::Duration timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(
      rk_.get(), /*all_topics=*/1, nullptr, &metadata, ToTimeoutMs(timeout));
  BROOK_RETURN_IF_ERROR(FromRespErr(err, "list topics"));
  std::vector<std::string> names;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    names.emplace_back(metadata->topics[i].topic);
  }
  rd_kafka_metadata_destroy(metadata);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::vector<TopicPartitionOffset>>
RdKafkaAdmin::GroupResultOffsets(const rd_kafka_group_result_t** groups,
                                 size_t count, absl::string_view what) {
  std::vector<TopicPartitionOffset> offsets;
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_error_t* error = rd_kafka_group_result_error(groups[i]);
    if (error != nullptr) {
      return FromRespErr(
          rd_kafka_error_code(error),
          absl::StrCat(what, ": ", rd_kafka_error_string(error)));
    }
    const rd_kafka_topic_partition_list_t* list =
        rd_kafka_group_result_partitions(groups[i]);
    for (int j = 0; list != nullptr && j < list->cnt; ++j) {
      const rd_kafka_topic_partition_t& p = list->elems[j];
      BROOK_RETURN_IF_ERROR(FromRespErr(
          p.err,
          absl::StrCat(what, ", partition ", p.topic, "-", p.partition)));
      if (p.offset < 0) continue;  // nothing committed
      offsets.push_back({{p.topic, p.partition}, p.offset});
    }
  }
  std::sort(offsets.begin(), offsets.end(),
            [](const auto& a, const auto& b) { return a.tp < b.tp; });
  return offsets;
}

absl::StatusOr<std::vector<TopicPartitionOffset>>
RdKafkaAdmin::ListGroupOffsets(const std::string& group,
                               absl::Duration timeout) {
  const std::string what =
      absl::StrCat("list committed offsets of group '", group, "'");
  rd_kafka_ListConsumerGroupOffsets_t* request =
      rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr);
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(rk_.get()));
  rd_kafka_AdminOptions_t* options =
      NewOptions(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout);
  rd_kafka_ListConsumerGroupOffsets(rk_.get(), &request, 1, options,
                                    queue.get());
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
  BROOK_ASSIGN_OR_RETURN(RdPtr<rd_kafka_event_t> event,
                         AwaitResult(queue.get(), timeout, what));
  size_t count = 0;
  const rd_kafka_group_result_t** groups =
      rd_kafka_ListConsumerGroupOffsets_result_groups(
          rd_kafka_event_ListConsumerGroupOffsets_result(event.get()), &count);
  return GroupResultOffsets(groups, count, what);
}

absl::StatusOr<GroupDescription> RdKafkaAdmin::DescribeGroup(
    const std::string& group, absl::Duration timeout) {
  const std::string what = absl::StrCat("describe group '", group, "'");
  const char* groups[] = {group.c_str()};
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(rk_.get()));
  rd_kafka_AdminOptions_t* options =
      NewOptions(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout);
  rd_kafka_DescribeConsumerGroups(rk_.get(), groups, 1, options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  BROOK_ASSIGN_OR_RETURN(RdPtr<rd_kafka_event_t> event,
                         AwaitResult(queue.get(), timeout, what));
  size_t count = 0;
  const rd_kafka_ConsumerGroupDescription_t** descriptions =
      rd_kafka_DescribeConsumerGroups_result_groups(
          rd_kafka_event_DescribeConsumerGroups_result(event.get()), &count);
  if (count != 1) {
    return absl::InternalError(
        absl::StrCat(what, ": the answer has ", count, " groups, not 1"));
  }
  const rd_kafka_ConsumerGroupDescription_t* d = descriptions[0];
  const rd_kafka_error_t* error = rd_kafka_ConsumerGroupDescription_error(d);
  if (error != nullptr) {
    return FromRespErr(rd_kafka_error_code(error),
                       absl::StrCat(what, ": ", rd_kafka_error_string(error)));
  }
  GroupDescription description;
  description.group_id = group;
  description.state = rd_kafka_consumer_group_state_name(
      rd_kafka_ConsumerGroupDescription_state(d));
  const size_t members = rd_kafka_ConsumerGroupDescription_member_count(d);
  for (size_t i = 0; i < members; ++i) {
    const rd_kafka_MemberDescription_t* m =
        rd_kafka_ConsumerGroupDescription_member(d, i);
    GroupMember member;
    member.member_id = rd_kafka_MemberDescription_consumer_id(m);
    member.client_id = rd_kafka_MemberDescription_client_id(m);
    member.host = rd_kafka_MemberDescription_host(m);
    const rd_kafka_topic_partition_list_t* assigned =
        rd_kafka_MemberAssignment_partitions(
            rd_kafka_MemberDescription_assignment(m));
    for (int j = 0; assigned != nullptr && j < assigned->cnt; ++j) {
      member.assignment.push_back(
          {assigned->elems[j].topic, assigned->elems[j].partition});
    }
    description.members.push_back(std::move(member));
  }
  return description;
}

absl::Status RdKafkaAdmin::AlterGroupOffsets(
    const std::string& group, absl::Span<const TopicPartitionOffset> offsets,
    absl::Duration timeout) {
  if (offsets.empty()) return absl::OkStatus();
  const std::string what =
      absl::StrCat("alter committed offsets of group '", group, "'");
  auto list = ToList(offsets);
  rd_kafka_AlterConsumerGroupOffsets_t* request =
      rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get());
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(rk_.get()));
  rd_kafka_AdminOptions_t* options =
      NewOptions(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, timeout);
  rd_kafka_AlterConsumerGroupOffsets(rk_.get(), &request, 1, options,
                                     queue.get());
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_AlterConsumerGroupOffsets_destroy(request);
  BROOK_ASSIGN_OR_RETURN(RdPtr<rd_kafka_event_t> event,
                         AwaitResult(queue.get(), timeout, what));
  size_t count = 0;
  const rd_kafka_group_result_t** groups =
      rd_kafka_AlterConsumerGroupOffsets_result_groups(
          rd_kafka_event_AlterConsumerGroupOffsets_result(event.get()), &count);
  return GroupResultOffsets(groups, count, what).status();
}

absl::StatusOr<WatermarkOffsets> RdKafkaAdmin::QueryWatermarks(
    const TopicPartition& tp, absl::Duration timeout) {
  WatermarkOffsets marks;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      rk_.get(), tp.topic.c_str(), tp.partition, &marks.low, &marks.high,
      ToTimeoutMs(timeout));
  BROOK_RETURN_IF_ERROR(FromRespErr(
      err, absl::StrCat("query the log offsets of ", tp.ToString())));
  return marks;
}

absl::StatusOr<std::vector<TopicPartitionOffset>> RdKafkaAdmin::OffsetsForTime(
    absl::Span<const TopicPartition> partitions, absl::Time time,
    absl::Duration timeout) {
  std::vector<TopicPartitionOffset> query;
  for (const TopicPartition& tp : partitions) {
    query.push_back({tp, absl::ToUnixMillis(time)});
  }
  auto list = ToList(query);
  rd_kafka_resp_err_t err =
      rd_kafka_offsets_for_times(rk_.get(), list.get(), ToTimeoutMs(timeout));
  BROOK_RETURN_IF_ERROR(FromRespErr(
      err, absl::StrCat("look up offsets for time ", absl::FormatTime(time))));
  std::vector<TopicPartitionOffset> offsets;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    BROOK_RETURN_IF_ERROR(
        FromRespErr(p.err, absl::StrCat("look up offsets for time in ", p.topic,
                                        "-", p.partition)));
    int64_t offset = p.offset;
    if (offset < 0) {  // no record at or after `time`: the log end
      BROOK_ASSIGN_OR_RETURN(WatermarkOffsets marks,
                             QueryWatermarks({p.topic, p.partition}, timeout));
      offset = marks.high;
    }
    offsets.push_back({{p.topic, p.partition}, offset});
  }
  return offsets;
}

}  // namespace internal
}  // namespace brook
