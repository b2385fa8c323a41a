// ReadTopic: reads a whole topic from the beginning with an assign-only
// consumer (no group, nothing committed). For verifiers, tools and tests,
// not for processing.
// Thread-safety: a free function; each call uses its own consumer.
#ifndef BROOK_KAFKA_TOPIC_READER_H_
#define BROOK_KAFKA_TOPIC_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "brook/kafka/client_config.h"
#include "brook/kafka/consumer_record.h"

namespace brook {

enum class IsolationLevel { kReadCommitted, kReadUncommitted };

// Reads every partition of `topic` from its start up to the end offsets
// (high watermark, or the last stable offset under read_committed) as they
// stand when the call begins. Under read_committed it first waits, for at
// most half of `timeout` (15 s at most), for the stable end to reach the log
// end, so that a transaction committed just before the call, whose markers
// the broker is still writing, is included; a transaction that stays open
// is left out. Records of aborted transactions are skipped
// under kReadCommitted and returned under kReadUncommitted. `config` needs
// bootstrap.servers. kDeadlineExceeded if the end is not reached in time.
absl::StatusOr<std::vector<ConsumerRecord>> ReadTopic(
    const ClientConfig& config, const std::string& topic,
    IsolationLevel isolation, absl::Duration timeout);

}  // namespace brook

#endif  // BROOK_KAFKA_TOPIC_READER_H_
