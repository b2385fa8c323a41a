#include "brook/runtime/topology_test_driver.h"

#include <atomic>
#include <filesystem>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/status_macros.h"
#include "brook/runtime/internal/stream_task.h"
#include "brook/runtime/internal/task_context.h"
#include "brook/runtime/internal/topology_plan.h"
#include "unistd.h"

namespace brook {
namespace {

// Stands for a node when asking a task for a store on its behalf.
class NodeName final : public internal::ProcessorNode {
 public:
  using ProcessorNode::ProcessorNode;
  absl::Status ProcessErased(const void*) override {
    return absl::InternalError("NodeName only names a node");
  }
};

}  // namespace

// Appends what the tasks send to the driver's topics.
class TopologyTestDriver::Collector final : public internal::RecordCollector {
 public:
  explicit Collector(TopologyTestDriver* driver) : driver_(driver) {}
  absl::Status Send(const ProducerRecord& record) override {
    return driver_->Deliver(record);
  }
  absl::Status CheckTopicExists(const std::string& topic) override {
    for (const std::string& missing : driver_->options_.missing_topics) {
      if (missing == topic) {
        return absl::NotFoundError(
            absl::StrCat("output topic '", topic, "' does not exist"));
      }
    }
    return absl::OkStatus();
  }

 private:
  TopologyTestDriver* const driver_;
};

absl::StatusOr<std::unique_ptr<TopologyTestDriver>> TopologyTestDriver::Create(
    const Topology& topology, TopologyTestDriverOptions options) {
  BROOK_RETURN_IF_ERROR(topology.Validate());
  BROOK_ASSIGN_OR_RETURN(
      std::shared_ptr<const internal::TopologyPlan> plan,
      internal::TopologyPlan::Build(topology, options.application_id));
  if (plan->has_patterns()) {
    return absl::UnimplementedError(
        "TopologyTestDriver does not run sources that read topic patterns");
  }
  bool owns_dir = false;
  if (options.state_dir.empty()) {
    static std::atomic<int> counter{0};
    options.state_dir =
        (std::filesystem::temp_directory_path() /
         absl::StrCat("brook-test-driver-", getpid(), "-", counter++))
            .string();
    owns_dir = true;
  }
  std::error_code error;
  std::filesystem::create_directories(options.state_dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create state directory ", options.state_dir, ": ",
                     error.message()));
  }
  BROOK_ASSIGN_OR_RETURN(std::shared_ptr<RocksDBResources> rocksdb,
                         RocksDBResources::Create(options.rocksdb));
  std::unique_ptr<TopologyTestDriver> driver(
      new TopologyTestDriver(plan, std::move(options), owns_dir));
  internal::TaskOptions task_options{
      .application_id = driver->options_.application_id,
      .state_directory = driver->options_.state_dir,
      .store_context = StoreContext{rocksdb},
      .default_timestamp_extractor =
          driver->options_.default_timestamp_extractor,
      .clock_ms = [d = driver.get()] { return d->wall_clock_ms_; },
      .cache_max_bytes = driver->options_.cache_max_bytes,
      .error_policies = driver->options_.error_policies,
      .max_record_bytes = [d = driver.get()](const std::string& topic)
          -> std::optional<int64_t> {
        auto it = d->options_.max_message_bytes.find(topic);
        if (it == d->options_.max_message_bytes.end()) return std::nullopt;
        return it->second;
      }};
  for (const internal::SubTopologyPlan& sub : plan->subtopologies()) {
    std::vector<TopicPartition> partitions;
    for (const std::string& t : sub.source_topics) partitions.push_back({t, 0});
    auto task = std::make_unique<internal::StreamTask>(
        TaskId{sub.id, 0}, plan, std::move(partitions), task_options,
        driver->collector_.get());
    BROOK_RETURN_IF_ERROR(task->Initialize());
    driver->tasks_.push_back(std::move(task));
  }
  return driver;
}

TopologyTestDriver::TopologyTestDriver(
    std::shared_ptr<const internal::TopologyPlan> plan,
    TopologyTestDriverOptions options, bool owns_dir)
    : plan_(std::move(plan)),
      options_(std::move(options)),
      owns_dir_(owns_dir),
      wall_clock_ms_(options_.initial_wall_clock_ms),
      collector_(std::make_unique<Collector>(this)) {}

int64_t TopologyTestDriver::DroppedRecords(DroppedRecordReason reason) const {
  int64_t n = 0;
  for (const auto& task : tasks_) {
    n += task->dropped_records()[static_cast<int>(reason)];
  }
  return n;
}

TopologyTestDriver::~TopologyTestDriver() {
  for (auto& task : tasks_) task->Close(internal::CloseMode::kClean);
  tasks_.clear();
  if (owns_dir_) {
    std::error_code ignored;
    std::filesystem::remove_all(options_.state_dir, ignored);
  }
}

absl::Status TopologyTestDriver::Deliver(const ProducerRecord& record) {
  std::vector<ProducerRecord>& log = topics_[record.topic];
  const int64_t offset = static_cast<int64_t>(log.size());
  log.push_back(record);
  log.back().partition = 0;
  end_offsets_[record.topic] = offset;
  std::optional<internal::TopologyPlan::Route> route =
      plan_->RouteFor(record.topic);
  if (!route) return absl::OkStatus();
  for (auto& task : tasks_) {
    if (task->id().subtopology != route->subtopology) continue;
    return task->AddRecord(ConsumerRecord{
        .topic = record.topic,
        .partition = 0,
        .offset = offset,
        .timestamp_ms = record.timestamp_ms,
        .key = record.key,
        .value = record.value,
        .headers = record.headers,
    });
  }
  return absl::InternalError(
      absl::StrCat("no task of sub-topology ", route->subtopology, " exists"));
}

absl::Status TopologyTestDriver::PipeInput(const std::string& topic,
                                           std::optional<std::string> key,
                                           std::optional<std::string> value,
                                           int64_t timestamp_ms) {
  if (!plan_->RouteFor(topic)) {
    return absl::NotFoundError(
        absl::StrCat("no source of the topology reads topic '", topic, "'"));
  }
  BROOK_RETURN_IF_ERROR(Deliver(ProducerRecord{.topic = topic,
                                               .key = std::move(key),
                                               .value = std::move(value),
                                               .timestamp_ms = timestamp_ms}));
  return Drain();
}

absl::Status TopologyTestDriver::ProcessAll() {
  for (bool busy = true; busy;) {
    busy = false;
    bool progressed = false;
    for (auto& task : tasks_) {
      // Completed background work (MapValuesAsync) is forwarded as the
      // stream thread would, between records.
      BROOK_RETURN_IF_ERROR(task->PollBackgroundWork());
      if (task->buffered() == 0) continue;
      busy = true;
      BROOK_ASSIGN_OR_RETURN(int64_t n, task->Process(1000));
      progressed = progressed || n > 0;
    }
    // Every task with input is full of background work: wait for a worker.
    if (busy && !progressed) absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

absl::Status TopologyTestDriver::Drain() {
  BROOK_RETURN_IF_ERROR(ProcessAll());
  if (!options_.commit_after_each_input) return absl::OkStatus();
  return Commit();
}

absl::Status TopologyTestDriver::Commit() {
  BROOK_RETURN_IF_ERROR(ProcessAll());
  // Commit hooks first; what they forward to repartition topics is processed
  // in the same commit here (the runtime would process it in the next one),
  // so that a commit leaves no record behind in any task's cache.
  for (bool busy = true; busy;) {
    for (auto& task : tasks_) BROOK_RETURN_IF_ERROR(task->PrepareCommit());
    busy = false;
    for (auto& task : tasks_) busy = busy || task->buffered() > 0;
    BROOK_RETURN_IF_ERROR(ProcessAll());
  }
  // Then as after a Kafka transaction: stores write their changes with the
  // changelog offsets they reached.
  absl::flat_hash_map<TopicPartition, int64_t> delivered;
  for (const auto& [topic, offset] : end_offsets_) {
    delivered[TopicPartition{topic, 0}] = offset;
  }
  for (auto& task : tasks_) {
    BROOK_RETURN_IF_ERROR(task->CommitStores(delivered));
    task->MarkCommitted();
  }
  return absl::OkStatus();
}

std::vector<ProducerRecord> TopologyTestDriver::ReadOutput(
    const std::string& topic) {
  std::vector<ProducerRecord> out;
  auto it = topics_.find(topic);
  if (it == topics_.end()) return out;
  size_t& read = read_[topic];
  out.assign(it->second.begin() + static_cast<ptrdiff_t>(read),
             it->second.end());
  read = it->second.size();
  return out;
}

absl::Status TopologyTestDriver::AdvanceWallClockTime(absl::Duration by) {
  wall_clock_ms_ += absl::ToInt64Milliseconds(by);
  for (auto& task : tasks_) {
    BROOK_RETURN_IF_ERROR(task->PunctuateWallClock());
  }
  return Drain();
}

StateStore* TopologyTestDriver::GetStateStore(const std::string& name) {
  for (const internal::SubTopologyPlan& sub : plan_->subtopologies()) {
    for (const std::string& s : sub.stores) {
      if (s != name) continue;
      for (auto& task : tasks_) {
        if (task->id().subtopology != sub.id) continue;
        // Any node connected to the store may ask for it.
        for (int n : sub.nodes) {
          const internal::NodeSpec& spec = plan_->nodes()[n];
          if (!plan_->IsConnected(spec.name, name)) continue;
          NodeName probe(spec.name);
          absl::StatusOr<StateStore*> store = task->GetStateStore(probe, name);
          return store.ok() ? *store : nullptr;
        }
      }
    }
  }
  return nullptr;
}

}  // namespace brook
