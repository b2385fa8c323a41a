// The record cache in front of the DSL's table stores
// (operators/internal/record_cache.h), run by the TopologyTestDriver: updates
// held back until a commit, one per key, with the oldest old value and the
// newest new value; least recently used entries written out early under a
// small budget; caching off with a zero budget or WithCachingDisabled.
#include "brook/operators/internal/record_cache.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/operators/internal/change_serde.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/serdes.h"
#include "tests/operators/dsl_test_util.h"

namespace brook {
namespace {

using ::brook::testing::Counts;
using ::brook::testing::Driver;
using ::brook::testing::MustBuild;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using S = std::string;

constexpr int64_t kTenMiB = int64_t{10} << 20;

TopologyTestDriverOptions Options(int64_t cache_max_bytes,
                                  bool commit_after_each_input) {
  TopologyTestDriverOptions o;
  o.application_id = "app";
  o.cache_max_bytes = cache_max_bytes;
  o.commit_after_each_input = commit_after_each_input;
  return o;
}

// in: key -> anything; counts records per key into "out" (store "counts").
Topology CountPerKey(
    Materialized<S, int64_t> m = Materialized<S, int64_t>::As("counts")) {
  StreamsBuilder b;
  b.Stream<S, S>("in").GroupByKey().Count(std::move(m)).ToStream().To("out");
  return MustBuild(b);
}

TEST(RecordCacheTest, HoldsUpdatesUntilCommitAndSendsOnePerKey) {
  Driver h(CountPerKey(), Options(kTenMiB, /*commit_after_each_input=*/false));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 10).ok());
  ASSERT_TRUE(h.Pipe("in", "b", "x", 20).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 30).ok());
  ASSERT_TRUE(h.Pipe("in", "a", "x", 40).ok());
  // Nothing has left the cache: no output, no changelog record, no store
  // write.
  EXPECT_THAT(Counts(h, "out"), IsEmpty());
  EXPECT_THAT(h.Output("app-counts-changelog"), IsEmpty());
  auto* store = h.driver().GetStateStore<KeyValueStore<S, int64_t>>("counts");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->Get("a"), std::nullopt);

  ASSERT_TRUE(h.driver().Commit().ok());
  // One update per key, least recently used first, the newest count.
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("b", 1), Pair("a", 3)));
  EXPECT_EQ(h.Output("app-counts-changelog").size(), 2u);
  EXPECT_EQ(*store->Get("a"), 3);
  // The timestamp of the last record that updated the key.
  EXPECT_EQ(h.Output("out")[0].timestamp_ms, 20);
  EXPECT_EQ(h.Output("out")[1].timestamp_ms, 40);

  // Reads go through the cache: the next interval counts on from 3.
  ASSERT_TRUE(h.Pipe("in", "a", "x", 50).ok());
  ASSERT_TRUE(h.driver().Commit().ok());
  EXPECT_THAT(Counts(h, "out"),
              ElementsAre(Pair("b", 1), Pair("a", 3), Pair("a", 4)));
  // A commit with nothing held back sends nothing.
  ASSERT_TRUE(h.driver().Commit().ok());
  EXPECT_EQ(h.Output("out").size(), 3u);
}

TEST(RecordCacheTest, CommittingEachInputDedupesWithinOneInput) {
  // Word count: one line updates "a" twice; the driver commits after the
  // line, so "a" is sent once, with 2.
  StreamsBuilder b;
  b.Stream<S, S>("lines")
      .FlatMapValues([](const S& line) {
        std::vector<S> words;
        for (char c : line) {
          if (c != ' ') words.push_back(S(1, c));
        }
        return words;
      })
      .GroupBy([](const std::optional<S>&, const S& w) { return w; })
      .Count(Materialized<S, int64_t>::As("counts"))
      .ToStream()
      .To("out");
  Driver cached(MustBuild(b), Options(kTenMiB, true));
  ASSERT_TRUE(cached.Pipe("lines", std::nullopt, "a b a").ok());
  ASSERT_TRUE(cached.Pipe("lines", std::nullopt, "b").ok());
  EXPECT_THAT(Counts(cached, "out"),
              ElementsAre(Pair("b", 1), Pair("a", 2), Pair("b", 2)));

  Driver uncached(MustBuild(b), Options(0, true));
  ASSERT_TRUE(uncached.Pipe("lines", std::nullopt, "a b a").ok());
  ASSERT_TRUE(uncached.Pipe("lines", std::nullopt, "b").ok());
  EXPECT_THAT(Counts(uncached, "out"), ElementsAre(Pair("a", 1), Pair("b", 1),
                                                   Pair("a", 2), Pair("b", 2)));
}

TEST(RecordCacheTest, ZeroBudgetOrCachingDisabledSendsEveryUpdate) {
  Driver off(CountPerKey(), Options(0, false));
  Driver disabled(
      CountPerKey(Materialized<S, int64_t>::As("counts").WithCachingDisabled()),
      Options(kTenMiB, false));
  for (Driver* h : {&off, &disabled}) {
    ASSERT_TRUE(h->Pipe("in", "a", "x").ok());
    ASSERT_TRUE(h->Pipe("in", "a", "x").ok());
    EXPECT_THAT(Counts(*h, "out"), ElementsAre(Pair("a", 1), Pair("a", 2)));
    EXPECT_EQ(h->Output("app-counts-changelog").size(), 2u);
  }
}

TEST(RecordCacheTest, WritesOutTheLeastRecentlyUsedEntriesOverBudget) {
  // Room for two dirty entries of a one-byte key and an int64 count (and,
  // once an entry has a count before the interval, its old count too).
  using Cache = internal::CachedStore<S, int64_t>;
  const int64_t entry = Cache::kEntryOverhead + 1 + 8;
  Driver h(CountPerKey(), Options(2 * entry + 4, false));
  ASSERT_TRUE(h.Pipe("in", "a", "x", 1).ok());
  ASSERT_TRUE(h.Pipe("in", "b", "x", 2).ok());
  EXPECT_THAT(Counts(h, "out"), IsEmpty());
  ASSERT_TRUE(h.Pipe("in", "c", "x", 3).ok());  // over budget: "a" leaves
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("a", 1)));
  ASSERT_TRUE(h.Pipe("in", "b", "x", 4).ok());  // "b" is now the newest
  ASSERT_TRUE(h.Pipe("in", "d", "x", 5).ok());  // so "c" leaves, not "b"
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("a", 1), Pair("c", 1)));
  ASSERT_TRUE(h.driver().Commit().ok());
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("a", 1), Pair("c", 1),
                                            Pair("b", 2), Pair("d", 1)));
  // "a" was evicted: it is read back from the store, not lost.
  ASSERT_TRUE(h.Pipe("in", "a", "x", 6).ok());
  ASSERT_TRUE(h.driver().Commit().ok());
  EXPECT_EQ(Counts(h, "out").back(), std::pair(S("a"), int64_t{2}));
  // Every store write reached the changelog: one per written-out update.
  EXPECT_EQ(h.Output("app-counts-changelog").size(), 5u);
}

// Decodes the group-by repartition records (internal::ChangeSerde) as
// "key:new/old" with "-" for an absent side.
std::vector<S> Changes(Driver& h, const S& topic) {
  internal::ChangeSerde<S> serde(Serdes::String());
  std::vector<S> out;
  for (const ProducerRecord& r : h.Output(topic)) {
    auto c = serde.Deserialize(topic, r.value.value_or(""));
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) continue;
    out.push_back(r.key.value_or("null") + ":" + c->new_value.value_or("-") +
                  "/" + c->old_value.value_or("-"));
  }
  return out;
}

TEST(RecordCacheTest, TableGroupBySubtractsTheOldestOldValue) {
  // users: user -> city, counted per city. Ann moves twice within one
  // commit interval: the table's cache sends one Change(london, paris), so
  // the subtractor takes her from paris, and rome never sees her.
  StreamsBuilder b;
  b.Table<S, S>("users", {}, Materialized<S, S>::As("users"))
      .GroupBy(
          [](const S& user, const S& city) { return std::pair(city, user); })
      .Count(Materialized<S, int64_t>::As("per-city"))
      .ToStream()
      .To("out");
  Driver h(MustBuild(b), Options(kTenMiB, false));
  ASSERT_TRUE(h.Pipe("users", "ann", "paris").ok());
  ASSERT_TRUE(h.Pipe("users", "bob", "paris").ok());
  ASSERT_TRUE(h.driver().Commit().ok());
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("paris", 2)));

  ASSERT_TRUE(h.Pipe("users", "ann", "rome").ok());
  ASSERT_TRUE(h.Pipe("users", "ann", "london").ok());
  ASSERT_TRUE(h.Pipe("users", "bob", "oslo").ok());
  ASSERT_TRUE(h.Pipe("users", "bob", std::nullopt).ok());  // bob leaves
  ASSERT_TRUE(h.driver().Commit().ok());
  // Per user one update on the repartition topic (subtract, then add).
  EXPECT_THAT(Changes(h, "app-per-city-repartition"),
              ElementsAre("paris:ann/-", "paris:bob/-", "paris:-/ann",
                          "london:ann/-", "paris:-/bob"));
  // paris: 2 -> 0 in one update (the cache sends the newest count, with 2 as
  // its old value), after london (paris was used last); rome and oslo never
  // appear.
  EXPECT_THAT(Counts(h, "out"), ElementsAre(Pair("paris", 2), Pair("london", 1),
                                            Pair("paris", 0)));
  auto* users = h.driver().GetStateStore<KeyValueStore<S, S>>("users");
  ASSERT_NE(users, nullptr);
  EXPECT_EQ(*users->Get("ann"), "london");
  EXPECT_EQ(*users->Get("bob"), std::nullopt);
}

TEST(RecordCacheTest, AggregationChangeCarriesTheOldestOldAndNewestNew) {
  // Counts per key, re-grouped by key: the group-by's repartition records
  // show the Change the count's cache sent.
  StreamsBuilder b;
  b.Stream<S, S>("in")
      .GroupByKey()
      .Count(Materialized<S, int64_t>::As("counts"))
      .GroupBy([](const S& k, const int64_t& n) {
        return std::pair(k, std::to_string(n));
      })
      .Reduce([](const S& agg, const S& v) { return v; },
              [](const S& agg, const S&) { return agg; },
              Materialized<S, S>::As("latest"));
  Driver h(MustBuild(b), Options(kTenMiB, false));
  ASSERT_TRUE(h.Pipe("in", "a", "x").ok());
  ASSERT_TRUE(h.driver().Commit().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h.Pipe("in", "a", "x").ok());
  ASSERT_TRUE(h.driver().Commit().ok());
  // 1 (old: none), then 4 (old: 1): the counts 2 and 3 never left.
  EXPECT_THAT(Changes(h, "app-latest-repartition"),
              ElementsAre("a:1/-", "a:4/1"));
}

TEST(RecordCacheTest, ATableReadByAJoinIsNotCached) {
  // The join reads the table's store directly: a cache in front of it would
  // hide the table's updates from the join until the commit.
  StreamsBuilder b;
  KTable<S, S> customers =
      b.Table<S, S>("customers", {}, Materialized<S, S>::As("customers"));
  customers.ToStream().To("customer-updates");
  b.Stream<S, S>("orders")
      .Join(customers,
            [](const S& order, const S& name) { return order + "@" + name; })
      .To("out");
  Driver h(MustBuild(b), Options(kTenMiB, false));
  ASSERT_TRUE(h.Pipe("customers", "c1", "ann").ok());
  ASSERT_TRUE(h.Pipe("orders", "c1", "o1").ok());
  ASSERT_TRUE(h.Pipe("customers", "c1", "bea").ok());
  ASSERT_TRUE(h.Pipe("orders", "c1", "o2").ok());
  EXPECT_THAT(testing::Strings(h, "out"),
              ElementsAre(Pair("c1", "o1@ann"), Pair("c1", "o2@bea")));
  // Every table update went out at once, none held back.
  EXPECT_EQ(h.Output("customer-updates").size(), 2u);
}

}  // namespace
}  // namespace brook
