// What the processor nodes of a task need from the task that runs them, and
// the RecordCollector sinks write through. StreamTask implements TaskContext;
// tests implement both to drive nodes directly.
// Threading model: used on the task's stream thread only.
#ifndef BROOK_RUNTIME_INTERNAL_TASK_CONTEXT_H_
#define BROOK_RUNTIME_INTERNAL_TASK_CONTEXT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "brook/kafka/producer_record.h"
#include "brook/runtime/background_work.h"
#include "brook/runtime/dropped_records.h"
#include "brook/runtime/punctuation.h"
#include "brook/runtime/record.h"
#include "brook/runtime/task_id.h"
#include "brook/state/state_store.h"

namespace brook::internal {

class ProcessorNode;

// Where sink nodes send their output: the stream thread's producer, inside
// its open transaction under exactly-once.
class RecordCollector {
 public:
  virtual ~RecordCollector() = default;
  virtual absl::Status Send(const ProducerRecord& record) = 0;
  // OK if `topic` exists; kNotFound naming it if not. For sinks that choose
  // their topic per record: start-up validates only the topics a topology
  // names, and a record sent to a missing topic would fail only at
  // delivery, far from its cause. Implementations remember the topics they
  // found, so the check costs a lookup after the first record.
  virtual absl::Status CheckTopicExists(const std::string& topic) = 0;
};

class TaskContext {
 public:
  virtual ~TaskContext() = default;
  virtual const TaskId& task_id() const = 0;
  virtual const std::string& application_id() const = 0;
  virtual const std::optional<RecordMetadata>& record_metadata() const = 0;
  virtual int64_t stream_time_ms() const = 0;
  virtual int64_t system_time_ms() const = 0;
  virtual absl::StatusOr<Cancellable> Schedule(ProcessorNode* node,
                                               absl::Duration interval,
                                               PunctuationType type,
                                               Punctuator punctuator) = 0;
  // The store `name` if `node` is connected to it.
  virtual absl::StatusOr<StateStore*> GetStateStore(const ProcessorNode& node,
                                                    absl::string_view name) = 0;
  virtual void RequestCommit() = 0;
  // See ProcessorContext::RegisterCommitHook.
  virtual void RegisterCommitHook(ProcessorNode* node,
                                  std::function<absl::Status()> hook) = 0;
  // See ProcessorContext::RegisterBackgroundWork.
  virtual void RegisterBackgroundWork(ProcessorNode* node,
                                      BackgroundWork work) = 0;
  virtual int64_t cache_max_bytes() const = 0;
  // `node` skipped its current record (see ProcessorContext::RecordDropped).
  virtual void RecordDropped(const ProcessorNode& node,
                             DroppedRecordReason reason) = 0;
  virtual RecordCollector& collector() = 0;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_TASK_CONTEXT_H_
