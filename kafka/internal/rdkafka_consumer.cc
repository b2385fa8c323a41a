#include "kafka/internal/rdkafka_consumer.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "base/logging.h"
#include "base/status_macros.h"
#include "kafka/errors.h"

namespace brook {

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(
    const ClientConfig& config, RebalanceListener* listener) {
  return internal::RdKafkaConsumer::Create(config, listener);
}

namespace internal {

absl::StatusOr<std::unique_ptr<Consumer>> RdKafkaConsumer::Create(
    const ClientConfig& config, RebalanceListener* listener) {
  if (!config.contains("bootstrap.servers")) {
    return absl::InvalidArgumentError(
        "Kafka consumer config lacks 'bootstrap.servers'");
  }
  ClientConfig effective = config;
  auto strategy = effective.find("partition.assignment.strategy");
  if (strategy == effective.end()) {
    effective["partition.assignment.strategy"] = "range";
  } else if (absl::StrContains(strategy->second, "cooperative")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'partition.assignment.strategy'='", strategy->second,
        "' is not supported: Brook needs an eager assignor (range) so that "
        "co-partitioned topics land on the same instance"));
  }
  effective["enable.auto.commit"] = "false";
  effective["enable.auto.offset.store"] = "false";
  const bool has_group = effective.contains("group.id");
  if (!has_group) {
    // librdkafka's consumer API needs a group id even for assign-only use;
    // a private one that is never joined keeps this consumer out of any group.
    effective["group.id"] = absl::StrCat(
        "brook-assign-only-", absl::Uniform<uint64_t>(absl::BitGen()));
  }
  BROOK_ASSIGN_OR_RETURN(RdPtr<rd_kafka_conf_t> conf, BuildConf(effective));
  std::unique_ptr<RdKafkaConsumer> consumer(
      new RdKafkaConsumer(listener, has_group));
  rd_kafka_conf_set_opaque(conf.get(), consumer.get());
  rd_kafka_conf_set_rebalance_cb(conf.get(),
                                 &RdKafkaConsumer::RebalanceCallback);
  BROOK_ASSIGN_OR_RETURN(consumer->rk_,
                         NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  // One queue for everything (records, rebalances, errors), served by Poll().
  BROOK_RETURN_IF_ERROR(
      FromRespErr(rd_kafka_poll_set_consumer(consumer->rk_.get()),
                  "rd_kafka_poll_set_consumer"));
  return std::unique_ptr<Consumer>(std::move(consumer));
}

RdKafkaConsumer::~RdKafkaConsumer() {
  Close().IgnoreError();  // Destruction cannot report; Close() logs.
}

absl::Status RdKafkaConsumer::Subscribe(
    const std::vector<std::string>& topics) {
  if (!has_group_) {
    return absl::FailedPreconditionError(
        "Subscribe() needs a consumer created with 'group.id'");
  }
  std::vector<TopicPartition> tps;
  for (const std::string& t : topics) tps.push_back({t, RD_KAFKA_PARTITION_UA});
  auto list = ToList(tps);
  return FromRespErr(rd_kafka_subscribe(rk_.get(), list.get()),
                     absl::StrCat("subscribe to ", absl::StrJoin(topics, ",")));
}

absl::Status RdKafkaConsumer::Unsubscribe() {
  return FromRespErr(rd_kafka_unsubscribe(rk_.get()), "unsubscribe");
}

absl::Status RdKafkaConsumer::Assign(
    absl::Span<const TopicPartitionOffset> partitions) {
  // The application pause flag outlives rd_kafka_assign(); clear ours first
  // so that a partition assigned again is fetched.
  ResumeAllPaused("assign");
  auto list = ToList(partitions);
  BROOK_RETURN_IF_ERROR(
      FromRespErr(rd_kafka_assign(rk_.get(), list.get()), "rd_kafka_assign"));
  last_position_ = nullptr;
  next_offset_.clear();
  for (const TopicPartitionOffset& p : partitions) {
    if (p.offset >= 0) next_offset_[p.tp] = p.offset;
  }
  return absl::OkStatus();
}

void RdKafkaConsumer::RebalanceCallback(
    rd_kafka_t* rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<RdKafkaConsumer*>(opaque)->OnRebalance(err, partitions);
}

void RdKafkaConsumer::OnRebalance(rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* partitions) {
  std::vector<TopicPartition> tps;
  for (const TopicPartitionOffset& p : FromList(partitions))
    tps.push_back(p.tp);
  absl::Status status;
  switch (err) {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
      status = FromRespErr(rd_kafka_assign(rk_.get(), partitions),
                           "rd_kafka_assign in rebalance");
      for (const TopicPartition& tp : tps) Forget(tp);
      if (status.ok() && listener_ != nullptr)
        listener_->OnPartitionsAssigned(tps);
      break;
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS: {
      RevocationKind kind = rd_kafka_assignment_lost(rk_.get())
                                ? RevocationKind::kLost
                                : RevocationKind::kRevoked;
      if (listener_ != nullptr) listener_->OnPartitionsRevoked(tps, kind);
      ResumeAllPaused("revocation");
      status = FromRespErr(rd_kafka_assign(rk_.get(), nullptr),
                           "rd_kafka_assign(NULL) in rebalance");
      for (const TopicPartition& tp : tps) Forget(tp);
      break;
    }
    default: {
      LOG(WARNING) << "rebalance error " << rd_kafka_err2name(err)
                   << "; dropping the assignment";
      // The listener must drop its tasks and their open transaction too,
      // as for a lost assignment: nothing of it may be committed now.
      std::vector<TopicPartition> owned = Assignment();
      if (listener_ != nullptr && !owned.empty()) {
        listener_->OnPartitionsRevoked(owned, RevocationKind::kLost);
      }
      ResumeAllPaused("rebalance error");
      status = FromRespErr(rd_kafka_assign(rk_.get(), nullptr),
                           "rd_kafka_assign(NULL) after rebalance error");
      last_position_ = nullptr;
      next_offset_.clear();
      break;
    }
  }
  if (!status.ok() && rebalance_error_.ok()) rebalance_error_ = status;
}

void RdKafkaConsumer::Forget(const TopicPartition& tp) {
  last_position_ = nullptr;
  next_offset_.erase(tp);
}

void RdKafkaConsumer::ResumeAllPaused(absl::string_view why) {
  // librdkafka 2.0.2 clears only its own (library) pause flag when a
  // partition is unassigned or assigned again, never the application's: a
  // partition paused for back-pressure and handed back to this member by
  // an eager rebalance would otherwise stay paused, silently, for ever.
  // Resuming while the partition is still assigned, just before it is given
  // up, is safe: its fetch position is discarded with the assignment.
  if (paused_.empty()) return;
  std::vector<TopicPartition> tps(paused_.begin(), paused_.end());
  paused_.clear();
  auto list = ToList(tps);
  absl::Status s =
      FromRespErr(rd_kafka_resume_partitions(rk_.get(), list.get()),
                  absl::StrCat("resume partitions before ", why));
  if (!s.ok()) {
    LOG(WARNING) << s;
    if (rebalance_error_.ok()) rebalance_error_ = s;
  }
}

absl::StatusOr<std::optional<ConsumerRecord>> RdKafkaConsumer::Poll(
    absl::Duration timeout) {
  RdPtr<rd_kafka_message_t> msg(
      rd_kafka_consumer_poll(rk_.get(), ToTimeoutMs(timeout)));
  if (!rebalance_error_.ok())
    return std::exchange(rebalance_error_, absl::OkStatus());
  if (msg == nullptr) return std::nullopt;
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* topic = msg->rkt ? rd_kafka_topic_name(msg->rkt) : "";
    switch (msg->err) {
      case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        return std::nullopt;
      case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return absl::NotFoundError(absl::StrCat(
            "topic '", topic, "' does not exist (",
            rd_kafka_message_errstr(msg.get()),
            "); create it first, Brook does not auto-create input topics"));
      case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
        // Only with auto.offset.reset=error: the position is outside the
        // log and the caller decides (the restore treats it as corrupt
        // state); never a silent jump.
        return absl::OutOfRangeError(absl::StrCat(
            "offset ", msg->offset, " of ", topic, "-", msg->partition,
            " is out of range: ", rd_kafka_message_errstr(msg.get())));
      case RD_KAFKA_RESP_ERR__FATAL: {
        char reason[512];
        rd_kafka_resp_err_t fatal =
            rd_kafka_fatal_error(rk_.get(), reason, sizeof(reason));
        return KafkaError(KafkaErrorClass::kFatal,
                          absl::StrCat("fatal consumer error ",
                                       rd_kafka_err2name(fatal), ": ", reason));
      }
      default:
        // Transport hiccups and the like: librdkafka retries them itself.
        LOG(WARNING) << "consumer: " << rd_kafka_err2name(msg->err) << " "
                     << rd_kafka_message_errstr(msg.get());
        return std::nullopt;
    }
  }
  const char* topic = rd_kafka_topic_name(msg->rkt);
  if (last_position_ == nullptr ||
      last_position_->first.partition != msg->partition ||
      last_position_->first.topic != topic) {
    auto [it, inserted] = next_offset_.try_emplace(
        TopicPartition{topic, msg->partition}, msg->offset);
    last_position_ = &*it;
  }
  int64_t& next = last_position_->second;
  if (msg->offset < next) {
    LOG(WARNING) << "dropping re-delivered record "
                 << last_position_->first.ToString() << "@" << msg->offset
                 << " below next expected offset " << next;
    return std::nullopt;
  }
  next = msg->offset + 1;

  ConsumerRecord record;
  record.topic = last_position_->first.topic;
  record.partition = msg->partition;
  record.offset = msg->offset;
  rd_kafka_timestamp_type_t ts_type;
  record.timestamp_ms = rd_kafka_message_timestamp(msg.get(), &ts_type);
  if (msg->key != nullptr) {
    record.key.emplace(static_cast<const char*>(msg->key), msg->key_len);
  }
  if (msg->payload != nullptr) {
    record.value.emplace(static_cast<const char*>(msg->payload), msg->len);
  }
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(msg.get(), &headers) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      record.headers.emplace_back(
          name, value ? std::string(static_cast<const char*>(value), size)
                      : std::string());
    }
  }
  return record;
}

std::vector<TopicPartition> RdKafkaConsumer::Assignment() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  std::vector<TopicPartition> out;
  if (rd_kafka_assignment(rk_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return out;
  }
  RdPtr<rd_kafka_topic_partition_list_t> list(raw);
  for (const TopicPartitionOffset& p : FromList(list.get()))
    out.push_back(p.tp);
  return out;
}

absl::Status RdKafkaConsumer::Pause(
    absl::Span<const TopicPartition> partitions) {
  auto list = ToList(partitions);
  BROOK_RETURN_IF_ERROR(FromRespErr(
      rd_kafka_pause_partitions(rk_.get(), list.get()), "pause partitions"));
  for (const TopicPartition& tp : partitions) paused_.insert(tp);
  return absl::OkStatus();
}

absl::Status RdKafkaConsumer::Resume(
    absl::Span<const TopicPartition> partitions) {
  // Resuming a partition that is not paused restarts its fetch from a stale
  // offset in librdkafka 2.0.2 (#4636): only resume what we paused.
  std::vector<TopicPartition> to_resume;
  for (const TopicPartition& tp : partitions) {
    if (paused_.contains(tp)) to_resume.push_back(tp);
  }
  if (to_resume.empty()) return absl::OkStatus();
  auto list = ToList(to_resume);
  BROOK_RETURN_IF_ERROR(FromRespErr(
      rd_kafka_resume_partitions(rk_.get(), list.get()), "resume partitions"));
  for (const TopicPartition& tp : to_resume) paused_.erase(tp);
  return absl::OkStatus();
}

absl::Status RdKafkaConsumer::Seek(
    absl::Span<const TopicPartitionOffset> positions) {
  auto list = ToList(positions);
  // librdkafka < 2.1.0 reads this timeout as microseconds (#4230), so 10 s
  // is passed as 10'000'000 there.
  int timeout = rd_kafka_version() < 0x020100ff ? 10'000'000 : 10'000;
  RdPtr<rd_kafka_error_t> error(
      rd_kafka_seek_partitions(rk_.get(), list.get(), timeout));
  if (error != nullptr) {
    return FromError(error.release(), "seek partitions");
  }
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    BROOK_RETURN_IF_ERROR(
        FromRespErr(p.err, absl::StrCat("seek ", p.topic, "-", p.partition)));
  }
  for (const TopicPartitionOffset& p : positions) {
    if (p.offset >= 0) {
      next_offset_[p.tp] = p.offset;
    } else {
      last_position_ = nullptr;
      next_offset_.erase(p.tp);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TopicPartitionOffset>> RdKafkaConsumer::Committed(
    absl::Span<const TopicPartition> partitions, absl::Duration timeout) {
  auto list = ToList(partitions);
  BROOK_RETURN_IF_ERROR(FromRespErr(
      rd_kafka_committed(rk_.get(), list.get(), ToTimeoutMs(timeout)),
      "fetch committed offsets"));
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    BROOK_RETURN_IF_ERROR(FromRespErr(
        p.err,
        absl::StrCat("committed offset of ", p.topic, "-", p.partition)));
  }
  return FromList(list.get());
}

int64_t RdKafkaConsumer::Position(const TopicPartition& partition) {
  auto list = ToList(absl::MakeConstSpan(&partition, 1));
  if (rd_kafka_position(rk_.get(), list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kOffsetInvalid;
  }
  return list->elems[0].offset;
}

absl::StatusOr<std::pair<int64_t, int64_t>> RdKafkaConsumer::QueryWatermarks(
    const TopicPartition& partition, absl::Duration timeout) {
  int64_t low = 0, high = 0;
  BROOK_RETURN_IF_ERROR(FromRespErr(
      rd_kafka_query_watermark_offsets(rk_.get(), partition.topic.c_str(),
                                       partition.partition, &low, &high,
                                       ToTimeoutMs(timeout)),
      absl::StrCat("watermarks of ", partition.ToString())));
  return std::make_pair(low, high);
}

absl::Status RdKafkaConsumer::CommitSync(
    absl::Span<const TopicPartitionOffset> offsets) {
  if (offsets.empty()) return absl::OkStatus();
  auto list = ToList(offsets);
  BROOK_RETURN_IF_ERROR(FromRespErr(
      rd_kafka_commit(rk_.get(), list.get(), /*async=*/0), "commit offsets"));
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    BROOK_RETURN_IF_ERROR(FromRespErr(
        p.err, absl::StrCat("commit offset of ", p.topic, "-", p.partition)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<GroupMetadata>>
RdKafkaConsumer::GetGroupMetadata() {
  rd_kafka_consumer_group_metadata_t* m =
      rd_kafka_consumer_group_metadata(rk_.get());
  if (m == nullptr) {
    return absl::FailedPreconditionError(
        "consumer has no group metadata (no group.id?)");
  }
  return std::unique_ptr<GroupMetadata>(new RdGroupMetadata(m));
}

absl::Status RdKafkaConsumer::Close() {
  if (closed_ || rk_ == nullptr) return absl::OkStatus();
  closed_ = true;
  absl::Status status =
      FromRespErr(rd_kafka_consumer_close(rk_.get()), "close consumer");
  if (!status.ok()) LOG(WARNING) << status;
  rk_.reset();
  return status;
}

}  // namespace internal
}  // namespace brook
