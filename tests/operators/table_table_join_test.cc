// KTable-KTable joins through the TopologyTestDriver: inner, left and outer
// joins updating from either side, old values carried (checked through a
// downstream KGroupedTable that subtracts them), tombstones becoming
// deletes, null keys counted, and unmaterialized tables as Build() errors.
#include <optional>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/streams_builder.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::Counts;
using ::brook::testing::Driver;
using ::brook::testing::MustBuild;
using ::brook::testing::Strings;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using KV = std::pair<std::string, std::string>;
using S = std::string;

S Or(const std::optional<S>& v) { return v.value_or("null"); }

TEST(TableTableJoinTest, InnerJoinUpdatesFromBothSidesAndDeletes) {
  StreamsBuilder b;
  b.Table<S, S>("lt")
      .Join(b.Table<S, S>("rt"),
            [](const S& l, const S& r) { return l + "+" + r; })
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("lt", "k", "a", 1).ok());  // no right row: nothing
  ASSERT_TRUE(h.Pipe("rt", "k", "x", 2).ok());
  ASSERT_TRUE(h.Pipe("lt", "k", "b", 3).ok());
  ASSERT_TRUE(h.Pipe("rt", "k", "y", 4).ok());
  ASSERT_TRUE(h.Pipe("rt", "k", std::nullopt, 5).ok());  // delete
  ASSERT_TRUE(h.Pipe("lt", "k", "c", 6).ok());           // no right row
  ASSERT_TRUE(h.Pipe("lt", std::nullopt, "d", 7).ok());  // null key
  EXPECT_THAT(Strings(h, "out"), ElementsAre(KV{"k", "a+x"}, KV{"k", "b+x"},
                                             KV{"k", "b+y"}, KV{"k", "null"}));
  EXPECT_EQ(h.driver().DroppedRecords(DroppedRecordReason::kNullKey), 1);
}

TEST(TableTableJoinTest, LeftJoinKeepsLeftRows) {
  StreamsBuilder b;
  b.Table<S, S>("lt")
      .LeftJoin(
          b.Table<S, S>("rt"),
          [](const S& l, const std::optional<S>& r) { return l + "+" + Or(r); })
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("rt", "k", "x", 1).ok());  // no left row: nothing
  ASSERT_TRUE(h.Pipe("lt", "k", "a", 2).ok());
  ASSERT_TRUE(h.Pipe("rt", "k", std::nullopt, 3).ok());
  ASSERT_TRUE(h.Pipe("lt", "k", std::nullopt, 4).ok());
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(KV{"k", "a+x"}, KV{"k", "a+null"}, KV{"k", "null"}));
}

TEST(TableTableJoinTest, OuterJoinKeepsRowsOfBothSides) {
  StreamsBuilder b;
  b.Table<S, S>("lt")
      .OuterJoin(b.Table<S, S>("rt"),
                 [](const std::optional<S>& l, const std::optional<S>& r) {
                   return Or(l) + "+" + Or(r);
                 })
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("rt", "k", "x", 1).ok());
  ASSERT_TRUE(h.Pipe("lt", "k", "a", 2).ok());
  ASSERT_TRUE(h.Pipe("rt", "k", std::nullopt, 3).ok());
  ASSERT_TRUE(h.Pipe("lt", "k", std::nullopt, 4).ok());
  ASSERT_TRUE(h.Pipe("lt", "j", std::nullopt, 5).ok());  // never held
  EXPECT_THAT(Strings(h, "out"),
              ElementsAre(KV{"k", "null+x"}, KV{"k", "a+x"}, KV{"k", "a+null"},
                          KV{"k", "null"}));
}

TEST(TableTableJoinTest, OldValuesReachADownstreamAggregation) {
  // Joined rows regrouped by their joined value and counted: each change
  // must subtract the old joined value, or the counts only grow.
  StreamsBuilder b;
  b.Table<S, S>("lt")
      .Join(b.Table<S, S>("rt"), [](const S& l, const S& r) { return l + r; })
      .GroupBy([](const S&, const S& v) { return std::make_pair(v, v); })
      .Count()
      .ToStream()
      .To("out");
  Driver h(MustBuild(b));
  ASSERT_TRUE(h.Pipe("lt", "k", "a", 1).ok());
  ASSERT_TRUE(h.Pipe("rt", "k", "x", 2).ok());           // ax = 1
  ASSERT_TRUE(h.Pipe("rt", "k", "y", 3).ok());           // ax = 0, ay = 1
  ASSERT_TRUE(h.Pipe("lt", "k", std::nullopt, 4).ok());  // ay = 0
  EXPECT_THAT(Counts(h, "out"), ElementsAre(std::pair<S, int64_t>{"ax", 1},
                                            std::pair<S, int64_t>{"ax", 0},
                                            std::pair<S, int64_t>{"ay", 1},
                                            std::pair<S, int64_t>{"ay", 0}));
}

TEST(TableTableJoinTest, UnmaterializedTablesFailBuild) {
  StreamsBuilder b;
  b.Table<S, S>("lt")
      .Join(b.Table<S, S>("rt").Filter(
                [](const S&, const S& v) { return !v.empty(); }),
            [](const S& l, const S& r) { return l + r; })
      .ToStream()
      .To("out");
  absl::StatusOr<Topology> t = b.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(),
              HasSubstr("right table is not materialized"));
}

}  // namespace
}  // namespace brook
