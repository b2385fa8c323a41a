// Consumer pauses across eager rebalances, against the real broker.
//
// librdkafka 2.0.2 keeps the application's pause flag on a partition when
// the partition is unassigned and assigned again. A partition that Brook
// paused for back-pressure and that an eager rebalance handed back to the
// same member then stayed paused for ever, with no error (reproduced with
// tests/apps/eos_app in 2 of 5 runs). The Consumer wrapper now resumes what
// it paused before every change of assignment; this test pins it down.
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/kafka/consumer.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CreateTopic;
using ::brook::testing::ProduceValues;
using ::brook::testing::UniqueName;

// Remembers the latest assignment the group handed out.
class RecordingListener final : public RebalanceListener {
 public:
  void OnPartitionsRevoked(absl::Span<const TopicPartition>,
                           RevocationKind) override {
    assigned.clear();
    ++revocations;
  }
  void OnPartitionsAssigned(absl::Span<const TopicPartition> tps) override {
    assigned.assign(tps.begin(), tps.end());
    ++assignments;
  }
  std::vector<TopicPartition> assigned;
  int revocations = 0;
  int assignments = 0;
};

std::unique_ptr<Consumer> GroupConsumer(const std::string& group,
                                        const std::string& client_id,
                                        RebalanceListener* listener) {
  ClientConfig config = BaseConfig();
  config["group.id"] = group;
  config["client.id"] = client_id;
  config["auto.offset.reset"] = "earliest";
  config["session.timeout.ms"] = "6000";
  config["heartbeat.interval.ms"] = "500";
  auto consumer = Consumer::Create(config, listener);
  EXPECT_TRUE(consumer.ok()) << consumer.status();
  return *std::move(consumer);
}

// Polls `consumer` once and counts the record it returned per partition.
void PollInto(Consumer& consumer, std::map<int32_t, int64_t>* counts) {
  auto r = consumer.Poll(absl::Milliseconds(20));
  ASSERT_TRUE(r.ok()) << r.status();
  if (r->has_value()) ++(*counts)[(*r)->partition];
}

TEST(ConsumerRebalanceTest, PartitionPausedBeforeRebalanceFlowsWhenHandedBack) {
  const std::string topic = UniqueName("pause-rebalance");
  const std::string group = UniqueName("pause-rebalance-group");
  CreateTopic(topic, 2);
  ProduceValues(topic, "v", 4000);  // keys k<i> spread over both partitions

  RecordingListener first_listener;
  std::unique_ptr<Consumer> first =
      GroupConsumer(group, UniqueName("first"), &first_listener);
  ASSERT_TRUE(first->Subscribe({topic}).ok());
  std::map<int32_t, int64_t> before;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while ((before[0] == 0 || before[1] == 0) && absl::Now() < deadline) {
    PollInto(*first, &before);
  }
  ASSERT_GT(before[0], 0) << "partition 0 never delivered";
  ASSERT_GT(before[1], 0) << "partition 1 never delivered";
  ASSERT_EQ(first_listener.assigned.size(), 2u);

  // Back-pressure: the member pauses both of its partitions.
  ASSERT_TRUE(first->Pause({{topic, 0}, {topic, 1}}).ok());

  // A second member joins: the eager range assignor revokes everything and
  // gives partition 0 back to the first member, partition 1 to the second.
  RecordingListener second_listener;
  std::unique_ptr<Consumer> second =
      GroupConsumer(group, UniqueName("second"), &second_listener);
  ASSERT_TRUE(second->Subscribe({topic}).ok());
  std::map<int32_t, int64_t> first_after, second_after;
  const absl::Time rebalance_deadline = absl::Now() + absl::Seconds(60);
  while ((first_listener.revocations == 0 || second_listener.assignments == 0 ||
          first_listener.assigned.size() != 1) &&
         absl::Now() < rebalance_deadline) {
    PollInto(*first, &first_after);
    PollInto(*second, &second_after);
  }
  ASSERT_EQ(first_listener.assigned.size(), 1u)
      << "the rebalance did not complete within 60 s";
  ASSERT_EQ(second_listener.assigned.size(), 1u);
  const int32_t kept = first_listener.assigned[0].partition;

  // Nobody resumed anything: the partition handed back must still flow.
  first_after.clear();
  const absl::Time flow_deadline = absl::Now() + absl::Seconds(20);
  while (first_after[kept] < 100 && absl::Now() < flow_deadline) {
    PollInto(*first, &first_after);
    PollInto(*second, &second_after);
  }
  EXPECT_GE(first_after[kept], 100)
      << "partition " << kept
      << " paused before the rebalance stayed paused after it came back";
  ASSERT_TRUE(second->Close().ok());
  ASSERT_TRUE(first->Close().ok());
}

}  // namespace
}  // namespace brook
