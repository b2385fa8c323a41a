// KStream::Join and LeftJoin with a KTable, run by the TopologyTestDriver:
// the table as it is when each stream record arrives, nulls, tombstones,
// key-aware joiners, repartitioning of a re-keyed stream, and Build()
// errors.
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/streams_builder.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::Driver;
using ::brook::testing::MustBuild;
using ::brook::testing::Strings;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using S = std::string;

// orders (key: customer) joined with customers (key: customer -> name).
TEST(StreamTableJoinTest, InnerJoinSeesTheTableAsOfEachRecord) {
  StreamsBuilder b;
  KTable<S, S> customers = b.Table<S, S>("customers");
  b.Stream<S, S>("orders")
      .Join(customers,
            [](const S& order, const S& name) { return order + "@" + name; })
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("orders", "c1", "o1").ok());  // no customer yet: dropped
  ASSERT_TRUE(h.Pipe("customers", "c1", "ann").ok());  // forwards nothing
  ASSERT_TRUE(h.Pipe("orders", "c1", "o2").ok());
  ASSERT_TRUE(h.Pipe("customers", "c1", "bea").ok());
  ASSERT_TRUE(h.Pipe("orders", "c1", "o3").ok());
  ASSERT_TRUE(h.Pipe("customers", "c1", std::nullopt).ok());  // tombstone
  ASSERT_TRUE(h.Pipe("orders", "c1", "o4").ok());          // deleted: dropped
  ASSERT_TRUE(h.Pipe("orders", std::nullopt, "o5").ok());  // null key
  ASSERT_TRUE(h.Pipe("orders", "c1", std::nullopt).ok());  // null value
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(Pair("c1", "o2@ann"), Pair("c1", "o3@bea")));
  // Counted as Kafka Streams 3.9.1's KStreamKTableJoinProcessor counts them
  // (a missing table row is no drop).
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullKey), 1);
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullValue), 1);
}

TEST(StreamTableJoinTest, LeftJoinJoinsMissingRowsAndNullKeysWithNull) {
  StreamsBuilder b;
  KTable<S, S> customers = b.Table<S, S>("customers");
  b.Stream<S, S>("orders")
      .LeftJoin(customers,
                [](const S& order, const std::optional<S>& name) {
                  return order + "@" + name.value_or("?");
                })
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("orders", "c1", "o1").ok());
  ASSERT_TRUE(h.Pipe("customers", "c1", "ann").ok());
  ASSERT_TRUE(h.Pipe("orders", "c1", "o2").ok());
  ASSERT_TRUE(h.Pipe("orders", std::nullopt, "o3").ok());
  ASSERT_TRUE(h.Pipe("orders", "c2", std::nullopt).ok());  // dropped
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(Pair("c1", "o1@?"), Pair("c1", "o2@ann"),
                          Pair("null", "o3@?")));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullKey), 0);
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullValue), 1);
}

TEST(StreamTableJoinTest, KeyAwareJoinerAndANullResult) {
  StreamsBuilder b;
  KTable<S, S> customers = b.Table<S, S>("customers");
  b.Stream<S, S>("orders")
      .LeftJoin(customers,
                [](const S& key, const S& order,
                   const std::optional<S>& name) -> std::optional<S> {
                  if (order == "skip") return std::nullopt;
                  return key + ":" + order + "@" + name.value_or("?");
                })
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("customers", "c1", "ann").ok());
  ASSERT_TRUE(h.Pipe("orders", "c1", "o1").ok());
  ASSERT_TRUE(h.Pipe("orders", "c1", "skip").ok());
  // The joiner takes the key plainly: a null key cannot be joined; it is
  // dropped and counted.
  ASSERT_TRUE(h.Pipe("orders", std::nullopt, "o2").ok());
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(Pair("c1", "c1:o1@ann"), Pair("c1", "null")));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullKey), 1);
}

TEST(StreamTableJoinTest, AReKeyedStreamIsRepartitionedBeforeTheJoin) {
  StreamsBuilder b;
  KTable<S, S> customers = b.Table<S, S>("customers");
  // Orders keyed by order id, value "customer,item": re-keyed by customer.
  b.Stream<S, S>("orders")
      .SelectKey([](const S&, const S& v) { return v.substr(0, v.find(',')); })
      .Join(customers,
            [](const S& v, const S& name) {
              return v.substr(v.find(',') + 1) + "@" + name;
            })
      .To("out");
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->Describe(), HasSubstr("-left-repartition"));
  Driver h(*t);
  ASSERT_TRUE(h.Pipe("customers", "c7", "cy").ok());
  ASSERT_TRUE(h.Pipe("orders", "order-1", "c7,book").ok());
  EXPECT_THAT(Strings(h, "out"), ElementsAre(Pair("c7", "book@cy")));
}

TEST(StreamTableJoinTest, JoinsATableFromAnAggregation) {
  StreamsBuilder b;
  // Orders per customer, counted; then each click sees the current count.
  KTable<S, int64_t> orders = b.Stream<S, S>("orders").GroupByKey().Count(
      Materialized<S, int64_t>::As("orders-per-customer"));
  b.Stream<S, S>("clicks")
      .Join(orders,
            [](const S& page, int64_t n) {
              return page + " after " + std::to_string(n) + " orders";
            })
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("orders", "c1", "o").ok());
  ASSERT_TRUE(h.Pipe("orders", "c1", "o").ok());
  ASSERT_TRUE(h.Pipe("clicks", "c1", "home").ok());
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(Pair("c1", "home after 2 orders")));
}

TEST(StreamTableJoinTest, AnUnmaterializedTableIsABuildError) {
  StreamsBuilder b;
  KTable<S, S> filtered =
      b.Table<S, S>("customers").Filter([](const S&, const S& v) {
        return !v.empty();
      });
  b.Stream<S, S>("orders")
      .Join(filtered, [](const S& o, const S& c) { return o + c; })
      .To("out");
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("not materialized"));
  EXPECT_THAT(t.status().message(), HasSubstr("KSTREAM-JOIN-"));
}

}  // namespace
}  // namespace brook
