#include "brook/runtime/internal/streams_producer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/crash_point.h"
#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/errors.h"

namespace brook::internal {

absl::Status RetryWhileRetriable(absl::Duration timeout,
                                 const std::function<absl::Status()>& fn) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::Status s = fn();
    if (!IsRetriable(s) || absl::Now() >= deadline) return s;
    LOG(INFO) << "retrying after: " << s;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

StreamsProducer::StreamsProducer(ClientConfig config,
                                 KafkaClientFactory factory,
                                 absl::Duration call_timeout)
    : config_(std::move(config)),
      factory_(std::move(factory)),
      call_timeout_(call_timeout),
      exactly_once_(config_.contains("transactional.id")) {}

absl::Status StreamsProducer::Initialize() {
  producer_.reset();
  transaction_open_ = false;
  opened_at_micros_.store(0, std::memory_order_relaxed);
  offsets_sent_ = false;
  BROOK_ASSIGN_OR_RETURN(producer_, factory_.producer(config_));
  if (!exactly_once_) return absl::OkStatus();
  return RetryWhileRetriable(call_timeout_, [&] {
    return producer_->InitTransactions(call_timeout_);
  });
}

absl::Duration StreamsProducer::CallTimeout() const {
  return std::clamp(deadline_ - absl::Now(), absl::Milliseconds(1),
                    call_timeout_);
}

absl::Status StreamsProducer::MaybeBegin() {
  if (!exactly_once_ || transaction_open_) return absl::OkStatus();
  BROOK_RETURN_IF_ERROR(producer_->BeginTransaction());
  transaction_open_ = true;
  opened_at_micros_.store(absl::ToUnixMicros(absl::Now()),
                          std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status StreamsProducer::Send(const ProducerRecord& record) {
  BROOK_RETURN_IF_ERROR(MaybeBegin());
  return producer_->Send(record);
}

absl::Status StreamsProducer::CheckTopicExists(const std::string& topic) {
  if (existing_topics_.contains(topic)) return absl::OkStatus();
  absl::StatusOr<int32_t> n = producer_->PartitionCount(topic, call_timeout_);
  if (absl::IsNotFound(n.status())) {
    return absl::NotFoundError(absl::StrCat(
        "output topic '", topic,
        "' does not exist; create it (Brook does not create output topics)"));
  }
  if (!n.ok()) return n.status();
  existing_topics_.insert(topic);
  return absl::OkStatus();
}

absl::Status StreamsProducer::Commit(
    absl::Span<const TopicPartitionOffset> offsets,
    const GroupMetadata* group) {
  if (!exactly_once_) return producer_->Flush(CallTimeout());
  if (offsets.empty() && !transaction_open_) return absl::OkStatus();
  BROOK_RETURN_IF_ERROR(MaybeBegin());
  if (!offsets.empty() && !offsets_sent_) {
    BROOK_RETURN_IF_ERROR(RetryWhileRetriable(CallTimeout(), [&] {
      return producer_->SendOffsetsToTransaction(offsets, *group,
                                                 CallTimeout());
    }));
    offsets_sent_ = true;
  }
  CrashPoint("commit.after_send_offsets");
  // commit.inside is reached inside CommitTransaction(), when the EndTxn
  // response arrives (kafka/internal/rdkafka_producer.cc).
  BROOK_RETURN_IF_ERROR(RetryWhileRetriable(CallTimeout(), [&] {
    return producer_->CommitTransaction(CallTimeout());
  }));
  transaction_open_ = false;
  opened_at_micros_.store(0, std::memory_order_relaxed);
  offsets_sent_ = false;
  return absl::OkStatus();
}

absl::Status StreamsProducer::Abort() {
  if (!transaction_open_) return absl::OkStatus();
  transaction_open_ = false;
  opened_at_micros_.store(0, std::memory_order_relaxed);
  offsets_sent_ = false;
  return RetryWhileRetriable(CallTimeout(), [&] {
    return producer_->AbortTransaction(CallTimeout());
  });
}

}  // namespace brook::internal
