// The raw librdkafka baseline of passthrough_bench (the raw_* variants), and
// the client settings every variant, raw or Brook, is matched on.
#ifndef BROOK_BENCH_PASSTHROUGH_RAW_COPY_H_
#define BROOK_BENCH_PASSTHROUGH_RAW_COPY_H_

#include <atomic>
#include <string>

#include "absl/status/statusor.h"

#include "bench/passthrough/run.h"
#include "brook/kafka/client_config.h"

namespace brook::passthrough_bench {

// Matched client settings (perf.md 3.1 and 5.1). Every variant gets these, so
// the ratios measure the loop and the commit protocol rather than a config
// difference. The copier sets some of them itself; passing them again pins
// them. The keys the copier owns and rejects (group.id, isolation.level,
// enable.auto.commit, enable.auto.offset.store,
// partition.assignment.strategy, enable.idempotence, transactional.id) are
// set for the raw clients only, to the values the copier uses.

// For spec.bootstrap_servers, with the prefetch limits raised if
// spec.consumer_prefetch.
ClientConfig MatchedConsumerConfig(const RunSpec& spec);
ClientConfig MatchedProducerConfig(const std::string& bootstrap);

// One copy of the whole input by the raw librdkafka loop of spec.variant
// (REQUIRES: Loop::kRaw), on the calling thread, until every record is
// delivered (Commit::kNone) or committed. An error fails the run rather than
// being recovered; `cancel` and spec.deadline end it with kDeadlineExceeded.
// Sets done_at, commits and retries; the other milestones are left to the
// caller's watcher.
absl::StatusOr<Measurement> RunRawCopy(const RunSpec& spec,
                                       const std::atomic<bool>& cancel);

// The version of the librdkafka linked in, for the report.
const char* LibrdkafkaVersion();

}  // namespace brook::passthrough_bench

#endif  // BROOK_BENCH_PASSTHROUGH_RAW_COPY_H_
