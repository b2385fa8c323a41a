// The word count, as a user outside Brook's tree writes it against the
// installed package: headers as <brook/...>, linked through
// find_package(Brook) (or pkg-config). It runs the topology in the
// TopologyTestDriver (RocksDB state, no broker) and exits 0 only if the
// counts are right, so a package missing a header, a library or a
// dependency fails to build or to run.
#include <brook/operators/kstream.h>
#include <brook/operators/streams_builder.h>
#include <brook/runtime/serdes.h>
#include <brook/runtime/topology_test_driver.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"

int main() {
  using S = std::string;
  brook::StreamsBuilder builder;
  builder.Stream<S, S>("lines")
      .FlatMapValues([](const S& line) {
        return std::vector<S>(absl::StrSplit(line, ' ', absl::SkipEmpty()));
      })
      .GroupBy([](const S&, const S& word) { return word; })
      .Count()
      .ToStream()
      .To("counts");
  absl::StatusOr<brook::Topology> topology = builder.Build();
  if (!topology.ok()) {
    std::cerr << "word_count_out_of_tree: " << topology.status() << "\n";
    return 1;
  }
  std::cout << topology->Describe();
  // A state directory of this run only (counts must start from zero).
  const std::string state_dir =
      (std::filesystem::temp_directory_path() /
       ("brook-out-of-tree-" + std::to_string(getpid())))
          .string();
  std::filesystem::remove_all(state_dir);
  auto driver = brook::TopologyTestDriver::Create(
      *topology, brook::TopologyTestDriverOptions{
                     .application_id = "out-of-tree", .state_dir = state_dir});
  if (!driver.ok()) {
    std::cerr << "word_count_out_of_tree: " << driver.status() << "\n";
    return 1;
  }
  for (const char* line : {"to be or not to be", "to see"}) {
    absl::Status s = (*driver)->PipeInput("lines", S("k"), S(line), 0);
    if (!s.ok()) {
      std::cerr << "word_count_out_of_tree: " << s << "\n";
      return 1;
    }
  }
  auto out = (*driver)->ReadOutput<S, int64_t>(
      "counts", brook::Serdes::String(), brook::Serdes::Int64());
  if (!out.ok()) {
    std::cerr << "word_count_out_of_tree: " << out.status() << "\n";
    return 1;
  }
  std::map<S, int64_t> latest;
  for (const auto& r : *out) latest[*r.key] = *r.value;
  driver->reset();
  std::filesystem::remove_all(state_dir);
  const std::map<S, int64_t> expected = {
      {"to", 3}, {"be", 2}, {"or", 1}, {"not", 1}, {"see", 1}};
  if (latest != expected) {
    std::cerr << "word_count_out_of_tree: wrong counts\n";
    return 1;
  }
  std::cout << "word_count_out_of_tree: counts are right (to=3 be=2 or=1 "
               "not=1 see=1)\n";
  return 0;
}
