// Feeder: writes the chaos run's input at a set rate with a transactional
// producer, aborting a share of its transactions on purpose so that the
// verifier can check that no aborted input reaches the output (E2).
//
// Values are unique ids "id<sequence>" (no ':'), keys "k<n>" from a bounded
// key space, so that every key sees many updates. The feeder keeps its own
// counts only for the summary: what counts as committed is what Kafka says,
// which the verifier reads itself (a commit that times out during a broker
// fault may or may not have happened).
//
// Threading model: Start() runs a background thread; Stop() and the
// counters may be called from any thread.
#ifndef BROOK_TOOLS_CHAOS_FEEDER_H_
#define BROOK_TOOLS_CHAOS_FEEDER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/time/time.h"

#include "brook/kafka/client_config.h"

namespace brook::chaos {

struct FeederOptions {
  ClientConfig config;  // bootstrap.servers
  std::string topic;
  std::string transactional_id;
  // Records per second, spread over transactions of `transaction_interval`.
  double rate = 200;
  absl::Duration transaction_interval = absl::Milliseconds(100);
  // Share of transactions aborted on purpose.
  double abort_ratio = 0.05;
  int32_t keys = 500;
  uint64_t seed = 1;
};

class Feeder {
 public:
  explicit Feeder(FeederOptions options) : options_(std::move(options)) {}
  ~Feeder() { Stop(); }
  Feeder(const Feeder&) = delete;
  Feeder& operator=(const Feeder&) = delete;

  void Start();
  // Ends the open transaction (commit) and joins the thread. Idempotent.
  void Stop();

  int64_t sent() const { return sent_.load(); }
  int64_t committed_transactions() const { return committed_.load(); }
  int64_t aborted_transactions() const { return aborted_.load(); }
  // Transactions that failed (broker faults) and were aborted or fenced.
  int64_t failed_transactions() const { return failed_.load(); }

 private:
  void Run();

  const FeederOptions options_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> sent_{0}, committed_{0}, aborted_{0}, failed_{0};
};

}  // namespace brook::chaos

#endif  // BROOK_TOOLS_CHAOS_FEEDER_H_
