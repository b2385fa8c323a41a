// copier_demo: the demo behind the README's first command.
//
// Creates an input and an output topic, writes --records records to the
// input, copies them with a Copier under exactly-once, then reads the output
// back with read_committed and checks that every record arrived exactly once.
// Prints what it did and exits non-zero if the check fails.
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/runtime/streams_config.h"
#include "examples/copier.h"
#include "examples/help_flags.h"

ABSL_FLAG(std::string, bootstrap_servers, "",
          "Kafka bootstrap.servers (default: $BROOK_BOOTSTRAP_SERVERS)");
ABSL_FLAG(int64_t, records, 100000, "records to copy");
ABSL_FLAG(int32_t, partitions, 3, "partitions of the demo topics");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-demo", "state directory root");

namespace brook {
namespace {

absl::Status RunDemo() {
  std::string bootstrap = absl::GetFlag(FLAGS_bootstrap_servers);
  if (bootstrap.empty() && std::getenv("BROOK_BOOTSTRAP_SERVERS") != nullptr) {
    bootstrap = std::getenv("BROOK_BOOTSTRAP_SERVERS");
  }
  if (bootstrap.empty()) {
    return absl::InvalidArgumentError(
        "no broker: pass --bootstrap_servers or set BROOK_BOOTSTRAP_SERVERS "
        "(scripts/demo starts a local broker and does this)");
  }
  const int64_t n = absl::GetFlag(FLAGS_records);
  const int32_t partitions = absl::GetFlag(FLAGS_partitions);
  const std::string run = absl::StrCat(absl::ToUnixSeconds(absl::Now()));
  const std::string input = "brook-demo-input-" + run;
  const std::string output = "brook-demo-output-" + run;
  const ClientConfig config = {{"bootstrap.servers", bootstrap}};

  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::Create(config));
  for (const std::string& topic : {input, output}) {
    BROOK_RETURN_IF_ERROR(
        admin->CreateTopic({topic, partitions}, absl::Seconds(30)));
  }
  std::cout << "created topics " << input << " and " << output << " ("
            << partitions << " partitions each)\n";

  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                         Producer::Create(config));
  for (int64_t i = 0; i < n; ++i) {
    BROOK_RETURN_IF_ERROR(
        producer->Send({.topic = input,
                        .key = absl::StrCat("key-", i % 1000),
                        .value = absl::StrFormat("record-%08d", i)}));
  }
  BROOK_RETURN_IF_ERROR(producer->Flush(absl::Seconds(60)));
  std::cout << "wrote " << n << " records to " << input << "\n";

  StreamsConfig streams_config;
  streams_config.application_id = "brook-demo-" + run;
  streams_config.bootstrap_servers = bootstrap;
  streams_config.state_dir = absl::GetFlag(FLAGS_state_dir);
  BROOK_ASSIGN_OR_RETURN(
      std::unique_ptr<examples::Copier> copier,
      examples::Copier::Create(streams_config, input, output));
  std::cout << "copying with transactional.id " << copier->transactional_id()
            << " (exactly_once_v2, commit every 100ms)\n";

  std::atomic<bool> stop{false};
  absl::Status run_status;
  const absl::Time start = absl::Now();
  std::thread thread([&] { run_status = copier->Run(stop); });
  const absl::Time deadline = start + absl::Seconds(120);
  while (copier->stats().records_copied < n && absl::Now() < deadline &&
         !stop.load()) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const absl::Duration elapsed = absl::Now() - start;
  stop.store(true);
  thread.join();
  BROOK_RETURN_IF_ERROR(run_status);

  const examples::CopierStats stats = copier->stats();
  std::cout << absl::StrFormat(
      "copied %d records in %s: %.0f records/s, %d transactions, mean commit "
      "%.1f ms, %d aborts\n",
      stats.records_copied, absl::FormatDuration(elapsed),
      stats.records_copied / absl::ToDoubleSeconds(elapsed), stats.commits,
      stats.commit_latency_avg_ms, stats.aborts);

  BROOK_ASSIGN_OR_RETURN(
      std::vector<ConsumerRecord> copied,
      ReadTopic(config, output, IsolationLevel::kReadCommitted,
                absl::Seconds(60)));
  absl::flat_hash_map<std::string, int> seen;
  for (const ConsumerRecord& r : copied) ++seen[r.value.value_or("<null>")];
  int64_t duplicates = 0;
  for (const auto& [value, count] : seen) duplicates += count - 1;
  const int64_t missing = n - static_cast<int64_t>(seen.size());
  std::cout << "verified " << output
            << " with read_committed: " << copied.size() << " records, "
            << seen.size() << " distinct, " << duplicates << " duplicates, "
            << missing << " missing\n";
  if (duplicates != 0 || missing != 0) {
    return absl::DataLossError("the output is not an exact copy of the input");
  }
  std::cout << "OK: every input record is in the output exactly once\n";
  for (const std::string& topic : {input, output}) {
    admin->DeleteTopic(topic, absl::Seconds(30)).IgnoreError();  // Tidy only.
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  brook::examples::ParseCommandLineWithHelp(
      argc, argv,
      "creates topics, writes --records records, copies them "
      "exactly once and checks the output.",
      {"examples/copier_demo.cc"});
  brook::InitLogging(argv[0]);
  absl::Status status = brook::RunDemo();
  if (!status.ok()) {
    std::cerr << "copier_demo: " << status << "\n";
    return 1;
  }
  return 0;
}
