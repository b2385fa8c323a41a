#include "brook/runtime/internal/stream_task.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/base/status_util.h"

namespace brook::internal {

const std::optional<RecordMetadata> StreamTask::no_metadata_;

std::vector<RecordQueue> StreamTask::MakeQueues(
    const TopologyPlan& plan, const std::vector<TopicPartition>& tps,
    const TimestampExtractor& fallback) {
  std::vector<RecordQueue> queues;
  for (const TopicPartition& tp : tps) {
    TimestampExtractor extractor = fallback;
    if (auto route = plan.RouteFor(tp.topic)) {
      const NodeSpec& source = plan.nodes()[route->node];
      if (source.timestamp_extractor) extractor = source.timestamp_extractor;
    }
    queues.emplace_back(tp, std::move(extractor));
  }
  return queues;
}

StreamTask::StreamTask(TaskId id, std::shared_ptr<const TopologyPlan> plan,
                       std::vector<TopicPartition> partitions,
                       TaskOptions options, RecordCollector* collector)
    : id_(id),
      plan_(std::move(plan)),
      partitions_(std::move(partitions)),
      options_(std::move(options)),
      collector_(collector),
      group_(MakeQueues(*plan_, partitions_,
                        options_.default_timestamp_extractor)) {}

StreamTask::~StreamTask() { Close(CloseMode::kDirty); }

absl::Status StreamTask::Initialize() {
  BROOK_RETURN_IF_ERROR(InitializeStores());
  return InitializeTopology();
}

absl::Status StreamTask::InitializeStores() {
  if (state_ != State::kCreated) return absl::OkStatus();
  const SubTopologyPlan& sub = plan_->subtopologies()[id_.subtopology];
  std::string task_dir =
      absl::StrCat(options_.state_directory, "/", id_.ToString());
  if (options_.state_dir != nullptr && !sub.stores.empty()) {
    BROOK_ASSIGN_OR_RETURN(
        task_dir_, options_.state_dir->LockTaskDirectory(id_.ToString()));
    task_dir = task_dir_->path();
  }
  for (const std::string& name : sub.stores) {
    const StoreBuilder& builder = *plan_->stores().at(name);
    std::unique_ptr<StateStore> store = builder.Build(options_.store_context);
    if (options_.store_latency_metrics) store->EnableLatencyMetrics();
    absl::Status opened = store->Open(task_dir);
    if (absl::IsDataLoss(opened)) {
      LOG(WARNING) << "task " << id_.ToString() << ": state store '" << name
                   << "' is corrupt (" << opened.message()
                   << "); wiping it and restoring it from its changelog";
      BROOK_RETURN_IF_ERROR(store->Wipe());
      opened = store->Open(task_dir);
    }
    if (!opened.ok()) {
      ReleaseStores();  // so that a retry starts from scratch
      return absl::Status(opened.code(), absl::StrCat("task ", id_.ToString(),
                                                      ": state store '", name,
                                                      "': ", opened.message()));
    }
    if (builder.logging_enabled()) {
      auto logger = std::make_unique<StoreChangeLogger>(
          TopicPartition{ChangelogTopic(options_.application_id, name),
                         id_.partition},
          collector_, [this] { return current_timestamp_ms_; });
      store->SetChangeSink(logger.get());
      loggers_[name] = std::move(logger);
    }
    stores_[name] = std::move(store);
  }
  state_ = State::kRestoring;
  return absl::OkStatus();
}

void StreamTask::ReleaseStores() {
  for (auto& [name, store] : stores_) {
    store->Abort();
    store->Close();
  }
  stores_.clear();
  loggers_.clear();
  task_dir_.reset();
  if (state_ == State::kRestoring) state_ = State::kCreated;
}

absl::Status StreamTask::InitializeTopology() {
  if (state_ == State::kRunning) return absl::OkStatus();
  if (state_ != State::kRestoring) {
    return absl::FailedPreconditionError(absl::StrCat(
        "task ", id_.ToString(), ": processors initialised before the stores"));
  }
  const SubTopologyPlan& sub = plan_->subtopologies()[id_.subtopology];
  absl::flat_hash_map<std::string, ProcessorNode*> by_name;
  for (int index : sub.nodes) {
    const NodeSpec& spec = plan_->nodes()[index];
    nodes_.push_back(spec.make());
    by_name[spec.name] = nodes_.back().get();
  }
  for (size_t i = 0; i < sub.nodes.size(); ++i) {
    const NodeSpec& spec = plan_->nodes()[sub.nodes[i]];
    for (const std::string& parent : spec.parents) {
      by_name.at(parent)->AddChild(nodes_[i].get());
    }
    if (spec.kind == NodeSpec::Kind::kSource) {
      auto* source = static_cast<SourceNodeBase*>(nodes_[i].get());
      source_by_queue_.resize(group_.num_queues(), nullptr);
      for (size_t q = 0; q < group_.num_queues(); ++q) {
        auto route = plan_->RouteFor(group_.partition(q).topic);
        if (route && route->node == sub.nodes[i]) source_by_queue_[q] = source;
      }
    }
  }
  // Close() closes the nodes made so far, whether or not Init() succeeded.
  initialized_ = true;
  for (auto& node : nodes_) {
    absl::Status s = node->Init(this);
    if (!s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("task ", id_.ToString(), ": ", s.message()));
    }
  }
  state_ = State::kRunning;
  return absl::OkStatus();
}

bool StreamTask::commit_needed() const {
  if (consumed_any_ || commit_requested_) return true;
  for (const auto& [name, store] : stores_) {
    if (store->has_uncommitted()) return true;
  }
  return false;
}

std::vector<RestoreTarget> StreamTask::RestoreTargets() const {
  std::vector<RestoreTarget> targets;
  for (const auto& [name, logger] : loggers_) {
    targets.push_back({stores_.at(name).get(), logger->changelog()});
  }
  return targets;
}

absl::Status StreamTask::PrepareCommit() {
  if (state_ != State::kRunning) return absl::OkStatus();
  for (auto& [node, hook] : commit_hooks_) {
    absl::Status s = hook();
    if (!s.ok()) {
      return Annotate(
          s, absl::StrCat("task ", id_.ToString(), ": commit hook of '",
                          node->name(), "' failed"));
    }
  }
  return absl::OkStatus();
}

void StreamTask::RegisterCommitHook(ProcessorNode* node,
                                    std::function<absl::Status()> hook) {
  commit_hooks_.emplace_back(node, std::move(hook));
}

absl::Status StreamTask::CommitStores(
    const absl::flat_hash_map<TopicPartition, int64_t>& delivered) {
  for (auto& [name, store] : stores_) {
    std::optional<int64_t> offset;
    auto it = delivered.find(TopicPartition{
        ChangelogTopic(options_.application_id, name), id_.partition});
    if (it != delivered.end()) offset = it->second + 1;
    if (!store->has_uncommitted() && !offset.has_value()) continue;
    absl::Status s = store->Commit(offset);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("task ", id_.ToString(),
                                                 ": committing state store '",
                                                 name, "': ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status StreamTask::AddRecord(ConsumerRecord&& record) {
  return group_.Add(std::move(record));
}

absl::StatusOr<int64_t> StreamTask::Process(int64_t max_records) {
  int64_t processed = 0;
  const int64_t enforced_before = group_.enforced_processing();
  while (processed < max_records && state_ == State::kRunning && accepting() &&
         group_.ReadyToProcess(options_.max_task_idle_ms, options_.lag,
                               options_.clock_ms)) {
    if (!group_.Next(&next_record_)) break;
    BROOK_RETURN_IF_ERROR(ProcessOne(next_record_));
    ++processed;
    BROOK_RETURN_IF_ERROR(stream_time_punctuation_.MayPunctuate(
        group_.stream_time(),
        [this](ProcessorNode* n, const Punctuator& p, int64_t ts) {
          return RunPunctuator(n, p, ts);
        }));
  }
  processed_total_ += processed;
  if (const int64_t enforced = group_.enforced_processing() - enforced_before;
      enforced > 0 && options_.on_enforced_processing) {
    options_.on_enforced_processing(enforced);
  }
  return processed;
}

absl::Status StreamTask::ProcessOne(const StampedRecord& stamped) {
  const ConsumerRecord& r = stamped.record;
  if (!metadata_.has_value()) metadata_.emplace();
  metadata_->topic.assign(r.topic);
  metadata_->partition = r.partition;
  metadata_->offset = r.offset;
  has_metadata_ = true;
  current_timestamp_ms_ = stamped.timestamp_ms;
  current_input_ = &r;
  current_dead_lettered_ = false;
  send_error_ = absl::OkStatus();
  SourceNodeBase* source = stamped.queue_index < source_by_queue_.size()
                               ? source_by_queue_[stamped.queue_index]
                               : nullptr;
  absl::Status s;
  if (source == nullptr) {
    s = absl::InternalError("no source node reads this topic");
  } else {
    const std::string& node = source->name();
    s = source->Deserialize(r, stamped.timestamp_ms);
    if (!s.ok()) {
      s = HandleRecordError(RecordErrorKind::kDeserialization, node, &r, s);
    } else {
      s = source->ForwardDeserialized();
      // An error a send met is Kafka's, or a production error the handler
      // failed on: no processing handler may turn it into a skip.
      if (!send_error_.ok()) {
        s = send_error_;
      } else if (!s.ok()) {
        s = HandleRecordError(RecordErrorKind::kProcessing, node, &r, s);
      }
    }
  }
  has_metadata_ = false;
  current_input_ = nullptr;
  if (!s.ok()) {
    return Annotate(
        s, absl::StrCat("task ", id_.ToString(), " failed processing ", r.topic,
                        "-", r.partition, "@", r.offset));
  }
  if (consumed_.size() != group_.num_queues()) {
    consumed_.assign(group_.num_queues(), -1);
  }
  consumed_[stamped.queue_index] = r.offset + 1;
  consumed_any_ = true;
  return absl::OkStatus();
}

int64_t RecordBatchSizeUpperBound(const ProducerRecord& record) {
  // A v2 batch header is 61 bytes. A record in it: its length, attributes,
  // timestamp delta, offset delta, key length, value length and header
  // count, each a varint of at most 10 bytes (5 for 32-bit ones), and two
  // varint lengths per header.
  constexpr int64_t kBatchHeader = 61;
  constexpr int64_t kRecordOverhead = 5 + 1 + 10 + 5 + 5 + 5 + 5;
  int64_t size = kBatchHeader + kRecordOverhead;
  if (record.key.has_value()) size += record.key->size();
  if (record.value.has_value()) size += record.value->size();
  for (const auto& [key, value] : record.headers) {
    size += 10 + key.size() + value.size();
  }
  return size;
}

std::optional<int64_t> StreamTask::SinkCollector::LimitFor(
    const std::string& topic) {
  if (!limit_known_ || topic != limit_topic_) {
    limit_ = task_->options_.max_record_bytes(topic);
    limit_topic_ = topic;
    limit_known_ = true;
  }
  return limit_;
}

absl::Status StreamTask::SinkCollector::Send(const ProducerRecord& record) {
  StreamTask& task = *task_;
  if (task.options_.max_record_bytes) {
    const std::optional<int64_t> limit = LimitFor(record.topic);
    const int64_t size = RecordBatchSizeUpperBound(record);
    if (limit.has_value() && size > *limit) {
      // Found before sending: the transaction is still committable, so the
      // handler may skip the record.
      absl::Status too_large = absl::InvalidArgumentError(absl::StrCat(
          "an output record of up to ", size, " bytes for topic '",
          record.topic, "' exceeds its limit of ", *limit,
          " bytes (the topic's max.message.bytes or the producer's "
          "message.max.bytes)"));
      absl::Status s =
          task.HandleRecordError(RecordErrorKind::kProduction, record.topic,
                                 task.current_input_, too_large, &record);
      if (!s.ok() && task.send_error_.ok()) task.send_error_ = s;
      return s;
    }
  }
  absl::Status s = task.collector_->Send(record);
  if (!s.ok() && task.send_error_.ok()) task.send_error_ = s;
  return s;
}

absl::Status StreamTask::HandleRecordError(RecordErrorKind kind,
                                           const std::string& node,
                                           const ConsumerRecord* input,
                                           const absl::Status& error,
                                           const ProducerRecord* output) {
  const RecordErrorPolicies& policies = options_.error_policies;
  const RecordErrorHandler& handler =
      kind == RecordErrorKind::kDeserialization ? policies.deserialization
      : kind == RecordErrorKind::kProcessing    ? policies.processing
                                                : policies.production;
  ErrorHandlerResponse response = ErrorHandlerResponse::kFail;
  if (handler) {
    response = handler(RecordErrorContext{.kind = kind,
                                          .task_id = id_,
                                          .node = node,
                                          .error = error,
                                          .input = input,
                                          .output = output});
  }
  switch (response) {
    case ErrorHandlerResponse::kFail:
      return Annotate(error, absl::StrCat(RecordErrorKindName(kind),
                                          " (the handler chose to fail)"));
    case ErrorHandlerResponse::kContinue:
      LogRecordError(kind, response, input, error);
      ++dropped_[static_cast<int>(kind) +
                 static_cast<int>(DroppedRecordReason::kDeserializationError)];
      if (options_.on_dropped_record) {
        options_.on_dropped_record(static_cast<DroppedRecordReason>(
            static_cast<int>(kind) +
            static_cast<int>(DroppedRecordReason::kDeserializationError)));
      }
      return absl::OkStatus();
    case ErrorHandlerResponse::kDeadLetter:
      if (input == nullptr) {
        return Annotate(error,
                        absl::StrCat(RecordErrorKindName(kind),
                                     " in a punctuator: the handler chose the "
                                     "dead-letter queue, but there is no input "
                                     "record to write to it"));
      }
      if (current_dead_lettered_) return absl::OkStatus();
      BROOK_RETURN_IF_ERROR(WriteDeadLetter(kind, node, *input, error));
      current_dead_lettered_ = true;
      LogRecordError(kind, response, input, error);
      return absl::OkStatus();
  }
  return error;
}

absl::Status StreamTask::WriteDeadLetter(RecordErrorKind kind,
                                         const std::string& node,
                                         const ConsumerRecord& input,
                                         const absl::Status& error) {
  const std::string& topic = options_.error_policies.dead_letter_queue_topic;
  if (topic.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(RecordErrorKindName(kind),
                     ": the handler chose the dead-letter queue, but "
                     "errors.dead.letter.queue.topic.name is not set (",
                     error.message(), ")"));
  }
  ProducerRecord out{.topic = topic,
                     .key = input.key,
                     .value = input.value,
                     .timestamp_ms = std::max<int64_t>(input.timestamp_ms, 0),
                     .headers = input.headers};
  out.headers.emplace_back(kDlqHeaderException,
                           absl::StatusCodeToString(error.code()));
  out.headers.emplace_back(kDlqHeaderMessage, std::string(error.message()));
  out.headers.emplace_back(kDlqHeaderTopic, input.topic);
  out.headers.emplace_back(kDlqHeaderPartition, absl::StrCat(input.partition));
  out.headers.emplace_back(kDlqHeaderOffset, absl::StrCat(input.offset));
  out.headers.emplace_back(kDlqHeaderKind, RecordErrorKindName(kind));
  out.headers.emplace_back(kDlqHeaderTask, id_.ToString());
  out.headers.emplace_back(kDlqHeaderNode, node);
  // The thread's producer: under exactly-once the same transaction as the
  // input record's offset, which ProcessOne() marks consumed next.
  absl::Status s = collector_->Send(out);
  if (!s.ok()) {
    if (send_error_.ok()) send_error_ = s;
    return Annotate(
        s, absl::StrCat("writing to the dead-letter topic '", topic, "'"));
  }
  ++dead_lettered_[static_cast<int>(kind)];
  if (options_.on_dead_letter) options_.on_dead_letter(kind);
  return absl::OkStatus();
}

void StreamTask::LogRecordError(RecordErrorKind kind,
                                ErrorHandlerResponse response,
                                const ConsumerRecord* input,
                                const absl::Status& error) {
  constexpr int64_t kLogIntervalMs = 10'000;
  ++record_errors_since_log_;
  const int64_t now = options_.clock_ms ? options_.clock_ms() : 0;
  if (last_record_error_log_ms_ >= 0 &&
      now - last_record_error_log_ms_ < kLogIntervalMs) {
    return;
  }
  std::string where = " (in a punctuator)";
  if (input != nullptr) {
    where = absl::StrCat(" (input ", input->topic, "-", input->partition, "@",
                         input->offset, ")");
  }
  LOG(WARNING) << "task " << id_.ToString() << ": " << RecordErrorKindName(kind)
               << where << ": " << error.message() << "; record "
               << (response == ErrorHandlerResponse::kContinue
                       ? "skipped"
                       : "written to the dead-letter topic")
               << "; " << record_errors_since_log_
               << " record errors handled since the last message";
  record_errors_since_log_ = 0;
  last_record_error_log_ms_ = now;
}

bool StreamTask::accepting() const {
  for (const auto& [node, work] : background_work_) {
    if (!work.accepting()) return false;
  }
  return true;
}

void StreamTask::RegisterBackgroundWork(ProcessorNode* node,
                                        BackgroundWork work) {
  background_work_.emplace_back(node, std::move(work));
}

absl::Status StreamTask::PollBackgroundWork() {
  if (state_ != State::kRunning || background_work_.empty()) {
    return absl::OkStatus();
  }
  BackgroundWorkStats stats;
  for (auto& [node, work] : background_work_) {
    absl::Status s = work.poll(&stats);
    if (!s.ok()) {
      return Annotate(s, absl::StrCat("task ", id_.ToString(), ": '",
                                      node->name(), "' failed"));
    }
  }
  if (options_.on_background_work && stats.completed > 0) {
    options_.on_background_work(stats);
  }
  return absl::OkStatus();
}

int64_t StreamTask::background_in_flight() const {
  int64_t total = 0;
  for (const auto& [node, work] : background_work_) total += work.in_flight();
  return total;
}

absl::Status StreamTask::PunctuateWallClock() {
  // Only running tasks punctuate (their processors are initialised).
  if (state_ != State::kRunning) return absl::OkStatus();
  return wall_clock_punctuation_.MayPunctuate(
      options_.clock_ms(),
      [this](ProcessorNode* n, const Punctuator& p, int64_t ts) {
        return RunPunctuator(n, p, ts);
      });
}

absl::Status StreamTask::RunPunctuator(ProcessorNode* node, const Punctuator& p,
                                       int64_t timestamp) {
  current_timestamp_ms_ = timestamp;
  absl::Status s = p(timestamp);
  return Annotate(s, absl::StrCat("task ", id_.ToString(), ": punctuation of '",
                                  node->name(), "' failed"));
}

absl::StatusOr<Cancellable> StreamTask::Schedule(ProcessorNode* node,
                                                 absl::Duration interval,
                                                 PunctuationType type,
                                                 Punctuator punctuator) {
  const int64_t interval_ms = absl::ToInt64Milliseconds(interval);
  if (interval_ms < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "processor '", node->name(), "' scheduled a punctuation every ",
        absl::FormatDuration(interval), "; the interval must be at least 1ms"));
  }
  if (type == PunctuationType::kStreamTime) {
    return stream_time_punctuation_.Schedule(
        node, group_.stream_time(), interval_ms, std::move(punctuator));
  }
  return wall_clock_punctuation_.Schedule(node, options_.clock_ms(),
                                          interval_ms, std::move(punctuator));
}

absl::StatusOr<StateStore*> StreamTask::GetStateStore(const ProcessorNode& node,
                                                      absl::string_view name) {
  auto it = stores_.find(name);
  if (it == stores_.end() || !plan_->IsConnected(node.name(), name)) {
    return absl::NotFoundError(
        absl::StrCat("processor '", node.name(), "' has no state store '", name,
                     "'; connect it with Topology::AddStateStore"));
  }
  return it->second.get();
}

std::vector<TopicPartitionOffset> StreamTask::UncommittedOffsets() const {
  std::vector<TopicPartitionOffset> offsets;
  for (size_t q = 0; q < consumed_.size(); ++q) {
    if (consumed_[q] >= 0)
      offsets.push_back({group_.partition(q), consumed_[q]});
  }
  return offsets;
}

std::map<std::string, StateStoreMetrics> StreamTask::StoreMetrics() const {
  std::map<std::string, StateStoreMetrics> metrics;
  for (const auto& [name, store] : stores_) metrics[name] = store->Metrics();
  return metrics;
}

void StreamTask::MarkCommitted() {
  consumed_.clear();
  consumed_any_ = false;
  commit_requested_ = false;
}

void StreamTask::RecordDropped(const ProcessorNode& node,
                               DroppedRecordReason reason) {
  constexpr int64_t kDropLogIntervalMs = 10'000;
  ++dropped_[static_cast<int>(reason)];
  ++drops_since_log_;
  if (options_.on_dropped_record) options_.on_dropped_record(reason);
  const int64_t now = options_.clock_ms ? options_.clock_ms() : 0;
  if (last_drop_log_ms_ >= 0 && now - last_drop_log_ms_ < kDropLogIntervalMs) {
    return;
  }
  std::string where;
  if (has_metadata_) {
    where = absl::StrCat(" (input ", metadata_->topic, "-",
                         metadata_->partition, "@", metadata_->offset, ")");
  }
  LOG(WARNING) << "task " << id_.ToString() << ": processor '" << node.name()
               << "' dropped a record" << where
               << ", reason: " << DroppedRecordReasonName(reason) << "; "
               << drops_since_log_ << " dropped since the last message, "
               << "metric dropped-records";
  drops_since_log_ = 0;
  last_drop_log_ms_ = now;
}

void StreamTask::Close(CloseMode mode) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  // What the hooks held back is dropped on a dirty close; after a clean
  // one (which follows a commit) they hold nothing.
  commit_hooks_.clear();
  background_work_.clear();
  if (initialized_) {
    for (auto& node : nodes_) node->Close();
  }
  for (auto& [name, store] : stores_) {
    if (mode == CloseMode::kDirty) store->Abort();
    store->Close();
  }
  stores_.clear();
  loggers_.clear();
  task_dir_.reset();
  if (mode == CloseMode::kDirty) {
    group_.Clear();
    consumed_.clear();
    consumed_any_ = false;
  }
  stream_time_punctuation_.Clear();
  wall_clock_punctuation_.Clear();
}

}  // namespace brook::internal
