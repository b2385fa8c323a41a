// Internal (repartition) topics against the real broker: KafkaStreams
// creates them at Start() with the partition count of the input that feeds
// them, or the one the topology gives, and rejects an existing one whose
// partition count differs; after commits, the consumed records of a
// repartition topic are deleted up to the group's committed offsets. Also
// the DSL's Repartition() with a partition count, and To() with a topic per
// record naming a topic that does not exist.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CommittedOffsets;
using ::brook::testing::CreateTopic;
using ::brook::testing::ProduceValues;
using ::brook::testing::UniqueName;
using S = std::string;

class RepartitionTopicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    in_ = UniqueName("rp-in");
    out_ = UniqueName("rp-out");
    config_.application_id = UniqueName("rp-app");
    config_.bootstrap_servers = testing::BootstrapServers();
    config_.state_dir = ::testing::TempDir() + "/" + config_.application_id;
    config_.session_timeout = absl::Seconds(6);
  }
  void TearDown() override { std::filesystem::remove_all(config_.state_dir); }

  // in -> selectKey(value) -> count (repartition "by-value") -> out
  Topology ByValueCount() {
    StreamsBuilder b;
    b.Stream<S, S>(in_)
        .SelectKey([](const S&, const S& v) { return v; })
        .GroupByKey(Grouped<S, S>::As("by-value"))
        .Count()
        .ToStream()
        .To(out_);
    absl::StatusOr<Topology> t = b.Build();
    EXPECT_TRUE(t.ok()) << t.status();
    return *t;
  }

  int32_t Partitions(const S& topic) {
    auto admin = Admin::Create(BaseConfig());
    EXPECT_TRUE(admin.ok());
    auto n = (*admin)->PartitionCount(topic, absl::Seconds(30));
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }

  S in_, out_;
  StreamsConfig config_;
};

TEST_F(RepartitionTopicTest, StartCreatesItWithTheInputsPartitionCount) {
  CreateTopic(in_, 3);
  CreateTopic(out_, 1);
  auto app = KafkaStreams::Create(ByValueCount(), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->Start().ok());
  EXPECT_EQ(Partitions(config_.application_id + "-by-value-repartition"), 3);
  EXPECT_TRUE((*app)->Close(absl::Seconds(30)).ok());
}

TEST_F(RepartitionTopicTest, StartRejectsAnExistingOneWithAnotherCount) {
  CreateTopic(in_, 3);
  CreateTopic(out_, 1);
  const S repartition = config_.application_id + "-by-value-repartition";
  CreateTopic(repartition, 2);
  auto app = KafkaStreams::Create(ByValueCount(), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  absl::Status s = (*app)->Start();
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), repartition)) << s;
}

TEST_F(RepartitionTopicTest, TopologyMayFixThePartitionCount) {
  CreateTopic(in_, 1);
  CreateTopic(out_, 1);
  Topology t;
  t.AddInternalTopic("spread", {.partitions = 4})
      .AddSource<S, S>("in", {in_}, Serdes::String(), Serdes::String())
      .AddSink<S, S>("to-spread", "spread", Serdes::String(), Serdes::String(),
                     {"in"})
      .AddSource<S, S>("from-spread", {"spread"}, Serdes::String(),
                       Serdes::String())
      .AddSink<S, S>("out", out_, Serdes::String(), Serdes::String(),
                     {"from-spread"});
  auto app = KafkaStreams::Create(t, config_);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->Start().ok());
  EXPECT_EQ(Partitions(config_.application_id + "-spread"), 4);
  EXPECT_TRUE((*app)->Close(absl::Seconds(30)).ok());
}

TEST_F(RepartitionTopicTest, ConsumedRecordsArePurgedUpToTheCommittedOffsets) {
  CreateTopic(in_, 2);
  CreateTopic(out_, 1);
  // ProduceValues writes distinct values: 300 keys after SelectKey, count 1.
  ProduceValues(in_, "v", 300);
  config_.repartition_purge_interval = absl::ZeroDuration();
  auto app = KafkaStreams::Create(ByValueCount(), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->Start().ok());
  const S repartition = config_.application_id + "-by-value-repartition";

  // Wait until both partitions of the repartition topic are consumed and
  // committed, and their log starts reach the committed offsets.
  ClientConfig cc = BaseConfig();
  auto consumer = Consumer::Create(cc, nullptr);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  std::vector<int64_t> committed, log_start(2, -1);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  bool purged = false;
  while (!purged && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    std::vector<int64_t> input =
        CommittedOffsets(config_.application_id, in_, 2);
    if (input.size() != 2 || input[0] + input[1] < 300) continue;
    committed = CommittedOffsets(config_.application_id, repartition, 2);
    if (committed.size() != 2) continue;
    purged = true;
    for (int p = 0; p < 2; ++p) {
      auto marks =
          (*consumer)->QueryWatermarks({repartition, p}, absl::Seconds(10));
      ASSERT_TRUE(marks.ok()) << marks.status();
      log_start[p] = marks->first;
      // Everything was consumed and committed, and every record the group
      // consumed is gone, and nothing beyond.
      // (The end is one past the last record's offset, or two with the
      // transaction's commit marker.)
      if (committed[p] + 1 < marks->second || log_start[p] != committed[p]) {
        purged = false;
      }
    }
  }
  ASSERT_TRUE(purged) << "log start " << log_start[0] << "," << log_start[1]
                      << " committed "
                      << (committed.size() == 2 ? committed[0] : -1) << ","
                      << (committed.size() == 2 ? committed[1] : -1);
  EXPECT_GE(log_start[0] + log_start[1], 300);  // every record
  int64_t purges = 0, errors = 0;
  for (const StreamThreadMetrics& m : (*app)->Metrics()) {
    purges += m.repartition_purges;
    errors += m.repartition_purge_errors;
  }
  EXPECT_GT(purges, 0);
  EXPECT_EQ(errors, 0);
  ASSERT_TRUE((*app)->Close(absl::Seconds(30)).ok());

  // The purge lost nothing: one count per value, each 1.
  auto out = ReadTopic(BaseConfig(), out_, IsolationLevel::kReadCommitted,
                       absl::Seconds(30));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->size(), 300u);
}

TEST_F(RepartitionTopicTest, NoPurgeBeforeTheInterval) {
  CreateTopic(in_, 1);
  CreateTopic(out_, 1);
  ProduceValues(in_, "v", 100);
  config_.repartition_purge_interval = absl::Hours(1);
  auto app = KafkaStreams::Create(ByValueCount(), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->Start().ok());
  const S repartition = config_.application_id + "-by-value-repartition";
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::vector<int64_t> committed;
  while (absl::Now() < deadline) {
    committed = CommittedOffsets(config_.application_id, repartition, 1);
    if (committed.size() == 1 && committed[0] >= 100) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(committed.size(), 1u);
  ASSERT_GE(committed[0], 100);
  // The first commit purges at once (nothing was purged before); the later
  // ones wait for the hour. So the log start never passes c1.
  const int64_t c1 = committed[0];
  ProduceValues(in_, "w", 100);
  while (absl::Now() < deadline) {
    committed = CommittedOffsets(config_.application_id, repartition, 1);
    if (committed.size() == 1 && committed[0] >= 200) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_GE(committed[0], 200);
  // Time for purges that should not happen (they run within milliseconds
  // of a commit when the interval allows, as the test above shows).
  absl::SleepFor(absl::Seconds(1));
  auto consumer = Consumer::Create(BaseConfig(), nullptr);
  ASSERT_TRUE(consumer.ok());
  auto marks =
      (*consumer)->QueryWatermarks({repartition, 0}, absl::Seconds(10));
  ASSERT_TRUE(marks.ok()) << marks.status();
  EXPECT_LE(marks->first, c1);
  EXPECT_LT(marks->first, committed[0]);
  ASSERT_TRUE((*app)->Close(absl::Seconds(30)).ok());
}

TEST_F(RepartitionTopicTest, RepartitionOperatorGetsItsPartitionCount) {
  CreateTopic(in_, 1);
  CreateTopic(out_, 1);
  StreamsBuilder b;
  b.Stream<S, S>(in_)
      .Repartition(Repartitioned<S, S>::As("wide").WithNumberOfPartitions(4))
      .To(out_);
  auto app = KafkaStreams::Create(*b.Build(), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->Start().ok());
  EXPECT_EQ(Partitions(config_.application_id + "-wide-repartition"), 4);
  EXPECT_TRUE((*app)->Close(absl::Seconds(30)).ok());
}

// The value names the output topic; a record naming one that does not exist
// puts the application in kError with an error naming that topic (on the
// real producer's metadata, not a silent loss or an endless abort loop).
TEST_F(RepartitionTopicTest, ATopicPerRecordThatDoesNotExistIsAnErrorNamingIt) {
  CreateTopic(in_, 1);
  CreateTopic(out_, 1);
  const S missing = UniqueName("rp-missing");
  StreamsBuilder b;
  b.Stream<S, S>(in_).To([](const std::optional<S>&, const S& v,
                            const RecordContext&) { return v; });
  auto app = KafkaStreams::Create(*b.Build(), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->Start().ok());
  testing::ProduceRawValue(in_, out_);
  testing::ProduceRawValue(in_, missing);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while ((*app)->state() != KafkaStreams::State::kError &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ((*app)->state(), KafkaStreams::State::kError);
  absl::Status error = (*app)->error();
  EXPECT_TRUE(absl::StrContains(
      error.message(), "output topic '" + missing + "' does not exist"))
      << error;
  (*app)->Close(absl::Seconds(30)).IgnoreError();  // already failed
}

}  // namespace
}  // namespace brook
