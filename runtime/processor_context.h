// ProcessorContext<KOut, VOut>: what a processor sees of the task running it.
//
// Threading model: owned by the task; used only on its stream thread, from
// Init(), Process(), Close() and punctuators.
#ifndef BROOK_RUNTIME_PROCESSOR_CONTEXT_H_
#define BROOK_RUNTIME_PROCESSOR_CONTEXT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "brook/runtime/background_work.h"
#include "brook/runtime/dropped_records.h"
#include "brook/runtime/punctuation.h"
#include "brook/runtime/record.h"
#include "brook/runtime/task_id.h"
#include "brook/state/state_store.h"

namespace brook {

template <typename KOut, typename VOut>
class ProcessorContext {
 public:
  virtual ~ProcessorContext() = default;

  // Sends `record` to every child of this processor, which process it before
  // Forward() returns. Returns the first error a child reported.
  virtual absl::Status Forward(const Record<KOut, VOut>& record) = 0;

  // Sends `record` to the child named `child` only. kNotFound if this
  // processor has no such child.
  virtual absl::Status Forward(const Record<KOut, VOut>& record,
                               absl::string_view child) = 0;

  // Calls `punctuator` every `interval` of stream time or wall-clock time
  // until cancelled or the task closes. REQUIRES: interval >= 1 ms.
  virtual absl::StatusOr<Cancellable> Schedule(absl::Duration interval,
                                               PunctuationType type,
                                               Punctuator punctuator) = 0;

  // The store named `name`, which must be connected to this processor in the
  // topology. kNotFound otherwise.
  virtual absl::StatusOr<StateStore*> GetStateStore(absl::string_view name) = 0;

  // Typed access: kFailedPrecondition if the store is not an S.
  template <typename S>
  absl::StatusOr<S*> GetStateStore(absl::string_view name) {
    absl::StatusOr<StateStore*> store = GetStateStore(name);
    if (!store.ok()) return store.status();
    S* typed = dynamic_cast<S*>(*store);
    if (typed == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("state store '", name, "' has another type"));
    }
    return typed;
  }

  // Where the record being processed came from; nullopt in a punctuator.
  virtual const std::optional<RecordMetadata>& record_metadata() const = 0;

  virtual const TaskId& task_id() const = 0;
  virtual const std::string& application_id() const = 0;

  // Highest event time the task has processed, -1 before the first record.
  virtual int64_t current_stream_time_ms() const = 0;
  virtual int64_t current_system_time_ms() const = 0;

  // Asks for a commit as soon as the current record is done.
  virtual void RequestCommit() = 0;

  // Registers `hook`, which the task calls at the start of each of its
  // commits: before the producer is flushed and the consumed offsets are
  // sent to the transaction (at-least-once: before the flush and the offset
  // commit). Whatever the hook writes to stores and forwards is part of that
  // commit. This is how a processor that holds back updates (the DSL's
  // record cache) writes them out exactly at commit points. Hooks run in the
  // order the processors' Init() ran, which is the topology's node order
  // (parents before children), so a hook's forwards reach a child before the
  // child's own hook runs. An error fails the commit as a processing error
  // fails the task. After an abort or a dirty close the hook is not called:
  // the processor is dropped with the task's uncommitted state, and what it
  // held back with it. A hook runs with no record_metadata(), as a
  // punctuator does. REQUIRES: called from Init().
  virtual void RegisterCommitHook(std::function<absl::Status()> hook) = 0;

  // Registers work this processor runs off the stream thread (see
  // BackgroundWork): the stream thread polls it on every loop iteration and
  // forwards what completed, and the task stops taking records while it is
  // not accepting. Combine it with a commit hook that waits for the work in
  // flight, so that a commit never includes the offset of a record whose
  // output is still pending. Forwards from `poll` run with no
  // record_metadata(), as a punctuator's do. REQUIRES: called from Init().
  virtual void RegisterBackgroundWork(BackgroundWork work) = 0;

  // statestore.cache.max.bytes (StreamsConfig): the byte budget of each
  // record cache that a processor keeps in front of a store; 0: no caching.
  virtual int64_t cache_max_bytes() const = 0;

  // Reports that the processor skipped the current record for `reason`: the
  // task counts it (metric dropped-records, per reason) and logs it at a
  // rate limit. Call it once per skipped record.
  virtual void RecordDropped(DroppedRecordReason reason) = 0;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_PROCESSOR_CONTEXT_H_
