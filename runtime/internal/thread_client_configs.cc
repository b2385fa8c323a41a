#include "brook/runtime/internal/thread_client_configs.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace brook::internal {
namespace {

void Override(const ClientConfig& user, ClientConfig* config) {
  for (const auto& [k, v] : user) (*config)[k] = v;
}

}  // namespace

std::string ThreadClientId(const StreamsConfig& config,
                           const std::string& process_id, int index) {
  return absl::StrCat(config.application_id, "-", process_id.substr(0, 8), "-t",
                      index);
}

ClientConfig MainConsumerConfig(const StreamsConfig& config,
                                const std::string& client_id, int index) {
  const bool eos =
      config.processing_guarantee == ProcessingGuarantee::kExactlyOnceV2;
  ClientConfig consumer = {
      {"bootstrap.servers", config.bootstrap_servers},
      {"group.id", config.application_id},
      {"client.id", client_id},
      {"isolation.level", eos ? "read_committed" : "read_uncommitted"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      // The broker holds a fetch up to this long when it has little data;
      // a partition resumed meanwhile waits for it (librdkafka's default,
      // 500 ms, made pause/resume cycles stall the thread).
      {"fetch.wait.max.ms", "100"},
      {"socket.nagle.disable", "true"},
      {"max.poll.interval.ms",
       absl::StrCat(absl::ToInt64Milliseconds(config.max_poll_interval))},
      {"session.timeout.ms",
       absl::StrCat(absl::ToInt64Milliseconds(config.session_timeout))},
  };
  if (config.partition_queues) {
    // Once each partition has its own queue these limits apply per
    // partition: they are how a partition that is not read stops being
    // fetched (see StreamsConfig::partition_queues).
    consumer["queued.min.messages"] =
        absl::StrCat(config.partition_queue_max_records);
    consumer["queued.max.messages.kbytes"] =
        absl::StrCat((config.partition_queue_max_bytes + 1023) / 1024);
    // Smaller fetches per partition: a queue refills in smaller steps and
    // the process holds fewer fetch buffers (StreamsConfig::partition_queues
    // has the measurement).
    consumer["max.partition.fetch.bytes"] = "262144";
  }
  if (!config.group_instance_id.empty()) {
    consumer["group.instance.id"] =
        absl::StrCat(config.group_instance_id, "-", index);
  }
  Override(config.consumer_config, &consumer);
  return consumer;
}

ClientConfig ThreadProducerConfig(const StreamsConfig& config,
                                  const std::string& client_id,
                                  const std::string& transactional_id) {
  ClientConfig producer = {
      {"bootstrap.servers", config.bootstrap_servers},
      {"client.id", client_id},
      {"socket.nagle.disable", "true"},
      {"linger.ms", "5"},
      // Java's default partitioner: keys land where Kafka Streams puts them.
      {"partitioner", "murmur2_random"},
      // Under at-least-once too, as Kafka Streams' Java producer (idempotent
      // by default since Kafka 3.0). Without it librdkafka 2.0.2 keeps up
      // to 1,000,000 produce requests in flight per broker and may reorder
      // a partition's records when it retries one; with it, at most 5, in
      // order, and no duplicate from a retry. A fatal idempotence error
      // resets the producer as under exactly-once.
      {"enable.idempotence", "true"},
  };
  if (config.processing_guarantee == ProcessingGuarantee::kExactlyOnceV2) {
    producer["transactional.id"] = transactional_id;
    producer["transaction.timeout.ms"] =
        absl::StrCat(absl::ToInt64Milliseconds(config.transaction_timeout));
  }
  Override(config.producer_config, &producer);
  return producer;
}

ClientConfig RestoreConsumerConfig(const StreamsConfig& config,
                                   const std::string& client_id) {
  ClientConfig restore = {
      {"bootstrap.servers", config.bootstrap_servers},
      {"client.id", client_id + "-restore"},
      // Records of aborted transactions are never restored.
      {"isolation.level", "read_committed"},
      // An offset outside the log is corrupt state, never a silent jump.
      {"auto.offset.reset", "error"},
      {"enable.partition.eof", "false"},
      {"socket.nagle.disable", "true"},
      {"fetch.wait.max.ms", "100"},
      // librdkafka 2.0.2 stops fetching a partition whose prefetch queue
      // holds queued.min.messages records or queued.max.messages.kbytes, and
      // then backs off for about a second (2.1 made that
      // fetch.queue.backoff.ms). A restore drains faster than that: with
      // the defaults (100,000 records) a full restore of 1M small records
      // ran ~85% idle. The queue must hold about a second of restore, so
      // the restore consumer may buffer up to this much while it restores.
      {"queued.min.messages", "1000000"},
      {"queued.max.messages.kbytes", "131072"},
      // One fetch in flight per broker: with librdkafka's 1 MiB per
      // partition, a large changelog takes one round trip per MiB.
      {"max.partition.fetch.bytes", "16777216"},
      {"fetch.max.bytes", "67108864"},
  };
  Override(config.restore_consumer_config, &restore);
  return restore;
}

ClientConfig PurgerAdminConfig(const StreamsConfig& config,
                               const std::string& client_id) {
  ClientConfig admin = {
      {"bootstrap.servers", config.bootstrap_servers},
      {"client.id", client_id + "-admin"},
  };
  Override(config.admin_config, &admin);
  return admin;
}

std::function<std::optional<int64_t>(const std::string&)> MaxRecordBytes(
    const ClientConfig& producer_config,
    std::shared_ptr<const TopicMaxMessageBytes> topics) {
  int64_t producer_max = 1000000;  // librdkafka's default
  if (auto it = producer_config.find("message.max.bytes");
      it != producer_config.end()) {
    if (!absl::SimpleAtoi(it->second, &producer_max)) producer_max = 1000000;
  }
  return [producer_max, topics = std::move(topics)](
             const std::string& topic) -> std::optional<int64_t> {
    if (topics != nullptr) {
      if (auto it = topics->find(topic); it != topics->end()) {
        return std::min(producer_max, it->second);
      }
    }
    return producer_max;
  };
}

}  // namespace brook::internal
