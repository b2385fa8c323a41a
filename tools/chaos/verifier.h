// The chaos verifier: checks the exactly-once invariants of the count
// application (tests/apps/count_app.cc) from what is in Kafka, and only from
// that. It never reads Brook's state directories or metrics, so a bug in the
// runtime cannot hide itself from the check.
//
// The workload it expects: an input topic whose values are unique ids
// without ':' (written by a transactional producer that aborts some of its
// transactions on purpose), an output topic where count_app writes
// "<input id>:<count>" under the input key, and the changelog
// `<application_id>-counts-changelog` holding the count per key as
// Serdes::Int64 (8 bytes, big-endian).
//
// The invariants (docs/chaos.md explains each):
//   E1 every committed input id appears exactly once in the committed output
//      (under the key it was written with);
//   E2 no output comes from an input transaction that aborted;
//   E3 per key, the output counts run 1, 2, ..., n: no gap, no repeat;
//   E4 the folded changelog (last value per key) equals the last output
//      count per key;
//   E5 no hanging transaction: LSO == high watermark on every output and
//      changelog partition;
//   E6 the group's committed offsets cover every committed input record;
//   E7 every instance ended RUNNING or closed cleanly (the harness supplies
//      this one: it alone sees exit codes and logs).
//
// Threading model: free functions and plain values; a Verify() call uses its
// own clients.
#ifndef BROOK_TOOLS_CHAOS_VERIFIER_H_
#define BROOK_TOOLS_CHAOS_VERIFIER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "brook/kafka/client_config.h"
#include "brook/kafka/consumer_record.h"

namespace brook::chaos {

enum class Invariant { kE1, kE2, kE3, kE4, kE5, kE6, kE7 };
inline constexpr int kInvariantCount = 7;

// "E1".."E7".
const char* InvariantName(Invariant invariant);
// One line saying what the invariant demands.
const char* InvariantSummary(Invariant invariant);

struct Violation {
  Invariant invariant;
  // Names the key, the topic, partition and offset where it was seen.
  std::string detail;
};

// The end state of one partition, read from two clients: the read_committed
// end (last stable offset) and the read_uncommitted one (high watermark).
struct PartitionEnd {
  std::string topic;
  int32_t partition = 0;
  int64_t stable_end = 0;
  int64_t log_end = 0;
};

// Everything the checks need, read from Kafka (ReadFromKafka) or made by
// hand (the verifier's own test).
struct VerifierInput {
  std::vector<ConsumerRecord> input_committed;
  std::vector<ConsumerRecord> input_uncommitted;
  std::vector<ConsumerRecord> output_committed;
  std::vector<ConsumerRecord> changelog_committed;
  // Output and changelog partitions, for E5.
  std::vector<PartitionEnd> ends;
  // The group's committed offset per input partition (index = partition);
  // negative where none is committed. For E6.
  std::vector<int64_t> group_committed;
  // Violations found outside the verifier (E7 from the harness).
  std::vector<Violation> external;
};

struct Report {
  int64_t input_committed = 0;  // committed input records
  int64_t input_aborted = 0;    // records of aborted input transactions
  int64_t output_records = 0;   // committed output records
  int64_t keys = 0;             // distinct keys in the committed input
  // Violations per invariant (all of them counted, whatever the cap).
  std::map<Invariant, int64_t> counts;
  // The first `max_listed` violations of each invariant.
  std::vector<Violation> listed;

  bool ok() const { return counts.empty(); }
  int64_t Count(Invariant invariant) const;
  // A table: one line per invariant with its verdict, then the listed
  // violations.
  std::string ToString() const;
};

// Runs E1..E6 on `input` and adds input.external. Lists at most
// `max_listed` violations per invariant.
Report Check(const VerifierInput& input, int max_listed = 20);

struct KafkaSource {
  ClientConfig config;  // bootstrap.servers and any client settings
  std::string application_id;
  std::string input_topic;
  std::string output_topic;
  // Bounds every read; E5 waits at most `stable_wait` for the broker to
  // write the markers of transactions that have just ended.
  absl::Duration timeout = absl::Minutes(3);
  absl::Duration stable_wait = absl::Seconds(30);
};

// The changelog topic of count_app's store.
std::string ChangelogTopic(const std::string& application_id);

// E7 from instance logs: a stream thread that failed (glog ERROR line
// "<thread> failed: ...", which an instance ending in ERROR always has) is a
// violation naming the log, the line number and the line. An instance killed
// on purpose leaves no such line.
std::vector<Violation> ScanInstanceLogs(const std::vector<std::string>& logs);

// Reads the topics, watermarks and the group's offsets. The changelog may be
// missing (no record was ever processed); the other topics must exist.
absl::StatusOr<VerifierInput> ReadFromKafka(const KafkaSource& source);

}  // namespace brook::chaos

#endif  // BROOK_TOOLS_CHAOS_VERIFIER_H_
