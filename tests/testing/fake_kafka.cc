#include "tests/testing/fake_kafka.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/errors.h"

namespace brook::testing {
namespace {

// `status` with the Kafka error code of `cause`, if that has one.
absl::Status WithCodeOf(absl::Status status, const absl::Status& cause) {
  std::string code = KafkaErrorCode(cause);
  if (code.empty()) return status;
  return WithKafkaErrorCode(std::move(status), code);
}

absl::Status IllegalGeneration(absl::string_view call, int generation,
                               int current) {
  return WithKafkaErrorCode(
      KafkaError(
          KafkaErrorClass::kAbortable,
          absl::StrCat(call, ": ILLEGAL_GENERATION: generation ", generation,
                       " is older than the group's ", current)),
      "ILLEGAL_GENERATION");
}

// FNV-1a, 32 bits: a stable partitioner, so tests see the same partitions
// in every run.
uint32_t Fnv1a(absl::string_view bytes) {
  uint32_t hash = 2166136261u;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return hash;
}

std::vector<ProducerRecord> Lookup(
    const std::map<std::string, std::vector<ProducerRecord>, std::less<>>& map,
    absl::string_view topic) {
  auto it = map.find(topic);
  if (it == map.end()) return {};
  return it->second;
}

}  // namespace

// ---------------------------------------------------------------------------
// FakeKafka

void FakeKafka::CreateTopic(absl::string_view name, int32_t partitions) {
  CHECK_GT(partitions, 0) << "topic " << name;
  bool inserted =
      logs_.emplace(std::string(name), std::vector<Log>(partitions)).second;
  CHECK(inserted) << "topic " << name << " created twice";
}

int32_t FakeKafka::PartitionCount(absl::string_view topic) const {
  auto it = logs_.find(topic);
  return it == logs_.end() ? 0 : static_cast<int32_t>(it->second.size());
}

int64_t FakeKafka::Append(absl::string_view topic, int32_t partition,
                          std::optional<std::string> key,
                          std::optional<std::string> value,
                          int64_t timestamp_ms) {
  ConsumerRecord record;
  record.topic = std::string(topic);
  record.partition = partition;
  record.timestamp_ms = timestamp_ms;
  record.key = std::move(key);
  record.value = std::move(value);
  return AppendToLog(std::move(record));
}

int64_t FakeKafka::EndOffset(const TopicPartition& tp) const {
  const Log* log = FindLog(tp);
  CHECK(log != nullptr) << "EndOffset of missing " << tp.ToString();
  return static_cast<int64_t>(log->size());
}

int64_t FakeKafka::StartOffset(const TopicPartition& tp) const {
  CHECK(FindLog(tp) != nullptr) << "StartOffset of missing " << tp.ToString();
  auto it = start_offsets_.find(tp);
  return it == start_offsets_.end() ? 0 : it->second;
}

void FakeKafka::DeleteRecords(const TopicPartition& tp, int64_t offset) {
  CHECK_LE(offset, EndOffset(tp))
      << "DeleteRecords past the end of " << tp.ToString();
  start_offsets_[tp] = std::max(StartOffset(tp), offset);
}

void FakeKafka::AppendMarker(const TopicPartition& tp) {
  ConsumerRecord marker;
  marker.topic = tp.topic;
  marker.partition = tp.partition;
  invisible_[tp].insert(AppendToLog(std::move(marker)));
}

bool FakeKafka::Invisible(const TopicPartition& tp, int64_t offset) const {
  auto it = invisible_.find(tp);
  return it != invisible_.end() && it->second.contains(offset);
}

int64_t FakeKafka::CommittedOffset(const TopicPartition& tp) const {
  auto it = committed_.find(tp);
  return it == committed_.end() ? kOffsetInvalid : it->second;
}

void FakeKafka::SetCommittedOffset(const TopicPartition& tp, int64_t offset) {
  committed_[tp] = offset;
}

std::vector<ProducerRecord> FakeKafka::Output(absl::string_view topic) const {
  return Lookup(output_, topic);
}

std::vector<ProducerRecord> FakeKafka::AbortedOutput(
    absl::string_view topic) const {
  return Lookup(aborted_, topic);
}

void FakeKafka::Rebalance(FakeConsumer* consumer,
                          std::vector<TopicPartition> new_assignment) {
  CHECK(consumer != nullptr);
  for (const TopicPartition& tp : new_assignment) {
    CHECK(FindLog(tp) != nullptr) << "Rebalance onto missing " << tp.ToString();
  }
  int old_generation = generation_++;
  consumer->Schedule(
      {FakeConsumer::Event::Kind::kRebalance, std::move(new_assignment)},
      old_generation);
}

void FakeKafka::LoseAssignment(FakeConsumer* consumer) {
  CHECK(consumer != nullptr);
  int old_generation = generation_++;
  consumer->Schedule({FakeConsumer::Event::Kind::kLose, {}}, old_generation);
}

const FakeKafka::Log* FakeKafka::FindLog(const TopicPartition& tp) const {
  auto it = logs_.find(tp.topic);
  if (it == logs_.end() || tp.partition < 0 ||
      tp.partition >= static_cast<int32_t>(it->second.size())) {
    return nullptr;
  }
  return &it->second[tp.partition];
}

absl::Status FakeKafka::CheckPartitionExists(const TopicPartition& tp) const {
  if (FindLog(tp) != nullptr) return absl::OkStatus();
  return absl::NotFoundError(
      absl::StrCat("partition ", tp.ToString(), " does not exist"));
}

absl::StatusOr<int32_t> FakeKafka::ChoosePartition(
    const ProducerRecord& record) const {
  int32_t count = PartitionCount(record.topic);
  if (count == 0) {
    return absl::NotFoundError(
        absl::StrCat("topic '", record.topic, "' does not exist"));
  }
  if (record.partition >= 0) {
    BROOK_RETURN_IF_ERROR(
        CheckPartitionExists({record.topic, record.partition}));
    return record.partition;
  }
  if (!record.key.has_value()) return 0;
  return static_cast<int32_t>(Fnv1a(*record.key) %
                              static_cast<uint32_t>(count));
}

int64_t FakeKafka::AppendToLog(ConsumerRecord record) {
  TopicPartition tp{record.topic, record.partition};
  CHECK(FindLog(tp) != nullptr) << "append to missing " << tp.ToString();
  Log& log = logs_.find(tp.topic)->second[tp.partition];
  record.offset = static_cast<int64_t>(log.size());
  log.push_back(std::move(record));
  return log.back().offset;
}

int64_t FakeKafka::Publish(ProducerRecord record) {
  ConsumerRecord visible;
  visible.topic = record.topic;
  visible.partition = record.partition;
  visible.timestamp_ms = record.timestamp_ms;
  visible.key = record.key;
  visible.value = record.value;
  visible.headers = record.headers;
  const int64_t offset = AppendToLog(std::move(visible));
  output_[record.topic].push_back(std::move(record));
  return offset;
}

void FakeKafka::Discard(ProducerRecord record) {
  std::string topic = record.topic;
  TopicPartition tp{record.topic, record.partition};
  if (FindLog(tp) != nullptr) {
    ConsumerRecord aborted;
    aborted.topic = record.topic;
    aborted.partition = record.partition;
    aborted.key = record.key;
    aborted.value = record.value;
    invisible_[tp].insert(AppendToLog(std::move(aborted)));
  }
  aborted_[topic].push_back(std::move(record));
}

// ---------------------------------------------------------------------------
// FakeConsumer

FakeConsumer::FakeConsumer(FakeKafka* kafka, RebalanceListener* listener)
    : kafka_(kafka), listener_(listener) {
  CHECK(kafka_ != nullptr);
}

FakeConsumer::~FakeConsumer() {
  Close().IgnoreError();  // Close() cannot fail once open; nothing to report.
}

absl::Status FakeConsumer::Subscribe(const std::vector<std::string>& topics) {
  BROOK_RETURN_IF_ERROR(CheckOpen("Subscribe()"));
  subscribed_ = topics;
  return absl::OkStatus();
}

absl::Status FakeConsumer::Unsubscribe() {
  BROOK_RETURN_IF_ERROR(CheckOpen("Unsubscribe()"));
  ++unsubscribe_calls_;
  subscribed_.clear();
  pending_.push_back({Event::Kind::kLeave, {}});
  return absl::OkStatus();
}

absl::Status FakeConsumer::Assign(
    absl::Span<const TopicPartitionOffset> partitions) {
  BROOK_RETURN_IF_ERROR(CheckOpen("Assign()"));
  for (const TopicPartitionOffset& p : partitions) {
    BROOK_RETURN_IF_ERROR(kafka_->CheckPartitionExists(p.tp));
  }
  TakeAssignment(partitions);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ConsumerRecord>> FakeConsumer::Poll(
    absl::Duration timeout) {
  BROOK_RETURN_IF_ERROR(CheckOpen("Poll()"));
  if (!pending_.empty()) {
    Event event = std::move(pending_.front());
    pending_.pop_front();
    Deliver(event);
    return std::nullopt;
  }
  if (!poll_failures_.empty()) {
    absl::Status status = std::move(poll_failures_.front());
    poll_failures_.pop_front();
    return status;
  }
  BROOK_RETURN_IF_ERROR(CheckSubscribedTopicsExist());
  return NextRecord();
}

std::vector<TopicPartition> FakeConsumer::Assignment() { return assignment_; }

absl::Status FakeConsumer::Pause(absl::Span<const TopicPartition> partitions) {
  BROOK_RETURN_IF_ERROR(CheckOpen("Pause()"));
  paused_.insert(partitions.begin(), partitions.end());
  return absl::OkStatus();
}

absl::Status FakeConsumer::Resume(absl::Span<const TopicPartition> partitions) {
  BROOK_RETURN_IF_ERROR(CheckOpen("Resume()"));
  for (const TopicPartition& tp : partitions) {
    if (paused_.erase(tp) == 0) ++resume_of_unpaused_;
  }
  return absl::OkStatus();
}

absl::Status FakeConsumer::Seek(
    absl::Span<const TopicPartitionOffset> positions) {
  BROOK_RETURN_IF_ERROR(CheckOpen("Seek()"));
  for (const TopicPartitionOffset& p : positions) {
    if (!positions_.contains(p.tp)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "Seek() of ", p.tp.ToString(), ", which is not assigned"));
    }
  }
  for (const TopicPartitionOffset& p : positions) {
    positions_[p.tp] = ResolveOffset(p.tp, p.offset);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TopicPartitionOffset>> FakeConsumer::Committed(
    absl::Span<const TopicPartition> partitions, absl::Duration timeout) {
  BROOK_RETURN_IF_ERROR(CheckOpen("Committed()"));
  std::vector<TopicPartitionOffset> out;
  out.reserve(partitions.size());
  for (const TopicPartition& tp : partitions) {
    out.push_back({tp, kafka_->CommittedOffset(tp)});
  }
  return out;
}

int64_t FakeConsumer::Position(const TopicPartition& partition) {
  auto it = positions_.find(partition);
  return it == positions_.end() ? kOffsetInvalid : it->second;
}

std::optional<int64_t> FakeConsumer::CachedLag(
    const TopicPartition& partition) {
  auto it = positions_.find(partition);
  if (it == positions_.end() || lag_unknown_.contains(partition) ||
      !kafka_->FindLog(partition)) {
    return std::nullopt;
  }
  return std::max<int64_t>(
      0, kafka_->EndOffset(partition) -
             std::max(it->second, kafka_->StartOffset(partition)));
}

absl::StatusOr<std::pair<int64_t, int64_t>> FakeConsumer::QueryWatermarks(
    const TopicPartition& partition, absl::Duration timeout) {
  BROOK_RETURN_IF_ERROR(CheckOpen("QueryWatermarks()"));
  BROOK_RETURN_IF_ERROR(kafka_->CheckPartitionExists(partition));
  return std::make_pair(kafka_->StartOffset(partition),
                        kafka_->EndOffset(partition));
}

absl::Status FakeConsumer::CommitSync(
    absl::Span<const TopicPartitionOffset> offsets) {
  BROOK_RETURN_IF_ERROR(CheckOpen("CommitSync()"));
  ++commit_sync_calls_;
  if (zombie_generation_.has_value()) {
    return IllegalGeneration("CommitSync()", *zombie_generation_,
                             kafka_->generation());
  }
  for (const TopicPartitionOffset& p : offsets) {
    kafka_->SetCommittedOffset(p.tp, p.offset);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<GroupMetadata>>
FakeConsumer::GetGroupMetadata() {
  BROOK_RETURN_IF_ERROR(CheckOpen("GetGroupMetadata()"));
  int generation = zombie_generation_.value_or(kafka_->generation());
  return std::unique_ptr<GroupMetadata>(new FakeGroupMetadata(generation));
}

absl::Status FakeConsumer::Close() {
  if (state_ != State::kOpen) return absl::OkStatus();
  state_ = State::kClosing;  // The listener may still call in.
  RevokeAll(zombie_generation_.has_value() ? RevocationKind::kLost
                                           : RevocationKind::kRevoked);
  pending_.clear();
  state_ = State::kClosed;
  return absl::OkStatus();
}

void FakeConsumer::FailNextPoll(absl::Status status) {
  CHECK(!status.ok()) << "FailNextPoll() needs an error";
  poll_failures_.push_back(std::move(status));
}

std::vector<TopicPartition> FakeConsumer::PausedPartitions() const {
  return std::vector<TopicPartition>(paused_.begin(), paused_.end());
}

void FakeConsumer::Schedule(Event event, int old_generation) {
  if (event.kind == Event::Kind::kLose && !zombie_generation_.has_value()) {
    zombie_generation_ = old_generation;
  }
  pending_.push_back(std::move(event));
}

absl::Status FakeConsumer::CheckOpen(absl::string_view call) const {
  if (state_ != State::kClosed) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(call, " on a closed consumer"));
}

void FakeConsumer::Deliver(const Event& event) {
  switch (event.kind) {
    case Event::Kind::kLose:
      RevokeAll(RevocationKind::kLost);
      return;
    case Event::Kind::kLeave:
      RevokeAll(zombie_generation_.has_value() ? RevocationKind::kLost
                                               : RevocationKind::kRevoked);
      return;
    case Event::Kind::kRebalance:
      break;
  }
  RevokeAll(RevocationKind::kRevoked);
  zombie_generation_.reset();  // Rejoined: a member in good standing again.
  std::vector<TopicPartitionOffset> starts;
  for (const TopicPartition& tp : event.partitions) {
    starts.push_back({tp, kOffsetInvalid});  // the committed offset, or 0
  }
  TakeAssignment(starts);
  if (listener_ != nullptr) listener_->OnPartitionsAssigned(event.partitions);
}

void FakeConsumer::RevokeAll(RevocationKind kind) {
  if (assignment_.empty()) return;
  // A copy: the listener may call back in (Position, Seek, Assignment).
  std::vector<TopicPartition> revoked = assignment_;
  if (listener_ != nullptr) listener_->OnPartitionsRevoked(revoked, kind);
  for (const TopicPartition& tp : revoked) {
    positions_.erase(tp);
    paused_.erase(tp);
  }
  assignment_.clear();
  next_index_ = 0;
}

void FakeConsumer::TakeAssignment(
    absl::Span<const TopicPartitionOffset> partitions) {
  assignment_.clear();
  positions_.clear();
  paused_.clear();
  next_index_ = 0;
  for (const TopicPartitionOffset& p : partitions) {
    if (positions_.contains(p.tp)) continue;  // listed twice
    assignment_.push_back(p.tp);
    positions_[p.tp] = ResolveOffset(p.tp, p.offset);
  }
}

int64_t FakeConsumer::ResolveOffset(const TopicPartition& tp,
                                    int64_t offset) const {
  if (offset >= 0) return offset;
  if (offset == kOffsetBeginning) return kafka_->StartOffset(tp);
  if (offset == kOffsetEnd) return kafka_->EndOffset(tp);
  int64_t committed = kafka_->CommittedOffset(tp);
  return committed >= 0 ? committed : 0;
}

absl::Status FakeConsumer::CheckSubscribedTopicsExist() const {
  for (const std::string& topic : subscribed_) {
    if (topic.starts_with('^')) continue;  // a regex may match nothing
    if (kafka_->PartitionCount(topic) == 0) {
      return absl::NotFoundError(
          absl::StrCat("topic '", topic, "' does not exist; create it first"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<const ConsumerRecord*> FakeConsumer::NextOf(
    const TopicPartition& tp) {
  if (paused_.contains(tp)) return nullptr;
  const FakeKafka::Log* log = kafka_->FindLog(tp);
  if (log == nullptr) return nullptr;
  int64_t& position = positions_[tp];
  if (position < kafka_->StartOffset(tp)) {
    if (auto_offset_reset_ == "error") {
      return absl::OutOfRangeError(absl::StrCat(
          "offset ", position, " of ", tp.ToString(),
          " is out of range: the log starts at ", kafka_->StartOffset(tp)));
    }
    position = auto_offset_reset_ == "latest" ? kafka_->EndOffset(tp)
                                              : kafka_->StartOffset(tp);
  }
  // Markers and aborted records move the position without surfacing.
  while (position < static_cast<int64_t>(log->size()) &&
         kafka_->Invisible(tp, position)) {
    ++position;
  }
  if (position >= static_cast<int64_t>(log->size())) return nullptr;
  return &(*log)[position++];
}

absl::StatusOr<std::optional<ConsumerRecord>> FakeConsumer::NextRecord() {
  // With partition queues every assigned partition has its own queue
  // (PollPartition()); nothing reaches the consumer queue.
  if (partition_queues_) return std::optional<ConsumerRecord>();
  const size_t n = assignment_.size();
  for (size_t i = 0; i < n; ++i) {
    const size_t index = (next_index_ + i) % n;
    BROOK_ASSIGN_OR_RETURN(const ConsumerRecord* record,
                           NextOf(assignment_[index]));
    if (record == nullptr) continue;
    next_index_ = (index + 1) % n;
    return std::optional<ConsumerRecord>(*record);
  }
  return std::optional<ConsumerRecord>();
}

absl::Status FakeConsumer::EnablePartitionQueues() {
  BROOK_RETURN_IF_ERROR(CheckOpen("EnablePartitionQueues()"));
  partition_queues_ = true;
  return absl::OkStatus();
}

absl::StatusOr<size_t> FakeConsumer::PollPartition(
    const TopicPartition& partition, size_t max,
    std::vector<ConsumerRecord>* out) {
  BROOK_RETURN_IF_ERROR(CheckOpen("PollPartition()"));
  if (!partition_queues_ || !positions_.contains(partition)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "partition ", partition.ToString(), " has no partition queue"));
  }
  ++partition_polls_[partition];
  size_t appended = 0;
  while (appended < max) {
    BROOK_ASSIGN_OR_RETURN(const ConsumerRecord* record, NextOf(partition));
    if (record == nullptr) break;
    out->push_back(*record);
    ++appended;
  }
  return appended;
}

size_t FakeConsumer::PartitionQueueLength(const TopicPartition& partition) {
  if (!partition_queues_ || !positions_.contains(partition) ||
      paused_.contains(partition)) {
    return 0;
  }
  const FakeKafka::Log* log = kafka_->FindLog(partition);
  if (log == nullptr) return 0;
  size_t n = 0;
  for (int64_t o =
           std::max(positions_[partition], kafka_->StartOffset(partition));
       o < static_cast<int64_t>(log->size()); ++o) {
    if (!kafka_->Invisible(partition, o)) ++n;
  }
  return n;
}

void FakeConsumer::WaitForData(absl::Duration timeout) { ++waits_; }

// ---------------------------------------------------------------------------
// FakeProducer

namespace {

struct CallNames {
  const char* log;     // as call_log() shows it
  const char* method;  // as error messages name it
};

constexpr CallNames kCallNames[] = {
    {"init", "InitTransactions()"},
    {"begin", "BeginTransaction()"},
    {"send", "Send()"},
    {"send_offsets", "SendOffsetsToTransaction()"},
    {"commit", "CommitTransaction()"},
    {"abort", "AbortTransaction()"},
    {"flush", "Flush()"},
};

const CallNames& NamesOf(FakeProducer::Call call) {
  return kCallNames[static_cast<int>(call)];
}

}  // namespace

FakeProducer::FakeProducer(FakeKafka* kafka, bool transactional)
    : kafka_(kafka),
      transactional_(transactional),
      state_(transactional ? State::kUninitialized : State::kReady) {
  CHECK(kafka_ != nullptr);
  static_assert(std::size(kCallNames) == kCallKinds);
}

FakeProducer::~FakeProducer() { DiscardTransaction(); }

absl::Status FakeProducer::Send(const ProducerRecord& record) {
  BROOK_RETURN_IF_ERROR(Enter(Call::kSend));
  BROOK_ASSIGN_OR_RETURN(int32_t partition, kafka_->ChoosePartition(record));
  ProducerRecord chosen = record;
  chosen.partition = partition;
  if (transactional_) {
    pending_records_.push_back(std::move(chosen));
  } else {
    TopicPartition tp{chosen.topic, chosen.partition};
    delivered_[tp] = kafka_->Publish(std::move(chosen));
  }
  return absl::OkStatus();
}

absl::Status FakeProducer::Flush(absl::Duration timeout) {
  return Enter(Call::kFlush);
}

absl::Status FakeProducer::InitTransactions(absl::Duration timeout) {
  BROOK_RETURN_IF_ERROR(Enter(Call::kInit));
  state_ = State::kReady;
  return absl::OkStatus();
}

absl::Status FakeProducer::BeginTransaction() {
  BROOK_RETURN_IF_ERROR(Enter(Call::kBegin));
  state_ = State::kInTransaction;
  ++begins_;
  return absl::OkStatus();
}

absl::Status FakeProducer::SendOffsetsToTransaction(
    absl::Span<const TopicPartitionOffset> offsets, const GroupMetadata& group,
    absl::Duration timeout) {
  BROOK_RETURN_IF_ERROR(Enter(Call::kSendOffsets));
  if (offsets.empty()) return absl::OkStatus();
  const auto* fake = dynamic_cast<const FakeGroupMetadata*>(&group);
  if (fake == nullptr) {
    return absl::InvalidArgumentError(
        "SendOffsetsToTransaction(): group metadata not from a FakeConsumer");
  }
  if (fake->generation() < kafka_->generation()) {
    return Fail(IllegalGeneration("SendOffsetsToTransaction()",
                                  fake->generation(), kafka_->generation()));
  }
  for (const TopicPartitionOffset& p : offsets) {
    pending_offsets_[p.tp] = p.offset;
  }
  return absl::OkStatus();
}

absl::Status FakeProducer::CommitTransaction(absl::Duration timeout) {
  BROOK_RETURN_IF_ERROR(Enter(Call::kCommit));
  std::set<TopicPartition> written;
  for (ProducerRecord& record : pending_records_) {
    TopicPartition tp{record.topic, record.partition};
    delivered_[tp] = kafka_->Publish(std::move(record));
    written.insert(tp);
  }
  for (const TopicPartition& tp : written) kafka_->AppendMarker(tp);
  for (const auto& [tp, offset] : pending_offsets_) {
    kafka_->SetCommittedOffset(tp, offset);
  }
  pending_records_.clear();
  pending_offsets_.clear();
  state_ = State::kReady;
  ++commits_;
  return absl::OkStatus();
}

absl::StatusOr<int32_t> FakeProducer::PartitionCount(const std::string& topic,
                                                     absl::Duration) {
  const int32_t n = kafka_->PartitionCount(topic);
  if (n == 0) {
    return absl::NotFoundError(
        absl::StrCat("topic '", topic, "' does not exist"));
  }
  return n;
}

absl::flat_hash_map<TopicPartition, int64_t>
FakeProducer::TakeDeliveredOffsets() {
  return std::exchange(delivered_, {});
}

absl::Status FakeProducer::AbortTransaction(absl::Duration timeout) {
  BROOK_RETURN_IF_ERROR(Enter(Call::kAbort));
  DiscardTransaction();
  abortable_error_ = absl::OkStatus();
  state_ = State::kReady;
  ++aborts_;
  return absl::OkStatus();
}

void FakeProducer::FailNext(Call call, absl::Status status, int times) {
  CHECK(!status.ok()) << "FailNext() needs an error";
  CHECK_GT(times, 0);
  for (int i = 0; i < times; ++i) {
    injected_[static_cast<int>(call)].push_back(status);
  }
}

void FakeProducer::Fence() {
  EnterFatal(WithKafkaErrorCode(
      KafkaError(KafkaErrorClass::kFatal,
                 "PRODUCER_FENCED: a newer producer with the same "
                 "transactional.id fenced this one"),
      "PRODUCER_FENCED"));
}

bool FakeProducer::in_transaction() const {
  return state_ == State::kInTransaction || state_ == State::kAbortableError;
}

absl::Status FakeProducer::Enter(Call call) {
  call_log_.push_back(NamesOf(call).log);
  if (state_ == State::kFatal) {
    return WithCodeOf(KafkaError(KafkaErrorClass::kFatal,
                                 absl::StrCat(NamesOf(call).method, ": ",
                                              fatal_error_.message())),
                      fatal_error_);
  }
  BROOK_RETURN_IF_ERROR(CheckState(call));
  std::deque<absl::Status>& injected = injected_[static_cast<int>(call)];
  if (injected.empty()) return absl::OkStatus();
  absl::Status status = std::move(injected.front());
  injected.pop_front();
  return Fail(std::move(status));
}

absl::Status FakeProducer::CheckState(Call call) const {
  const char* method = NamesOf(call).method;
  if (!transactional_) {
    if (call == Call::kSend || call == Call::kFlush) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(method, " on a non-transactional producer"));
  }
  if (call == Call::kFlush) return absl::OkStatus();
  if (state_ == State::kUninitialized && call != Call::kInit) {
    return absl::FailedPreconditionError(
        absl::StrCat(method, " before InitTransactions()"));
  }
  return CheckTransactionalState(call);
}

absl::Status FakeProducer::CheckTransactionalState(Call call) const {
  const char* method = NamesOf(call).method;
  switch (call) {
    case Call::kInit:
      if (state_ == State::kUninitialized) return absl::OkStatus();
      return absl::FailedPreconditionError(
          "InitTransactions() called a second time");
    case Call::kBegin:
      if (state_ == State::kReady) return absl::OkStatus();
      return absl::FailedPreconditionError(
          "BeginTransaction() while a transaction is open");
    case Call::kSend:
    case Call::kSendOffsets:
    case Call::kCommit:
      if (state_ == State::kAbortableError) {
        return WithCodeOf(
            KafkaError(KafkaErrorClass::kAbortable,
                       absl::StrCat(method,
                                    ": the transaction must be aborted after '",
                                    abortable_error_.message(), "'")),
            abortable_error_);
      }
      [[fallthrough]];
    case Call::kAbort:
      if (in_transaction()) return absl::OkStatus();
      return absl::FailedPreconditionError(
          absl::StrCat(method, " without an open transaction"));
    case Call::kFlush:
      break;
  }
  return absl::OkStatus();
}

absl::Status FakeProducer::Fail(absl::Status status) {
  if (IsFatal(status)) {
    EnterFatal(status);
  } else if (IsTransactionAbortable(status) && in_transaction()) {
    if (state_ != State::kAbortableError) abortable_error_ = status;
    state_ = State::kAbortableError;
  }
  return status;
}

void FakeProducer::EnterFatal(absl::Status status) {
  if (state_ == State::kFatal) return;
  DiscardTransaction();
  fatal_error_ = std::move(status);
  state_ = State::kFatal;
}

void FakeProducer::DiscardTransaction() {
  std::set<TopicPartition> written;
  for (ProducerRecord& record : pending_records_) {
    written.insert({record.topic, record.partition});
    kafka_->Discard(std::move(record));
  }
  for (const TopicPartition& tp : written) {
    if (kafka_->FindLog(tp) != nullptr) kafka_->AppendMarker(tp);
  }
  pending_records_.clear();
  pending_offsets_.clear();
}

}  // namespace brook::testing
