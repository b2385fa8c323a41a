// Copier: the first exactly-once slice of Brook. It copies every record of
// one topic to another, committing the outputs and the consumed offsets in
// one Kafka transaction per commit interval (EOS-v2, KIP-447), or, under
// at-least-once, flushing outputs and then committing offsets.
//
// It is the poll-process-commit loop that the StreamThread generalises to a
// topology of tasks; until then it is what the exactly-once tests, the demo
// and the passthrough benchmark run.
//
// Crash safety: the transactional.id is <application.id>-<process id>-0,
// with the process id kept in the state directory. A copier restarted on the
// same state directory therefore fences its crashed predecessor: its
// InitTransactions() aborts whatever the predecessor left open, and the
// consumer resumes from the last committed offsets (read_committed, so only
// stable ones). Outputs of an aborted transaction are never visible to
// read_committed readers.
//
// Error handling, by class (kafka/errors.h):
//   retriable  -> the same call is retried until client_call_timeout
//   abortable  -> the transaction is aborted and every assigned partition is
//                 rewound to its committed offset; copying goes on
//   fatal      -> Run() returns the error (fenced by a newer instance, or the
//                 producer is unusable). Recreating the producer and
//                 rejoining in-process comes with the StreamThread.
//
// Threading model: Run() is called from one thread, which owns the
// consumer and the producer. stats() may be read from any thread.
#ifndef BROOK_RUNTIME_COPIER_H_
#define BROOK_RUNTIME_COPIER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "runtime/copier_options.h"
#include "state/state_directory.h"

namespace brook {

// Counters of a running copier. Monotonic; read with relaxed ordering.
struct CopierStats {
  std::atomic<int64_t> records_copied{0};  // committed records
  std::atomic<int64_t> commits{0};
  std::atomic<int64_t> aborts{0};
  std::atomic<int64_t> rebalances{0};
  std::atomic<int64_t> commit_micros_total{0};  // time spent committing
};

class Copier final : private RebalanceListener {
 public:
  // Validates the options, locks the state directory and checks that both
  // topics exist. Errors name the option or topic at fault.
  static absl::StatusOr<std::unique_ptr<Copier>> Create(
      const CopierOptions& options);

  ~Copier() override;

  // Copies until `stop` becomes true, then commits what it copied and leaves
  // the group. Returns OK after a clean stop, or the first unrecoverable
  // error. Call at most once.
  absl::Status Run(const std::atomic<bool>& stop);

  const CopierStats& stats() const { return stats_; }
  const std::string& transactional_id() const { return transactional_id_; }

 private:
  Copier(CopierOptions options, std::unique_ptr<StateDirectory> state_dir);

  bool exactly_once() const {
    return options_.guarantee == ProcessingGuarantee::kExactlyOnceV2;
  }
  absl::Status CreateClients();
  absl::Status Process(const ConsumerRecord& record);
  // Commits the current transaction (or offsets); on an abortable error,
  // aborts and, if `rewind`, seeks back to the committed offsets.
  absl::Status Commit(bool rewind);
  absl::Status Abort();
  absl::Status RewindToCommitted();

  // RebalanceListener, called inside Poll().
  void OnPartitionsRevoked(absl::Span<const TopicPartition> partitions,
                           RevocationKind kind) override;
  void OnPartitionsAssigned(
      absl::Span<const TopicPartition> partitions) override;

  const CopierOptions options_;
  const std::unique_ptr<StateDirectory> state_dir_;
  const std::string transactional_id_;
  std::unique_ptr<Consumer> consumer_;
  std::unique_ptr<Producer> producer_;

  // State of the open transaction (or, at-least-once, the uncommitted batch).
  bool transaction_open_ = false;
  absl::Time batch_start_;
  int64_t uncommitted_records_ = 0;
  absl::flat_hash_map<TopicPartition, int64_t> next_offsets_;
  // First error from a rebalance callback, returned by the loop.
  absl::Status callback_error_;

  CopierStats stats_;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_COPIER_H_
