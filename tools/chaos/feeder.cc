#include "tools/chaos/feeder.h"

#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/kafka/errors.h"
#include "brook/kafka/producer.h"

namespace brook::chaos {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(30);

// Commits, retrying while the error is retriable (a broker restart).
absl::Status CommitWithRetries(Producer& producer) {
  absl::Status s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    s = producer.CommitTransaction(kCallTimeout);
    if (!IsRetriable(s)) return s;
  }
  return s;
}

}  // namespace

void Feeder::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Feeder::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void Feeder::Run() {
  std::mt19937_64 rng(options_.seed);
  std::uniform_int_distribution<int32_t> key(0, options_.keys - 1);
  std::bernoulli_distribution abort(options_.abort_ratio);
  ClientConfig config = options_.config;
  config["transactional.id"] = options_.transactional_id;
  // A transaction left open by a fault is aborted by the broker soon.
  config["transaction.timeout.ms"] = "10000";
  config["linger.ms"] = "5";
  std::unique_ptr<Producer> producer;
  int64_t sequence = 0;
  double owed = 0;  // records due but not yet sent
  absl::Time next = absl::Now();
  while (!stop_.load()) {
    if (producer == nullptr) {
      auto created = Producer::Create(config);
      absl::Status s = created.status();
      if (s.ok()) s = (*created)->InitTransactions(kCallTimeout);
      if (!s.ok()) {
        LOG(WARNING) << "feeder: producer not ready: " << s;
        absl::SleepFor(absl::Seconds(1));
        continue;
      }
      producer = *std::move(created);
    }
    next += options_.transaction_interval;
    owed +=
        options_.rate * absl::ToDoubleSeconds(options_.transaction_interval);
    absl::Status s = producer->BeginTransaction();
    int64_t batch = 0;
    while (s.ok() && owed >= 1) {
      s = producer->Send({.topic = options_.topic,
                          .key = absl::StrCat("k", key(rng)),
                          .value = absl::StrCat("id", sequence++)});
      owed -= 1;
      ++batch;
    }
    const bool abort_on_purpose = abort(rng) && !stop_.load();
    if (s.ok() && abort_on_purpose) {
      // Flush first, so that the aborted records reach the log (an abort
      // purges what is still queued) and the verifier sees them.
      s = producer->Flush(kCallTimeout);
      if (s.ok()) s = producer->AbortTransaction(kCallTimeout);
      if (s.ok()) ++aborted_;
    } else if (s.ok()) {
      s = CommitWithRetries(*producer);
      if (s.ok()) ++committed_;
    }
    if (s.ok()) {
      sent_ += batch;
    } else {
      ++failed_;
      LOG(WARNING) << "feeder: transaction of " << batch
                   << " records failed: " << s;
      // Abortable: abort and go on. Anything else (fatal, fenced, a call
      // that timed out in an unknown state): a new producer, whose
      // InitTransactions() aborts whatever the old one left open.
      if (!IsTransactionAbortable(s) ||
          !producer->AbortTransaction(kCallTimeout).ok()) {
        producer.reset();
      }
    }
    // Catch up after a stall instead of bursting: drop what is overdue.
    const absl::Time now = absl::Now();
    if (next < now - absl::Seconds(1)) {
      next = now;
      owed = 0;
    }
    absl::SleepFor(next - now);
  }
}

}  // namespace brook::chaos
