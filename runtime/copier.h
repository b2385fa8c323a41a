// Copier: copies every record of one topic to another with Brook's
// exactly-once machinery (or at-least-once). It is the smallest Brook
// application, a KafkaStreams running a one-source, one-sink topology on one
// stream thread, packaged for the exactly-once tests under kill -9, the demo
// and the passthrough benchmark.
//
// Records are copied unchanged (key, value, timestamp, headers). Crash
// safety comes from KafkaStreams: the transactional.id is
// <application.id>-<process id>-0, with the process id kept in the state
// directory, so a copier restarted on the same state directory fences its
// crashed predecessor and resumes from the last committed offsets.
//
// Threading model: Run() is called from one thread; stats() may be read
// from any thread.
#ifndef BROOK_RUNTIME_COPIER_H_
#define BROOK_RUNTIME_COPIER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "runtime/copier_options.h"
#include "runtime/kafka_streams.h"

namespace brook {

// Counters of a running copier, refreshed by Copier::stats().
struct CopierStats {
  std::atomic<int64_t> records_copied{
      0};  // processed; committed once Run() returns
  std::atomic<int64_t> commits{0};
  std::atomic<int64_t> aborts{0};
  std::atomic<int64_t> rebalances{0};
  std::atomic<int64_t> commit_micros_total{0};  // time spent committing
};

class Copier {
 public:
  // Validates the options, locks the state directory and checks that both
  // topics exist. Errors name the option or topic at fault.
  static absl::StatusOr<std::unique_ptr<Copier>> Create(
      const CopierOptions& options);

  // Copies until `stop` becomes true, then commits what it copied and leaves
  // the group. Returns OK after a clean stop, or the error that stopped it.
  // Call at most once.
  absl::Status Run(const std::atomic<bool>& stop);

  const CopierStats& stats() const;
  const std::string& transactional_id() const { return transactional_id_; }

 private:
  Copier(CopierOptions options, std::unique_ptr<KafkaStreams> streams);

  const CopierOptions options_;
  const std::unique_ptr<KafkaStreams> streams_;
  const std::string transactional_id_;
  mutable CopierStats stats_;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_COPIER_H_
