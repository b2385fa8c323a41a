// AsyncOptions: how KStream::MapValuesAsync runs its function off the stream
// thread.
//
// Threading model: a plain value.
#ifndef BROOK_OPERATORS_ASYNC_OPTIONS_H_
#define BROOK_OPERATORS_ASYNC_OPTIONS_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace brook {

struct AsyncOptions {
  // Worker threads that run the function, shared by every task of the node
  // in this KafkaStreams instance (not per task, so tasks x parallelism
  // threads are never made). Records of one key never run at the same
  // time, so more workers help only as far as the in-flight records have
  // distinct keys. Default 4: a few slow calls overlap without making
  // threads nobody uses.
  int parallelism = 4;
  // Records of one task the node may hold (queued behind their key or
  // running) before the task stops taking input; its buffers then fill and
  // its partitions are paused, while other tasks go on. Every commit waits
  // until none is left (see KStream::MapValuesAsync), so this also bounds
  // a commit's wait: about max_in_flight x handler latency / parallelism
  // when keys are spread, up to max_in_flight x handler latency when all
  // are one key. Default 64: enough to keep 4 workers busy across a
  // commit interval of a 20 ms handler, small enough for a short commit.
  int max_in_flight = 64;

  absl::Status Validate() const {
    if (parallelism < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "AsyncOptions.parallelism must be at least 1, not ", parallelism));
    }
    if (max_in_flight < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("AsyncOptions.max_in_flight must be at least 1, not ",
                       max_in_flight));
    }
    return absl::OkStatus();
  }
};

}  // namespace brook

#endif  // BROOK_OPERATORS_ASYNC_OPTIONS_H_
