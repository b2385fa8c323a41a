#include "brook/runtime/internal/repartition_purger.h"

#include <utility>

#include "absl/time/clock.h"

#include "brook/base/logging.h"

namespace brook::internal {

RepartitionPurger::RepartitionPurger(AdminMaker make_admin,
                                     absl::Duration interval,
                                     absl::Duration call_timeout,
                                     std::string name)
    : make_admin_(std::move(make_admin)),
      interval_(interval),
      call_timeout_(call_timeout),
      name_(std::move(name)),
      thread_([this] { Run(); }) {}

RepartitionPurger::~RepartitionPurger() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void RepartitionPurger::Offer(
    const std::vector<TopicPartitionOffset>& committed) {
  absl::MutexLock lock(&mu_);
  for (const TopicPartitionOffset& o : committed) {
    if (o.offset <= 0) continue;
    int64_t& pending = pending_[o.tp];
    pending = std::max(pending, o.offset);
  }
}

void RepartitionPurger::Run() {
  std::unique_ptr<Admin> admin;
  absl::Time last_purge = absl::InfinitePast();
  // The highest offset purged per partition: a later offer at or below it
  // (a task that moved here and committed the same offset) is skipped.
  std::map<TopicPartition, int64_t> purged;
  while (true) {
    std::vector<TopicPartitionOffset> batch;
    {
      absl::MutexLock lock(&mu_);
      // Wake for stop, or when there is work and the interval has passed.
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ ||
               (!pending_.empty() && absl::Now() >= last_purge + interval_);
      };
      while (!ready()) {
        const absl::Duration wait =
            pending_.empty() ? absl::Seconds(1)
                             : std::max(last_purge + interval_ - absl::Now(),
                                        absl::Milliseconds(1));
        mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
      }
      if (stop_) return;
      for (const auto& [tp, offset] : pending_) {
        auto it = purged.find(tp);
        if (it == purged.end() || it->second < offset) {
          batch.push_back({tp, offset});
        }
      }
      pending_.clear();
    }
    last_purge = absl::Now();
    if (batch.empty()) continue;
    if (admin == nullptr) {
      absl::StatusOr<std::unique_ptr<Admin>> made = make_admin_();
      if (!made.ok()) {
        errors_.fetch_add(1, std::memory_order_relaxed);
        LOG(WARNING) << name_
                     << ": cannot purge repartition topics: " << made.status();
        continue;
      }
      admin = *std::move(made);
    }
    absl::Status s = admin->DeleteRecords(batch, call_timeout_);
    if (!s.ok()) {
      // Not fatal: the records stay until a later purge or their retention.
      errors_.fetch_add(1, std::memory_order_relaxed);
      LOG(WARNING) << name_
                   << ": purging consumed repartition records failed: " << s;
      continue;
    }
    for (const TopicPartitionOffset& o : batch) purged[o.tp] = o.offset;
    purges_.fetch_add(1, std::memory_order_relaxed);
    VLOG(1) << name_ << ": purged " << batch.size()
            << " repartition partitions";
  }
}

}  // namespace brook::internal
