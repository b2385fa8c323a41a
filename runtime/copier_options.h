// CopierOptions: configuration of the transactional copier.
// Threading model: a plain value.
#ifndef BROOK_RUNTIME_COPIER_OPTIONS_H_
#define BROOK_RUNTIME_COPIER_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

#include "kafka/client_config.h"
#include "runtime/processing_guarantee.h"

namespace brook {

struct CopierOptions {
  // application.id: the consumer group id, the prefix of the
  // transactional.id, and the name of the state directory. Required.
  std::string application_id;

  // bootstrap.servers of the cluster. Required.
  std::string bootstrap_servers;

  // input.topic / output.topic: records are copied from one to the other
  // unchanged (key, value, timestamp, headers). Both must exist; Brook does
  // not create user topics. Required.
  std::string input_topic;
  std::string output_topic;

  // state.dir: root of the local state directory, which holds the process
  // id that keeps the transactional.id stable across restarts. Two running
  // instances must not share it.
  std::string state_dir = "/tmp/brook";

  // processing.guarantee.
  ProcessingGuarantee guarantee = ProcessingGuarantee::kExactlyOnceV2;

  // commit.interval: how long a transaction stays open (exactly-once) or how
  // often offsets are committed (at-least-once). 0 means "use the default for
  // the guarantee": 100 ms for exactly-once, as Kafka Streams, since
  // read_committed consumers see output only at commit; 30 s for
  // at-least-once, where committing less often only costs replay.
  absl::Duration commit_interval = absl::ZeroDuration();

  // commit.max.records: a commit also happens after this many records, which
  // bounds a transaction's size when input arrives faster than the interval.
  int64_t commit_max_records = 10000;

  // transaction.timeout: the broker aborts a transaction left open this long
  // (its producer died without a successor). Kafka Streams uses 10 s under
  // exactly-once; the broker caps it at transaction.max.timeout.ms.
  absl::Duration transaction_timeout = absl::Seconds(10);

  // Upper bound for one blocking Kafka call (init, commit, abort, committed
  // offsets). A call that exceeds it fails instead of hanging.
  absl::Duration client_call_timeout = absl::Seconds(60);

  // partition.queues (StreamsConfig::partition_queues): read each input
  // partition from its own librdkafka queue instead of pausing it for
  // back-pressure. Off by default, as in StreamsConfig.
  bool partition_queues = false;

  // librdkafka properties added to, and overriding, what the copier sets.
  ClientConfig consumer_config;
  ClientConfig producer_config;

  absl::Duration EffectiveCommitInterval() const;

  // Rejects missing or contradictory settings; the error names the key.
  absl::Status Validate() const;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_COPIER_OPTIONS_H_
