// A stream-stream join on the real broker whose right input lies far behind
// in its log: the records that join sit behind 20,000 older ones, so they
// are fetched long after the left input. A task that processed whatever it
// had buffered would run the left side ahead, and every right record would
// then arrive after its window closed. With max_task_idle_ms at its
// default (0), the task waits for records the broker already has, so it
// processes both inputs in timestamp order and every pair joins.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::AwaitCommittedSum;
using ::brook::testing::BaseConfig;
using ::brook::testing::CreateTopic;
using ::brook::testing::RecentEventTimeMs;
using ::brook::testing::UniqueName;
using S = std::string;

constexpr int kPairs = 100;
constexpr int kPadding = 20000;

TEST(StreamStreamJoinBrokerTest, AnInputFarBehindInItsLogStillJoinsInTime) {
  const S left = UniqueName("ssj-left");
  const S right = UniqueName("ssj-right");
  const S out = UniqueName("ssj-out");
  CreateTopic(left, 1);
  CreateTopic(right, 1);
  CreateTopic(out, 1);
  auto producer = Producer::Create(BaseConfig());
  ASSERT_TRUE(producer.ok()) << producer.status();
  const int64_t base = RecentEventTimeMs();
  // Left: pair i at base + 10 s + i s. Right: first the padding, older
  // than every pair and with keys the left never has, then pair i 10 ms
  // after its left record.
  for (int i = 0; i < kPairs; ++i) {
    ASSERT_TRUE((*producer)
                    ->Send({.topic = left,
                            .key = absl::StrCat("k", i),
                            .value = absl::StrCat("L", i),
                            .timestamp_ms = base + 10'000 + i * 1'000})
                    .ok());
  }
  for (int i = 0; i < kPadding; ++i) {
    ASSERT_TRUE((*producer)
                    ->Send({.topic = right,
                            .key = absl::StrCat("pad", i % 100),
                            .value = "padding",
                            .timestamp_ms = base + i / 10})
                    .ok());
  }
  for (int i = 0; i < kPairs; ++i) {
    ASSERT_TRUE((*producer)
                    ->Send({.topic = right,
                            .key = absl::StrCat("k", i),
                            .value = absl::StrCat("R", i),
                            .timestamp_ms = base + 10'000 + i * 1'000 + 10})
                    .ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());

  StreamsConfig config;
  config.application_id = UniqueName("ssj-app");
  config.bootstrap_servers = testing::BootstrapServers();
  config.state_dir = ::testing::TempDir() + "/" + config.application_id;
  config.session_timeout = absl::Seconds(6);
  ASSERT_EQ(config.max_task_idle_ms, 0);  // the default under test
  StreamsBuilder b;
  b.Stream<S, S>(left)
      .Join(
          b.Stream<S, S>(right),
          [](const S& l, const S& r) { return absl::StrCat(l, "+", r); },
          JoinWindows::OfTimeDifferenceWithNoGrace(absl::Milliseconds(100)))
      .To(out);
  auto topology = b.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto app = KafkaStreams::Create(*topology, config);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->Start().ok());

  ASSERT_EQ(AwaitCommittedSum(config.application_id, {left, right}, 1,
                              kPairs + kPadding + kPairs, absl::Seconds(90)),
            kPairs + kPadding + kPairs);
  int64_t closed = 0;
  for (const StreamThreadMetrics& m : (*app)->Metrics()) {
    auto it = m.dropped_records.find("window-closed");
    if (it != m.dropped_records.end()) closed += it->second;
  }
  ASSERT_TRUE((*app)->Close(absl::Seconds(30)).ok());
  std::filesystem::remove_all(config.state_dir);

  EXPECT_EQ(closed, 0) << "right records arrived after their window closed";
  auto joined = ReadTopic(BaseConfig(), out, IsolationLevel::kReadCommitted,
                          absl::Seconds(60));
  ASSERT_TRUE(joined.ok()) << joined.status();
  std::map<S, S> pairs;
  for (const ConsumerRecord& r : *joined) {
    ASSERT_TRUE(r.key.has_value() && r.value.has_value());
    EXPECT_TRUE(pairs.emplace(*r.key, *r.value).second) << "twice: " << *r.key;
  }
  ASSERT_EQ(pairs.size(), static_cast<size_t>(kPairs));
  for (int i = 0; i < kPairs; ++i) {
    EXPECT_EQ(pairs[absl::StrCat("k", i)], absl::StrCat("L", i, "+R", i));
  }
}

}  // namespace
}  // namespace brook
