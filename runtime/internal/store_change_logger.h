// StoreChangeLogger: sends a store's changes to its changelog partition through
// the task's RecordCollector, so they travel in the task's transaction.
// Threading model: owned by one task.
#ifndef BROOK_RUNTIME_INTERNAL_STORE_CHANGE_LOGGER_H_
#define BROOK_RUNTIME_INTERNAL_STORE_CHANGE_LOGGER_H_

#include <functional>
#include <string>

#include "absl/strings/str_cat.h"

#include "brook/kafka/topic_partition.h"
#include "brook/runtime/internal/task_context.h"
#include "brook/state/state_store.h"

namespace brook::internal {

// <application.id>-<store>-changelog, as Kafka Streams names it.
inline std::string ChangelogTopic(absl::string_view application_id,
                                  absl::string_view store) {
  return absl::StrCat(application_id, "-", store, "-changelog");
}

class StoreChangeLogger final : public ChangeSink {
 public:
  // `timestamp_ms` gives the timestamp of the record being processed.
  StoreChangeLogger(TopicPartition changelog, RecordCollector* collector,
                    std::function<int64_t()> timestamp_ms)
      : changelog_(std::move(changelog)),
        collector_(collector),
        timestamp_ms_(std::move(timestamp_ms)) {}

  absl::Status LogChange(absl::string_view key,
                         std::optional<absl::string_view> value) override {
    ProducerRecord r;
    r.topic = changelog_.topic;
    r.partition = changelog_.partition;
    r.key = std::string(key);
    if (value.has_value()) r.value = std::string(*value);
    r.timestamp_ms = std::max<int64_t>(timestamp_ms_(), 0);
    return collector_->Send(r);
  }

  const TopicPartition& changelog() const { return changelog_; }

 private:
  const TopicPartition changelog_;
  RecordCollector* const collector_;
  const std::function<int64_t()> timestamp_ms_;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_STORE_CHANGE_LOGGER_H_
