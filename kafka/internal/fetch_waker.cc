#include "brook/kafka/internal/fetch_waker.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"

#include "brook/base/logging.h"

namespace brook::internal {

FetchWaker::FetchWaker(rd_kafka_t* rk) : rk_(rk), thread_([this] { Run(); }) {}

FetchWaker::~FetchWaker() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void FetchWaker::Wake(const std::vector<TopicPartition>& partitions) {
  absl::MutexLock lock(&mu_);
  pending_.insert(partitions.begin(), partitions.end());
}

void FetchWaker::Run() {
  while (true) {
    absl::flat_hash_set<TopicPartition> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](FetchWaker* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
            return w->stop_ || !w->pending_.empty();
          },
          this));
      if (stop_) return;
      batch.swap(pending_);
    }
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(batch.size()));
    for (const TopicPartition& tp : batch) {
      rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition)
          ->offset = RD_KAFKA_OFFSET_END;  // the latest offset
    }
    // The answer does not matter, only that a request reached each leader's
    // broker thread.
    rd_kafka_resp_err_t err =
        rd_kafka_offsets_for_times(rk_, list, /*timeout_ms=*/1000);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      LOG(WARNING) << "waking the fetchers: " << rd_kafka_err2name(err);
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

}  // namespace brook::internal
