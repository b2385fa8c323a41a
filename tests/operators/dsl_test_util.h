// Helpers for the DSL's unit tests: a TopologyTestDriver that keeps every
// output, and outputs read as (key, value) strings or (key, int64) pairs.
// Threading model: one test thread.
#ifndef BROOK_TESTS_OPERATORS_DSL_TEST_UTIL_H_
#define BROOK_TESTS_OPERATORS_DSL_TEST_UTIL_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

#include "brook/operators/streams_builder.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/topology_test_driver.h"

namespace brook::testing {

// A TopologyTestDriver (application id "app") that keeps every output.
class Driver {
 public:
  explicit Driver(const Topology& topology)
      : Driver(topology, TopologyTestDriverOptions{.application_id = "app"}) {}
  Driver(const Topology& topology, TopologyTestDriverOptions options) {
    auto driver = TopologyTestDriver::Create(topology, std::move(options));
    EXPECT_TRUE(driver.ok()) << driver.status();
    if (driver.ok()) driver_ = *std::move(driver);
  }
  absl::Status Pipe(const std::string& topic, std::optional<std::string> key,
                    std::optional<std::string> value,
                    int64_t timestamp_ms = 0) {
    return driver_->PipeInput(topic, std::move(key), std::move(value),
                              timestamp_ms);
  }
  // Everything written to `topic` so far.
  const std::vector<ProducerRecord>& Output(const std::string& topic) {
    std::vector<ProducerRecord>& all = outputs_[topic];
    for (ProducerRecord& r : driver_->ReadOutput(topic)) {
      all.push_back(std::move(r));
    }
    return all;
  }
  TopologyTestDriver& driver() { return *driver_; }

 private:
  std::unique_ptr<TopologyTestDriver> driver_;
  std::map<std::string, std::vector<ProducerRecord>> outputs_;
};

// (key, value) of each record sent to `topic`, both read as strings ("null"
// for a null).
inline std::vector<std::pair<std::string, std::string>> Strings(
    Driver& h, const std::string& topic) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const ProducerRecord& r : h.Output(topic)) {
    out.emplace_back(r.key.value_or("null"), r.value.value_or("null"));
  }
  return out;
}

// (key, count) of each record sent to `topic` with an Int64 value (-1 for a
// null).
inline std::vector<std::pair<std::string, int64_t>> Counts(
    Driver& h, const std::string& topic) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const ProducerRecord& r : h.Output(topic)) {
    int64_t n = -1;
    if (r.value.has_value()) {
      auto v = Serdes::Int64()->Deserialize(topic, *r.value);
      EXPECT_TRUE(v.ok()) << v.status();
      if (v.ok()) n = *v;
    }
    out.emplace_back(r.key.value_or("null"), n);
  }
  return out;
}

inline Topology MustBuild(const StreamsBuilder& b) {
  absl::StatusOr<Topology> t = b.Build();
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : Topology();
}

// The word count: "lines" split on spaces, counted per word in the store
// "counts", the counts written to "word-counts".
inline Topology WordCountTopology() {
  using S = std::string;
  StreamsBuilder b;
  b.Stream<S, S>("lines")
      .FlatMapValues([](const S& line) -> std::vector<S> {
        return absl::StrSplit(line, ' ', absl::SkipEmpty());
      })
      .GroupBy([](const std::optional<S>&, const S& word) { return word; })
      .Count(Materialized<S, int64_t>::As("counts"))
      .ToStream()
      .To("word-counts");
  return MustBuild(b);
}

}  // namespace brook::testing

#endif  // BROOK_TESTS_OPERATORS_DSL_TEST_UTIL_H_
