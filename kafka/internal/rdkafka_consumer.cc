#include "brook/kafka/internal/rdkafka_consumer.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/errors.h"

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
  int64_t queue_max_records = 100000, queue_max_kbytes = 65536;
  if (auto it = effective.find("queued.min.messages"); it != effective.end())
    (void)absl::SimpleAtoi(it->second, &queue_max_records);
  if (auto it = effective.find("queued.max.messages.kbytes");
      it != effective.end())
    (void)absl::SimpleAtoi(it->second, &queue_max_kbytes);
  std::unique_ptr<RdKafkaConsumer> consumer(
      new RdKafkaConsumer(listener, has_group));
  consumer->queue_max_records_ = queue_max_records;
  consumer->queue_max_bytes_ = queue_max_kbytes * 1024;
  if (auto it = effective.find("auto.offset.reset"); it != effective.end()) {
    consumer->reset_to_end_ = it->second == "latest" ||
                              it->second == "largest" || it->second == "end";
  }
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
  if (!assigned_.empty()) {
    return absl::FailedPreconditionError(
        "Subscribe() on a consumer with partitions from Assign()");
  }
  subscribed_ = true;
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
  if (subscribed_) {
    return absl::FailedPreconditionError(
        "Assign() on a consumer that subscribed: its assignment belongs to "
        "the group");
  }
  // Only the difference is handed to librdkafka, never a whole new
  // assignment: librdkafka 2.0.2 stops the fetcher of every partition a
  // replacing assign() touches, and a partition stopped a second time
  // before the first stop's reply reached its main thread aborts the
  // process (rdkafka_assignment.c:872, `rktp->rktp_started`). The restore
  // consumer changes its assignment once per task, back to back, when a
  // revocation takes several restoring tasks. A partition that stays at
  // its position keeps its fetcher, its queue and its prefetch.
  absl::flat_hash_map<TopicPartition, int64_t> wanted;
  for (const TopicPartitionOffset& p : partitions) {
    if (!wanted.try_emplace(p.tp, p.offset).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("Assign(): ", p.tp.ToString(), " is listed twice"));
    }
  }
  std::vector<TopicPartition> to_remove;
  std::vector<TopicPartitionOffset> to_add;
  for (const auto& [tp, start] : assigned_) {
    auto w = wanted.find(tp);
    if (w == wanted.end()) {
      to_remove.push_back(tp);
      continue;
    }
    // The position: the next record not handed out yet, else where the
    // partition was assigned. Anything else starts it over.
    auto next = next_offset_.find(tp);
    const int64_t position = next != next_offset_.end() ? next->second : start;
    if (w->second < 0 || w->second != position) {
      to_remove.push_back(tp);
      to_add.push_back({tp, w->second});
    }
  }
  for (const auto& [tp, offset] : wanted) {
    if (!assigned_.contains(tp)) to_add.push_back({tp, offset});
  }
  // The application pause flag outlives an unassignment; clear ours first
  // so that a partition assigned again is fetched.
  ResumeAllPaused("assign");
  if (!to_remove.empty()) {
    WaitForFetchStops(to_remove);
    auto list = ToList(to_remove);
    RdPtr<rd_kafka_error_t> error(
        rd_kafka_incremental_unassign(rk_.get(), list.get()));
    if (error != nullptr) return FromError(error.release(), "unassign");
    const absl::Time now = absl::Now();
    for (const TopicPartition& tp : to_remove) {
      unassigned_at_[tp] = now;
      assigned_.erase(tp);
      queues_.erase(tp);
      Forget(tp);
    }
  }
  if (!to_add.empty()) {
    auto list = ToList(to_add);
    RdPtr<rd_kafka_error_t> error(
        rd_kafka_incremental_assign(rk_.get(), list.get()));
    if (error != nullptr) return FromError(error.release(), "assign");
    std::vector<TopicPartition> tps;
    for (const TopicPartitionOffset& p : to_add) {
      assigned_[p.tp] = p.offset;
      if (p.offset >= 0) next_offset_[p.tp] = p.offset;
      if (p.offset >= 0 || p.offset == kOffsetBeginning ||
          p.offset == kOffsetEnd) {
        start_offset_[p.tp] = p.offset;
      }
      tps.push_back(p.tp);
    }
    SplitQueues(tps);
  }
  last_position_ = nullptr;
  return absl::OkStatus();
}

void RdKafkaConsumer::WaitForFetchStops(
    absl::Span<const TopicPartition> partitions) {
  // librdkafka does not say when a stop's reply has been served, only that
  // it is queued as soon as the partition's broker thread handles the stop
  // (no network round trip: auto commit is off), and that the main thread
  // serves its queue in order. A partition unassigned again within
  // kFetchStopSettle of its last unassignment waits for the rest of it;
  // that takes a partition given up, taken back and given up again within
  // a second, which a rebalance storm can do to a restoring task.
  static constexpr absl::Duration kFetchStopSettle = absl::Seconds(1);
  absl::Time until = absl::InfinitePast();
  for (const TopicPartition& tp : partitions) {
    auto it = unassigned_at_.find(tp);
    if (it != unassigned_at_.end()) {
      until = std::max(until, it->second + kFetchStopSettle);
    }
  }
  const absl::Time now = absl::Now();
  if (until > now) absl::SleepFor(until - now);
  // Forget what is long past, so the map stays as small as the churn.
  for (auto it = unassigned_at_.begin(); it != unassigned_at_.end();) {
    if (it->second + kFetchStopSettle < now) {
      unassigned_at_.erase(it++);
    } else {
      ++it;
    }
  }
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
      if (status.ok()) SplitQueues(tps);
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
      // Whatever the queues still hold is dropped with them; the fetch
      // stop bumped each partition's version, so even a new handle to the
      // same queue never returns those records.
      queues_.clear();
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
      start_offset_.clear();
      start_offset_fetched_.clear();
      queues_.clear();
      break;
    }
  }
  if (!status.ok() && rebalance_error_.ok()) rebalance_error_ = status;
}

void RdKafkaConsumer::Forget(const TopicPartition& tp) {
  last_position_ = nullptr;
  next_offset_.erase(tp);
  start_offset_.erase(tp);
  start_offset_fetched_.erase(tp);
}

void RdKafkaConsumer::FetchStartOffsets(
    const rd_kafka_topic_partition_list_t* assigned) {
  // One OffsetFetch per assignment (Kafka Streams reads the committed
  // offsets of a new task too). On failure CachedLag() stays unknown until
  // the partition's first record.
  RdPtr<rd_kafka_topic_partition_list_t> list(
      rd_kafka_topic_partition_list_copy(assigned));
  const rd_kafka_resp_err_t err =
      rd_kafka_committed(rk_.get(), list.get(), /*timeout_ms=*/10000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    LOG(WARNING) << "committed offsets of a new assignment: "
                 << rd_kafka_err2name(err)
                 << "; consumer lag stays unknown until the first records";
    return;
  }
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    if (p.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    start_offset_[TopicPartition{p.topic, p.partition}] =
        p.offset >= 0 ? p.offset
                      : (reset_to_end_ ? kOffsetEnd : kOffsetBeginning);
  }
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

absl::Status RdKafkaConsumer::MessageError(const rd_kafka_message_t& msg) {
  const char* topic = msg.rkt ? rd_kafka_topic_name(msg.rkt) : "";
  switch (msg.err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF:
      return absl::OkStatus();
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return absl::NotFoundError(absl::StrCat(
          "topic '", topic, "' does not exist (", rd_kafka_message_errstr(&msg),
          "); create it first, Brook does not auto-create input topics"));
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
      // Only with auto.offset.reset=error: the position is outside the
      // log and the caller decides (the restore treats it as corrupt
      // state); never a silent jump.
      return absl::OutOfRangeError(
          absl::StrCat("offset ", msg.offset, " of ", topic, "-", msg.partition,
                       " is out of range: ", rd_kafka_message_errstr(&msg)));
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
      LOG(WARNING) << "consumer: " << rd_kafka_err2name(msg.err) << " "
                   << rd_kafka_message_errstr(&msg);
      return absl::OkStatus();
  }
}

bool RdKafkaConsumer::AcceptOffset(const rd_kafka_message_t& msg,
                                   const TopicPartition& tp, int64_t& next) {
  if (msg.offset < next) {
    LOG(WARNING) << "dropping re-delivered record " << tp.ToString() << "@"
                 << msg.offset << " below next expected offset " << next;
    ++redeliveries_dropped_;
    return false;
  }
  next = msg.offset + 1;
  return true;
}

void RdKafkaConsumer::FillRecord(const rd_kafka_message_t& msg,
                                 const TopicPartition& tp,
                                 ConsumerRecord* record) {
  record->topic = tp.topic;
  record->partition = msg.partition;
  record->offset = msg.offset;
  rd_kafka_timestamp_type_t ts_type;
  record->timestamp_ms = rd_kafka_message_timestamp(&msg, &ts_type);
  if (msg.key != nullptr) {
    record->key.emplace(static_cast<const char*>(msg.key), msg.key_len);
  } else {
    record->key.reset();
  }
  if (msg.payload != nullptr) {
    record->value.emplace(static_cast<const char*>(msg.payload), msg.len);
  } else {
    record->value.reset();
  }
  record->headers.clear();
  rd_kafka_headers_t* headers = nullptr;
  // rd_kafka_message_headers() parses lazily and caches in the message.
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(&msg),
                               &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      record->headers.emplace_back(
          name, value ? std::string(static_cast<const char*>(value), size)
                      : std::string());
    }
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
    BROOK_RETURN_IF_ERROR(MessageError(*msg));
    return std::nullopt;
  }
  const char* topic = rd_kafka_topic_name(msg->rkt);
  if (last_position_ == nullptr ||
      last_position_->first.partition != msg->partition ||
      last_position_->first.topic != topic) {
    auto [it, inserted] = next_offset_.try_emplace(
        TopicPartition{topic, msg->partition}, msg->offset);
    last_position_ = &*it;
  }
  if (!AcceptOffset(*msg, last_position_->first, last_position_->second)) {
    return std::nullopt;
  }
  ConsumerRecord record;
  FillRecord(*msg, last_position_->first, &record);
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

std::optional<int64_t> RdKafkaConsumer::CachedLag(
    const TopicPartition& partition) {
  int64_t low = kOffsetInvalid, high = kOffsetInvalid;
  if (rd_kafka_get_watermark_offsets(rk_.get(), partition.topic.c_str(),
                                     partition.partition, &low,
                                     &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      low < 0 || high < 0) {
    return std::nullopt;  // no fetch response for the partition yet
  }
  // librdkafka's application position passes transaction markers too, so
  // a fully read transactional partition has lag 0 (Brook's next_offset_
  // stops at the marker).
  int64_t position = Position(partition);
  if (position < 0) {
    // PollPartition() enters a partition it polls with no record yet as
    // kOffsetInvalid: that says nothing about the position, so the start
    // offset answers (taken as the position, it held every join task
    // reading an empty partition through its own queue back for ever).
    if (auto it = next_offset_.find(partition);
        it != next_offset_.end() && it->second >= 0) {
      position = it->second;
    } else {
      auto st = start_offset_.find(partition);
      if (st == start_offset_.end() &&
          start_offset_fetched_.insert(partition).second) {
        // Once per partition and assignment, on the caller's (the stream
        // thread's) first question, not in the rebalance callback: only
        // max.task.idle.ms asks, so nothing else pays the round trip.
        RdPtr<rd_kafka_topic_partition_list_t> list(
            rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(),
                                          partition.partition);
        FetchStartOffsets(list.get());
        st = start_offset_.find(partition);
      }
      if (st != start_offset_.end()) position = st->second;
    }
  }
  if (position == kOffsetBeginning) position = low;
  if (position == kOffsetEnd) position = high;
  if (position < 0) return std::nullopt;
  return std::max<int64_t>(0, high - position);
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
  fetch_waker_.reset();  // before the client it uses goes
  // Closing unassigns what is assigned: the same hazard as Assign().
  std::vector<TopicPartition> assigned;
  for (const auto& [tp, offset] : assigned_) assigned.push_back(tp);
  WaitForFetchStops(assigned);
  absl::Status status =
      FromRespErr(rd_kafka_consumer_close(rk_.get()), "close consumer");
  if (!status.ok()) LOG(WARNING) << status;
  // Queue handles hold references on the client: release them first.
  queues_.clear();
  consumer_queue_.reset();
  rk_.reset();
  if (wakeup_fd_ >= 0) close(wakeup_fd_);
  wakeup_fd_ = -1;
  return status;
}

}  // namespace internal
}  // namespace brook
