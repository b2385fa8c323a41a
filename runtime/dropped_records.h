// DroppedRecordReason: why a processor skipped a record instead of processing
// it (Kafka Streams' "dropped-records" sensor, with a reason). Processors
// report a drop through ProcessorContext::RecordDropped(); the task counts it
// per reason (KafkaStreams::Metrics() sums them per stream thread, and
// TopologyTestDriver::DroppedRecords() per driver) and logs at a rate limit,
// so that no record is lost silently.
// Threading model: plain values.
#ifndef BROOK_RUNTIME_DROPPED_RECORDS_H_
#define BROOK_RUNTIME_DROPPED_RECORDS_H_

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace brook {

enum class DroppedRecordReason {
  // An operator that needs a key (aggregation, grouping, join) got a null
  // key.
  kNullKey,
  // An aggregation got a null value.
  kNullValue,
  // A windowed aggregation got a record for a window that had closed: stream
  // time had reached the window's end + grace.
  kWindowClosed,
  // A record error handler (runtime/error_handlers.h) answered kContinue:
  // a source could not deserialize the record, a processor failed on it, or
  // a sink could not produce one of its outputs.
  kDeserializationError,
  kProcessingError,
  kProductionError,
};
inline constexpr int kNumDroppedRecordReasons = 6;

// "null-key", "null-value", "window-closed", "deserialization-error",
// "processing-error", "production-error": the metric's reason label.
absl::string_view DroppedRecordReasonName(DroppedRecordReason reason);

// Counts per reason, indexed by static_cast<int>(reason).
using DroppedRecordCounts = std::array<int64_t, kNumDroppedRecordReasons>;

}  // namespace brook

#endif  // BROOK_RUNTIME_DROPPED_RECORDS_H_
