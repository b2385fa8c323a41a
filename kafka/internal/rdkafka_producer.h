// Producer over librdkafka (C API): idempotent, transactional when
// configured with a transactional.id.
// Threading model: owned by one thread (see kafka/producer.h).
#ifndef BROOK_KAFKA_INTERNAL_RDKAFKA_PRODUCER_H_
#define BROOK_KAFKA_INTERNAL_RDKAFKA_PRODUCER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "brook/kafka/internal/rdkafka_handle.h"
#include "brook/kafka/producer.h"

namespace brook::internal {

class RdKafkaProducer final : public Producer {
 public:
  static absl::StatusOr<std::unique_ptr<Producer>> Create(
      const ClientConfig& config);
  ~RdKafkaProducer() override;

  absl::Status Send(const ProducerRecord& record) override;
  absl::Status Flush(absl::Duration timeout) override;
  absl::StatusOr<int32_t> PartitionCount(const std::string& topic,
                                         absl::Duration timeout) override;
  absl::Status InitTransactions(absl::Duration timeout) override;
  absl::Status BeginTransaction() override;
  absl::Status SendOffsetsToTransaction(
      absl::Span<const TopicPartitionOffset> offsets,
      const GroupMetadata& group, absl::Duration timeout) override;
  absl::Status CommitTransaction(absl::Duration timeout) override;
  absl::Status AbortTransaction(absl::Duration timeout) override;
  absl::flat_hash_map<TopicPartition, int64_t> TakeDeliveredOffsets() override;

 private:
  explicit RdKafkaProducer(std::string transactional_id)
      : transactional_id_(std::move(transactional_id)) {}

  static void DeliveryCallback(rd_kafka_t* rk, const rd_kafka_message_t* msg,
                               void* opaque);
  // What a failed call was, with the transactional.id, for error messages.
  std::string What(absl::string_view call) const;
  // Installs the hook of the commit.inside crash point (base/crash_point.h).
  void HookCommitCrashPoint(rd_kafka_conf_t* conf);
  // librdkafka interceptors (called from its threads) of that hook.
  static rd_kafka_resp_err_t OnNew(rd_kafka_t* rk, const rd_kafka_conf_t* conf,
                                   void* opaque, char* errstr,
                                   size_t errstr_size);
  static rd_kafka_resp_err_t OnResponseReceived(
      rd_kafka_t* rk, int sockfd, const char* brokername, int32_t brokerid,
      int16_t api_key, int16_t api_version, int32_t corr_id, size_t size,
      int64_t rtt, rd_kafka_resp_err_t err, void* opaque);

  // A topic this producer wrote to: librdkafka's handle, held (so the
  // pointer stays valid and unique while the producer lives), and the
  // highest delivered offset per partition since TakeDeliveredOffsets(),
  // -1 for none. Keyed by the handle, a delivery report updates it without
  // building a topic name.
  struct TopicState {
    std::string name;
    RdPtr<rd_kafka_topic_t> handle;
    std::vector<int64_t> delivered;
  };
  absl::StatusOr<rd_kafka_topic_t*> TopicHandle(const std::string& topic);

  const std::string transactional_id_;
  // True while rd_kafka_commit_transaction() runs: an EndTxn response seen
  // then answers a commit, not an abort. Read by a librdkafka broker thread.
  std::atomic<bool> committing_{false};
  RdPtr<rd_kafka_t> rk_;
  // First failed delivery since the last abort (LevelDB's bg_error_).
  absl::Status delivery_error_;
  absl::flat_hash_map<std::string, rd_kafka_topic_t*> topic_by_name_;
  absl::flat_hash_map<const rd_kafka_topic_t*, TopicState> topics_;
  // The topic of the last Send(): a sink sends runs of records to one
  // topic, and comparing the name costs less than hashing it (the hash was
  // 5% of a passthrough's stream thread). Handles live as long as the
  // producer, so the pointer stays valid.
  std::string last_topic_name_;
  rd_kafka_topic_t* last_topic_handle_ = nullptr;
  // Sends since delivery reports were last served (see Send()).
  int64_t unserved_sends_ = 0;
};

}  // namespace brook::internal

#endif  // BROOK_KAFKA_INTERNAL_RDKAFKA_PRODUCER_H_
