// What the broker tests of the DSL examples share: running an example as a
// child process against the test broker, and reading its committed output.
// Threading model: one test thread.
#ifndef BROOK_TESTS_OPERATORS_EXAMPLE_TEST_UTIL_H_
#define BROOK_TESTS_OPERATORS_EXAMPLE_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/kafka/topic_reader.h"
#include "tests/testing/child_process.h"
#include "tests/testing/kafka_env.h"

namespace brook::testing {

// Runs build/examples/<binary> with the example flags and `extra_flags`,
// logging to `log`.
inline std::unique_ptr<ChildProcess> StartExample(
    const std::string& binary, const std::string& app, const std::string& input,
    const std::string& output, const std::string& state_dir,
    const std::string& log, const std::vector<std::string>& extra_flags = {}) {
  std::vector<std::string> argv = {BinaryPath("examples/" + binary),
                                   "--bootstrap_servers=" + BootstrapServers(),
                                   "--application_id=" + app,
                                   "--input_topic=" + input,
                                   "--output_topic=" + output,
                                   "--state_dir=" + state_dir,
                                   "--session_timeout_ms=6000"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  return std::make_unique<ChildProcess>(std::move(argv), log);
}

// The committed (read_committed) records of `topic`, once there are at
// least `n` (or what is there after `timeout`).
inline std::vector<ConsumerRecord> WaitForCommitted(const std::string& topic,
                                                    int64_t n,
                                                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<ConsumerRecord> out;
  while (absl::Now() < deadline) {
    auto read = ReadTopic(BaseConfig(), topic, IsolationLevel::kReadCommitted,
                          absl::Seconds(6));
    if (read.ok()) {
      out = *std::move(read);
      if (static_cast<int64_t>(out.size()) >= n) break;
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
  return out;
}

}  // namespace brook::testing

#endif  // BROOK_TESTS_OPERATORS_EXAMPLE_TEST_UTIL_H_
