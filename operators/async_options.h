// AsyncOptions: how KStream::MapValuesAsync runs its function off the stream
// thread.
//
// Threading model: a plain value.
#ifndef BROOK_OPERATORS_ASYNC_OPTIONS_H_
#define BROOK_OPERATORS_ASYNC_OPTIONS_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

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
  // Records all the node's tasks in this KafkaStreams instance may hold
  // together, on every stream thread (0: no bound beyond max_in_flight per
  // task). Past it no task of the node takes input until results come
  // back: it bounds the memory and the commit wait of an instance with
  // many tasks. Each task still gets a turn as records complete.
  int max_in_flight_total = 0;
  // The longest one call of the function may run. A call running longer
  // fails the task (kDeadlineExceeded, naming the node and the record's
  // topic, partition and offset), as a hung remote call must not hold the
  // commit, and with it the transaction, forever; the call itself is
  // abandoned on its worker (C++ cannot stop a thread), and its result is
  // dropped. Also bounds how long a commit waits for one call. Keep it
  // well below max.poll.interval.ms, since a commit does not poll while it
  // waits. Default 60 s.
  absl::Duration timeout = absl::Seconds(60);

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
    if (max_in_flight_total < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "AsyncOptions.max_in_flight_total must be 0 (no bound) or "
          "positive, not ",
          max_in_flight_total));
    }
    if (timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("AsyncOptions.timeout must be positive, not ",
                       absl::FormatDuration(timeout)));
    }
    return absl::OkStatus();
  }
};

}  // namespace brook

#endif  // BROOK_OPERATORS_ASYNC_OPTIONS_H_
