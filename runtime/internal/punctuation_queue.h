// PunctuationQueue: a task's scheduled punctuations of one type.
// Threading model: owned by one task.
#ifndef BROOK_RUNTIME_INTERNAL_PUNCTUATION_QUEUE_H_
#define BROOK_RUNTIME_INTERNAL_PUNCTUATION_QUEUE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"

#include "brook/runtime/punctuation.h"

namespace brook::internal {

class ProcessorNode;

class PunctuationQueue {
 public:
  // First fires at `now_ms + interval_ms` (or, for a stream-time schedule
  // made before any record, at the first record's time + interval), then
  // every interval. REQUIRES: interval_ms > 0.
  Cancellable Schedule(ProcessorNode* node, int64_t now_ms, int64_t interval_ms,
                       Punctuator punctuator);

  // Runs every punctuation due at `now_ms` (a time < 0 runs nothing), once
  // each even if several intervals passed, and reschedules it after
  // `now_ms`. `run` sets the node context and calls the punctuator.
  absl::Status MayPunctuate(
      int64_t now_ms,
      const std::function<absl::Status(ProcessorNode*, const Punctuator&,
                                       int64_t)>& run);

  bool empty() const { return schedules_.empty(); }
  void Clear() { schedules_.clear(); }

 private:
  struct Schedule_ {
    ProcessorNode* node;
    int64_t interval_ms;
    int64_t next_ms;  // -1: not anchored yet (no stream time at scheduling)
    Punctuator punctuator;
    std::shared_ptr<bool> cancelled;
  };
  std::vector<Schedule_> schedules_;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_PUNCTUATION_QUEUE_H_
