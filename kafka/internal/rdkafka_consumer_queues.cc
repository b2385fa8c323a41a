// RdKafkaConsumer's per-partition queues (StreamsConfig::partition_queues):
// each assigned partition read from its own librdkafka queue, back-pressure
// by not reading, and the wake-ups of fetchers stopped at a full queue.
// The rest of the class is in rdkafka_consumer.cc.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

#include "brook/base/logging.h"
#include "brook/kafka/internal/fetch_waker.h"
#include "brook/kafka/internal/rdkafka_consumer.h"

namespace brook::internal {

absl::Status RdKafkaConsumer::EnablePartitionQueues() {
  if (partition_queues_) return absl::OkStatus();
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("eventfd for partition queues: ", strerror(errno)));
  }
  wakeup_fd_ = fd;
  consumer_queue_.reset(rd_kafka_queue_get_consumer(rk_.get()));
  if (consumer_queue_ == nullptr) {
    return absl::FailedPreconditionError(
        "partition queues need a consumer queue (group.id)");
  }
  static constexpr uint64_t kOne = 1;  // an eventfd reads 8-byte counters
  rd_kafka_queue_io_event_enable(consumer_queue_.get(), wakeup_fd_, &kOne,
                                 sizeof(kOne));
  partition_queues_ = true;
  return absl::OkStatus();
}

void RdKafkaConsumer::SplitQueues(absl::Span<const TopicPartition> partitions) {
  if (!partition_queues_) return;
  static constexpr uint64_t kOne = 1;
  for (const TopicPartition& tp : partitions) {
    RdPtr<rd_kafka_queue_t> q(rd_kafka_queue_get_partition(
        rk_.get(), tp.topic.c_str(), tp.partition));
    if (q == nullptr) continue;  // unknown partition: its errors use Poll()
    // Forwarding to nothing also marks the queue as the application's, so
    // the fetch start that follows the assignment (after the committed
    // offset lookup) no longer forwards it to the consumer queue
    // (rdkafka_partition.c, rd_kafka_toppar_op_fetch_start, 2.0.2).
    rd_kafka_queue_forward(q.get(), nullptr);
    rd_kafka_queue_io_event_enable(q.get(), wakeup_fd_, &kOne, sizeof(kOne));
    queues_[tp] = PartitionQueue{.queue = std::move(q)};
  }
}

absl::StatusOr<size_t> RdKafkaConsumer::PollPartition(
    const TopicPartition& partition, size_t max,
    std::vector<ConsumerRecord>* out) {
  auto it = queues_.find(partition);
  if (it == queues_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "partition ", partition.ToString(), " has no partition queue"));
  }
  if (max == 0) return 0;
  constexpr size_t kBatch = 256;
  rd_kafka_message_t* batch[kBatch];
  auto [next_it, inserted] =
      next_offset_.try_emplace(partition, int64_t{kOffsetInvalid});
  int64_t& next = next_it->second;
  size_t appended = 0;
  while (appended < max) {
    const size_t want = std::min(kBatch, max - appended);
    // Outdated records (fetched before a seek or a reassignment) are
    // discarded by librdkafka here: their op version is below the
    // partition's barrier.
    ssize_t n =
        rd_kafka_consume_batch_queue(it->second.queue.get(), 0, batch, want);
    if (n <= 0) break;
    absl::Status error;
    for (ssize_t i = 0; i < n; ++i) {
      RdPtr<rd_kafka_message_t> msg(batch[i]);
      if (!error.ok()) continue;  // destroy the rest
      if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = MessageError(*msg);
        continue;
      }
      avg_record_bytes_ +=
          (static_cast<double>(msg->len + msg->key_len) - avg_record_bytes_) /
          64;
      if (AcceptOffset(*msg, partition, next)) {
        FillRecord(*msg, partition, &out->emplace_back());
        ++appended;
      }
    }
    if (!error.ok()) return error;
    if (static_cast<size_t>(n) < want) break;
  }
  // Track whether the fetch of this partition stopped at its limit, and
  // restart it once the queue is half drained.
  const int64_t queued =
      static_cast<int64_t>(rd_kafka_queue_length(it->second.queue.get()));
  const double queued_bytes = queued * (avg_record_bytes_ + 64);
  if (queued >= queue_max_records_ || queued_bytes >= 0.9 * queue_max_bytes_) {
    it->second.full = true;
  } else if (it->second.full && queued < queue_max_records_ / 2 &&
             queued_bytes < 0.5 * queue_max_bytes_) {
    it->second.full = false;
    to_wake_.push_back(partition);
  }
  if (!to_wake_.empty()) WakeFetchers();
  return appended;
}

void RdKafkaConsumer::WakeFetchers() {
  if (fetch_waker_ == nullptr) {
    fetch_waker_ = std::make_unique<FetchWaker>(rk_.get());
  }
  fetch_waker_->Wake(to_wake_);
  to_wake_.clear();
}

size_t RdKafkaConsumer::PartitionQueueLength(const TopicPartition& partition) {
  auto it = queues_.find(partition);
  return it == queues_.end() ? 0
                             : rd_kafka_queue_length(it->second.queue.get());
}

void RdKafkaConsumer::WaitForData(absl::Duration timeout) {
  if (!partition_queues_) return;
  pollfd p{.fd = wakeup_fd_, .events = POLLIN, .revents = 0};
  if (poll(&p, 1, ToTimeoutMs(timeout)) > 0) {
    uint64_t count;
    // Drain: the next write (a queue that receives something after it was
    // read) wakes the next wait.
    if (read(wakeup_fd_, &count, sizeof(count)) < 0 && errno != EAGAIN) {
      LOG(WARNING) << "reading the partition queues' eventfd: "
                   << strerror(errno);
    }
  }
}

}  // namespace brook::internal
