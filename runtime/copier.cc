#include "runtime/copier.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "base/status_macros.h"
#include "kafka/admin.h"
#include "runtime/serdes.h"

namespace brook {
namespace {

// Both topics must exist; the error names the option that names the topic.
absl::Status CheckTopics(const CopierOptions& options) {
  ClientConfig config = {{"bootstrap.servers", options.bootstrap_servers}};
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::Create(config));
  for (const auto& [key, topic] :
       {std::pair{"input.topic", options.input_topic},
        std::pair{"output.topic", options.output_topic}}) {
    absl::StatusOr<int32_t> partitions =
        admin->PartitionCount(topic, absl::Seconds(10));
    if (!partitions.ok()) {
      return absl::Status(
          partitions.status().code(),
          absl::StrCat("'", key, "': ", partitions.status().message()));
    }
  }
  return absl::OkStatus();
}

StreamsConfig ToStreamsConfig(const CopierOptions& options) {
  StreamsConfig config;
  config.application_id = options.application_id;
  config.bootstrap_servers = options.bootstrap_servers;
  config.state_dir = options.state_dir;
  config.processing_guarantee = options.guarantee;
  config.commit_interval = options.commit_interval;
  config.commit_max_records = options.commit_max_records;
  config.transaction_timeout = options.transaction_timeout;
  config.client_call_timeout = options.client_call_timeout;
  config.partition_queues = options.partition_queues;
  config.consumer_config = options.consumer_config;
  config.producer_config = options.producer_config;
  // Session and poll timeouts come through consumer_config; pass them on as
  // settings so KafkaStreams does not override them with its defaults.
  for (const auto& [key, field] :
       {std::pair{"session.timeout.ms", &config.session_timeout},
        std::pair{"max.poll.interval.ms", &config.max_poll_interval}}) {
    auto it = config.consumer_config.find(key);
    int64_t ms = 0;
    if (it != config.consumer_config.end() &&
        absl::SimpleAtoi(it->second, &ms)) {
      *field = absl::Milliseconds(ms);
      config.consumer_config.erase(it);
    }
  }
  return config;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Copier>> Copier::Create(
    const CopierOptions& options) {
  BROOK_RETURN_IF_ERROR(options.Validate());
  BROOK_RETURN_IF_ERROR(CheckTopics(options));
  Topology topology;
  topology
      .AddSource<std::string, std::string>(
          "input", {options.input_topic}, Serdes::Bytes(), Serdes::Bytes(),
          // A record without a timestamp is
          // copied too, stamped at send time.
          [](const ConsumerRecord& r, int64_t) -> absl::StatusOr<int64_t> {
            return std::max<int64_t>(r.timestamp_ms, 0);
          })
      .AddSink<std::string, std::string>("output", options.output_topic,
                                         Serdes::Bytes(), Serdes::Bytes(),
                                         {"input"});
  BROOK_ASSIGN_OR_RETURN(
      std::unique_ptr<KafkaStreams> streams,
      KafkaStreams::Create(topology, ToStreamsConfig(options)));
  return std::unique_ptr<Copier>(new Copier(options, std::move(streams)));
}

Copier::Copier(CopierOptions options, std::unique_ptr<KafkaStreams> streams)
    : options_(std::move(options)),
      streams_(std::move(streams)),
      transactional_id_(absl::StrCat(options_.application_id, "-",
                                     streams_->process_id(), "-0")) {}

absl::Status Copier::Run(const std::atomic<bool>& stop) {
  BROOK_RETURN_IF_ERROR(streams_->Start());
  while (!stop.load(std::memory_order_relaxed) &&
         streams_->state() != KafkaStreams::State::kError) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::Status closed = streams_->Close(options_.client_call_timeout);
  if (streams_->state() == KafkaStreams::State::kError)
    return streams_->error();
  return closed;
}

const CopierStats& Copier::stats() const {
  int64_t processed = 0, commits = 0, aborts = 0, rebalances = 0;
  double commit_ms = 0;
  for (const StreamThreadMetrics& m : streams_->Metrics()) {
    processed += m.records_processed;
    commits += m.commits;
    aborts += m.aborts;
    rebalances += m.rebalances;
    commit_ms += m.commit_latency_avg_ms * m.commits;
  }
  stats_.records_copied.store(processed);
  stats_.commits.store(commits);
  stats_.aborts.store(aborts);
  stats_.rebalances.store(rebalances);
  stats_.commit_micros_total.store(static_cast<int64_t>(commit_ms * 1000));
  return stats_;
}

}  // namespace brook
