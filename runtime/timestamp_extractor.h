// TimestampExtractor: decides a record's event time, which drives stream time,
// stream-time punctuation and (later) windows.
#ifndef BROOK_RUNTIME_TIMESTAMP_EXTRACTOR_H_
#define BROOK_RUNTIME_TIMESTAMP_EXTRACTOR_H_

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"

#include "brook/kafka/consumer_record.h"

namespace brook {

// Returns the record's timestamp in milliseconds, or an error for a record
// whose time cannot be decided (Brook then fails with the record's topic,
// partition and offset). `partition_time_ms` is the highest timestamp seen so
// far on the record's partition, -1 before the first.
// Must be thread-safe: it is shared by all stream threads.
using TimestampExtractor = std::function<absl::StatusOr<int64_t>(
    const ConsumerRecord& record, int64_t partition_time_ms)>;

// The record's own timestamp (producer or broker time); a record without a
// valid one is an error. Kafka Streams' default, FailOnInvalidTimestamp.
TimestampExtractor RecordTimestampExtractor();

// The record's own timestamp, or the partition time when the record has no
// valid one (UsePartitionTimeOnInvalidTimestamp).
TimestampExtractor PartitionTimeOnInvalidTimestampExtractor();

// The wall clock at extraction (WallclockTimestampExtractor).
TimestampExtractor WallClockTimestampExtractor();

}  // namespace brook

#endif  // BROOK_RUNTIME_TIMESTAMP_EXTRACTOR_H_
