// TopologyTestDriver: runs a Topology in process, with no broker and
// deterministically, for unit tests of applications (Kafka Streams'
// TopologyTestDriver). It runs the real task code (StreamTask, its record
// queues, processor nodes, stores and changelog logging): only Kafka is
// replaced, by an in-memory log per topic.
//
//   TopologyTestDriver::Create(topology) -> driver
//   driver->PipeInput<std::string, std::string>("lines", "k", "a b a", 1000,
//                                               Serdes::String(),
//                                               Serdes::String());
//   driver->ReadOutput<std::string, int64_t>("counts", Serdes::String(),
//                                            Serdes::Int64());
//
// Model: every topic has one partition, so each sub-topology is one task
// (partition 0). PipeInput() processes the record and, before it returns,
// every record it causes on topics the topology reads (repartition topics),
// then commits as the runtime does: processors' commit hooks run first (a
// record cache writes out and forwards what it held back, and what that
// causes is processed too), then stores write their changes durably, as
// after a Kafka transaction. With `commit_after_each_input` false only
// Commit() commits, which shows what a commit interval holding several
// records does. Internal topics have their full names
// ("<application_id>-<name>"). Wall-clock time starts at
// `initial_wall_clock_ms` and moves only with AdvanceWallClockTime().
// Not modelled: several partitions, rebalances, aborts, restore from a
// changelog, topic patterns.
//
// Threading model: one test thread.
#ifndef BROOK_RUNTIME_TOPOLOGY_TEST_DRIVER_H_
#define BROOK_RUNTIME_TOPOLOGY_TEST_DRIVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "brook/kafka/producer_record.h"
#include "brook/runtime/dropped_records.h"
#include "brook/runtime/error_handlers.h"
#include "brook/runtime/record.h"
#include "brook/runtime/serde.h"
#include "brook/runtime/timestamp_extractor.h"
#include "brook/runtime/topology.h"
#include "brook/state/bytes_stores.h"
#include "brook/state/state_store.h"

namespace brook {

namespace internal {
class StreamTask;
class TopologyPlan;
}  // namespace internal

struct TopologyTestDriverOptions {
  // Prefix of internal and changelog topics, as application.id is.
  std::string application_id = "test-driver";
  // Where task stores live; empty: a fresh temporary directory that the
  // driver deletes when destroyed.
  std::string state_dir;
  RocksDBConfig rocksdb;
  // Used for sources that set none (as StreamsConfig's).
  TimestampExtractor default_timestamp_extractor = RecordTimestampExtractor();
  int64_t initial_wall_clock_ms = 0;
  // Topics that do not exist: a sink that chooses its topic per record gets
  // kNotFound for them, as from a cluster without the topic. Every other
  // topic exists.
  std::vector<std::string> missing_topics;
  // statestore.cache.max.bytes (StreamsConfig) for the tasks' processors;
  // 0 (the default, as in StreamsConfig): no record caches.
  int64_t cache_max_bytes = 0;
  // Commit after each PipeInput() and AdvanceWallClockTime(), as Kafka
  // Streams' driver does. false: only Commit() commits.
  bool commit_after_each_input = true;
  // What tasks do with records that fail deserialization, processing or
  // production (as StreamsConfig's); dead-lettered records appear on the
  // dead-letter topic's output.
  RecordErrorPolicies error_policies;
  // max.message.bytes per topic: an output larger than this is a
  // production error. Topics not listed have no limit.
  std::map<std::string, int64_t> max_message_bytes;
};

class TopologyTestDriver {
 public:
  // Plans `topology` and creates and initializes its tasks. Errors: an
  // invalid topology, a source reading a topic pattern, a store that cannot
  // open.
  static absl::StatusOr<std::unique_ptr<TopologyTestDriver>> Create(
      const Topology& topology, TopologyTestDriverOptions options = {});
  ~TopologyTestDriver();

  // Writes a record to `topic` and processes it as described above. Errors:
  // kNotFound if no source reads `topic`; else what processing returned.
  absl::Status PipeInput(const std::string& topic,
                         std::optional<std::string> key,
                         std::optional<std::string> value,
                         int64_t timestamp_ms);

  template <typename K, typename V>
  absl::Status PipeInput(const std::string& topic, const std::optional<K>& key,
                         const std::optional<V>& value, int64_t timestamp_ms,
                         const SerdePtr<K>& key_serde,
                         const SerdePtr<V>& value_serde) {
    std::optional<std::string> k, v;
    if (key.has_value()) k = key_serde->Serialize(topic, *key);
    if (value.has_value()) v = value_serde->Serialize(topic, *value);
    return PipeInput(topic, std::move(k), std::move(v), timestamp_ms);
  }

  // The records written to `topic` since the last ReadOutput() of it, in
  // order. Includes changelog and repartition topics.
  std::vector<ProducerRecord> ReadOutput(const std::string& topic);

  // The same, deserialized. kInvalidArgument if a serde fails.
  template <typename K, typename V>
  absl::StatusOr<std::vector<Record<K, V>>> ReadOutput(
      const std::string& topic, const SerdePtr<K>& key_serde,
      const SerdePtr<V>& value_serde) {
    std::vector<Record<K, V>> out;
    for (ProducerRecord& r : ReadOutput(topic)) {
      Record<K, V> typed;
      typed.timestamp_ms = r.timestamp_ms;
      typed.headers = std::move(r.headers);
      if (r.key.has_value()) {
        absl::StatusOr<K> k = key_serde->Deserialize(topic, *r.key);
        if (!k.ok()) return k.status();
        typed.key = *std::move(k);
      }
      if (r.value.has_value()) {
        absl::StatusOr<V> v = value_serde->Deserialize(topic, *r.value);
        if (!v.ok()) return v.status();
        typed.value = *std::move(v);
      }
      out.push_back(std::move(typed));
    }
    return out;
  }

  // Commits as described above. Needed only with `commit_after_each_input`
  // false; otherwise every input already ends with a commit.
  absl::Status Commit();

  // Moves the wall clock forward and runs the wall-clock punctuators that
  // are due, then commits.
  absl::Status AdvanceWallClockTime(absl::Duration by);
  int64_t wall_clock_ms() const { return wall_clock_ms_; }

  // Records the topology's processors dropped for `reason`, over all tasks
  // (the metric dropped-records).
  int64_t DroppedRecords(DroppedRecordReason reason) const;

  // The store `name` (of the task that has it); nullptr if none has.
  StateStore* GetStateStore(const std::string& name);
  // Typed: nullptr also if the store is not an S (e.g.
  // KeyValueStore<std::string, int64_t>).
  template <typename S>
  S* GetStateStore(const std::string& name) {
    return dynamic_cast<S*>(GetStateStore(name));
  }

 private:
  class Collector;

  TopologyTestDriver(std::shared_ptr<const internal::TopologyPlan> plan,
                     TopologyTestDriverOptions options, bool owns_dir);
  absl::Status Deliver(const ProducerRecord& record);
  // Processes buffered records until none is left, then commits unless
  // `commit_after_each_input` is false.
  absl::Status Drain();
  absl::Status ProcessAll();

  const std::shared_ptr<const internal::TopologyPlan> plan_;
  const TopologyTestDriverOptions options_;
  const bool owns_dir_;
  int64_t wall_clock_ms_;
  std::unique_ptr<Collector> collector_;
  std::vector<std::unique_ptr<internal::StreamTask>> tasks_;
  // Every record written, by topic, and how many ReadOutput() has returned.
  std::map<std::string, std::vector<ProducerRecord>> topics_;
  std::map<std::string, size_t> read_;
  // Highest offset written per topic (partition 0), for store commits.
  std::map<std::string, int64_t> end_offsets_;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_TOPOLOGY_TEST_DRIVER_H_
