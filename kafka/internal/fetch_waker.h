// FetchWaker: restarts librdkafka 2.0.2's fetch of partitions whose queues
// were full, from a thread of its own.
//
// librdkafka 2.0.2 stops fetching a partition whose queue reached its limit
// and reconsiders it only when its broker thread wakes up (a fetch response
// of another partition, or its 1 s idle timeout). Any request queued on a
// broker wakes that thread, so a ListOffsets request for the partition does
// (docs/architecture.md, "Per-partition queues"). The request is a
// synchronous round trip that queues behind the broker's long-polling fetch
// (up to fetch.wait.max.ms); made on the stream thread, it blocked
// processing, and at 60 partitions the wake-ups kept the thread waiting most
// of the time. Here the stream thread only hands the partitions over.
#ifndef BROOK_KAFKA_INTERNAL_FETCH_WAKER_H_
#define BROOK_KAFKA_INTERNAL_FETCH_WAKER_H_

#include <librdkafka/rdkafka.h>

#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

#include "brook/kafka/topic_partition.h"

namespace brook::internal {

// Threading model: Wake() may be called from any thread; the requests run on
// the waker's own thread, at most one batch every 20 ms. `rk` must outlive
// the waker, whose destructor waits for a request in flight (at most 1 s).
class FetchWaker {
 public:
  explicit FetchWaker(rd_kafka_t* rk);
  ~FetchWaker();
  FetchWaker(const FetchWaker&) = delete;
  FetchWaker& operator=(const FetchWaker&) = delete;

  // Never blocks on the network.
  void Wake(const std::vector<TopicPartition>& partitions);

 private:
  void Run();

  rd_kafka_t* const rk_;
  absl::Mutex mu_;
  absl::flat_hash_set<TopicPartition> pending_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace brook::internal

#endif  // BROOK_KAFKA_INTERNAL_FETCH_WAKER_H_
