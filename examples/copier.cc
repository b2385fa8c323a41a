#include "examples/copier.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/runtime/serdes.h"

namespace brook::examples {
namespace {

// Both topics must exist: Brook does not create user topics. The error names
// the topic and its role.
absl::Status CheckTopics(const StreamsConfig& config,
                         const std::string& input_topic,
                         const std::string& output_topic) {
  ClientConfig client = config.ForClients().admin_config;
  client["bootstrap.servers"] = config.bootstrap_servers;
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::Create(client));
  for (const auto& [role, topic] :
       {std::pair{"input", input_topic}, std::pair{"output", output_topic}}) {
    absl::StatusOr<int32_t> partitions =
        admin->PartitionCount(topic, absl::Seconds(10));
    if (!partitions.ok()) {
      return absl::Status(partitions.status().code(),
                          absl::StrCat("the copier's ", role, " topic: ",
                                       partitions.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

Topology CopyTopology(const std::string& input_topic,
                      const std::string& output_topic) {
  Topology topology;
  topology
      .AddSource<std::string, std::string>(
          "input", {input_topic}, Serdes::Bytes(), Serdes::Bytes(),
          [](const ConsumerRecord& r, int64_t) -> absl::StatusOr<int64_t> {
            return std::max<int64_t>(r.timestamp_ms, 0);
          })
      .AddSink<std::string, std::string>(
          "output", output_topic, Serdes::Bytes(), Serdes::Bytes(), {"input"});
  return topology;
}

absl::StatusOr<std::unique_ptr<Copier>> Copier::Create(
    const StreamsConfig& config, const std::string& input_topic,
    const std::string& output_topic) {
  BROOK_RETURN_IF_ERROR(config.Validate());
  BROOK_RETURN_IF_ERROR(CheckTopics(config, input_topic, output_topic));
  BROOK_ASSIGN_OR_RETURN(
      std::unique_ptr<KafkaStreams> streams,
      KafkaStreams::Create(CopyTopology(input_topic, output_topic), config));
  return std::unique_ptr<Copier>(new Copier(
      config.application_id, config.client_call_timeout, std::move(streams)));
}

Copier::Copier(const std::string& application_id, absl::Duration close_timeout,
               std::unique_ptr<KafkaStreams> streams)
    : close_timeout_(close_timeout),
      streams_(std::move(streams)),
      transactional_id_(
          absl::StrCat(application_id, "-", streams_->process_id(), "-0")) {}

absl::Status Copier::Run(const std::atomic<bool>& stop) {
  BROOK_RETURN_IF_ERROR(streams_->Start());
  while (!stop.load(std::memory_order_relaxed) &&
         streams_->state() != KafkaStreams::State::kError) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::Status closed = streams_->Close(close_timeout_);
  if (streams_->state() == KafkaStreams::State::kError) {
    return streams_->error();
  }
  return closed;
}

CopierStats Copier::stats() const {
  CopierStats stats;
  double commit_ms = 0;
  for (const StreamThreadMetrics& m : streams_->Metrics()) {
    stats.records_copied += m.records_processed;
    stats.commits += m.commits;
    stats.aborts += m.aborts;
    stats.rebalances += m.rebalances;
    commit_ms += m.commit_latency_avg_ms * m.commits;
  }
  if (stats.commits > 0)
    stats.commit_latency_avg_ms = commit_ms / stats.commits;
  return stats;
}

}  // namespace brook::examples
