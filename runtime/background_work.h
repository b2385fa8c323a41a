// BackgroundWork: how a processor that runs work off the stream thread (the
// DSL's MapValuesAsync) lets its task drive it. Registered through
// ProcessorContext::RegisterBackgroundWork.
//
// Threading model: every function is called on the task's stream thread.
#ifndef BROOK_RUNTIME_BACKGROUND_WORK_H_
#define BROOK_RUNTIME_BACKGROUND_WORK_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"

namespace brook {

// What background work completed since the last report, for the stream
// thread's metrics. Times in microseconds.
struct BackgroundWorkStats {
  int64_t completed = 0;
  int64_t handler_micros_total = 0;
  int64_t handler_micros_max = 0;
  // From the record's arrival at the processor to its handler's start: the
  // wait behind earlier records of its key and for a free worker.
  int64_t queue_wait_micros_total = 0;
  int64_t queue_wait_micros_max = 0;

  void Add(const BackgroundWorkStats& other);
};

struct BackgroundWork {
  // Forwards what has completed, without blocking, and adds to `stats` what
  // it forwarded. Called on every iteration of the stream thread's loop
  // while the task runs. An error fails the task as a processing error does.
  std::function<absl::Status(BackgroundWorkStats* stats)> poll;
  // Records accepted by the processor and not forwarded yet. While any task
  // has some, the stream thread polls the consumer with a short timeout.
  std::function<int64_t()> in_flight;
  // False while the processor wants no more input (back-pressure): the task
  // stops taking records, its buffers fill, and its partitions are paused
  // as for any full buffer. Records reach the processor anyway from commit
  // hooks and punctuators upstream of it.
  std::function<bool()> accepting;
};

inline void BackgroundWorkStats::Add(const BackgroundWorkStats& other) {
  completed += other.completed;
  handler_micros_total += other.handler_micros_total;
  queue_wait_micros_total += other.queue_wait_micros_total;
  if (other.handler_micros_max > handler_micros_max)
    handler_micros_max = other.handler_micros_max;
  if (other.queue_wait_micros_max > queue_wait_micros_max)
    queue_wait_micros_max = other.queue_wait_micros_max;
}

}  // namespace brook

#endif  // BROOK_RUNTIME_BACKGROUND_WORK_H_
