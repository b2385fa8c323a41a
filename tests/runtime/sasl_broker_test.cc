// Security against the real broker's SASL listener (scripts/kafka starts
// one: SASL_PLAINTEXT, SCRAM-SHA-512, user "brook"). An exactly-once
// KafkaStreams application given the credentials once, in
// StreamsConfig::client_config, copies its input exactly once with every
// client authenticated; with a wrong password it fails with an
// authentication error that says so, within a bound, instead of hanging.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"
#include "brook/runtime/kafka_streams.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/topology.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::CheckExactCopy;
using ::brook::testing::CreateTopic;
using ::brook::testing::SaslBootstrapServers;
using ::brook::testing::SaslClientConfig;
using ::brook::testing::UniqueName;
using S = std::string;

Topology CopyTopology(const S& in, const S& out) {
  Topology t;
  t.AddSource<S, S>("in", {in}, Serdes::String(), Serdes::String())
      .AddSink<S, S>("out", out, Serdes::String(), Serdes::String(), {"in"});
  return t;
}

class SaslBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::optional<S> sasl = SaslBootstrapServers();
    if (!sasl.has_value()) {
      GTEST_SKIP() << "the broker has no SASL listener (an external cluster "
                      "without BROOK_SASL_BOOTSTRAP_SERVERS)";
    }
    sasl_bootstrap_ = *sasl;
    in_ = UniqueName("sasl-in");
    out_ = UniqueName("sasl-out");
    config_.application_id = UniqueName("sasl-app");
    config_.bootstrap_servers = sasl_bootstrap_;
    config_.state_dir = ::testing::TempDir() + "/" + config_.application_id;
    config_.processing_guarantee = ProcessingGuarantee::kExactlyOnceV2;
    config_.session_timeout = absl::Seconds(6);
  }
  void TearDown() override { std::filesystem::remove_all(config_.state_dir); }

  S sasl_bootstrap_, in_, out_;
  StreamsConfig config_;
};

TEST_F(SaslBrokerTest, ExactlyOnceThroughScramWithCredentialsGivenOnce) {
  constexpr int kRecords = 500;
  CreateTopic(in_, 2);
  CreateTopic(out_, 2);
  // The input goes in through the SASL listener too.
  ClientConfig producer_config = SaslClientConfig();
  producer_config["bootstrap.servers"] = sasl_bootstrap_;
  auto producer = Producer::Create(producer_config);
  ASSERT_TRUE(producer.ok()) << producer.status();
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE((*producer)
                    ->Send({.topic = in_,
                            .key = absl::StrCat("k", i % 7),
                            .value = absl::StrCat("v-", i)})
                    .ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(60)).ok());

  config_.client_config = SaslClientConfig();
  auto app = KafkaStreams::Create(CopyTopology(in_, out_), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  // Every client got the credentials.
  for (const ClientConfig* c :
       {&(*app)->config().consumer_config, &(*app)->config().producer_config,
        &(*app)->config().admin_config,
        &(*app)->config().restore_consumer_config}) {
    EXPECT_EQ(c->count("sasl.password"), 1u);
  }
  ASSERT_TRUE((*app)->Start().ok());
  std::vector<ConsumerRecord> out;
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  while (absl::Now() < deadline) {
    ClientConfig reader = SaslClientConfig();
    reader["bootstrap.servers"] = sasl_bootstrap_;
    auto read = ReadTopic(reader, out_, IsolationLevel::kReadCommitted,
                          absl::Seconds(30));
    ASSERT_TRUE(read.ok()) << read.status();
    out = *std::move(read);
    if (out.size() >= kRecords) break;
    ASSERT_NE((*app)->state(), KafkaStreams::State::kError) << (*app)->error();
    absl::SleepFor(absl::Milliseconds(500));
  }
  ASSERT_TRUE((*app)->Close(absl::Seconds(60)).ok());
  testing::CopyCheck check = CheckExactCopy(out, "v", kRecords);
  EXPECT_EQ(check.records, kRecords) << check.ToString();
  EXPECT_EQ(check.duplicates, 0) << check.ToString();
  EXPECT_EQ(check.missing, 0) << check.ToString();
}

TEST_F(SaslBrokerTest, WrongPasswordFailsWithAnAuthenticationErrorNotAHang) {
  CreateTopic(in_, 1);
  CreateTopic(out_, 1);
  config_.client_config = SaslClientConfig("not-the-password");
  auto app = KafkaStreams::Create(CopyTopology(in_, out_), config_);
  ASSERT_TRUE(app.ok()) << app.status();
  const absl::Time start = absl::Now();
  absl::Status s = (*app)->Start();
  while (s.ok() && (*app)->state() != KafkaStreams::State::kError &&
         absl::Now() - start < absl::Seconds(120)) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (s.ok()) s = (*app)->error();
  const absl::Duration took = absl::Now() - start;
  (*app)->Close(absl::Seconds(30)).IgnoreError();
  ASSERT_FALSE(s.ok()) << "no error after " << took;
  std::cout << "after " << took << ": " << s << "\n";
  EXPECT_TRUE(absl::StrContains(s.message(), "uthentication")) << s;
  EXPECT_LT(took, absl::Seconds(90)) << s;
  // The password is never part of the error.
  EXPECT_FALSE(absl::StrContains(s.message(), "not-the-password")) << s;
}

}  // namespace
}  // namespace brook
