// Producer: an idempotent producer, transactional when its config has a
// transactional.id.
//
// Threading model: owned by one thread; all calls come from it. Delivery
// reports are served by Send(), Flush() and the transaction calls on that
// thread.
//
// Errors follow kafka/errors.h. A failed delivery is kept as the first error
// (as LevelDB keeps bg_error_) and returned from the next Send(), Flush() or
// CommitTransaction(); AbortTransaction() clears it, since an abort discards
// whatever was in flight.
#ifndef BROOK_KAFKA_PRODUCER_H_
#define BROOK_KAFKA_PRODUCER_H_

#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

#include "brook/kafka/client_config.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/producer_record.h"
#include "brook/kafka/topic_partition.h"

namespace brook {

class Producer {
 public:
  // REQUIRES: config has bootstrap.servers. enable.idempotence is forced on.
  static absl::StatusOr<std::unique_ptr<Producer>> Create(
      const ClientConfig& config);

  virtual ~Producer() = default;

  // Enqueues a record. Returns an earlier delivery failure if there is one;
  // retries internally (bounded) when the local queue is full.
  virtual absl::Status Send(const ProducerRecord& record) = 0;

  // The partition count of `topic` from the cluster's metadata; kNotFound if
  // it does not exist. For callers that choose topics at run time (a sink
  // with a topic per record), since a record sent to a missing topic fails
  // only later, at delivery.
  virtual absl::StatusOr<int32_t> PartitionCount(const std::string& topic,
                                                 absl::Duration timeout) = 0;

  // Waits until every enqueued record is delivered or failed.
  virtual absl::Status Flush(absl::Duration timeout) = 0;

  // Transactions. InitTransactions() fences any earlier producer with the
  // same transactional.id and aborts its open transaction. The others follow
  // librdkafka's contract; errors are classified (IsRetriable: call again
  // with the same arguments; IsTransactionAbortable: AbortTransaction();
  // IsFatal: destroy this producer).
  virtual absl::Status InitTransactions(absl::Duration timeout) = 0;
  virtual absl::Status BeginTransaction() = 0;
  virtual absl::Status SendOffsetsToTransaction(
      absl::Span<const TopicPartitionOffset> offsets,
      const GroupMetadata& group, absl::Duration timeout) = 0;
  virtual absl::Status CommitTransaction(absl::Duration timeout) = 0;
  virtual absl::Status AbortTransaction(absl::Duration timeout) = 0;

  // The highest offset delivered to each partition since the last call, and
  // clears it. After a successful Flush() or CommitTransaction() it covers
  // every record sent before: state stores record it as the changelog
  // position their committed data corresponds to.
  virtual absl::flat_hash_map<TopicPartition, int64_t>
  TakeDeliveredOffsets() = 0;
};

}  // namespace brook

#endif  // BROOK_KAFKA_PRODUCER_H_
