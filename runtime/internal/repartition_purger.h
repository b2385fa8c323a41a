// RepartitionPurger: deletes the consumed records of repartition topics once
// their offsets are committed, as Kafka Streams does
// (repartition.purge.interval.ms). A repartition topic is written and read
// only by this application, so what the group has committed is never read
// again; without the purge the topic grows for its whole retention.
//
// The DeleteRecords calls run on a background thread of the purger's own, so
// a slow or unreachable broker never holds up the stream thread's loop. A
// failure is logged and counted; the next commit offers newer offsets.
//
// Threading model: Offer() and the counters may be called from any thread
// (the owning stream thread in practice); one background thread makes the
// Admin client and calls it. The destructor stops and joins that thread.
#ifndef BROOK_RUNTIME_INTERNAL_REPARTITION_PURGER_H_
#define BROOK_RUNTIME_INTERNAL_REPARTITION_PURGER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "brook/kafka/admin.h"
#include "brook/kafka/topic_partition.h"

namespace brook::internal {

class RepartitionPurger {
 public:
  using AdminMaker = std::function<absl::StatusOr<std::unique_ptr<Admin>>()>;

  // Purges at most once per `interval` (zero: after every Offer()). Each
  // DeleteRecords call waits at most `call_timeout`. `name` prefixes logs.
  RepartitionPurger(AdminMaker make_admin, absl::Duration interval,
                    absl::Duration call_timeout, std::string name);
  ~RepartitionPurger();

  RepartitionPurger(const RepartitionPurger&) = delete;
  RepartitionPurger& operator=(const RepartitionPurger&) = delete;

  // Offsets just committed for partitions of repartition topics: records
  // below them may be deleted. A newer offer for a partition replaces an
  // older one that has not been purged yet.
  void Offer(const std::vector<TopicPartitionOffset>& committed);

  // DeleteRecords calls that succeeded, and those that failed.
  int64_t purges() const { return purges_.load(std::memory_order_relaxed); }
  int64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  void Run();

  const AdminMaker make_admin_;
  const absl::Duration interval_;
  const absl::Duration call_timeout_;
  const std::string name_;

  absl::Mutex mu_;
  std::map<TopicPartition, int64_t> pending_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<int64_t> purges_{0};
  std::atomic<int64_t> errors_{0};
  std::thread thread_;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_REPARTITION_PURGER_H_
