// Internal (repartition) topics against the real broker: KafkaStreams
// creates them at Start() with the partition count of the input that feeds
// them, or the one the topology gives, and rejects an existing one whose
// partition count differs. Also the DSL's Repartition() with a partition
// count, and To() with a topic per record naming a topic that does not
// exist.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "kafka/admin.h"
#include "operators/streams_builder.h"
#include "runtime/kafka_streams.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CreateTopic;
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
