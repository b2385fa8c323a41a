// The librdkafka configurations of a stream thread's clients: the main
// consumer, the producer, the restore consumer and the repartition purger's
// admin client. Brook's settings come first; the user's
// StreamsConfig::*_config entries override them key by key.
#ifndef BROOK_RUNTIME_INTERNAL_THREAD_CLIENT_CONFIGS_H_
#define BROOK_RUNTIME_INTERNAL_THREAD_CLIENT_CONFIGS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"

#include "brook/kafka/client_config.h"
#include "brook/runtime/streams_config.h"

namespace brook::internal {

// max.message.bytes of the topics sinks write to, as described at start.
using TopicMaxMessageBytes = absl::flat_hash_map<std::string, int64_t>;

// A client.id unique per process and thread, and short (librdkafka #4689,
// #4800).
std::string ThreadClientId(const StreamsConfig& config,
                           const std::string& process_id, int index);

ClientConfig MainConsumerConfig(const StreamsConfig& config,
                                const std::string& client_id, int index);

// `transactional_id` is used under exactly-once only.
ClientConfig ThreadProducerConfig(const StreamsConfig& config,
                                  const std::string& client_id,
                                  const std::string& transactional_id);

// Reads changelogs outside the group, read_committed.
ClientConfig RestoreConsumerConfig(const StreamsConfig& config,
                                   const std::string& client_id);

ClientConfig PurgerAdminConfig(const StreamsConfig& config,
                               const std::string& client_id);

// The largest record sinks may send to a topic: the producer's
// message.max.bytes (librdkafka refuses larger ones at produce time), and
// the topic's max.message.bytes where it is known (the broker refuses
// larger batches at delivery, which poisons the transaction).
std::function<std::optional<int64_t>(const std::string&)> MaxRecordBytes(
    const ClientConfig& producer_config,
    std::shared_ptr<const TopicMaxMessageBytes> topics);

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_THREAD_CLIENT_CONFIGS_H_
