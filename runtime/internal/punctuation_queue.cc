#include "brook/runtime/internal/punctuation_queue.h"

#include <algorithm>

#include "brook/base/status_macros.h"

namespace brook::internal {

Cancellable PunctuationQueue::Schedule(ProcessorNode* node, int64_t now_ms,
                                       int64_t interval_ms,
                                       Punctuator punctuator) {
  auto cancelled = std::make_shared<bool>(false);
  schedules_.push_back({node, interval_ms,
                        now_ms < 0 ? -1 : now_ms + interval_ms,
                        std::move(punctuator), cancelled});
  return Cancellable(cancelled);
}

absl::Status PunctuationQueue::MayPunctuate(
    int64_t now_ms,
    const std::function<absl::Status(ProcessorNode*, const Punctuator&,
                                     int64_t)>& run) {
  if (now_ms < 0) return absl::OkStatus();
  schedules_.erase(
      std::remove_if(schedules_.begin(), schedules_.end(),
                     [](const Schedule_& s) { return *s.cancelled; }),
      schedules_.end());
  // Index loop: a punctuator may schedule more punctuations.
  for (size_t i = 0; i < schedules_.size(); ++i) {
    if (schedules_[i].next_ms < 0) {
      schedules_[i].next_ms = now_ms + schedules_[i].interval_ms;
      continue;
    }
    if (*schedules_[i].cancelled || schedules_[i].next_ms > now_ms) continue;
    const int64_t interval = schedules_[i].interval_ms;
    const int64_t behind = (now_ms - schedules_[i].next_ms) / interval + 1;
    schedules_[i].next_ms += behind * interval;
    Punctuator punctuator = schedules_[i].punctuator;
    BROOK_RETURN_IF_ERROR(run(schedules_[i].node, punctuator, now_ms));
  }
  return absl::OkStatus();
}

}  // namespace brook::internal
