// Copier: the smallest Brook application. A KafkaStreams whose topology is
// one source and one sink copies every record of one topic to another
// unchanged (key, value, timestamp, headers), under the guarantee its
// StreamsConfig names. brook_copier, copier_demo, the exactly-once tests
// under kill -9 and the passthrough benchmark run it.
//
// It is an example, not part of the library: everything here is public API,
// and a user who wants a copier writes these lines. It takes a StreamsConfig
// like any application, so its settings, defaults and key names are the
// runtime's.
//
// Crash safety comes from KafkaStreams: the transactional.id is
// <application.id>-<process id>-0, with the process id kept in the state
// directory, so a copier restarted on the same state directory fences its
// crashed predecessor and resumes from the last committed offsets.
//
// Threading model: Run() is called from one thread; stats() may be called
// from any thread.
#ifndef BROOK_EXAMPLES_COPIER_H_
#define BROOK_EXAMPLES_COPIER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "brook/runtime/kafka_streams.h"
#include "brook/runtime/streams_config.h"
#include "brook/runtime/topology.h"

namespace brook::examples {

// Source "input" reading `input_topic` as bytes, sink "output" writing
// `output_topic`. A record without a timestamp is stamped at send time.
Topology CopyTopology(const std::string& input_topic,
                      const std::string& output_topic);

// What a running copier has done so far (summed over its stream threads).
struct CopierStats {
  int64_t records_copied = 0;  // processed; committed once Run() returns
  int64_t commits = 0;
  int64_t aborts = 0;
  int64_t rebalances = 0;
  double commit_latency_avg_ms = 0;
};

class Copier {
 public:
  // Validates `config` (StreamsConfig::Validate()), checks that both topics
  // exist (the error names the topic and whether it is the input or the
  // output) and locks the state directory.
  static absl::StatusOr<std::unique_ptr<Copier>> Create(
      const StreamsConfig& config, const std::string& input_topic,
      const std::string& output_topic);

  // Copies until `stop` becomes true, then commits what it copied and leaves
  // the group. Returns OK after a clean stop, or the error that stopped it.
  // Call at most once.
  absl::Status Run(const std::atomic<bool>& stop);

  CopierStats stats() const;
  const std::string& transactional_id() const { return transactional_id_; }

 private:
  Copier(const std::string& application_id, absl::Duration close_timeout,
         std::unique_ptr<KafkaStreams> streams);

  const absl::Duration close_timeout_;
  const std::unique_ptr<KafkaStreams> streams_;
  const std::string transactional_id_;
};

}  // namespace brook::examples

#endif  // BROOK_EXAMPLES_COPIER_H_
