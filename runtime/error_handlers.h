// Bad-record policies: what a task does with an input record it cannot
// deserialize, an input record its processors fail on, and an output record
// that cannot be produced. Kafka Streams' deserialization, processing and
// production exception handlers, without exceptions: a handler is a plain
// callable that looks at the error and returns a decision.
//
//   StreamsConfig config;
//   config.error_policies.deserialization = DeadLetterHandler();
//   config.error_policies.processing = LogAndContinueHandler();
//   config.error_policies.dead_letter_queue_topic = "orders-dlq";
//
// Decisions:
//   kFail       the task fails (the default): the stream thread dies with a
//               status naming the task, topic, partition, offset and error;
//               the open transaction is aborted and nothing of the record
//               is committed. The uncaught-error handler decides the rest.
//   kContinue   the record is skipped and its offset still advances. The
//               skip counts in StreamThreadMetrics::dropped_records under
//               "deserialization-error", "processing-error" or
//               "production-error", and is logged at a rate limit.
//   kDeadLetter the input record's original bytes (key, value, timestamp,
//               headers) go to error_policies.dead_letter_queue_topic with
//               headers saying why (below), through the thread's producer,
//               so under exactly-once in the same transaction as the
//               record's offset: committed together or aborted together,
//               never lost and never doubled. Counted in
//               StreamThreadMetrics::dead_letter_records.
//
// A processing error is a non-OK status that a processor's Process()
// returns (directly or from a child it forwarded to). Partial effects of
// that record (records forwarded, store writes made before the error) are
// kept under kContinue and kDeadLetter, as in Kafka Streams. Errors from
// Kafka itself (fencing, an aborted transaction, a failed delivery) never
// reach a handler: they are handled by the commit protocol.
//
// A production error is an output record a sink cannot send: one larger
// than the topic's max.message.bytes (or the producer's message.max.bytes),
// checked before the record is sent, so that kContinue and kDeadLetter leave
// the transaction committable. For kDeadLetter the *input* record being
// processed goes to the dead-letter queue (the output is too large for
// Kafka); an output made by a punctuator has no input record, and
// kDeadLetter then fails the task. A record the broker rejects at delivery
// has already poisoned the transaction: no handler is asked; the
// transaction is aborted and the tasks reprocess from their last commit.
// Reprocessing makes the same record, which the broker rejects again
// (INVALID_TIMESTAMP, a broker-side size limit): once aborts have gone on
// with no commit in between for longer than task.timeout.ms, the thread
// fails with kAborted naming the last cause, instead of looping for ever.
//
// Dead-letter record headers (after the input record's own headers). The
// first six are Kafka Streams' (KIP-1034) names; the __brook ones are
// Brook's:
//   __streams.errors.exception   the error's absl::StatusCode name
//   __streams.errors.message     the error message
//   __streams.errors.topic       input topic
//   __streams.errors.partition   input partition, decimal
//   __streams.errors.offset      input offset, decimal
//   __brook.errors.kind          "deserialization-error", "processing-error"
//                                or "production-error"
//   __brook.errors.task          task id, e.g. "0_3"
//   __brook.errors.node          the source, processor path or sink involved
//                                (the source node for deserialization)
//
// Threading model: handlers are called on stream threads, several at once
// when num.stream.threads > 1; they must be thread-safe and must not block.
#ifndef BROOK_RUNTIME_ERROR_HANDLERS_H_
#define BROOK_RUNTIME_ERROR_HANDLERS_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "brook/kafka/consumer_record.h"
#include "brook/kafka/producer_record.h"
#include "brook/runtime/task_id.h"

namespace brook {

enum class ErrorHandlerResponse { kFail, kContinue, kDeadLetter };

enum class RecordErrorKind { kDeserialization, kProcessing, kProduction };

// "deserialization-error", "processing-error", "production-error": the
// metrics' reason label and the __brook.errors.kind header.
absl::string_view RecordErrorKindName(RecordErrorKind kind);

// What a handler is told. Pointers are valid only during the call.
struct RecordErrorContext {
  RecordErrorKind kind = RecordErrorKind::kProcessing;
  TaskId task_id;
  // The source node (deserialization), the sink (production), or the
  // source whose record was being processed (processing).
  std::string node;
  absl::Status error;
  // The input record as read from Kafka; nullptr for an output made by a
  // punctuator (production errors only).
  const ConsumerRecord* input = nullptr;
  // Production errors: the output record that could not be sent.
  const ProducerRecord* output = nullptr;
};

using RecordErrorHandler =
    std::function<ErrorHandlerResponse(const RecordErrorContext&)>;

// Built-in handlers. The task logs every failure and (at a rate limit)
// every skip or dead-lettered record itself, so these only decide.
RecordErrorHandler LogAndFailHandler();      // kFail: the default
RecordErrorHandler LogAndContinueHandler();  // kContinue
// kDeadLetter, to RecordErrorPolicies::dead_letter_queue_topic.
RecordErrorHandler DeadLetterHandler();

// Header names of dead-letter records (see above).
inline constexpr absl::string_view kDlqHeaderException =
    "__streams.errors.exception";
inline constexpr absl::string_view kDlqHeaderMessage =
    "__streams.errors.message";
inline constexpr absl::string_view kDlqHeaderTopic = "__streams.errors.topic";
inline constexpr absl::string_view kDlqHeaderPartition =
    "__streams.errors.partition";
inline constexpr absl::string_view kDlqHeaderOffset = "__streams.errors.offset";
inline constexpr absl::string_view kDlqHeaderKind = "__brook.errors.kind";
inline constexpr absl::string_view kDlqHeaderTask = "__brook.errors.task";
inline constexpr absl::string_view kDlqHeaderNode = "__brook.errors.node";

// The three handlers and the dead-letter topic, as StreamsConfig holds them
// (and TopologyTestDriverOptions).
struct RecordErrorPolicies {
  // deserialization.exception.handler: a source's key or value serde failed.
  RecordErrorHandler deserialization = LogAndFailHandler();
  // processing.exception.handler: a processor's Process() failed.
  RecordErrorHandler processing = LogAndFailHandler();
  // production.exception.handler: an output record is too large to send.
  RecordErrorHandler production = LogAndFailHandler();
  // errors.dead.letter.queue.topic.name (KIP-1034's key): where kDeadLetter
  // writes. KafkaStreams::Start() fails, naming it, if it is set and the
  // topic does not exist; a handler answering kDeadLetter while it is empty
  // fails the task. Brook does not create it.
  std::string dead_letter_queue_topic;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_ERROR_HANDLERS_H_
