#include "brook/kafka/topic_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/errors.h"

namespace brook {
namespace {

// A topic created a moment ago may have no leader yet: librdkafka then
// answers NOT_LEADER_FOR_PARTITION or LEADER_NOT_AVAILABLE. Retry such
// retriable answers until the deadline.
absl::StatusOr<std::pair<int64_t, int64_t>> Watermarks(
    Consumer& consumer, const TopicPartition& partition, absl::Time deadline) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    absl::StatusOr<std::pair<int64_t, int64_t>> marks =
        consumer.QueryWatermarks(partition, std::max(left, absl::Seconds(1)));
    if (marks.ok() || !IsRetriable(marks.status()) || absl::Now() >= deadline) {
      return marks;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

}  // namespace

absl::StatusOr<std::vector<ConsumerRecord>> ReadTopic(
    const ClientConfig& config, const std::string& topic,
    IsolationLevel isolation, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::Create(config));
  BROOK_ASSIGN_OR_RETURN(int32_t partitions,
                         admin->PartitionCount(topic, timeout));
  ClientConfig consumer_config = config;
  consumer_config.erase("group.id");
  // Retention (by time, or delete-records) may move a partition's start past
  // the offset read from its watermarks before the read begins: start over
  // at the new start rather than jump to the end, so that the read ends
  // and the records deleted show as missing.
  consumer_config["auto.offset.reset"] = "earliest";
  // The reader keeps every record anyway, so let librdkafka prefetch
  // without limit: 2.0.2 backs a full partition queue off for a second.
  // (These limits were once taken for the cure of a read-back "stall"; the
  // cause was the watermark queries in the loop below, see there.)
  consumer_config.try_emplace("queued.min.messages", "10000000");
  consumer_config.try_emplace("queued.max.messages.kbytes", "2097151");
  consumer_config["isolation.level"] =
      isolation == IsolationLevel::kReadCommitted ? "read_committed"
                                                  : "read_uncommitted";
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Consumer> consumer,
                         Consumer::Create(consumer_config, nullptr));
  // Under read_committed the end is the last stable offset. A transaction
  // that has just committed has its markers written by the broker a moment
  // later, so wait (bounded) until the stable end reaches the log end:
  // otherwise the newest committed records would be left out.
  std::unique_ptr<Consumer> log_end;
  if (isolation == IsolationLevel::kReadCommitted) {
    ClientConfig uncommitted = consumer_config;
    uncommitted["isolation.level"] = "read_uncommitted";
    BROOK_ASSIGN_OR_RETURN(log_end, Consumer::Create(uncommitted, nullptr));
  }
  const absl::Time stable_deadline =
      absl::Now() + std::min(timeout / 2, absl::Seconds(15));
  std::vector<TopicPartitionOffset> start;
  int64_t remaining_partitions = 0;
  std::vector<int64_t> end(partitions, 0);
  for (int32_t p = 0; p < partitions; ++p) {
    BROOK_ASSIGN_OR_RETURN(auto marks,
                           Watermarks(*consumer, {topic, p}, deadline));
    while (log_end != nullptr && absl::Now() < stable_deadline) {
      BROOK_ASSIGN_OR_RETURN(auto log_marks,
                             Watermarks(*log_end, {topic, p}, deadline));
      if (marks.second >= log_marks.second) break;
      absl::SleepFor(absl::Milliseconds(20));
      BROOK_ASSIGN_OR_RETURN(marks,
                             Watermarks(*consumer, {topic, p}, deadline));
    }
    end[p] = marks.second;
    start.push_back({{topic, p}, marks.first});
    if (marks.second > marks.first) ++remaining_partitions;
  }
  BROOK_RETURN_IF_ERROR(consumer->Assign(start));
  std::vector<ConsumerRecord> records;
  std::vector<bool> done(partitions, false);
  for (int32_t p = 0; p < partitions; ++p) done[p] = end[p] <= start[p].offset;
  // Checking where the partitions stand costs: Position() builds a list and
  // takes librdkafka's locks, and QueryWatermarks() is a round trip queued
  // behind the consumer's long-polling fetch (up to fetch.wait.max.ms). So
  // a record only checks its own partition, all partitions are checked when
  // a poll comes back empty (markers and aborted records move positions
  // without a record), and the start offsets are asked for only once the
  // read has been idle for a second. Asking every second while records
  // flowed (6 partitions, 2 requests each) left the reader waiting on
  // ListOffsets most of the time: 1M records read back at ~6k records/s,
  // which looked like a stall.
  absl::Time idle_since = absl::Now();
  absl::Time next_start_check = absl::InfinitePast();
  auto check = [&](int32_t p, bool ask_start) {
    if (done[p]) return;
    bool reached = consumer->Position({topic, p}) >= end[p];
    if (!reached && ask_start) {
      // Deleted up to the end: no fetch moves the position any more.
      absl::StatusOr<std::pair<int64_t, int64_t>> marks =
          consumer->QueryWatermarks({topic, p}, absl::Seconds(5));
      reached = marks.ok() && marks->first >= end[p];
    }
    if (reached) {
      done[p] = true;
      --remaining_partitions;
    }
  };
  while (remaining_partitions > 0) {
    if (absl::Now() > deadline) {
      // Say where each unfinished partition stands, and where the broker
      // says it ends now: a stalled fetch and a moved end look different.
      std::string behind;
      for (int32_t p = 0; p < partitions; ++p) {
        if (done[p]) continue;
        absl::StrAppend(&behind, "; partition ", p, " at ",
                        consumer->Position({topic, p}), " of end ", end[p]);
        absl::StatusOr<std::pair<int64_t, int64_t>> marks =
            consumer->QueryWatermarks({topic, p}, absl::Seconds(2));
        if (marks.ok()) {
          absl::StrAppend(&behind, " (watermarks now [", marks->first, ", ",
                          marks->second, "))");
        }
      }
      return absl::DeadlineExceededError(
          absl::StrCat("reading topic '", topic, "': end not reached within ",
                       absl::FormatDuration(timeout), " (", records.size(),
                       " records read", behind, ")"));
    }
    BROOK_ASSIGN_OR_RETURN(std::optional<ConsumerRecord> record,
                           consumer->Poll(absl::Milliseconds(100)));
    if (record.has_value()) {
      const int32_t p = record->partition;
      // Transaction markers and aborted records advance the position without
      // surfacing, so the end test uses the position, not the last record.
      if (p >= 0 && p < partitions) {
        if (record->offset < end[p]) records.push_back(*std::move(record));
        check(p, /*ask_start=*/false);
      }
      idle_since = absl::Now();
      continue;
    }
    const absl::Time now = absl::Now();
    const bool ask_start =
        now - idle_since >= absl::Seconds(1) && now >= next_start_check;
    if (ask_start) next_start_check = now + absl::Seconds(1);
    for (int32_t p = 0; p < partitions; ++p) check(p, ask_start);
  }
  BROOK_RETURN_IF_ERROR(consumer->Close());
  return records;
}

}  // namespace brook
