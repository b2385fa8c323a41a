// KTable::GroupBy and KGroupedTable (Count, Reduce, Aggregate with a
// subtractor), run by the TopologyTestDriver: each table update subtracts
// the row's old value from its old group and adds its new value to its new
// group, through the repartition topic.
#include "brook/operators/kgrouped_table.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/internal/change_serde.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/dropped_records.h"
#include "brook/runtime/key_value_store.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::Counts;
using ::brook::testing::Driver;
using ::brook::testing::MustBuild;
using ::brook::testing::Strings;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using S = std::string;

// users: user -> city; counts users per city into "out".
KTable<S, int64_t> UsersPerCity(StreamsBuilder& b) {
  KTable<S, int64_t> counts =
      b.Table<S, S>("users")
          .GroupBy([](const S& user, const S& city) {
            return std::pair(city, user);
          })
          .Count(Materialized<S, int64_t>::As("users-per-city"));
  counts.ToStream().To("out");
  return counts;
}

TEST(KGroupedTableTest, CountMovesAUserFromTheOldCityToTheNew) {
  StreamsBuilder b;
  KTable<S, int64_t> counts = UsersPerCity(b);
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("users", "ann", "paris").ok());
  ASSERT_TRUE(h.Pipe("users", "bob", "paris").ok());
  ASSERT_TRUE(h.Pipe("users", "ann", "rome").ok());  // ann moves
  EXPECT_THAT(Counts(h, "out"),
              ElementsAre(Pair("paris", 1), Pair("paris", 2),
                          // The subtract reaches the aggregation first.
                          Pair("paris", 1), Pair("rome", 1)));
  auto* store =
      h.driver().GetStateStore<KeyValueStore<S, int64_t>>(counts.store_name());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->Get("paris"), 1);
  EXPECT_EQ(*store->Get("rome"), 1);
}

TEST(KGroupedTableTest, ATombstoneOnlySubtracts) {
  StreamsBuilder b;
  UsersPerCity(b);
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("users", "ann", "paris").ok());
  ASSERT_TRUE(h.Pipe("users", "ann", std::nullopt).ok());
  // A tombstone for a user the table never held changes nothing.
  ASSERT_TRUE(h.Pipe("users", "zoe", std::nullopt).ok());
  // A count that drops to zero stays, as in Kafka Streams.
  EXPECT_THAT(Counts(h, "out"),
              ElementsAre(Pair("paris", 1), Pair("paris", 0)));
  // On the repartition topic: the add, then the subtract alone.
  std::vector<S> flags;
  for (const ProducerRecord& r : h.Output("app-users-per-city-repartition")) {
    flags.push_back(S(1, static_cast<char>('0' + (*r.value)[0])));
  }
  EXPECT_THAT(flags, ElementsAre("1", "2"));
}

TEST(KGroupedTableTest, AnUpdateWithinOneGroupTravelsAsOneRecord) {
  StreamsBuilder b;
  // Group by the first letter of the city: paris -> pisa stays in "p".
  b.Table<S, S>("users")
      .GroupBy([](const S& user, const S& city) {
        return std::pair(city.substr(0, 1), user);
      })
      .Count(Materialized<S, int64_t>::As("by-letter"))
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("users", "ann", "paris").ok());
  ASSERT_TRUE(h.Pipe("users", "ann", "pisa").ok());
  // One record with both sides: subtract and add in one step, so the count
  // goes 1 -> 1 with no intermediate 0.
  EXPECT_EQ(h.Output("app-by-letter-repartition").size(), 2u);
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("p", 1), Pair("p", 1)));
}

TEST(KGroupedTableTest, NullKeysAndNullSelectionsAreDropped) {
  StreamsBuilder b;
  b.Table<S, S>("users")
      .GroupBy(
          [](const S& user, const S& city) -> std::pair<std::optional<S>, S> {
            if (city == "nowhere") return {std::nullopt, user};
            return {city, user};
          })
      .Count(Materialized<S, int64_t>::As("c"))
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("users", std::nullopt, "paris").ok());  // null key
  ASSERT_TRUE(h.Pipe("users", "ann", "nowhere").ok());       // null group
  ASSERT_TRUE(h.Pipe("users", "ann", "paris").ok());    // old side was null
  ASSERT_TRUE(h.Pipe("users", "ann", "nowhere").ok());  // only a subtract
  EXPECT_THAT(Counts(h, "out"),
              ElementsAre(Pair("paris", 1), Pair("paris", 0)));
  // Each skipped side is counted: the table source's null key, then the
  // selector's null group for the new side, the old side, the new side.
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullKey), 4);
}

TEST(KGroupedTableTest, NullSelectedValuesAreDroppedAndCounted) {
  StreamsBuilder b;
  b.Table<S, S>("users")
      .GroupBy(
          [](const S& user, const S& city) -> std::pair<S, std::optional<S>> {
            if (user == "ghost") return {city, std::nullopt};
            return {city, user};
          })
      .Count(Materialized<S, int64_t>::As("c"))
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("users", "ghost", "paris").ok());
  ASSERT_TRUE(h.Pipe("users", "ann", "paris").ok());
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("paris", 1)));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullValue), 1);
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullKey), 0);
}

TEST(KGroupedTableTest, ReduceAddsAndSubtracts) {
  StreamsBuilder b;
  // user -> "city,age": the sum of ages per city.
  b.Table<S, S>("users")
      .GroupBy([](const S&, const S& v) {
        const size_t comma = v.find(',');
        return std::pair(v.substr(0, comma),
                         static_cast<int64_t>(std::stoll(v.substr(comma + 1))));
      })
      .Reduce([](int64_t agg, int64_t v) { return agg + v; },
              [](int64_t agg, int64_t v) { return agg - v; },
              Materialized<S, int64_t>::As("ages"))
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("users", "ann", "paris,30").ok());
  ASSERT_TRUE(h.Pipe("users", "bob", "paris,40").ok());
  ASSERT_TRUE(h.Pipe("users", "ann", "paris,31").ok());  // birthday
  ASSERT_TRUE(h.Pipe("users", "bob", "rome,40").ok());
  EXPECT_THAT(
      Counts(h, "out"),
      ElementsAre(Pair("paris", 30), Pair("paris", 70), Pair("paris", 71),
                  Pair("paris", 31), Pair("rome", 40)));
}

TEST(KGroupedTableTest, AggregateStartsFromTheInitializer) {
  StreamsBuilder b;
  // The users of each city as "|ann|bob".
  b.Table<S, S>("users")
      .GroupBy(
          [](const S& user, const S& city) { return std::pair(city, user); })
      .Aggregate([] { return S("|"); },
                 [](const S&, const S& user, const S& agg) {
                   return agg + user + "|";
                 },
                 [](const S&, const S& user, const S& agg) {
                   S out = agg;
                   out.erase(out.find("|" + user + "|") + 1, user.size() + 1);
                   return out;
                 },
                 Materialized<S, S>::As("members"))
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("users", "ann", "paris").ok());
  ASSERT_TRUE(h.Pipe("users", "bob", "paris").ok());
  ASSERT_TRUE(h.Pipe("users", "ann", "rome").ok());
  ASSERT_TRUE(h.Pipe("users", "bob", std::nullopt).ok());
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(Pair("paris", "|ann|"), Pair("paris", "|ann|bob|"),
                          Pair("paris", "|bob|"), Pair("rome", "|ann|"),
                          Pair("paris", "|")));
}

TEST(KGroupedTableTest, RegroupsATableFromAnAggregation) {
  StreamsBuilder b;
  // Clicks per user (a table from a stream aggregation), then how many
  // users have each click count: a user's second click moves them from
  // group 1 to group 2.
  b.Stream<S, S>("clicks")
      .GroupByKey()
      .Count(Materialized<S, int64_t>::As("per-user"))
      .GroupBy([](const S& user, int64_t clicks) {
        return std::pair(std::to_string(clicks), user);
      })
      .Count(Materialized<S, int64_t>::As("users-per-count"))
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("clicks", "ann", "x").ok());
  ASSERT_TRUE(h.Pipe("clicks", "bob", "x").ok());
  ASSERT_TRUE(h.Pipe("clicks", "ann", "x").ok());
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("1", 1), Pair("1", 2),
                                            Pair("1", 1), Pair("2", 1)));
}

TEST(KGroupedTableTest, NamedNamesTheSelectNode) {
  StreamsBuilder b({.fuse_stateless = false});
  b.Table<S, S>("users", {}, Materialized<S, S>::As("users"))
      .GroupBy(
          [](const S& user, const S& city) { return std::pair(city, user); },
          Named::As("city-of-user"))
      .Count(Materialized<S, int64_t>::As("counts"));
  EXPECT_EQ(MustBuild(b).Describe(),
            "Topologies:\n"
            "   Sub-topology: 0\n"
            "    Source: KSTREAM-SOURCE-0000000000 (topics: [users])\n"
            "      --> KTABLE-SOURCE-0000000001\n"
            "    Processor: KTABLE-SOURCE-0000000001 (stores: [users])\n"
            "      --> city-of-user\n"
            "      <-- KSTREAM-SOURCE-0000000000\n"
            "    Processor: city-of-user (stores: [])\n"
            "      --> counts-repartition-sink\n"
            "      <-- KTABLE-SOURCE-0000000001\n"
            "    Sink: counts-repartition-sink (topic: counts-repartition)\n"
            "      <-- city-of-user\n"
            "\n"
            "  Sub-topology: 1\n"
            "    Source: counts-repartition-source (topics: "
            "[counts-repartition])\n"
            "      --> KTABLE-AGGREGATE-0000000002\n"
            "    Processor: KTABLE-AGGREGATE-0000000002 (stores: [counts])\n"
            "      --> none\n"
            "      <-- counts-repartition-source\n"
            "\n");
  // With Grouped too: Grouped names the topic, Named the node.
  StreamsBuilder g;
  g.Table<S, S>("users")
      .GroupBy(
          [](const S& user, const S& city) { return std::pair(city, user); },
          Grouped<S, S>::As("by-city"), Named::As("select-city"))
      .Count();
  const S d = MustBuild(g).Describe();
  EXPECT_THAT(d, HasSubstr("Processor: select-city (stores: [])\n"
                           "      --> by-city-repartition-sink\n"));
}

TEST(KGroupedTableTest, GroupedNamesTheRepartitionTopic) {
  StreamsBuilder b({.fuse_stateless = false});
  b.Table<S, S>("users", {}, Materialized<S, S>::As("users"))
      .GroupBy(
          [](const S& user, const S& city) { return std::pair(city, user); },
          Grouped<S, S>::As("by-city"))
      .Count(Materialized<S, int64_t>::As("counts"));
  const S d = MustBuild(b).Describe();
  EXPECT_THAT(d,
              HasSubstr("    Processor: KTABLE-SELECT-0000000002 (stores: [])\n"
                        "      --> by-city-repartition-sink\n"
                        "      <-- KTABLE-SOURCE-0000000001\n"
                        "    Sink: by-city-repartition-sink (topic: "
                        "by-city-repartition)\n"));
  EXPECT_THAT(d, HasSubstr("    Source: by-city-repartition-source (topics: "
                           "[by-city-repartition])\n"
                           "      --> KTABLE-AGGREGATE-0000000003\n"));
  EXPECT_THAT(d, HasSubstr("Processor: KTABLE-AGGREGATE-0000000003 (stores: "
                           "[counts])"));
}

struct City {
  S name;
};

TEST(KGroupedTableTest, AMissingSerdeIsABuildErrorNamingGrouped) {
  StreamsBuilder b;
  b.Table<S, S>("users")
      .GroupBy([](const S& user, const S& city) {
        return std::pair(City{city}, user);
      })
      .Count(Materialized<City, int64_t>::With(nullptr, Serdes::Int64()));
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_TRUE(absl::IsInvalidArgument(t.status())) << t.status();
  EXPECT_THAT(t.status().message(),
              HasSubstr("repartition topic 'KTABLE-AGGREGATE-STATE-STORE-"));
  EXPECT_THAT(t.status().message(), HasSubstr("City; give one in Grouped"));
}

TEST(ChangeSerdeTest, RoundTripsEverySide) {
  internal::ChangeSerde<S> serde(Serdes::String());
  for (const internal::Change<S>& c :
       {internal::Change<S>{"new", "old"}, internal::Change<S>{"", "old"},
        internal::Change<S>{"new", std::nullopt},
        internal::Change<S>{std::nullopt, "old"}}) {
    auto back = serde.Deserialize("t", serde.Serialize("t", c));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, c);
  }
  EXPECT_FALSE(serde.Deserialize("t", "").ok());
  EXPECT_FALSE(serde.Deserialize("t", S("\x03\0\0\0\x09xy", 7)).ok());
}

}  // namespace
}  // namespace brook
