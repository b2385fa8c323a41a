// brook_verify: checks the exactly-once invariants (E1..E6, and E7 from the
// instance logs given) of a count_app run, reading only Kafka. Exits 0 when
// every invariant holds, 1 on a violation, 2 when Kafka cannot be read.
//
//   brook_verify --bootstrap_servers=127.0.0.1:9092 --application_id=app
//       --input_topic=in --output_topic=out [--instance_logs=a.log,b.log]
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

#include "base/logging.h"
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
