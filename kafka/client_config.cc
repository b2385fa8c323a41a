#include "brook/kafka/client_config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace brook {

bool IsSecretConfigKey(absl::string_view key) {
  const std::string lower = absl::AsciiStrToLower(key);
  for (absl::string_view secret :
       {"password", "secret", "token", "ssl.key", "sasl.jaas.config"}) {
    if (absl::StrContains(lower, secret)) return true;
  }
  return false;
}

std::string RedactedConfigValue(absl::string_view key,
                                absl::string_view value) {
  return IsSecretConfigKey(key) ? "[hidden]" : std::string(value);
}

std::string RedactedConfigString(const ClientConfig& config) {
  std::string out;
  for (const auto& [key, value] : config) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", key, "=",
                    RedactedConfigValue(key, value));
  }
  return out;
}

}  // namespace brook
