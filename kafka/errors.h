// How Kafka errors travel through Brook.
//
// Every librdkafka error is converted where it arises into an absl::Status
// whose code says what the caller should do, and whose payload records the
// transaction error class librdkafka gave it:
//
//   class        code            what the caller does
//   kRetriable   kUnavailable    call the same function again, same arguments
//   kAbortable   kAborted        abort the transaction, rewind to the last
//                                committed offsets, drop uncommitted state
//   kFatal       kAborted        the producer (or membership) is gone for
//                                good: close tasks dirty, recreate the
//                                producer, rejoin. Fencing lands here.
//
// Other codes keep their Abseil meaning (kNotFound: a topic does not exist,
// kInvalidArgument: a bad config key or value, kDeadlineExceeded: a bounded
// wait ran out). Callers test with the predicates below, never by matching
// message text.
#ifndef BROOK_KAFKA_ERRORS_H_
#define BROOK_KAFKA_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace brook {

enum class KafkaErrorClass {
  kNone,  // not a Kafka transaction error
  kRetriable,
  kAbortable,
  kFatal,
};

KafkaErrorClass GetKafkaErrorClass(const absl::Status& status);

// Builds a status of the given class. The message should name what failed
// (the call, the topic, the transactional.id).
absl::Status KafkaError(KafkaErrorClass error_class, absl::string_view message);

inline bool IsRetriable(const absl::Status& s) {
  return GetKafkaErrorClass(s) == KafkaErrorClass::kRetriable;
}
inline bool IsTransactionAbortable(const absl::Status& s) {
  return GetKafkaErrorClass(s) == KafkaErrorClass::kAbortable;
}
// True for fatal producer errors, fencing included, and for the consumer's
// fatal errors (a duplicate group.instance.id).
inline bool IsFatal(const absl::Status& s) {
  return GetKafkaErrorClass(s) == KafkaErrorClass::kFatal;
}

// Kafka's name of the error code behind `status` ("ILLEGAL_GENERATION"), or
// "" if it carries none.
std::string KafkaErrorCode(const absl::Status& status);

// Attaches Kafka's error code name to a status (done where librdkafka errors
// are converted).
absl::Status WithKafkaErrorCode(absl::Status status, absl::string_view code);

// True if the error says this consumer is no longer the group member that
// owns its partitions (stale generation, unknown member, fenced static
// member): its tasks have moved. The runtime aborts, drops its tasks
// without committing and rejoins the group.
bool IsGroupMembershipLost(const absl::Status& status);

}  // namespace brook

#endif  // BROOK_KAFKA_ERRORS_H_
