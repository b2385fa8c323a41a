// ClientConfig: librdkafka properties passed through to a client, by their
// librdkafka names ("bootstrap.servers", "transaction.timeout.ms", ...).
// See librdkafka's CONFIGURATION.md for the keys. An unknown key or a bad
// value makes the client's Create() fail with an error naming the key.
#ifndef BROOK_KAFKA_CLIENT_CONFIG_H_
#define BROOK_KAFKA_CLIENT_CONFIG_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace brook {

using ClientConfig = std::map<std::string, std::string>;

// Whether `key`'s value is a secret that no log line, dump or error message
// may show: keys containing (case-insensitive) "password", "secret",
// "token", "ssl.key" or "sasl.jaas.config".
bool IsSecretConfigKey(absl::string_view key);

// `value`, or "[hidden]" if IsSecretConfigKey(key).
std::string RedactedConfigValue(absl::string_view key, absl::string_view value);

// "key=value, key=value" in key order, secret values as "[hidden]": the one
// way to print a config.
std::string RedactedConfigString(const ClientConfig& config);

}  // namespace brook

#endif  // BROOK_KAFKA_CLIENT_CONFIG_H_
