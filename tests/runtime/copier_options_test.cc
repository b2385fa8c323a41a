#include "runtime/copier_options.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace brook {
namespace {

CopierOptions Valid() {
  CopierOptions o;
  o.application_id = "app";
  o.bootstrap_servers = "127.0.0.1:9092";
  o.input_topic = "in";
  o.output_topic = "out";
  return o;
}

void ExpectRejectedNaming(const CopierOptions& o, const std::string& key) {
  absl::Status s = o.Validate();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), key)) << s;
}

TEST(CopierOptionsTest, ValidOptionsPass) {
  EXPECT_TRUE(Valid().Validate().ok());
}

TEST(CopierOptionsTest, MissingRequiredKeysAreNamed) {
  CopierOptions o = Valid();
  o.application_id.clear();
  ExpectRejectedNaming(o, "application.id");
  o = Valid();
  o.bootstrap_servers.clear();
  ExpectRejectedNaming(o, "bootstrap.servers");
  o = Valid();
  o.input_topic.clear();
  ExpectRejectedNaming(o, "input.topic");
  o = Valid();
  o.output_topic = "in";
  ExpectRejectedNaming(o, "output.topic");
}

TEST(CopierOptionsTest, CommitIntervalDefaultsFollowTheGuarantee) {
  CopierOptions o = Valid();
  EXPECT_EQ(o.EffectiveCommitInterval(), absl::Milliseconds(100));
  o.guarantee = ProcessingGuarantee::kAtLeastOnce;
  EXPECT_EQ(o.EffectiveCommitInterval(), absl::Seconds(30));
  o.commit_interval = absl::Seconds(2);
  EXPECT_EQ(o.EffectiveCommitInterval(), absl::Seconds(2));
}

TEST(CopierOptionsTest, CommitIntervalMustFitInTransactionTimeout) {
  CopierOptions o = Valid();
  o.commit_interval = absl::Seconds(20);
  ExpectRejectedNaming(o, "transaction.timeout");
  o.guarantee = ProcessingGuarantee::kAtLeastOnce;
  EXPECT_TRUE(o.Validate().ok());
}

TEST(CopierOptionsTest, BrookOwnedClientKeysCannotBeOverridden) {
  CopierOptions o = Valid();
  o.consumer_config["enable.auto.commit"] = "true";
  ExpectRejectedNaming(o, "enable.auto.commit");
  o = Valid();
  o.producer_config["transactional.id"] = "mine";
  ExpectRejectedNaming(o, "transactional.id");
}

TEST(CopierOptionsTest, BadNumbersAreNamed) {
  CopierOptions o = Valid();
  o.commit_max_records = 0;
  ExpectRejectedNaming(o, "commit.max.records");
  o = Valid();
  o.commit_interval = absl::Milliseconds(-1);
  ExpectRejectedNaming(o, "commit.interval");
}

TEST(ProcessingGuaranteeTest, NamesRoundTrip) {
  for (auto g : {ProcessingGuarantee::kExactlyOnceV2,
                 ProcessingGuarantee::kAtLeastOnce}) {
    EXPECT_EQ(ParseProcessingGuarantee(ProcessingGuaranteeName(g)), g);
  }
  EXPECT_FALSE(ParseProcessingGuarantee("exactly_once").has_value());
}

}  // namespace
}  // namespace brook
