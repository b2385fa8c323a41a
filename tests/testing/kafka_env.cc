#include "tests/testing/kafka_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/producer.h"

namespace brook::testing {

std::string BootstrapServers() {
  if (const char* env = std::getenv("BROOK_BOOTSTRAP_SERVERS"); env && *env) {
    return env;
  }
  const char* dir = std::getenv("BROOK_KAFKA_DIR");
  if (dir == nullptr || *dir == 0) dir = BROOK_TEST_KAFKA_DIR;
  std::ifstream in(absl::StrCat(dir, "/bootstrap"));
  std::string address;
  std::getline(in, address);
  CHECK(!address.empty())
      << "no broker address in " << dir
      << "/bootstrap: run the tests through ctest (its kafka_broker fixture "
         "starts a broker), run scripts/kafka up, or set "
         "BROOK_BOOTSTRAP_SERVERS";
  return std::string(absl::StripAsciiWhitespace(address));
}

ClientConfig BaseConfig() {
  return {{"bootstrap.servers", BootstrapServers()}};
}

std::optional<std::string> SaslBootstrapServers() {
  if (const char* env = std::getenv("BROOK_SASL_BOOTSTRAP_SERVERS");
      env && *env) {
    return std::string(env);
  }
  if (const char* env = std::getenv("BROOK_BOOTSTRAP_SERVERS"); env && *env) {
    return std::nullopt;  // an external cluster: its SASL listener is unknown
  }
  const char* dir = std::getenv("BROOK_KAFKA_DIR");
  if (dir == nullptr || *dir == 0) dir = BROOK_TEST_KAFKA_DIR;
  std::ifstream in(absl::StrCat(dir, "/sasl_bootstrap"));
  std::string address;
  std::getline(in, address);
  if (address.empty()) return std::nullopt;
  return std::string(absl::StripAsciiWhitespace(address));
}

ClientConfig SaslClientConfig(const std::string& password) {
  return {{"security.protocol", "SASL_PLAINTEXT"},
          {"sasl.mechanism", "SCRAM-SHA-512"},
          {"sasl.username", "brook"},
          {"sasl.password", password}};
}

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, "-", getpid(), "-", counter.fetch_add(1), "-",
                      absl::ToUnixMillis(absl::Now()) % 100000000);
}

int64_t RecentEventTimeMs() {
  constexpr int64_t kHourMs = 3'600'000;
  const int64_t now = absl::ToUnixMillis(absl::Now());
  return (now - 3 * kHourMs) / kHourMs * kHourMs;
}

void CreateTopic(const std::string& name, int32_t partitions,
                 const std::map<std::string, std::string>& configs) {
  auto admin = Admin::Create(BaseConfig());
  CHECK(admin.ok()) << admin.status();
  absl::Status s = (*admin)->CreateTopic(
      {.name = name, .partitions = partitions, .configs = configs},
      absl::Seconds(30));
  CHECK(s.ok()) << s;
}

void ProduceValues(const std::string& topic, const std::string& prefix,
                   int64_t count) {
  auto producer = Producer::Create(BaseConfig());
  CHECK(producer.ok()) << producer.status();
  for (int64_t i = 0; i < count; ++i) {
    absl::Status s =
        (*producer)->Send({.topic = topic,
                           .key = absl::StrCat("k", i),
                           .value = absl::StrFormat("%s-%06d", prefix, i)});
    CHECK(s.ok()) << s;
  }
  absl::Status s = (*producer)->Flush(absl::Seconds(60));
  CHECK(s.ok()) << s;
}

void ProduceRawValue(const std::string& topic, const std::string& value) {
  auto producer = Producer::Create(BaseConfig());
  CHECK(producer.ok()) << producer.status();
  absl::Status s =
      (*producer)->Send({.topic = topic, .key = "raw", .value = value});
  CHECK(s.ok()) << s;
  s = (*producer)->Flush(absl::Seconds(60));
  CHECK(s.ok()) << s;
}

std::vector<int64_t> CommittedOffsets(const std::string& group,
                                      const std::string& topic,
                                      int partitions) {
  ClientConfig config = BaseConfig();
  config["group.id"] = group;
  auto consumer = Consumer::Create(config, nullptr);
  CHECK(consumer.ok()) << consumer.status();
  std::vector<TopicPartition> tps;
  for (int p = 0; p < partitions; ++p) tps.push_back({topic, p});
  auto committed = (*consumer)->Committed(tps, absl::Seconds(30));
  if (!committed.ok()) return {};
  std::vector<int64_t> out;
  for (const TopicPartitionOffset& c : *committed) {
    out.push_back(std::max<int64_t>(c.offset, 0));
  }
  return out;
}

int64_t AwaitCommittedSum(const std::string& group,
                          const std::vector<std::string>& topics,
                          int partitions, int64_t at_least,
                          absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int64_t sum = 0;
    for (const std::string& topic : topics) {
      for (int64_t o : CommittedOffsets(group, topic, partitions)) sum += o;
    }
    if (sum >= at_least || absl::Now() >= deadline) return sum;
    absl::SleepFor(absl::Milliseconds(200));
  }
}

std::string BinaryPath(const std::string& relative) {
  return absl::StrCat(BROOK_TEST_BIN_DIR, "/", relative);
}

}  // namespace brook::testing

namespace brook::testing {

std::string CopyCheck::ToString() const {
  return absl::StrCat(records, " records, ", distinct, " distinct, ",
                      duplicates, " duplicates, ", missing, " missing, ",
                      unexpected, " unexpected");
}

CopyCheck CheckExactCopy(const std::vector<ConsumerRecord>& output,
                         const std::string& prefix, int64_t count) {
  std::vector<int> seen(count, 0);
  CopyCheck check;
  check.records = static_cast<int64_t>(output.size());
  for (const ConsumerRecord& r : output) {
    const std::string& v = r.value.value_or("");
    int64_t i = -1;
    if (absl::StartsWith(v, prefix + "-") &&
        absl::SimpleAtoi(absl::string_view(v).substr(prefix.size() + 1), &i) &&
        i >= 0 && i < count) {
      if (seen[i]++ > 0) ++check.duplicates;
    } else {
      ++check.unexpected;
    }
  }
  for (int64_t i = 0; i < count; ++i) {
    if (seen[i] > 0) {
      ++check.distinct;
    } else {
      ++check.missing;
    }
  }
  return check;
}

}  // namespace brook::testing
