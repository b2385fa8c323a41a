// brook_verify: checks the exactly-once invariants (E1..E6, and E7 from the
// instance logs given) of a count_app run, reading only Kafka. Exits 0 when
// every invariant holds, 1 on a violation, 2 when Kafka cannot be read.
//
//   brook_verify --bootstrap_servers=127.0.0.1:9092 --application_id=app
//       --input_topic=in --output_topic=out [--instance_logs=a.log,b.log]
#include <iostream>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

#include "brook/base/logging.h"
#include "brook/kafka/topic_reader.h"
#include "tools/chaos/verifier.h"

ABSL_FLAG(std::string, bootstrap_servers, "", "bootstrap.servers");
ABSL_FLAG(std::string, application_id, "", "the application's id (= group)");
ABSL_FLAG(std::string, input_topic, "", "input topic");
ABSL_FLAG(std::string, output_topic, "", "output topic");
ABSL_FLAG(std::vector<std::string>, instance_logs, {},
          "comma-separated instance logs to scan for ERROR (E7)");
ABSL_FLAG(int32_t, max_listed, 20, "violations listed per invariant");
ABSL_FLAG(std::string, dump_key, "",
          "also print every input, output and changelog record of this key "
          "(to investigate a violation)");
ABSL_FLAG(std::string, dump_range, "",
          "also print the records of <topic>:<partition>:<from>:<to> read "
          "read_uncommitted, each marked committed or not (to see which "
          "transaction held an offset back)");
ABSL_FLAG(int32_t, timeout_seconds, 180, "bound on each read");

namespace {

void DumpKey(const brook::chaos::VerifierInput& in, const std::string& key) {
  auto dump = [&](const char* what,
                  const std::vector<brook::ConsumerRecord>& records) {
    for (const brook::ConsumerRecord& r : records) {
      if (r.key != key) continue;
      std::string value = r.value.value_or("<null>");
      if (value.size() == 8 && absl::string_view(what) == "changelog") {
        int64_t v = 0;
        for (unsigned char c : value) v = (v << 8) | c;
        value = absl::StrCat(v);
      }
      std::cout << what << " " << r.topic << "-" << r.partition << "@"
                << r.offset << " ts="
                << absl::FormatTime(absl::FromUnixMillis(r.timestamp_ms)) << " "
                << value << "\n";
    }
  };
  dump("input(uncommitted)", in.input_uncommitted);
  dump("output", in.output_committed);
  dump("changelog", in.changelog_committed);
}

// --dump_range: which records of a partition range are committed.
int DumpRange(const brook::ClientConfig& config, const std::string& spec,
              absl::Duration timeout) {
  std::vector<std::string> parts = absl::StrSplit(spec, ':');
  int32_t partition = 0;
  int64_t from = 0, to = 0;
  if (parts.size() != 4 || !absl::SimpleAtoi(parts[1], &partition) ||
      !absl::SimpleAtoi(parts[2], &from) || !absl::SimpleAtoi(parts[3], &to)) {
    std::cerr << "brook_verify: --dump_range wants <topic>:<partition>:"
                 "<from>:<to>\n";
    return 2;
  }
  auto all = brook::ReadTopic(config, parts[0],
                              brook::IsolationLevel::kReadUncommitted, timeout);
  auto committed = brook::ReadTopic(
      config, parts[0], brook::IsolationLevel::kReadCommitted, timeout);
  if (!all.ok() || !committed.ok()) {
    std::cerr << "brook_verify: cannot read " << parts[0] << "\n";
    return 2;
  }
  absl::flat_hash_set<int64_t> stable;
  for (const auto& r : *committed) {
    if (r.partition == partition) stable.insert(r.offset);
  }
  for (const auto& r : *all) {
    if (r.partition != partition || r.offset < from || r.offset >= to) continue;
    std::cout << parts[0] << "-" << partition << "@" << r.offset << " "
              << (stable.contains(r.offset) ? "committed" : "NOT committed")
              << " key=" << r.key.value_or("<null>") << " ts="
              << absl::FormatTime(absl::FromUnixMillis(r.timestamp_ms)) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  brook::chaos::KafkaSource source;
  source.config["bootstrap.servers"] = absl::GetFlag(FLAGS_bootstrap_servers);
  source.application_id = absl::GetFlag(FLAGS_application_id);
  source.input_topic = absl::GetFlag(FLAGS_input_topic);
  source.output_topic = absl::GetFlag(FLAGS_output_topic);
  source.timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout_seconds));
  if (source.config["bootstrap.servers"].empty() ||
      source.application_id.empty() || source.input_topic.empty() ||
      source.output_topic.empty()) {
    std::cerr << "brook_verify: --bootstrap_servers, --application_id, "
                 "--input_topic and --output_topic are required\n";
    return 2;
  }
  if (const std::string spec = absl::GetFlag(FLAGS_dump_range); !spec.empty()) {
    return DumpRange(source.config, spec, source.timeout);
  }
  absl::StatusOr<brook::chaos::VerifierInput> input =
      brook::chaos::ReadFromKafka(source);
  if (!input.ok()) {
    std::cerr << "brook_verify: cannot read Kafka: " << input.status() << "\n";
    return 2;
  }
  if (const std::string key = absl::GetFlag(FLAGS_dump_key); !key.empty()) {
    DumpKey(*input, key);
  }
  input->external =
      brook::chaos::ScanInstanceLogs(absl::GetFlag(FLAGS_instance_logs));
  const brook::chaos::Report report =
      brook::chaos::Check(*input, absl::GetFlag(FLAGS_max_listed));
  std::cout << report.ToString();
  std::cout << (report.ok() ? "verdict: PASS\n" : "verdict: FAIL\n");
  return report.ok() ? 0 : 1;
}
