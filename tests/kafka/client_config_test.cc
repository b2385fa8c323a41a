// Secret config values never show: not in a printed config, not in the
// error of a rejected key, whatever librdkafka's message says.
#include "brook/kafka/client_config.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "brook/kafka/internal/rdkafka_handle.h"
#include "brook/kafka/producer.h"

namespace brook {
namespace {

TEST(ClientConfigTest, SecretKeysAreRecognisedCaseInsensitively) {
  for (const char* key : {"sasl.password", "ssl.key.password", "ssl.key.pem",
                          "SASL.JAAS.CONFIG", "sasl.oauthbearer.client.secret",
                          "ssl.keystore.password", "my.Token"}) {
    EXPECT_TRUE(IsSecretConfigKey(key)) << key;
  }
  for (const char* key : {"bootstrap.servers", "sasl.username",
                          "security.protocol", "transaction.timeout.ms"}) {
    EXPECT_FALSE(IsSecretConfigKey(key)) << key;
  }
}

TEST(ClientConfigTest, RedactedStringHidesSecretValues) {
  const std::string s = RedactedConfigString({{"bootstrap.servers", "b:9092"},
                                              {"sasl.password", "hunter2"},
                                              {"sasl.username", "alice"}});
  EXPECT_EQ(s,
            "bootstrap.servers=b:9092, sasl.password=[hidden], "
            "sasl.username=alice");
}

TEST(ClientConfigTest, ARejectedSecretKeyDoesNotEchoItsValue) {
  // An unknown key that looks secret, and a known secret key with a value
  // librdkafka rejects.
  for (const ClientConfig& config :
       {ClientConfig{{"sasl.password.typo", "hunter2"}},
        ClientConfig{{"bootstrap.servers", "b:9092"},
                     {"sasl.password", "hunter2"},
                     {"sasl.oauthbearer.token.endpoint.url", "hunter2"},
                     {"ssl.key.password.bogus", "hunter2"}}}) {
    auto conf = internal::BuildConf(config);
    ASSERT_FALSE(conf.ok());
    EXPECT_FALSE(absl::StrContains(conf.status().message(), "hunter2"))
        << conf.status();
    EXPECT_TRUE(absl::StrContains(conf.status().message(), "[hidden]"))
        << conf.status();
    auto producer = Producer::Create(config);
    ASSERT_FALSE(producer.ok());
    EXPECT_FALSE(absl::StrContains(producer.status().ToString(), "hunter2"))
        << producer.status();
  }
  // A value that is not secret is still shown, to help fix it.
  auto conf = internal::BuildConf({{"linger.ms", "soon"}});
  ASSERT_FALSE(conf.ok());
  EXPECT_TRUE(absl::StrContains(conf.status().message(), "soon"))
      << conf.status();
}

}  // namespace
}  // namespace brook
