// The input and the output check of passthrough_bench (topics.h).
#include "bench/passthrough/topics.h"

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include "bench/passthrough/raw_copy.h"
#include "bench/passthrough/run.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"

namespace brook::passthrough_bench {

absl::StatusOr<int64_t> Preload(const std::string& bootstrap,
                                const std::string& topic, int64_t records,
                                int32_t value_bytes) {
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                         Producer::Create(MatchedProducerConfig(bootstrap)));
  std::mt19937_64 rng(kPayloadSeed);
  std::string value(value_bytes, ' ');
  int64_t bytes = 0;
  for (int64_t i = 0; i < records; ++i) {
    for (char& c : value) c = static_cast<char>(' ' + rng() % 95);
    std::string key = absl::StrCat("k", i % kKeyCardinality);
    bytes += static_cast<int64_t>(key.size() + value.size());
    BROOK_RETURN_IF_ERROR(producer->Send(
        {.topic = topic, .key = std::move(key), .value = value}));
  }
  BROOK_RETURN_IF_ERROR(producer->Flush(absl::Seconds(120)));
  return bytes;
}

absl::StatusOr<int64_t> CountCommitted(const std::string& bootstrap,
                                       const std::string& topic,
                                       int64_t expected) {
  int64_t count = 0;
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (attempt > 0) absl::SleepFor(absl::Seconds(1));
    BROOK_ASSIGN_OR_RETURN(
        std::vector<ConsumerRecord> records,
        ReadTopic({{"bootstrap.servers", bootstrap}}, topic,
                  IsolationLevel::kReadCommitted, absl::Seconds(60)));
    count = static_cast<int64_t>(records.size());
    if (count >= expected) break;
  }
  return count;
}

}  // namespace brook::passthrough_bench
