// StreamsConfig::Validate(): each error names the config key.
#include "brook/runtime/streams_config.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "brook/runtime/internal/thread_client_configs.h"

namespace brook {
namespace {

StreamsConfig Valid() {
  StreamsConfig config;
  config.application_id = "app";
  config.bootstrap_servers = "127.0.0.1:9092";
  return config;
}

TEST(StreamsConfigTest, DefaultsWithAnIdAndServersAreValid) {
  EXPECT_TRUE(Valid().Validate().ok()) << Valid().Validate();
}

TEST(StreamsConfigTest, KeysBrookControlsCannotBeOverridden) {
  struct Case {
    const char* what;
    ClientConfig StreamsConfig::*field;
    const char* key;
  };
  for (const Case& c : {
           Case{"consumer config", &StreamsConfig::consumer_config,
                "isolation.level"},
           Case{"consumer config", &StreamsConfig::consumer_config, "group.id"},
           Case{"restore consumer config",
                &StreamsConfig::restore_consumer_config, "isolation.level"},
           Case{"restore consumer config",
                &StreamsConfig::restore_consumer_config, "auto.offset.reset"},
           Case{"restore consumer config",
                &StreamsConfig::restore_consumer_config, "group.id"},
           Case{"producer config", &StreamsConfig::producer_config,
                "transactional.id"},
       }) {
    StreamsConfig config = Valid();
    (config.*c.field)[c.key] = "x";
    absl::Status s = config.Validate();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.key;
    EXPECT_TRUE(absl::StrContains(s.message(), c.what)) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), c.key)) << s;
  }
}

TEST(StreamsConfigTest, MetricsPortOutOfRangeNamesTheKey) {
  StreamsConfig config = Valid();
  for (int32_t port : {-1, 0, 9464, 65535}) {
    config.metrics_http_port = port;
    EXPECT_TRUE(config.Validate().ok()) << port << ": " << config.Validate();
  }
  for (int32_t port : {-2, 65536}) {
    config.metrics_http_port = port;
    absl::Status s = config.Validate();
    EXPECT_TRUE(absl::StrContains(s.message(), "'metrics.http.port'")) << s;
  }
  config.metrics_http_port = 0;
  config.metrics_http_address = "";
  EXPECT_TRUE(
      absl::StrContains(config.Validate().message(), "'metrics.http.address'"))
      << config.Validate();
}

TEST(StreamsConfigTest, RestorePrefetchLimitsMayBeTuned) {
  StreamsConfig config = Valid();
  config.restore_consumer_config["queued.max.messages.kbytes"] = "16384";
  EXPECT_TRUE(config.Validate().ok()) << config.Validate();
}

}  // namespace
TEST(StreamsConfigTest, MaxTaskIdleMsIsMinusOneOrMore) {
  StreamsConfig config = Valid();
  // Kafka Streams' default: wait for an input with records on the way.
  EXPECT_EQ(config.max_task_idle_ms, 0);
  config.max_task_idle_ms = -1;
  EXPECT_TRUE(config.Validate().ok());
  config.max_task_idle_ms = 0;
  EXPECT_TRUE(config.Validate().ok());
  config.max_task_idle_ms = 60'000;
  EXPECT_TRUE(config.Validate().ok());
  config.max_task_idle_ms = -2;
  absl::Status s = config.Validate();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "'max.task.idle.ms'")) << s;
}

TEST(ThreadClientConfigsTest, TheProducerIsIdempotentUnderEitherGuarantee) {
  // At-least-once too: librdkafka's default (not idempotent, 1,000,000
  // requests in flight) may reorder a partition's records on a retry.
  for (auto g : {ProcessingGuarantee::kExactlyOnceV2,
                 ProcessingGuarantee::kAtLeastOnce}) {
    StreamsConfig config = Valid();
    config.processing_guarantee = g;
    const ClientConfig producer =
        internal::ThreadProducerConfig(config, "client", "txn-id");
    const std::string name(ProcessingGuaranteeName(g));
    ASSERT_TRUE(producer.contains("enable.idempotence")) << name;
    EXPECT_EQ(producer.at("enable.idempotence"), "true") << name;
    EXPECT_EQ(producer.contains("transactional.id"),
              g == ProcessingGuarantee::kExactlyOnceV2)
        << name;
  }
}

TEST(ProcessingGuaranteeTest, NamesRoundTrip) {
  for (auto g : {ProcessingGuarantee::kExactlyOnceV2,
                 ProcessingGuarantee::kAtLeastOnce}) {
    EXPECT_EQ(ParseProcessingGuarantee(ProcessingGuaranteeName(g)), g);
  }
  EXPECT_FALSE(ParseProcessingGuarantee("exactly_once").has_value());
}

}  // namespace brook
