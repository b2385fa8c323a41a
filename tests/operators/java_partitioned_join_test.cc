// A KStream-KTable join against a table topic that a Java producer
// partitioned (each record written to the partition Java's default
// partitioner picks, from a fixed table of kafka-clients' results). The
// stream is re-keyed, so Brook repartitions it with its own sink: every
// order meets its customer only if Brook's partitioner agrees with Java's.
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
#include "tests/testing/java_partitions.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::AwaitCommittedSum;
using ::brook::testing::BaseConfig;
using ::brook::testing::CreateTopic;
using ::brook::testing::JavaPartitions;
using ::brook::testing::kJavaPartitions;
using ::brook::testing::UniqueName;
using S = std::string;

TEST(JavaPartitionedJoinTest, ReKeyedOrdersMeetTheirJavaPartitionedCustomers) {
  const S customers = UniqueName("jp-customers");
  const S orders = UniqueName("jp-orders");
  const S out = UniqueName("jp-out");
  CreateTopic(customers, 12);
  CreateTopic(orders, 12);
  CreateTopic(out, 12);
  auto producer = Producer::Create(BaseConfig());
  ASSERT_TRUE(producer.ok()) << producer.status();
  // The table, where Java put it.
  for (const JavaPartitions& j : kJavaPartitions) {
    ASSERT_TRUE((*producer)
                    ->Send({.topic = customers,
                            .partition = j.of_12,
                            .key = j.key,
                            .value = absl::StrCat("name-", j.key)})
                    .ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());

  StreamsConfig config;
  config.application_id = UniqueName("jp-app");
  config.bootstrap_servers = testing::BootstrapServers();
  config.state_dir = ::testing::TempDir() + "/" + config.application_id;
  config.session_timeout = absl::Seconds(6);
  StreamsBuilder b;
  KTable<S, S> table = b.Table<S, S>(customers);
  // Orders keyed by order id; the value names the customer.
  b.Stream<S, S>(orders)
      .SelectKey([](const S&, const S& customer) { return customer; })
      .Join(table,
            [](const S& customer, const S& name) {
              return absl::StrCat(customer, "=", name);
            })
      .To(out);
  auto topology = b.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto app = KafkaStreams::Create(*topology, config);
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->Start().ok());
  // The table is loaded before any order arrives (no order can race ahead
  // of its customer).
  const int64_t customer_count = std::size(kJavaPartitions);
  ASSERT_EQ(AwaitCommittedSum(config.application_id, {customers}, 12,
                              customer_count, absl::Seconds(60)),
            customer_count);
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    for (const JavaPartitions& j : kJavaPartitions) {
      ASSERT_TRUE((*producer)
                      ->Send({.topic = orders,
                              .key = absl::StrCat("order-", round, "-", j.key),
                              .value = j.key})
                      .ok());
    }
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());
  const int64_t expected = kRounds * std::size(kJavaPartitions);
  ASSERT_EQ(AwaitCommittedSum(config.application_id, {orders}, 12, expected,
                              absl::Seconds(90)),
            expected);
  ASSERT_TRUE((*app)->Close(absl::Seconds(30)).ok());
  std::filesystem::remove_all(config.state_dir);

  auto joined = ReadTopic(BaseConfig(), out, IsolationLevel::kReadCommitted,
                          absl::Seconds(60));
  ASSERT_TRUE(joined.ok()) << joined.status();
  // Every order met its customer, once, on the customer's Java partition.
  std::map<S, int> per_customer;
  for (const ConsumerRecord& r : *joined) {
    ASSERT_TRUE(r.key.has_value() && r.value.has_value());
    EXPECT_EQ(*r.value, absl::StrCat(*r.key, "=name-", *r.key));
    ++per_customer[*r.key];
    for (const JavaPartitions& j : kJavaPartitions) {
      if (*r.key == j.key) {
        EXPECT_EQ(r.partition, j.of_12) << j.key;
      }
    }
  }
  EXPECT_EQ(static_cast<int64_t>(joined->size()), expected);
  for (const JavaPartitions& j : kJavaPartitions) {
    EXPECT_EQ(per_customer[j.key], kRounds) << "customer '" << j.key << "'";
  }
}

}  // namespace
}  // namespace brook
