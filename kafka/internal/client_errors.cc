#include "brook/kafka/internal/client_errors.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace brook::internal {
namespace {

struct Registry {
  absl::Mutex mu;
  absl::flat_hash_map<rd_kafka_t*, std::string> auth_errors ABSL_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

void OnError(rd_kafka_t* rk, int err, const char* reason, void* /*opaque*/) {
  if (err != RD_KAFKA_RESP_ERR__AUTHENTICATION &&
      err != RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED) {
    return;  // others are logged by librdkafka and surface through calls
  }
  Registry& r = GetRegistry();
  absl::MutexLock lock(&r.mu);
  r.auth_errors[rk] = reason == nullptr ? "" : reason;
}

}  // namespace

void InstallErrorCallback(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_error_cb(conf, OnError);
}

std::optional<std::string> LastAuthenticationError(rd_kafka_t* rk) {
  Registry& r = GetRegistry();
  absl::MutexLock lock(&r.mu);
  auto it = r.auth_errors.find(rk);
  if (it == r.auth_errors.end()) return std::nullopt;
  return it->second;
}

void ForgetClient(rd_kafka_t* rk) {
  Registry& r = GetRegistry();
  absl::MutexLock lock(&r.mu);
  r.auth_errors.erase(rk);
}

absl::Status ExplainWithAuthenticationError(rd_kafka_t* rk, absl::Status s) {
  if (s.ok()) return s;
  // librdkafka queues the error callback for the next rd_kafka_poll(). A
  // producer-type handle (a producer, or an admin client) serves it here;
  // a consumer's queue holds messages too and is served by its own poll.
  if (rd_kafka_type(rk) == RD_KAFKA_PRODUCER) rd_kafka_poll(rk, 0);
  std::optional<std::string> auth = LastAuthenticationError(rk);
  if (!auth.has_value()) return s;
  return absl::UnauthenticatedError(absl::StrCat(
      "authentication with the cluster failed: ", *auth,
      " (while: ", s.message(),
      "); check security.protocol, sasl.mechanism, sasl.username and "
      "sasl.password (or the ssl.* settings)"));
}

}  // namespace brook::internal
