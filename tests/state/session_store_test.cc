#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "brook/state/bytes_stores.h"
#include "brook/state/internal/key_codec.h"
#include "brook/state/session_bytes_store.h"
#include "tests/state/store_test_util.h"

namespace brook {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;
using testing_util::KindName;
using testing_util::RecordingLogger;
using testing_util::StoreKind;
using testing_util::TempStateDir;
using testing_util::TestResources;

// key, start, end, value
using Session = std::tuple<std::string, int64_t, int64_t, std::string>;

std::vector<Session> Drain(std::unique_ptr<SessionIterator> it) {
  std::vector<Session> sessions;
  for (; it->Valid(); it->Next()) {
    sessions.emplace_back(std::string(it->key()), it->start_ms(), it->end_ms(),
                          std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok()) << it->status();
  return sessions;
}

std::string BigEndian(int64_t value) {
  std::string bytes(8, '\0');
  for (int i = 7; i >= 0; --i) {
    bytes[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return bytes;
}

TEST(SessionKeyTest, EncodesKeyThenEndThenStartBigEndian) {
  EXPECT_EQ(EncodeSessionKey("k", /*start_ms=*/1, /*end_ms=*/2),
            "k" + BigEndian(2) + BigEndian(1));
  std::string key;
  int64_t start = 0;
  int64_t end = 0;
  ASSERT_TRUE(DecodeSessionKey(EncodeSessionKey(std::string("a\0", 2), -5, 7),
                               &key, &start, &end));
  EXPECT_EQ(key, std::string("a\0", 2));
  EXPECT_EQ(start, -5);
  EXPECT_EQ(end, 7);
  EXPECT_FALSE(DecodeSessionKey(std::string(15, 'x'), &key, &start, &end));
}

// Runs against both implementations.
class SessionStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  // Segments of 60 s (the minimum interval).
  static constexpr int64_t kRetention = 100000;

  void SetUp() override {
    store_ = NewStore();
    ASSERT_OK(store_->Open(dir_.path()));
    store_->SetChangeSink(&logger_);
  }

  std::unique_ptr<SessionBytesStore> NewStore() {
    if (GetParam() == StoreKind::kInMemory) {
      return NewInMemorySessionStore("sessions", kRetention);
    }
    return NewRocksDBSessionStore("sessions", kRetention, resources_);
  }

  void Reopen() {
    store_->Close();
    store_ = NewStore();
    ASSERT_OK(store_->Open(dir_.path()));
    store_->SetChangeSink(&logger_);
  }

  bool Put(absl::string_view key, int64_t start, int64_t end,
           std::optional<absl::string_view> value) {
    absl::StatusOr<bool> put = store_->Put(key, start, end, value);
    EXPECT_TRUE(put.ok()) << put.status();
    return put.ok() && *put;
  }

  std::optional<std::string> FetchSession(absl::string_view key, int64_t start,
                                          int64_t end) {
    absl::StatusOr<std::optional<std::string>> value =
        store_->FetchSession(key, start, end);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? *value : std::nullopt;
  }

  TempStateDir dir_;
  RecordingLogger logger_;
  std::shared_ptr<RocksDBResources> resources_ = TestResources();
  std::unique_ptr<SessionBytesStore> store_;
};

TEST_P(SessionStoreTest, FindSessionsReturnsOverlapsByEndThenStart) {
  ASSERT_TRUE(Put("k", 0, 10, "0-10"));
  ASSERT_TRUE(Put("k", 15, 20, "15-20"));
  ASSERT_TRUE(Put("k", 31, 40, "31-40"));
  ASSERT_TRUE(Put("k2", 15, 20, "other key"));
  ASSERT_TRUE(Put("j", 15, 20, "other key"));
  ASSERT_OK(store_->Commit(1));
  ASSERT_TRUE(Put("k", 5, 20, "5-20"));
  ASSERT_TRUE(Put("k", 30, 35, "30-35"));
  // Sessions that end at or after 12 and start at or before 30.
  EXPECT_THAT(
      Drain(store_->FindSessions("k", 12, 30)),
      ElementsAre(Session{"k", 5, 20, "5-20"}, Session{"k", 15, 20, "15-20"},
                  Session{"k", 30, 35, "30-35"}));
  EXPECT_THAT(
      Drain(store_->FindSessions("k", 10, 10)),
      ElementsAre(Session{"k", 0, 10, "0-10"}, Session{"k", 5, 20, "5-20"}));
  EXPECT_THAT(Drain(store_->FindSessions("k", 41, 100)), IsEmpty());
  EXPECT_THAT(Drain(store_->FindSessions("absent", 0, 100)), IsEmpty());
}

TEST_P(SessionStoreTest, FindSessionsWorksAcrossSegments) {
  ASSERT_TRUE(Put("k", 59000, 61000, "spans"));
  ASSERT_TRUE(Put("k", 1000, 40000, "first"));
  ASSERT_TRUE(Put("k", 130000, 130000, "third"));
  ASSERT_OK(store_->Commit(1));
  EXPECT_THAT(Drain(store_->FindSessions("k", 0, INT64_MAX)),
              ElementsAre(Session{"k", 1000, 40000, "first"},
                          Session{"k", 59000, 61000, "spans"},
                          Session{"k", 130000, 130000, "third"}));
  EXPECT_THAT(Drain(store_->FindSessions("k", 60000, 60000)),
              ElementsAre(Session{"k", 59000, 61000, "spans"}));
}

TEST_P(SessionStoreTest, BackwardFindSessionsIsTheForwardOneReversed) {
  ASSERT_TRUE(Put("k", 59000, 61000, "spans"));
  ASSERT_TRUE(Put("k", 1000, 40000, "first"));
  ASSERT_TRUE(Put("k", 20000, 40000, "same-end"));
  ASSERT_TRUE(Put("k2", 30000, 30000, "other-key"));
  ASSERT_OK(store_->Commit(1));
  ASSERT_TRUE(Put("k", 130000, 130000, "third"));  // buffered, a later segment
  ASSERT_TRUE(Put("k", 135000, 139000, "fifth"));
  ASSERT_TRUE(Put("k", 20000, 40000, std::nullopt));  // a buffered removal
  EXPECT_THAT(Drain(store_->BackwardFindSessions("k", 0, INT64_MAX)),
              ElementsAre(Session{"k", 135000, 139000, "fifth"},
                          Session{"k", 130000, 130000, "third"},
                          Session{"k", 59000, 61000, "spans"},
                          Session{"k", 1000, 40000, "first"}));
  int non_empty = 0;
  for (const auto& [earliest_end, latest_start] :
       std::vector<std::pair<int64_t, int64_t>>{{0, INT64_MAX},
                                                {40000, 60000},
                                                {41000, 58999},
                                                {60000, 60000},
                                                {131000, 300000},
                                                {200000, 100000}}) {
    SCOPED_TRACE(absl::StrCat(earliest_end, " ", latest_start));
    std::vector<Session> forward =
        Drain(store_->FindSessions("k", earliest_end, latest_start));
    std::vector<Session> backward =
        Drain(store_->BackwardFindSessions("k", earliest_end, latest_start));
    std::reverse(forward.begin(), forward.end());
    EXPECT_EQ(backward, forward);
    if (!backward.empty()) ++non_empty;
  }
  EXPECT_GE(non_empty, 3);
  EXPECT_THAT(Drain(store_->BackwardFindSessions("absent", 0, INT64_MAX)),
              IsEmpty());
}

TEST_P(SessionStoreTest, ReadsSeeUncommittedWritesAndRemovals) {
  ASSERT_TRUE(Put("k", 0, 10, "a"));
  ASSERT_TRUE(Put("k", 20, 30, "b"));
  ASSERT_OK(store_->Commit(1));
  ASSERT_TRUE(Put("k", 0, 10, std::nullopt));
  ASSERT_TRUE(Put("k", 0, 30, "merged"));
  EXPECT_EQ(FetchSession("k", 0, 10), std::nullopt);
  EXPECT_THAT(FetchSession("k", 0, 30), Optional(std::string("merged")));
  EXPECT_THAT(FetchSession("k", 20, 30), Optional(std::string("b")));
  EXPECT_EQ(FetchSession("k", 20, 31), std::nullopt);
  EXPECT_THAT(
      Drain(store_->FindSessions("k", 0, 100)),
      ElementsAre(Session{"k", 0, 30, "merged"}, Session{"k", 20, 30, "b"}));
  store_->Abort();
  EXPECT_THAT(Drain(store_->FindSessions("k", 0, 100)),
              ElementsAre(Session{"k", 0, 10, "a"}, Session{"k", 20, 30, "b"}));
}

TEST_P(SessionStoreTest, ExpiredSessionsAreRefusedAndHidden) {
  ASSERT_TRUE(Put("k", 0, 1000, "old"));
  ASSERT_TRUE(Put("k", 500000, 500000, "new"));  // stream time 500 s
  logger_.changes.clear();
  absl::StatusOr<bool> put = store_->Put("k", 0, 399999, "late");
  ASSERT_OK(put.status());
  EXPECT_FALSE(*put);
  EXPECT_THAT(logger_.changes, IsEmpty());
  EXPECT_EQ(FetchSession("k", 0, 1000), std::nullopt);
  EXPECT_THAT(Drain(store_->FindSessions("k", 0, INT64_MAX)),
              ElementsAre(Session{"k", 500000, 500000, "new"}));
  // A session that starts long ago but ends within retention is live.
  EXPECT_TRUE(Put("k", 0, 400000, "long"));
  ASSERT_OK(store_->Commit(1));
  EXPECT_THAT(Drain(store_->FindSessions("k", 0, INT64_MAX)),
              ElementsAre(Session{"k", 0, 400000, "long"},
                          Session{"k", 500000, 500000, "new"}));
}

TEST_P(SessionStoreTest, StartAfterEndIsInvalid) {
  absl::StatusOr<bool> put = store_->Put("k", 10, 9, "v");
  EXPECT_EQ(put.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(store_->has_uncommitted());
}

TEST_P(SessionStoreTest, LoggerReceivesKeyEndStart) {
  ASSERT_TRUE(Put("k", 1, 2, "v"));
  ASSERT_TRUE(Put("k", 1, 2, std::nullopt));
  EXPECT_THAT(logger_.changes,
              ElementsAre(ChangeRecord{"k" + BigEndian(2) + BigEndian(1), "v"},
                          ChangeRecord{"k" + BigEndian(2) + BigEndian(1),
                                       std::nullopt}));
}

TEST_P(SessionStoreTest, RestoreAppliesSessionsAndOffsetWithoutLogging) {
  ASSERT_TRUE(Put("k", 0, 10, "replaced"));
  ASSERT_OK(store_->Commit(1));
  logger_.changes.clear();
  const std::vector<ChangeRecord> records = {
      {EncodeSessionKey("k", 0, 10), std::nullopt},
      {EncodeSessionKey("k", 0, 25), "merged"},
      {EncodeSessionKey("j", 3, 4), "j"}};
  ASSERT_OK(store_->Restore(records, 12));
  EXPECT_EQ(store_->committed_offset(), 12);
  EXPECT_THAT(logger_.changes, IsEmpty());
  EXPECT_THAT(Drain(store_->FindSessions("k", 0, 100)),
              ElementsAre(Session{"k", 0, 25, "merged"}));
  EXPECT_THAT(FetchSession("j", 3, 4), Optional(std::string("j")));
  EXPECT_EQ(store_->Restore({{"too short", "v"}}, 13).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->committed_offset(), 12);
}

TEST_P(SessionStoreTest, CommittedSessionsSurviveReopen) {
  ASSERT_TRUE(Put("k", 0, 10, "a"));
  ASSERT_OK(store_->Commit(3));
  ASSERT_TRUE(Put("k", 20, 30, "uncommitted"));
  Reopen();
  if (!store_->persistent()) {
    EXPECT_THAT(Drain(store_->FindSessions("k", 0, 100)), IsEmpty());
    return;
  }
  EXPECT_EQ(store_->committed_offset(), 3);
  EXPECT_THAT(Drain(store_->FindSessions("k", 0, 100)),
              ElementsAre(Session{"k", 0, 10, "a"}));
}

INSTANTIATE_TEST_SUITE_P(Kinds, SessionStoreTest,
                         ::testing::Values(StoreKind::kInMemory,
                                           StoreKind::kRocksDB),
                         KindName);

}  // namespace
}  // namespace brook
