// Helpers for tests that run against the real broker.
#ifndef BROOK_TESTS_TESTING_KAFKA_ENV_H_
#define BROOK_TESTS_TESTING_KAFKA_ENV_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

#include "brook/kafka/client_config.h"
#include "brook/kafka/consumer_record.h"

namespace brook::testing {

// The cluster under test: $BROOK_BOOTSTRAP_SERVERS, or the address that
// scripts/kafka wrote to <kafka dir>/bootstrap ($BROOK_KAFKA_DIR, else the
// build's test broker directory). Aborts with a message saying how to start
// a broker if there is none.
std::string BootstrapServers();

ClientConfig BaseConfig();
// The test broker's SASL listener (scripts/kafka sasl-bootstrap:
// SASL_PLAINTEXT, SCRAM-SHA-512), or nullopt when the broker has none (an
// external cluster named by BROOK_BOOTSTRAP_SERVERS without
// BROOK_SASL_BOOTSTRAP_SERVERS).
std::optional<std::string> SaslBootstrapServers();
// The client settings of that listener's test account, with `password`.
ClientConfig SaslClientConfig(const std::string& password = "brook-secret");

// A topic or group name no earlier run used: prefix + pid + counter + time.
std::string UniqueName(const std::string& prefix);

// An event time for test records: three hours ago, rounded down to the
// hour. Tests must not date records years back: the broker deletes records
// older than a topic's retention.ms by their timestamp (a windowed store's
// changelog keeps them for the window's retention plus a day), at a
// retention check that comes every 5 minutes, in the middle of a test.
int64_t RecentEventTimeMs();

// Creates a topic with `partitions` partitions and the topic `configs`
// (for example {"max.message.bytes", "4096"}); CHECK-fails on error.
void CreateTopic(const std::string& name, int32_t partitions,
                 const std::map<std::string, std::string>& configs = {});

// Writes values "<prefix>-000000" .. with keys "k<i>", non-transactionally,
// and waits for delivery.
void ProduceValues(const std::string& topic, const std::string& prefix,
                   int64_t count);

// Writes one record with `value` (key "raw") and waits for delivery.
void ProduceRawValue(const std::string& topic, const std::string& value);

// The group's committed offset of each partition of `topic` (0 where none),
// read without joining the group. Empty on error.
std::vector<int64_t> CommittedOffsets(const std::string& group,
                                      const std::string& topic, int partitions);

// Waits until the group's committed offsets, summed over every partition
// of `topics` (each with `partitions` partitions), reach `at_least`, or
// until `timeout` passes. Returns the last sum; a failed read counts 0.
int64_t AwaitCommittedSum(const std::string& group,
                          const std::vector<std::string>& topics,
                          int partitions, int64_t at_least,
                          absl::Duration timeout);

// Path of a built binary: <build dir>/<relative>.
std::string BinaryPath(const std::string& relative);

}  // namespace brook::testing

namespace brook::testing {

// How an output topic compares with input written by ProduceValues().
struct CopyCheck {
  int64_t records = 0;     // records read
  int64_t distinct = 0;    // distinct input values among them
  int64_t duplicates = 0;  // records beyond the first of each value
  int64_t missing = 0;     // input values not read
  int64_t unexpected = 0;  // values ProduceValues() never wrote
  std::string ToString() const;
};
CopyCheck CheckExactCopy(const std::vector<ConsumerRecord>& output,
                         const std::string& prefix, int64_t count);

}  // namespace brook::testing

#endif  // BROOK_TESTS_TESTING_KAFKA_ENV_H_
