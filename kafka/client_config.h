// ClientConfig: librdkafka properties passed through to a client, by their
// librdkafka names ("bootstrap.servers", "transaction.timeout.ms", ...).
// See librdkafka's CONFIGURATION.md for the keys. An unknown key or a bad
// value makes the client's Create() fail with an error naming the key.
#ifndef BROOK_KAFKA_CLIENT_CONFIG_H_
#define BROOK_KAFKA_CLIENT_CONFIG_H_

#include <map>
#include <string>

namespace brook {

using ClientConfig = std::map<std::string, std::string>;

}  // namespace brook

#endif  // BROOK_KAFKA_CLIENT_CONFIG_H_
