// The nodes a task runs: a source deserializes, a processor node runs user
// code, a sink serializes and sends. Nodes pass typed Record<K, V> objects by
// pointer through ProcessErased(); the topology checked at build time that
// each parent's output types are its children's input types, so the
// static_casts here are safe.
// Threading model: owned by one task, used on its stream thread only.
#ifndef BROOK_RUNTIME_INTERNAL_PROCESSOR_NODE_H_
#define BROOK_RUNTIME_INTERNAL_PROCESSOR_NODE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/consumer_record.h"
#include "brook/kafka/producer_record.h"
#include "brook/runtime/internal/task_context.h"
#include "brook/runtime/processor.h"
#include "brook/runtime/record.h"
#include "brook/runtime/serde.h"

namespace brook::internal {

class ProcessorNode {
 public:
  explicit ProcessorNode(std::string name) : name_(std::move(name)) {}
  virtual ~ProcessorNode() = default;

  const std::string& name() const { return name_; }
  const std::vector<ProcessorNode*>& children() const { return children_; }
  void AddChild(ProcessorNode* child) { children_.push_back(child); }

  virtual absl::Status Init(TaskContext* task) {
    task_ = task;
    return absl::OkStatus();
  }
  virtual void Close() {}

  // REQUIRES: `record` points to a Record of this node's input types.
  virtual absl::Status ProcessErased(const void* record) = 0;

 protected:
  template <typename K, typename V>
  absl::Status ForwardToChildren(const Record<K, V>& record) {
    for (ProcessorNode* child : children_) {
      BROOK_RETURN_IF_ERROR(child->ProcessErased(&record));
    }
    return absl::OkStatus();
  }

  TaskContext* task_ = nullptr;

 private:
  const std::string name_;
  std::vector<ProcessorNode*> children_;
};

// Entry point of a task's records: turns bytes into a typed record.
class SourceNodeBase : public ProcessorNode {
 public:
  using ProcessorNode::ProcessorNode;
  absl::Status ProcessErased(const void*) override {
    return absl::InternalError("a source node has no parents");
  }
  // Deserializes `raw` and keeps the result for ForwardDeserialized(). An
  // error names the failing part (key or value); the task adds topic,
  // partition and offset. Apart so that the task can tell a deserialization
  // error from a processing error (runtime/error_handlers.h).
  virtual absl::Status Deserialize(const ConsumerRecord& raw,
                                   int64_t timestamp_ms) = 0;
  // Forwards what the last Deserialize() made, then drops it.
  // REQUIRES: the last Deserialize() succeeded.
  virtual absl::Status ForwardDeserialized() = 0;
  // Both.
  absl::Status ProcessRaw(const ConsumerRecord& raw, int64_t timestamp_ms) {
    BROOK_RETURN_IF_ERROR(Deserialize(raw, timestamp_ms));
    return ForwardDeserialized();
  }
};

template <typename K, typename V>
class SourceNode final : public SourceNodeBase {
 public:
  SourceNode(std::string name, SerdePtr<K> key_serde, SerdePtr<V> value_serde)
      : SourceNodeBase(std::move(name)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)) {}

  absl::Status Deserialize(const ConsumerRecord& raw,
                           int64_t timestamp_ms) override {
    pending_.reset();
    Record<K, V> record;
    record.timestamp_ms = timestamp_ms;
    if (raw.key.has_value()) {
      absl::StatusOr<K> key = key_serde_->Deserialize(raw.topic, *raw.key);
      if (!key.ok()) return Annotate("key", key.status());
      record.key = *std::move(key);
    }
    if (raw.value.has_value()) {
      absl::StatusOr<V> value =
          value_serde_->Deserialize(raw.topic, *raw.value);
      if (!value.ok()) return Annotate("value", value.status());
      record.value = *std::move(value);
    }
    record.headers = raw.headers;
    pending_ = std::move(record);
    return absl::OkStatus();
  }

  absl::Status ForwardDeserialized() override {
    CHECK(pending_.has_value())
        << "source '" << name() << "': nothing deserialized to forward";
    Record<K, V> record = *std::move(pending_);
    pending_.reset();
    return ForwardToChildren(record);
  }

 private:
  absl::Status Annotate(absl::string_view part, const absl::Status& s) const {
    return absl::InvalidArgumentError(absl::StrCat("source '", name(),
                                                   "' cannot deserialize the ",
                                                   part, ": ", s.message()));
  }

  const SerdePtr<K> key_serde_;
  const SerdePtr<V> value_serde_;
  std::optional<Record<K, V>> pending_;
};

// The context a processor node hands its user processor.
template <typename KOut, typename VOut>
class NodeContext final : public ProcessorContext<KOut, VOut> {
 public:
  explicit NodeContext(ProcessorNode* node) : node_(node) {}
  void set_task(TaskContext* task) { task_ = task; }

  absl::Status Forward(const Record<KOut, VOut>& record) override {
    for (ProcessorNode* child : node_->children()) {
      BROOK_RETURN_IF_ERROR(child->ProcessErased(&record));
    }
    return absl::OkStatus();
  }
  absl::Status Forward(const Record<KOut, VOut>& record,
                       absl::string_view child_name) override {
    for (ProcessorNode* child : node_->children()) {
      if (child->name() == child_name) return child->ProcessErased(&record);
    }
    return absl::NotFoundError(absl::StrCat(
        "processor '", node_->name(), "' has no child '", child_name, "'"));
  }
  absl::StatusOr<Cancellable> Schedule(absl::Duration interval,
                                       PunctuationType type,
                                       Punctuator punctuator) override {
    return task_->Schedule(node_, interval, type, std::move(punctuator));
  }
  absl::StatusOr<StateStore*> GetStateStore(absl::string_view name) override {
    return task_->GetStateStore(*node_, name);
  }
  const std::optional<RecordMetadata>& record_metadata() const override {
    return task_->record_metadata();
  }
  const TaskId& task_id() const override { return task_->task_id(); }
  const std::string& application_id() const override {
    return task_->application_id();
  }
  int64_t current_stream_time_ms() const override {
    return task_->stream_time_ms();
  }
  int64_t current_system_time_ms() const override {
    return task_->system_time_ms();
  }
  void RequestCommit() override { task_->RequestCommit(); }
  void RegisterCommitHook(std::function<absl::Status()> hook) override {
    task_->RegisterCommitHook(node_, std::move(hook));
  }
  void RegisterBackgroundWork(BackgroundWork work) override {
    task_->RegisterBackgroundWork(node_, std::move(work));
  }
  int64_t cache_max_bytes() const override { return task_->cache_max_bytes(); }
  void RecordDropped(DroppedRecordReason reason) override {
    task_->RecordDropped(*node_, reason);
  }

 private:
  ProcessorNode* const node_;
  TaskContext* task_ = nullptr;
};

// Runs one user processor.
template <typename KIn, typename VIn, typename KOut, typename VOut>
class ProcessorNodeImpl final : public ProcessorNode {
 public:
  ProcessorNodeImpl(std::string name,
                    std::unique_ptr<Processor<KIn, VIn, KOut, VOut>> processor)
      : ProcessorNode(std::move(name)),
        processor_(std::move(processor)),
        context_(this) {}

  absl::Status Init(TaskContext* task) override {
    BROOK_RETURN_IF_ERROR(ProcessorNode::Init(task));
    context_.set_task(task);
    absl::Status s = processor_->Init(context_);
    if (!s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("processor '", name(),
                                 "' failed to initialize: ", s.message()));
    }
    return absl::OkStatus();
  }
  void Close() override { processor_->Close(); }
  absl::Status ProcessErased(const void* record) override {
    return processor_->Process(*static_cast<const Record<KIn, VIn>*>(record));
  }

 private:
  const std::unique_ptr<Processor<KIn, VIn, KOut, VOut>> processor_;
  NodeContext<KOut, VOut> context_;
};

// Chooses an output partition; nullopt leaves it to the producer's
// partitioner (murmur2 of the key bytes, as Kafka's Java producer does).
template <typename K, typename V>
using StreamPartitioner = std::function<std::optional<int32_t>(
    const std::string& topic, const Record<K, V>& record)>;

// Chooses the topic of each record a sink writes (Kafka Streams'
// TopicNameExtractor). `metadata` is where the input record came from
// (nullopt in a punctuator). An error fails the record's processing, named
// after the sink. The topic must exist: the sink checks it once per topic
// (RecordCollector::CheckTopicExists) and fails with kNotFound naming it;
// an empty name is kInvalidArgument. Internal topics are not renamed here:
// return full names.
template <typename K, typename V>
using TopicNameExtractor = std::function<absl::StatusOr<std::string>(
    const Record<K, V>& record, const std::optional<RecordMetadata>& metadata)>;

// The untyped part of a sink: its topic, which the plan may rename after
// the node is made (an internal topic gets the application id as prefix).
class SinkNodeBase : public ProcessorNode {
 public:
  SinkNodeBase(std::string name, std::string topic)
      : ProcessorNode(std::move(name)), topic_(std::move(topic)) {}
  const std::string& topic() const { return topic_; }
  void set_topic(std::string topic) { topic_ = std::move(topic); }

 protected:
  std::string topic_;
};

template <typename K, typename V>
class SinkNode final : public SinkNodeBase {
 public:
  // With an `extractor`, each record's topic is extractor(record, ...) and
  // `topic` is unused.
  SinkNode(std::string name, std::string topic, SerdePtr<K> key_serde,
           SerdePtr<V> value_serde, StreamPartitioner<K, V> partitioner,
           TopicNameExtractor<K, V> extractor = nullptr)
      : SinkNodeBase(std::move(name), std::move(topic)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        partitioner_(std::move(partitioner)),
        extractor_(std::move(extractor)) {}

  absl::Status ProcessErased(const void* erased) override {
    const auto& record = *static_cast<const Record<K, V>*>(erased);
    ProducerRecord out;
    if (extractor_) {
      absl::StatusOr<std::string> topic =
          extractor_(record, task_->record_metadata());
      absl::Status s = topic.status();
      if (s.ok() && topic->empty()) {
        s = absl::InvalidArgumentError(
            "its topic name extractor returned an empty topic name");
      }
      if (s.ok()) s = task_->collector().CheckTopicExists(*topic);
      if (!s.ok()) {
        return absl::Status(s.code(),
                            absl::StrCat("sink '", name(), "': ", s.message()));
      }
      out.topic = *std::move(topic);
    } else {
      out.topic = topic_;
    }
    if (record.key.has_value())
      out.key = key_serde_->Serialize(out.topic, *record.key);
    if (record.value.has_value()) {
      out.value = value_serde_->Serialize(out.topic, *record.value);
    }
    out.timestamp_ms = record.timestamp_ms > 0 ? record.timestamp_ms : 0;
    out.headers = record.headers;
    if (partitioner_) {
      if (std::optional<int32_t> p = partitioner_(out.topic, record))
        out.partition = *p;
    }
    return task_->collector().Send(out);
  }

 private:
  const SerdePtr<K> key_serde_;
  const SerdePtr<V> value_serde_;
  const StreamPartitioner<K, V> partitioner_;
  const TopicNameExtractor<K, V> extractor_;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_PROCESSOR_NODE_H_
