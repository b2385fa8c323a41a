// The verifier must be able to fail: each test hands it a run with one kind
// of damage and checks that exactly that invariant is reported, naming the
// key and the position.
#include "tools/chaos/verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace brook::chaos {
namespace {

using ::testing::HasSubstr;

std::string Int64Bytes(int64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

ConsumerRecord Rec(const std::string& topic, int32_t partition, int64_t offset,
                   const std::string& key, std::optional<std::string> value) {
  ConsumerRecord r;
  r.topic = topic;
  r.partition = partition;
  r.offset = offset;
  r.key = key;
  r.value = std::move(value);
  return r;
}

// A correct run: keys a (3 updates) and b (2), one aborted input id "id9";
// the output, changelog, ends and group offsets all agree.
class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<std::pair<std::string, std::string>> inputs = {
        {"a", "id0"}, {"b", "id1"}, {"a", "id2"}, {"a", "id3"}, {"b", "id4"}};
    std::map<std::string, int64_t> counts;
    int64_t offset = 0;
    for (const auto& [key, id] : inputs) {
      const int32_t p = key == "a" ? 0 : 1;
      in_.input_committed.push_back(Rec("in", p, offset, key, id));
      in_.input_uncommitted.push_back(Rec("in", p, offset, key, id));
      const int64_t count = ++counts[key];
      in_.output_committed.push_back(
          Rec("out", p, offset, key, absl::StrCat(id, ":", count)));
      in_.changelog_committed.push_back(
          Rec("cl", p, offset, key, Int64Bytes(count)));
      ++offset;
    }
    in_.input_uncommitted.push_back(Rec("in", 0, 10, "a", "id9"));
    in_.ends = {{"out", 0, 8, 8}, {"out", 1, 5, 5}, {"cl", 0, 8, 8}};
    in_.group_committed = {12, 12};
  }

  // Checks that `invariant` alone is reported, and returns its listing.
  std::string Only(Invariant invariant) {
    const Report report = Check(in_);
    EXPECT_FALSE(report.ok());
    std::string listed;
    for (int i = 0; i < kInvariantCount; ++i) {
      const Invariant other = static_cast<Invariant>(i);
      if (other != invariant) {
        EXPECT_EQ(report.Count(other), 0) << report.ToString();
      }
    }
    for (const Violation& v : report.listed) {
      if (v.invariant == invariant) absl::StrAppend(&listed, v.detail, "\n");
    }
    EXPECT_THAT(report.ToString(), HasSubstr("VIOLATED"));
    return listed;
  }

  VerifierInput in_;
};

TEST_F(VerifierTest, PassesACorrectRun) {
  const Report report = Check(in_);
  EXPECT_TRUE(report.ok()) << report.ToString();
  EXPECT_EQ(report.input_committed, 5);
  EXPECT_EQ(report.input_aborted, 1);
  EXPECT_EQ(report.keys, 2);
}

TEST_F(VerifierTest, ReportsADuplicateOutput) {
  // id2 ("a", count 2) is written twice; the second copy also repeats the
  // count, so E3 flags it as well.
  in_.output_committed.push_back(Rec("out", 0, 20, "a", "id2:2"));
  in_.output_committed.push_back(Rec("out", 0, 21, "a", "id5:3"));
  in_.changelog_committed.push_back(Rec("cl", 0, 21, "a", Int64Bytes(3)));
  in_.input_committed.push_back(Rec("in", 0, 11, "a", "id5"));
  const Report report = Check(in_);
  EXPECT_EQ(report.Count(Invariant::kE1), 1) << report.ToString();
  EXPECT_THAT(report.ToString(), HasSubstr("appears 2 times"));
  EXPECT_THAT(report.ToString(), HasSubstr("out-0@20"));
  EXPECT_GE(report.Count(Invariant::kE3), 1);
}

TEST_F(VerifierTest, ReportsAMissingOutputAsAGap) {
  // id2's output is lost while the store counted it: the output of key a
  // jumps from 1 to 3.
  std::erase_if(in_.output_committed,
                [](const ConsumerRecord& r) { return r.value == "id2:2"; });
  const Report report = Check(in_);
  EXPECT_EQ(report.Count(Invariant::kE1), 1) << report.ToString();
  EXPECT_EQ(report.Count(Invariant::kE3), 1) << report.ToString();
  EXPECT_THAT(report.ToString(), HasSubstr("in-0@2 (id 'id2') has no output"));
  EXPECT_THAT(report.ToString(),
              HasSubstr("key 'a': output out-0@3 has count 3, expected 2"));
}

TEST_F(VerifierTest, ReportsOutputOfAnAbortedTransaction) {
  in_.output_committed.push_back(Rec("out", 1, 7, "b", "id9:3"));
  in_.changelog_committed.push_back(Rec("cl", 1, 7, "b", Int64Bytes(3)));
  const std::string listed = Only(Invariant::kE2);
  EXPECT_THAT(listed, HasSubstr("key 'b': output out-1@7 carries id 'id9'"));
  EXPECT_THAT(listed, HasSubstr("input in-0@10"));
}

TEST_F(VerifierTest, ReportsAChangelogThatDisagrees) {
  in_.changelog_committed.push_back(Rec("cl", 1, 9, "b", Int64Bytes(7)));
  const std::string listed = Only(Invariant::kE4);
  EXPECT_THAT(listed, HasSubstr("key 'b': changelog cl-1@9 holds 7"));
  EXPECT_THAT(listed, HasSubstr("has count 2"));
}

TEST_F(VerifierTest, ReportsAHangingTransaction) {
  in_.ends.push_back({"cl", 1, 3, 6});
  EXPECT_THAT(Only(Invariant::kE5),
              HasSubstr("cl-1: last stable offset 3 < high watermark 6"));
}

TEST_F(VerifierTest, ReportsGroupOffsetsShortOfTheInput) {
  in_.group_committed = {12, 4};  // the last input of partition 1 is at 4
  EXPECT_THAT(Only(Invariant::kE6),
              HasSubstr("in-1: the group committed offset 4"));
}

TEST_F(VerifierTest, ReportsOutputThatNoInputHas) {
  in_.output_committed.push_back(Rec("out", 0, 30, "a", "id77:4"));
  in_.changelog_committed.push_back(Rec("cl", 0, 30, "a", Int64Bytes(4)));
  EXPECT_THAT(Only(Invariant::kE1),
              HasSubstr("carries id 'id77', which no input record has"));
}

TEST_F(VerifierTest, AddsExternalViolationsAndCapsTheListing) {
  for (int i = 0; i < 30; ++i) {
    in_.external.push_back({Invariant::kE7, absl::StrCat("instance ", i)});
  }
  const Report report = Check(in_, /*max_listed=*/5);
  EXPECT_EQ(report.Count(Invariant::kE7), 30);
  EXPECT_EQ(report.listed.size(), 5u);
  EXPECT_THAT(report.ToString(), HasSubstr("E7: ... and 25 more"));
}

}  // namespace
}  // namespace brook::chaos

namespace brook::chaos {
namespace {

TEST(ScanInstanceLogsTest, ReportsAFailedStreamThreadOnly) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/scan_instance_logs_test.log");
  {
    std::ofstream log(path);
    log << "%3|1796183532.195|FAIL|app-t1#consumer-7| Connect to "
           "ipv4#127.0.0.1:1 failed: Connection refused\n"
        << "I20261202 03:52:43.716512 21070 stream_thread.cc:159] app "
           "RUNNING -> PENDING_SHUTDOWN\n"
        << "E20261202 03:52:43.716512 21070 stream_thread.cc:151] "
           "app-StreamThread-1 failed: FAILED_PRECONDITION: locked\n"
        << "count_app: failed: FAILED_PRECONDITION: locked\n";
  }
  const std::vector<Violation> found = ScanInstanceLogs({path});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].invariant, Invariant::kE7);
  EXPECT_THAT(found[0].detail, HasSubstr(":3: E20261202"));
  EXPECT_THAT(found[0].detail, HasSubstr("app-StreamThread-1 failed"));
}

}  // namespace
}  // namespace brook::chaos
