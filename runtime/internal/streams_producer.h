// StreamsProducer: a stream thread's producer and its transaction. Sinks
// send through it (it is their RecordCollector); under exactly-once it opens
// a transaction lazily at the first send or commit, and Commit() sends the
// consumed offsets into the transaction and commits it. Under at-least-once
// Commit() only flushes; the thread then commits offsets via the consumer.
//
// Transaction states (exactly-once):
//
//   kNone --first Send()/Commit()--> kOpen --Commit()--> kNone
//                                      |       |
//                                      |       +--Commit() fails retriable
//                                      |          after the offsets went
//                                      |          in--> kCommitting
//                                      +--Abort()--> kNone    (Commit()
//                                                  again only commits)
//
// Threading model: owned by one StreamThread; only transaction_opened_at()
// may be called from other threads.
#ifndef BROOK_RUNTIME_INTERNAL_STREAMS_PRODUCER_H_
#define BROOK_RUNTIME_INTERNAL_STREAMS_PRODUCER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"

#include "brook/kafka/producer.h"
#include "brook/runtime/internal/client_factory.h"
#include "brook/runtime/internal/task_context.h"

namespace brook::internal {

class StreamsProducer final : public RecordCollector {
 public:
  // `config` is the producer's full client config; it is transactional iff
  // it has a transactional.id.
  StreamsProducer(ClientConfig config, KafkaClientFactory factory,
                  absl::Duration call_timeout);

  // Creates the producer and, under exactly-once, initializes transactions
  // (fencing older producers with the same transactional.id). Called again
  // after a fatal error, it replaces the producer.
  absl::Status Initialize();

  absl::Status Send(const ProducerRecord& record) override;
  // Asks the cluster's metadata once per topic (see RecordCollector).
  absl::Status CheckTopicExists(const std::string& topic) override;

  // Exactly-once: sends `offsets` with `group` into the transaction and
  // commits it (retrying retriable errors for the call timeout). At-least-
  // once: flushes. On error the transaction is still open: the caller
  // aborts, or, for a retriable error, may call Commit() again later with
  // the same offsets (they are not sent twice).
  absl::Status Commit(absl::Span<const TopicPartitionOffset> offsets,
                      const GroupMetadata* group);

  // Aborts the open transaction, if any.
  absl::Status Abort();

  // Waits until every record sent so far is acknowledged by the broker (in
  // the open transaction, under exactly-once).
  absl::Status Flush() { return producer_->Flush(CallTimeout()); }

  // Calls made from now on (Commit, Abort, their retries) end by
  // `deadline`, or sooner by the call timeout: the stream thread must poll
  // again within max.poll.interval.ms. A call cut short fails retriably, and
  // the thread retries it after polling.
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }

  // See Producer::TakeDeliveredOffsets().
  absl::flat_hash_map<TopicPartition, int64_t> TakeDeliveredOffsets() {
    return producer_->TakeDeliveredOffsets();
  }

  bool exactly_once() const { return exactly_once_; }
  bool transaction_open() const { return transaction_open_; }
  // When the open transaction began, or nullopt. Unlike the rest of this
  // class, safe to call from any thread (the metrics scrape reads it).
  std::optional<absl::Time> transaction_opened_at() const {
    const int64_t micros = opened_at_micros_.load(std::memory_order_relaxed);
    if (micros == 0) return std::nullopt;
    return absl::FromUnixMicros(micros);
  }

 private:
  // Topics CheckTopicExists() found.
  absl::flat_hash_set<std::string> existing_topics_;
  absl::Status MaybeBegin();
  // What is left of the call timeout and the deadline, at least 1 ms.
  absl::Duration CallTimeout() const;

  const ClientConfig config_;
  const KafkaClientFactory factory_;
  const absl::Duration call_timeout_;
  const bool exactly_once_;
  std::unique_ptr<Producer> producer_;
  bool transaction_open_ = false;
  // Unix micros of BeginTransaction while transaction_open_, else 0.
  std::atomic<int64_t> opened_at_micros_{0};
  bool offsets_sent_ = false;  // the open transaction carries its offsets
  absl::Time deadline_ = absl::InfiniteFuture();
};

// Calls `fn` until it succeeds, fails with a non-retriable error, or
// `timeout` has passed.
absl::Status RetryWhileRetriable(absl::Duration timeout,
                                 const std::function<absl::Status()>& fn);

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_STREAMS_PRODUCER_H_
