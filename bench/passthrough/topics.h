// What passthrough_bench writes to and reads from Kafka outside the timed
// runs: the preloaded input, and the read_committed count that checks each
// run's output. Stateless functions, safe from any thread.
#ifndef BROOK_BENCH_PASSTHROUGH_TOPICS_H_
#define BROOK_BENCH_PASSTHROUGH_TOPICS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace brook::passthrough_bench {

// Writes `records` records with keys "k<i % 10000>" and pseudo-random
// printable values from a fixed seed. Returns the key + value bytes written.
absl::StatusOr<int64_t> Preload(const std::string& bootstrap,
                                const std::string& topic, int64_t records,
                                int32_t value_bytes);

// Counts the output's records visible to read_committed. Transaction markers
// are written after EndTxn returns (perf.md 3.2), so the last transaction
// may not be visible at once: read again, for up to ~10 s, until `expected`.
absl::StatusOr<int64_t> CountCommitted(const std::string& bootstrap,
                                       const std::string& topic,
                                       int64_t expected);

}  // namespace brook::passthrough_bench

#endif  // BROOK_BENCH_PASSTHROUGH_TOPICS_H_
