// ReadTopic against the real broker. Every integration test uses it as its
// oracle, so a reader that drops, repeats or invents records, shows aborted
// records under read_committed, or hangs on an open transaction would hide
// the bugs those tests look for.
#include "brook/kafka/topic_reader.h"

#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/kafka/producer.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::BaseConfig;
using ::brook::testing::CreateTopic;
using ::brook::testing::UniqueName;

// (partition, offset, key, value) of each record, in the reader's order.
using Row = std::tuple<int32_t, int64_t, std::optional<std::string>,
                       std::optional<std::string>>;

std::vector<Row> Rows(const std::vector<ConsumerRecord>& records) {
  std::vector<Row> rows;
  for (const ConsumerRecord& r : records) {
    rows.emplace_back(r.partition, r.offset, r.key, r.value);
  }
  return rows;
}

std::unique_ptr<Producer> Transactional() {
  ClientConfig config = BaseConfig();
  config["transactional.id"] = UniqueName("reader-txn");
  config["transaction.timeout.ms"] = "60000";
  auto producer = Producer::Create(config);
  EXPECT_TRUE(producer.ok()) << producer.status();
  EXPECT_TRUE((*producer)->InitTransactions(absl::Seconds(60)).ok());
  return *std::move(producer);
}

TEST(ReadTopicTest, ReturnsEveryRecordOfEveryPartitionOnceWithItsContent) {
  const std::string topic = UniqueName("reader-all");
  CreateTopic(topic, 3);
  auto producer = Producer::Create(BaseConfig());
  ASSERT_TRUE(producer.ok());
  // Partition 0 gets 5 records, partition 1 gets 300, partition 2 none; one
  // null key and one tombstone among them.
  std::map<int32_t, std::vector<Row>> expected;
  for (int32_t p = 0; p < 2; ++p) {
    const int n = p == 0 ? 5 : 300;
    for (int i = 0; i < n; ++i) {
      std::optional<std::string> key = absl::StrCat("k", p, "-", i);
      std::optional<std::string> value = absl::StrCat("v", p, "-", i);
      if (p == 0 && i == 1) key.reset();
      if (p == 0 && i == 2) value.reset();
      ASSERT_TRUE(
          (*producer)
              ->Send(
                  {.topic = topic, .partition = p, .key = key, .value = value})
              .ok());
      expected[p].emplace_back(p, i, key, value);
    }
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(30)).ok());
  for (IsolationLevel level :
       {IsolationLevel::kReadCommitted, IsolationLevel::kReadUncommitted}) {
    auto records = ReadTopic(BaseConfig(), topic, level, absl::Seconds(30));
    ASSERT_TRUE(records.ok()) << records.status();
    std::map<int32_t, std::vector<Row>> got;
    for (const Row& row : Rows(*records)) got[std::get<0>(row)].push_back(row);
    // Per partition: every record, once, in offset order, unchanged.
    EXPECT_EQ(got, expected);
    for (const ConsumerRecord& r : *records) {
      EXPECT_EQ(r.topic, topic);
      EXPECT_GT(r.timestamp_ms, 0);
    }
  }
}

TEST(ReadTopicTest, EmptyTopicGivesNoRecordsAtOnce) {
  const std::string topic = UniqueName("reader-empty");
  CreateTopic(topic, 2);
  const absl::Time start = absl::Now();
  auto records = ReadTopic(BaseConfig(), topic, IsolationLevel::kReadCommitted,
                           absl::Seconds(30));
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_TRUE(records->empty());
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(ReadTopicTest, MissingTopicIsNotFound) {
  auto records = ReadTopic(BaseConfig(), UniqueName("reader-missing"),
                           IsolationLevel::kReadCommitted, absl::Seconds(10));
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.status().code(), absl::StatusCode::kNotFound)
      << records.status();
}

TEST(ReadTopicTest, ReadCommittedSkipsAbortedAndKeepsJustCommitted) {
  const std::string topic = UniqueName("reader-txn");
  CreateTopic(topic, 1);
  auto producer = Transactional();
  // committed, aborted, committed: the last commit is read at once, while
  // the broker may still be writing its markers.
  for (const char* kind : {"first", "aborted", "last"}) {
    ASSERT_TRUE(producer->BeginTransaction().ok());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(producer
                      ->Send({.topic = topic,
                              .key = "k",
                              .value = absl::StrCat(kind, "-", i)})
                      .ok());
    }
    ASSERT_TRUE(producer->Flush(absl::Seconds(30)).ok());
    if (std::string(kind) == "aborted") {
      ASSERT_TRUE(producer->AbortTransaction(absl::Seconds(30)).ok());
    } else {
      ASSERT_TRUE(producer->CommitTransaction(absl::Seconds(30)).ok());
    }
  }
  auto committed = ReadTopic(BaseConfig(), topic,
                             IsolationLevel::kReadCommitted, absl::Seconds(30));
  ASSERT_TRUE(committed.ok()) << committed.status();
  std::vector<std::string> values;
  for (const auto& r : *committed) values.push_back(r.value.value_or(""));
  EXPECT_EQ(values, (std::vector<std::string>{"first-0", "first-1", "first-2",
                                              "last-0", "last-1", "last-2"}));
  // read_uncommitted sees the aborted records too (not the markers).
  auto raw = ReadTopic(BaseConfig(), topic, IsolationLevel::kReadUncommitted,
                       absl::Seconds(30));
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->size(), 9u);
}

TEST(ReadTopicTest, OpenTransactionIsLeftOutWithinTheBoundedWait) {
  const std::string topic = UniqueName("reader-open");
  CreateTopic(topic, 1);
  auto producer = Transactional();
  ASSERT_TRUE(producer->BeginTransaction().ok());
  ASSERT_TRUE(producer->Send({.topic = topic, .value = "before"}).ok());
  ASSERT_TRUE(producer->CommitTransaction(absl::Seconds(30)).ok());
  ASSERT_TRUE(producer->BeginTransaction().ok());
  ASSERT_TRUE(producer->Send({.topic = topic, .value = "open"}).ok());
  ASSERT_TRUE(producer->Flush(absl::Seconds(30)).ok());
  // The stable end never reaches the log end while the transaction is open:
  // the reader waits half its timeout for it, then reads to the stable end.
  const absl::Time start = absl::Now();
  auto committed = ReadTopic(BaseConfig(), topic,
                             IsolationLevel::kReadCommitted, absl::Seconds(6));
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(committed.ok()) << committed.status();
  ASSERT_EQ(committed->size(), 1u);
  EXPECT_EQ((*committed)[0].value, "before");
  EXPECT_GE(took, absl::Seconds(3)) << absl::FormatDuration(took);
  EXPECT_LT(took, absl::Seconds(6)) << absl::FormatDuration(took);
  ASSERT_TRUE(producer->AbortTransaction(absl::Seconds(30)).ok());
}

}  // namespace
}  // namespace brook
