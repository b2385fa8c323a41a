// Punctuation: callbacks a processor schedules through its context.
#ifndef BROOK_RUNTIME_PUNCTUATION_H_
#define BROOK_RUNTIME_PUNCTUATION_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"

namespace brook {

enum class PunctuationType {
  // Fires as stream time (the highest event time the task has processed)
  // passes each interval. Stops while no input arrives.
  kStreamTime,
  // Fires as the wall clock passes each interval, checked once per
  // iteration of the stream thread's loop.
  kWallClockTime,
};

// Called with the time that triggered it (stream time or wall-clock time, in
// milliseconds). An error fails the task like a processing error does.
using Punctuator = std::function<absl::Status(int64_t timestamp_ms)>;

// Handle to a scheduled punctuation. Cancel() stops it; dropping the handle
// does not. Threading model: used on the task's stream thread only.
class Cancellable {
 public:
  Cancellable() = default;
  explicit Cancellable(std::shared_ptr<bool> cancelled)
      : cancelled_(std::move(cancelled)) {}
  void Cancel() {
    if (cancelled_) *cancelled_ = true;
  }

 private:
  std::shared_ptr<bool> cancelled_;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_PUNCTUATION_H_
