#include "runtime/copier_options.h"

#include "absl/strings/str_cat.h"

#include "runtime/processing_guarantee.h"

namespace brook {

absl::Duration CopierOptions::EffectiveCommitInterval() const {
  if (commit_interval > absl::ZeroDuration()) return commit_interval;
  return guarantee == ProcessingGuarantee::kExactlyOnceV2
             ? absl::Milliseconds(100)
             : absl::Seconds(30);
}

absl::Status CopierOptions::Validate() const {
  auto missing = [](absl::string_view key) {
    return absl::InvalidArgumentError(absl::StrCat("'", key, "' is required"));
  };
  if (application_id.empty()) return missing("application.id");
  if (bootstrap_servers.empty()) return missing("bootstrap.servers");
  if (input_topic.empty()) return missing("input.topic");
  if (output_topic.empty()) return missing("output.topic");
  if (input_topic == output_topic) {
    return absl::InvalidArgumentError(
        absl::StrCat("'input.topic' and 'output.topic' are both '", input_topic,
                     "'; copying a topic into itself never ends"));
  }
  if (state_dir.empty()) return missing("state.dir");
  if (commit_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'commit.interval'=", absl::FormatDuration(commit_interval),
        " must not be negative"));
  }
  if (commit_max_records <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'commit.max.records'=", commit_max_records, " must be positive"));
  }
  if (transaction_timeout < absl::Seconds(1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'transaction.timeout'=", absl::FormatDuration(transaction_timeout),
        " must be at least 1s"));
  }
  if (guarantee == ProcessingGuarantee::kExactlyOnceV2 &&
      EffectiveCommitInterval() >= transaction_timeout) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'commit.interval'=", absl::FormatDuration(EffectiveCommitInterval()),
        " must be shorter than 'transaction.timeout'=",
        absl::FormatDuration(transaction_timeout),
        ", or the broker aborts every transaction"));
  }
  if (client_call_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("'client.call.timeout' must be positive");
  }
  for (const char* key :
       {"enable.auto.commit", "group.id", "partition.assignment.strategy"}) {
    if (consumer_config.contains(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("consumer config '", key,
                       "' is set by Brook and cannot be overridden"));
    }
  }
  for (const char* key : {"transactional.id", "enable.idempotence"}) {
    if (producer_config.contains(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("producer config '", key,
                       "' is set by Brook and cannot be overridden"));
    }
  }
  return absl::OkStatus();
}

}  // namespace brook
