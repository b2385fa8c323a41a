// MetricsServerOptions from StreamsConfig: errors name the key.
#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "brook/metrics/metrics_server.h"

namespace brook {
namespace {

TEST(MetricsServerOptionsTest, NamesTheKeyWhenNoPortIsConfigured) {
  StreamsConfig config;
  absl::StatusOr<MetricsServerOptions> options =
      MetricsServerOptions::FromConfig(config);
  ASSERT_FALSE(options.ok());
  EXPECT_TRUE(
      absl::StrContains(options.status().message(), "metrics.http.port"))
      << options.status();
  config.metrics_http_port = 9464;
  options = MetricsServerOptions::FromConfig(config);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->address, "127.0.0.1");
  EXPECT_EQ(options->port, 9464);
}

}  // namespace
}  // namespace brook
