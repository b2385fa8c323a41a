// Authentication failures, per librdkafka client. librdkafka reports a
// failed SASL or TLS handshake only through its error callback and keeps
// retrying, so the calls waiting on the cluster end in a timeout that says
// nothing of the cause. Every client Brook makes installs the callback
// below (BuildConf); a call that fails for want of the cluster asks
// ExplainWithAuthenticationError() to name the real cause.
//
// Threading model: thread-safe (a process-wide map under a mutex; the
// callback runs on librdkafka's threads).
#ifndef BROOK_KAFKA_INTERNAL_CLIENT_ERRORS_H_
#define BROOK_KAFKA_INTERNAL_CLIENT_ERRORS_H_

#include <librdkafka/rdkafka.h>

#include <optional>
#include <string>

#include "absl/status/status.h"

namespace brook::internal {

// Makes `conf`'s clients record their authentication failures.
void InstallErrorCallback(rd_kafka_conf_t* conf);

// The last authentication failure librdkafka reported for `rk`.
std::optional<std::string> LastAuthenticationError(rd_kafka_t* rk);

// Drops what was recorded for `rk` (its handle is being destroyed).
void ForgetClient(rd_kafka_t* rk);

// `s` if it is OK or `rk` saw no authentication failure; else
// kUnauthenticated naming the failure, what `s` said, and the settings to
// check. Serves a producer-type handle's pending callbacks first (REQUIRES:
// called on the thread that polls that client). Never includes a
// credential: librdkafka's reasons name the mechanism, not the password.
absl::Status ExplainWithAuthenticationError(rd_kafka_t* rk, absl::Status s);

}  // namespace brook::internal

#endif  // BROOK_KAFKA_INTERNAL_CLIENT_ERRORS_H_
