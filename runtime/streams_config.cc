#include "brook/runtime/streams_config.h"

#include "absl/strings/str_cat.h"

namespace brook {
namespace {

absl::Status Invalid(absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("'", key, "' ", why));
}

}  // namespace

absl::Duration StreamsConfig::EffectiveCommitInterval() const {
  if (commit_interval > absl::ZeroDuration()) return commit_interval;
  return processing_guarantee == ProcessingGuarantee::kExactlyOnceV2
             ? absl::Milliseconds(100)
             : absl::Seconds(30);
}

StreamsConfig StreamsConfig::ForClients() const {
  StreamsConfig merged = *this;
  for (ClientConfig* client :
       {&merged.consumer_config, &merged.restore_consumer_config,
        &merged.producer_config, &merged.admin_config}) {
    for (const auto& [key, value] : client_config)
      client->try_emplace(key, value);
  }
  return merged;
}

absl::Status StreamsConfig::Validate() const {
  if (application_id.empty()) return Invalid("application.id", "is required");
  if (application_id.find('/') != std::string::npos) {
    return Invalid("application.id", "must not contain '/'");
  }
  if (bootstrap_servers.empty())
    return Invalid("bootstrap.servers", "is required");
  if (metrics_http_port < -1 || metrics_http_port > 65535) {
    return Invalid("metrics.http.port",
                   absl::StrCat("=", metrics_http_port,
                                " must be -1 (no server), 0 (any free port) "
                                "or a port up to 65535"));
  }
  if (metrics_http_port >= 0 && metrics_http_address.empty()) {
    return Invalid("metrics.http.address", "must not be empty");
  }
  if (num_stream_threads < 1) {
    return Invalid("num.stream.threads", absl::StrCat("=", num_stream_threads,
                                                      " must be at least 1"));
  }
  if (commit_interval < absl::ZeroDuration()) {
    return Invalid("commit.interval.ms", "must not be negative");
  }
  if (commit_max_records < 1)
    return Invalid("commit.max.records", "must be positive");
  if (state_dir.empty()) return Invalid("state.dir", "is required");
  if (buffered_records_per_partition < 1) {
    return Invalid("buffered.records.per.partition", "must be positive");
  }
  if (partition_queue_max_records < 1) {
    return Invalid("partition.queue.max.records", "must be positive");
  }
  if (partition_queue_max_bytes < 1024) {
    return Invalid("partition.queue.max.bytes", "must be at least 1024");
  }
  if (partition_read_ahead_records < 1) {
    return Invalid("partition.read.ahead.records", "must be positive");
  }
  if (max_records_per_task_per_iteration < 1) {
    return Invalid("max.records.per.task.per.iteration", "must be positive");
  }
  if (poll_timeout < absl::ZeroDuration()) {
    return Invalid("poll.ms", "must not be negative");
  }
  if (max_task_idle_ms < -1) {
    return Invalid("max.task.idle.ms",
                   absl::StrCat("=", max_task_idle_ms,
                                " must be -1 (never wait) or >= 0"));
  }
  if (cache_max_bytes < 0) {
    return Invalid("statestore.cache.max.bytes", "must not be negative");
  }
  if (restore_records_per_iteration < 1) {
    return Invalid("restore.records.per.iteration", "must be positive");
  }
  if (state_cleanup_delay < absl::ZeroDuration()) {
    return Invalid("state.cleanup.delay.ms", "must not be negative");
  }
  if (repartition_purge_interval < absl::ZeroDuration()) {
    return Invalid("repartition.purge.interval.ms", "must not be negative");
  }
  if (rocksdb.memory_budget_bytes < (1 << 20)) {
    return Invalid("rocksdb.memory.budget.bytes", "must be at least 1 MiB");
  }
  if (max_poll_records < 1) {
    return Invalid("max.poll.records", "must be positive");
  }
  if (max_poll_interval < absl::Seconds(1)) {
    return Invalid("max.poll.interval.ms", "must be at least 1 s");
  }
  if (session_timeout < absl::Seconds(1)) {
    return Invalid("session.timeout.ms", "must be at least 1 s");
  }
  if (transaction_timeout < absl::Seconds(1)) {
    return Invalid("transaction.timeout.ms", "must be at least 1 s");
  }
  if (processing_guarantee == ProcessingGuarantee::kExactlyOnceV2 &&
      EffectiveCommitInterval() >= transaction_timeout) {
    return Invalid(
        "commit.interval.ms",
        absl::StrCat("=", absl::FormatDuration(EffectiveCommitInterval()),
                     " must be shorter than 'transaction.timeout.ms'=",
                     absl::FormatDuration(transaction_timeout),
                     ", or the broker aborts every transaction"));
  }
  if (input_buffer_max_bytes < 1) {
    return Invalid("input.buffer.max.bytes", "must be positive");
  }
  if (task_timeout < absl::ZeroDuration()) {
    return Invalid("task.timeout.ms", "must not be negative");
  }
  if (client_call_timeout <= absl::ZeroDuration()) {
    return Invalid("client.call.timeout", "must be positive");
  }
  if (!default_timestamp_extractor) {
    return Invalid("default.timestamp.extractor", "must be set");
  }
  for (const char* key :
       {"group.id", "enable.auto.commit", "enable.auto.offset.store",
        "partition.assignment.strategy", "isolation.level", "group.instance.id",
        "transactional.id", "enable.idempotence", "bootstrap.servers",
        "client.id"}) {
    if (client_config.contains(key)) {
      return Invalid(absl::StrCat("client config ", key),
                     "is set by Brook (or by its own StreamsConfig field) and "
                     "cannot be set for every client");
    }
  }
  for (const char* key :
       {"group.id", "enable.auto.commit", "enable.auto.offset.store",
        "partition.assignment.strategy", "isolation.level",
        "group.instance.id"}) {
    if (consumer_config.contains(key)) {
      return Invalid(absl::StrCat("consumer config ", key),
                     "is set by Brook and cannot be overridden");
    }
  }
  // The restore reads read_committed, outside any group, and treats an
  // offset outside the log as corrupt state.
  for (const char* key : {"group.id", "isolation.level", "auto.offset.reset",
                          "enable.auto.commit"}) {
    if (restore_consumer_config.contains(key)) {
      return Invalid(absl::StrCat("restore consumer config ", key),
                     "is set by Brook and cannot be overridden");
    }
  }
  for (const char* key : {"transactional.id", "enable.idempotence"}) {
    if (producer_config.contains(key)) {
      return Invalid(absl::StrCat("producer config ", key),
                     "is set by Brook and cannot be overridden");
    }
  }
  return absl::OkStatus();
}

}  // namespace brook
