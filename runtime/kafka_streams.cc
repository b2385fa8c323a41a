#include "brook/runtime/kafka_streams.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/base/status_util.h"
#include "brook/runtime/internal/store_change_logger.h"
#include "brook/runtime/internal/stream_thread.h"
#include "brook/runtime/internal/streams_producer.h"
#include "brook/runtime/internal/topology_plan.h"

namespace brook {
namespace {

// The partition count of a topic another instance has just created (our
// CreateTopic said it exists): the metadata may not show it yet, so
// NotFound is retried for a while instead of failing the start.
absl::StatusOr<int32_t> PartitionCountOfNewTopic(Admin& admin,
                                                 const std::string& topic,
                                                 absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<int32_t> n = admin.PartitionCount(topic, timeout);
    if (!absl::IsNotFound(n.status()) || absl::Now() >= deadline) return n;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

// The partition count of a topic the application reads or writes, waiting
// out retriable errors within `timeout`: a topic created just before may
// have no leader yet (LEADER_NOT_AVAILABLE), which Kafka Streams' clients
// wait out too. A missing topic (NotFound) still fails at once.
absl::StatusOr<int32_t> PartitionCountWhenReady(Admin& admin,
                                                const std::string& topic,
                                                absl::Duration timeout) {
  absl::StatusOr<int32_t> n;
  internal::RetryWhileRetriable(timeout, [&] {
    n = admin.PartitionCount(topic, timeout);
    return n.status();
  }).IgnoreError();
  return n;
}

}  // namespace

using internal::StreamThread;

absl::string_view KafkaStreams::StateName(State s) {
  switch (s) {
    case State::kCreated:
      return "CREATED";
    case State::kRebalancing:
      return "REBALANCING";
    case State::kRunning:
      return "RUNNING";
    case State::kPendingShutdown:
      return "PENDING_SHUTDOWN";
    case State::kNotRunning:
      return "NOT_RUNNING";
    case State::kError:
      return "ERROR";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<KafkaStreams>> KafkaStreams::Create(
    const Topology& topology, const StreamsConfig& config) {
  return Create(topology, config, internal::KafkaClientFactory());
}

absl::StatusOr<std::unique_ptr<KafkaStreams>> KafkaStreams::Create(
    const Topology& topology, const StreamsConfig& given,
    internal::KafkaClientFactory factory) {
  BROOK_RETURN_IF_ERROR(given.Validate());
  const StreamsConfig config = given.ForClients();
  BROOK_RETURN_IF_ERROR(config.Validate());
  BROOK_RETURN_IF_ERROR(topology.Validate());
  BROOK_ASSIGN_OR_RETURN(
      std::shared_ptr<const internal::TopologyPlan> plan,
      internal::TopologyPlan::Build(topology, config.application_id));
  BROOK_ASSIGN_OR_RETURN(
      std::unique_ptr<StateDirectory> state_directory,
      StateDirectory::Open(config.state_dir, config.application_id));
  BROOK_ASSIGN_OR_RETURN(std::shared_ptr<RocksDBResources> rocksdb,
                         RocksDBResources::Create(config.rocksdb));
  return std::unique_ptr<KafkaStreams>(
      new KafkaStreams(std::move(plan), config, std::move(factory),
                       std::move(state_directory), std::move(rocksdb)));
}

KafkaStreams::KafkaStreams(std::shared_ptr<const internal::TopologyPlan> plan,
                           StreamsConfig config,
                           internal::KafkaClientFactory factory,
                           std::unique_ptr<StateDirectory> state_directory,
                           std::shared_ptr<RocksDBResources> rocksdb)
    : plan_(std::move(plan)),
      config_(std::move(config)),
      factory_(std::move(factory)),
      state_directory_(std::move(state_directory)),
      rocksdb_(std::move(rocksdb)) {}

KafkaStreams::~KafkaStreams() { Close().IgnoreError(); }  // Unbounded wait.

void KafkaStreams::SetStateListener(
    std::function<void(State, State)> listener) {
  absl::MutexLock lock(&mu_);
  listener_ = std::move(listener);
}

void KafkaStreams::SetUncaughtErrorHandler(
    std::function<StreamThreadErrorResponse(const absl::Status&)> handler) {
  absl::MutexLock lock(&mu_);
  error_handler_ = std::move(handler);
}

KafkaStreams::State KafkaStreams::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

absl::Status KafkaStreams::error() const {
  absl::MutexLock lock(&mu_);
  return error_;
}

std::string KafkaStreams::DescribeTopology() const { return plan_->Describe(); }

std::string KafkaStreams::DescribeTopologyMermaid() const {
  return plan_->ToMermaid();
}

std::string KafkaStreams::DescribeTopologyDot() const { return plan_->ToDot(); }

void KafkaStreams::SetState(State s) {
  if (state_ == s) return;
  const State old = state_;
  state_ = s;
  LOG(INFO) << "application " << config_.application_id << " " << StateName(old)
            << " -> " << StateName(s);
  // Listeners run outside mu_ (they may call state()); listener_mu_ keeps
  // their calls in order.
  std::function<void(State, State)> listener = listener_;
  if (listener) {
    mu_.Unlock();
    {
      absl::MutexLock l(&listener_mu_);
      listener(s, old);
    }
    mu_.Lock();
  }
}

absl::Status KafkaStreams::ValidateTopics() {
  ClientConfig admin_config = {
      {"bootstrap.servers", config_.bootstrap_servers}};
  for (const auto& [k, v] : config_.admin_config) admin_config[k] = v;
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin,
                         factory_.admin(admin_config));
  BROOK_RETURN_IF_ERROR(EnsureInternalTopics(*admin));
  const absl::Duration timeout = absl::Seconds(30);
  for (const internal::SubTopologyPlan& sub : plan_->subtopologies()) {
    std::vector<std::string> counts;
    int32_t first = -1;
    bool equal = true;
    for (const std::string& topic : sub.source_topics) {
      absl::StatusOr<int32_t> n =
          PartitionCountWhenReady(*admin, topic, timeout);
      if (!n.ok()) {
        return absl::Status(n.status().code(),
                            absl::StrCat("source topic of sub-topology ",
                                         sub.id, ": ", n.status().message()));
      }
      counts.push_back(absl::StrCat(topic, "=", *n));
      if (first >= 0 && *n != first) equal = false;
      first = *n;
    }
    if (!equal) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sub-topology ", sub.id,
          " reads topics with different partition "
          "counts (",
          absl::StrJoin(counts, ", "),
          "); co-partitioned topics must have equal partition counts"));
    }
    for (const std::string& topic : sub.sink_topics) {
      absl::StatusOr<int32_t> n =
          PartitionCountWhenReady(*admin, topic, timeout);
      if (!n.ok()) {
        return absl::Status(n.status().code(),
                            absl::StrCat("sink topic of sub-topology ", sub.id,
                                         ": ", n.status().message()));
      }
      absl::MutexLock lock(&lag_mu_);
      sink_partitions_[topic] = *n;
    }
  }
  BROOK_RETURN_IF_ERROR(DescribeSinkTopics(*admin));
  return EnsureChangelogTopics(*admin);
}

absl::Status KafkaStreams::DescribeSinkTopics(Admin& admin) {
  const absl::Duration timeout = absl::Seconds(30);
  const std::string& dlq = config_.error_policies.dead_letter_queue_topic;
  if (!dlq.empty()) {
    for (const internal::SubTopologyPlan& sub : plan_->subtopologies()) {
      for (const std::string& topic : sub.source_topics) {
        if (topic == dlq) {
          return absl::InvalidArgumentError(absl::StrCat(
              "errors.dead.letter.queue.topic.name: '", dlq,
              "' is also a source topic; dead-lettered records would be "
              "read again"));
        }
      }
    }
    absl::StatusOr<int32_t> n = PartitionCountWhenReady(admin, dlq, timeout);
    if (absl::IsNotFound(n.status())) {
      return absl::NotFoundError(absl::StrCat(
          "errors.dead.letter.queue.topic.name: the dead-letter topic '", dlq,
          "' does not exist; create it (Brook does not create it)"));
    }
    if (!n.ok()) {
      return Annotate(n.status(), "errors.dead.letter.queue.topic.name");
    }
  }
  // Each sink topic's max.message.bytes, described once, so that a record
  // too large for it is found before it is sent (a production error the
  // handler may skip) rather than at delivery, when it has already made
  // the transaction abortable.
  auto limits = std::make_shared<internal::TopicMaxMessageBytes>();
  for (const internal::SubTopologyPlan& sub : plan_->subtopologies()) {
    for (const std::string& topic : sub.sink_topics) {
      if (limits->contains(topic)) continue;
      absl::StatusOr<std::map<std::string, std::string>> configs;
      internal::RetryWhileRetriable(timeout, [&] {
        configs = admin.DescribeTopicConfigs(topic, timeout);
        return configs.status();
      }).IgnoreError();
      if (!configs.ok()) {
        return Annotate(configs.status(),
                        absl::StrCat("sink topic '", topic, "'"));
      }
      int64_t max_bytes = 0;
      auto it = configs->find("max.message.bytes");
      if (it != configs->end() && absl::SimpleAtoi(it->second, &max_bytes)) {
        (*limits)[topic] = max_bytes;
      }
    }
  }
  absl::MutexLock lock(&mu_);
  max_message_bytes_ = std::move(limits);
  return absl::OkStatus();
}

absl::Status KafkaStreams::EnsureInternalTopics(Admin& admin) {
  const absl::Duration timeout = absl::Seconds(30);
  const auto& internal_topics = plan_->internal_topics();
  // Partition counts: given, or the largest among the source topics of the
  // sub-topologies that write the topic. Those may read internal topics
  // themselves, so resolve in passes until nothing changes.
  std::map<std::string, int32_t> partitions;
  for (const auto& [topic, options] : internal_topics) {
    if (options.partitions > 0) partitions[topic] = options.partitions;
  }
  for (bool progress = true; progress;) {
    progress = false;
    for (const auto& [topic, options] : internal_topics) {
      if (partitions.contains(topic)) continue;
      int32_t most = 0;
      bool known = true;
      for (const internal::SubTopologyPlan& sub : plan_->subtopologies()) {
        if (std::find(sub.sink_topics.begin(), sub.sink_topics.end(), topic) ==
            sub.sink_topics.end()) {
          continue;
        }
        for (const std::string& source : sub.source_topics) {
          int32_t n = 0;
          if (internal_topics.contains(source)) {
            auto it = partitions.find(source);
            if (it == partitions.end()) {
              known = false;
              continue;
            }
            n = it->second;
          } else {
            BROOK_ASSIGN_OR_RETURN(n, admin.PartitionCount(source, timeout));
          }
          most = std::max(most, n);
        }
      }
      if (known && most > 0) {
        partitions[topic] = most;
        progress = true;
      }
    }
  }
  for (const auto& [topic, options] : internal_topics) {
    auto it = partitions.find(topic);
    if (it == partitions.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the partition count of internal topic '", topic,
          "' is unknown: no sub-topology that reads named topics writes it; "
          "set InternalTopicOptions::partitions"));
    }
    absl::StatusOr<int32_t> existing = admin.PartitionCount(topic, timeout);
    if (absl::IsNotFound(existing.status())) {
      // A repartition topic (one the topology reads) is purged up to the
      // committed offsets, so it needs no time-based retention; short
      // segments let the broker free what was purged. Kafka Streams' values;
      // the topology's configs win.
      std::map<std::string, std::string> configs;
      if (plan_->RouteFor(topic).has_value()) {
        configs = {{"cleanup.policy", "delete"},
                   {"retention.ms", "-1"},
                   {"segment.bytes", "52428800"},
                   {"segment.ms", "600000"}};
      }
      for (const auto& [k, v] : options.configs) configs[k] = v;
      absl::Status created = admin.CreateTopic(
          NewTopic{topic, it->second, config_.replication_factor, configs},
          timeout);
      if (created.ok()) {
        LOG(INFO) << "created internal topic " << topic << " (" << it->second
                  << " partitions)";
        continue;
      }
      if (!absl::IsAlreadyExists(created)) return created;
      existing = PartitionCountOfNewTopic(admin, topic, timeout);
    }
    if (!existing.ok()) return existing.status();
    if (*existing != it->second) {
      return absl::FailedPreconditionError(
          absl::StrCat("internal topic '", topic, "' has ", *existing,
                       " partitions but the topology needs ", it->second));
    }
  }
  return absl::OkStatus();
}

absl::Status KafkaStreams::EnsureChangelogTopics(Admin& admin) {
  const absl::Duration timeout = absl::Seconds(30);
  for (const internal::SubTopologyPlan& sub : plan_->subtopologies()) {
    std::vector<const StoreBuilder*> logged;
    for (const std::string& store : sub.stores) {
      const StoreBuilder* b = plan_->stores().at(store).get();
      if (b->logging_enabled()) logged.push_back(b);
    }
    if (logged.empty()) continue;
    if (sub.source_topics.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sub-topology ", sub.id,
          " reads only topic patterns, so the partition "
          "count of the changelog of state store '",
          logged[0]->name(),
          "' is unknown; read named topics, or disable the store's logging"));
    }
    BROOK_ASSIGN_OR_RETURN(int32_t partitions,
                           admin.PartitionCount(sub.source_topics[0], timeout));
    for (const StoreBuilder* b : logged) {
      const std::string topic =
          internal::ChangelogTopic(config_.application_id, b->name());
      absl::StatusOr<int32_t> existing = admin.PartitionCount(topic, timeout);
      if (absl::IsNotFound(existing.status())) {
        NewTopic t{topic, partitions, config_.replication_factor,
                   b->changelog_config()};
        absl::Status created = admin.CreateTopic(t, timeout);
        if (created.ok()) {
          LOG(INFO) << "created changelog topic " << topic << " (" << partitions
                    << " partitions)";
          continue;
        }
        if (!absl::IsAlreadyExists(created)) return created;
        existing = PartitionCountOfNewTopic(admin, topic, timeout);
      }
      if (!existing.ok()) return existing.status();
      if (*existing != partitions) {
        return absl::FailedPreconditionError(absl::StrCat(
            "changelog topic '", topic, "' has ", *existing,
            " partitions but state store '", b->name(), "' needs ", partitions,
            " (one per partition of its sub-topology's input)"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StreamThread>> KafkaStreams::MakeThread(
    int index) {
  StreamThread::Callbacks callbacks;
  callbacks.on_state_change = [this](int i, StreamThread::State) {
    OnThreadStateChange(i);
  };
  callbacks.on_error = [this](int i, const absl::Status& error) {
    OnThreadError(i, error);
  };
  return StreamThread::Create(
      plan_, config_, index, process_id(), state_directory_->path(), factory_,
      std::move(callbacks), state_directory_.get(), StoreContext{rocksdb_},
      buffered_bytes_, max_message_bytes_);
}

absl::Status KafkaStreams::Start() {
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kCreated) {
      return absl::FailedPreconditionError(
          absl::StrCat("Start() needs state CREATED, the application is ",
                       StateName(state_)));
    }
  }
  BROOK_RETURN_IF_ERROR(ValidateTopics());
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < config_.num_stream_threads; ++i) {
    BROOK_ASSIGN_OR_RETURN(std::unique_ptr<StreamThread> thread, MakeThread(i));
    threads_.push_back(std::move(thread));
  }
  SetState(State::kRebalancing);
  for (auto& thread : threads_) thread->Start();
  watchdog_ = std::thread([this] { WatchPolls(); });
  return absl::OkStatus();
}

void KafkaStreams::OnThreadStateChange(int index) {
  absl::MutexLock lock(&mu_);
  if (state_ != State::kRebalancing && state_ != State::kRunning) return;
  bool all_running = !threads_.empty();
  for (const auto& thread : threads_) {
    if (thread->state() != StreamThread::State::kRunning) all_running = false;
  }
  SetState(all_running ? State::kRunning : State::kRebalancing);
}

void KafkaStreams::OnThreadError(int index, const absl::Status& error) {
  std::function<StreamThreadErrorResponse(const absl::Status&)> handler;
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kRebalancing && state_ != State::kRunning) return;
    handler = error_handler_;
  }
  StreamThreadErrorResponse response =
      handler ? handler(error) : StreamThreadErrorResponse::kShutdownClient;
  absl::MutexLock lock(&mu_);
  if (state_ != State::kRebalancing && state_ != State::kRunning) return;
  if (response == StreamThreadErrorResponse::kReplaceThread) {
    absl::StatusOr<std::unique_ptr<StreamThread>> replacement =
        MakeThread(index);
    if (replacement.ok()) {
      LOG(WARNING) << "replacing stream thread " << index
                   << " after: " << error;
      replaced_.push_back(std::move(threads_[index]));
      threads_[index] = *std::move(replacement);
      threads_[index]->Start();
      return;
    }
    LOG(ERROR) << "cannot replace stream thread " << index << ": "
               << replacement.status();
  }
  error_ = error;
  for (auto& thread : threads_) thread->RequestShutdown();
  SetState(State::kError);
}

void KafkaStreams::WatchPolls() {
  // A thread that stops polling for max.poll.interval.ms is removed from
  // the group; warn at half of it, once per stall.
  const absl::Duration warn_after = config_.max_poll_interval / 2;
  std::vector<bool> warned(config_.num_stream_threads, false);
  // As in Kafka Streams, the cleaner runs every state.cleanup.delay.ms
  // (here at most every 30 s, and at the watchdog's 250 ms tick at best).
  const absl::Duration cleanup_period =
      std::min(config_.state_cleanup_delay, absl::Seconds(30));
  absl::Time next_cleanup = absl::Now() + cleanup_period;
  mu_.Lock();
  while (!mu_.AwaitWithTimeout(absl::Condition(&watchdog_stop_),
                               absl::Milliseconds(250))) {
    const absl::Time now = absl::Now();
    for (size_t i = 0; i < threads_.size(); ++i) {
      const StreamThread& t = *threads_[i];
      const StreamThread::State s = t.state();
      const absl::Duration gap = now - t.last_poll();
      const bool stalled = s != StreamThread::State::kDead &&
                           s != StreamThread::State::kPendingShutdown &&
                           gap > warn_after;
      if (stalled && !warned[i]) {
        LOG(WARNING) << "watchdog: " << t.name() << " has not polled for "
                     << absl::FormatDuration(gap)
                     << "; max.poll.interval.ms is "
                     << absl::FormatDuration(config_.max_poll_interval)
                     << ": unless processing returns within "
                     << absl::FormatDuration(config_.max_poll_interval - gap)
                     << ", the group removes this thread and its tasks move";
      }
      warned[i] = stalled;
    }
    ReapReplacedThreads();
    if (now >= next_cleanup) {
      next_cleanup = now + cleanup_period;
      // Outside mu_: stream threads take it (state changes) inside their
      // rebalance callbacks, and deleting a large store takes a while. The
      // state directory's own table keeps threads off what it deletes.
      mu_.Unlock();
      for (const std::string& task :
           state_directory_->CleanObsoleteTaskDirectories(
               config_.state_cleanup_delay)) {
        LOG(INFO) << "deleted the state of task " << task
                  << ", not owned here for "
                  << absl::FormatDuration(config_.state_cleanup_delay);
      }
      mu_.Lock();
    }
  }
  mu_.Unlock();
}

void KafkaStreams::ReapReplacedThreads() {
  std::vector<std::unique_ptr<StreamThread>> ended;
  for (auto it = replaced_.begin(); it != replaced_.end();) {
    if ((*it)->state() == StreamThread::State::kDead) {
      ended.push_back(std::move(*it));
      it = replaced_.erase(it);
    } else {
      ++it;
    }
  }
  if (ended.empty()) return;
  // Joined outside mu_: a dead thread may still be returning from its
  // error callback, which takes mu_.
  mu_.Unlock();
  std::vector<StreamThreadMetrics> metrics;
  for (auto& t : ended) {
    t->Join();
    metrics.push_back(ThreadMetrics(*t));
    t.reset();
  }
  mu_.Lock();
  for (const StreamThreadMetrics& m : metrics) {
    retired_.records_processed += m.records_processed;
    retired_.commits += m.commits;
    retired_.commit_latency_max_ms =
        std::max(retired_.commit_latency_max_ms, m.commit_latency_max_ms);
    retired_.aborts += m.aborts;
    retired_.rebalances += m.rebalances;
    retired_.task_migrations += m.task_migrations;
    retired_.producer_resets += m.producer_resets;
    retired_.producer_fencings += m.producer_fencings;
    retired_.commit_latency_sum_ms += m.commit_latency_sum_ms;
    retired_.commit_latency_bucket_bounds_ms =
        m.commit_latency_bucket_bounds_ms;
    retired_.commit_latency_bucket_counts.resize(
        m.commit_latency_bucket_counts.size());
    for (size_t i = 0; i < m.commit_latency_bucket_counts.size(); ++i) {
      retired_.commit_latency_bucket_counts[i] +=
          m.commit_latency_bucket_counts[i];
    }
    retired_.enforced_processing += m.enforced_processing;
    retired_.repartition_purges += m.repartition_purges;
    retired_.repartition_purge_errors += m.repartition_purge_errors;
    retired_.max_poll_gap_ms =
        std::max(retired_.max_poll_gap_ms, m.max_poll_gap_ms);
    retired_.restored_records += m.restored_records;
    retired_.restored_bytes += m.restored_bytes;
    retired_.stores_restored += m.stores_restored;
    retired_.stores_wiped += m.stores_wiped;
    for (const auto& [kind, n] : m.dead_letter_records) {
      retired_.dead_letter_records[kind] += n;
    }
    for (const auto& [reason, n] : m.dropped_records) {
      retired_.dropped_records[reason] += n;
    }
    ++retired_threads_;
  }
  LOG(INFO) << "freed " << metrics.size() << " replaced stream thread(s)";
}

absl::Status KafkaStreams::Close(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<StreamThread*> threads;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kNotRunning) return absl::OkStatus();
    if (state_ != State::kError) SetState(State::kPendingShutdown);
    watchdog_stop_ = true;
    for (auto& t : threads_) threads.push_back(t.get());
    for (auto& t : replaced_) threads.push_back(t.get());
  }
  for (StreamThread* t : threads) t->RequestShutdown();
  for (StreamThread* t : threads) {
    while (t->state() != StreamThread::State::kDead &&
           t->state() != StreamThread::State::kCreated) {
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            t->name(), " did not stop within ", absl::FormatDuration(timeout)));
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    t->Join();
  }
  if (watchdog_.joinable()) watchdog_.join();
  absl::MutexLock lock(&mu_);
  if (state_ != State::kError) SetState(State::kNotRunning);
  return absl::OkStatus();
}

StreamThreadMetrics KafkaStreams::ThreadMetrics(const StreamThread& t) {
  const internal::StreamThreadStats& s = t.stats();
  StreamThreadMetrics m;
  m.name = t.name();
  m.state = std::string(StreamThread::StateName(t.state()));
  m.tasks = static_cast<int64_t>(t.num_tasks());
  m.records_processed = s.records_processed.load();
  m.process_latency_avg_ms =
      m.records_processed
          ? s.process_micros_total.load() / 1000.0 / m.records_processed
          : 0;
  m.commits = s.commits.load();
  m.commit_latency_avg_ms =
      m.commits ? s.commit_micros_total.load() / 1000.0 / m.commits : 0;
  m.commit_latency_max_ms = s.commit_micros_max.load() / 1000.0;
  m.aborts = s.aborts.load();
  m.rebalances = s.rebalances.load();
  m.task_migrations = s.task_migrations.load();
  m.producer_resets = s.producer_resets.load();
  m.producer_fencings = s.producer_fencings.load();
  const int64_t commit_micros = s.commit_micros_total.load();
  m.commit_latency_sum_ms = commit_micros / 1000.0;
  m.commit_latency_bucket_bounds_ms.assign(
      internal::kCommitLatencyBucketsMs.begin(),
      internal::kCommitLatencyBucketsMs.end());
  for (const std::atomic<int64_t>& n : s.commit_latency_buckets) {
    m.commit_latency_bucket_counts.push_back(n.load());
  }
  const absl::Time now = absl::Now();
  m.poll_gap_ms = t.state() == StreamThread::State::kDead ||
                          t.state() == StreamThread::State::kCreated
                      ? 0
                      : absl::ToDoubleMilliseconds(now - t.last_poll());
  if (std::optional<absl::Time> opened = t.transaction_opened_at()) {
    m.open_transaction_age_ms = absl::ToDoubleMilliseconds(now - *opened);
  }
  m.enforced_processing = s.enforced_processing.load();
  m.repartition_purges = t.repartition_purges();
  m.repartition_purge_errors = t.repartition_purge_errors();
  m.max_poll_gap_ms = s.max_poll_gap_micros.load() / 1000.0;
  const internal::RestoreStats& r = t.restore_stats();
  m.restored_records = r.records.load();
  m.restored_bytes = r.bytes.load();
  m.stores_restored = r.stores_restored.load();
  m.stores_wiped = r.stores_wiped.load();
  m.restore_remaining_records = r.remaining_records.load();
  m.background_in_flight = s.background_in_flight.load();
  m.background_completed = s.background_completed.load();
  if (m.background_completed > 0) {
    m.background_handler_latency_avg_ms =
        s.background_handler_micros_total.load() / 1000.0 /
        m.background_completed;
    m.background_queue_wait_avg_ms =
        s.background_queue_wait_micros_total.load() / 1000.0 /
        m.background_completed;
  }
  m.background_handler_latency_max_ms =
      s.background_handler_micros_max.load() / 1000.0;
  m.background_queue_wait_max_ms =
      s.background_queue_wait_micros_max.load() / 1000.0;
  for (int i = 0; i < kNumDroppedRecordReasons; ++i) {
    const int64_t n = s.dropped_records[i].load(std::memory_order_relaxed);
    if (n > 0) {
      m.dropped_records[std::string(
          DroppedRecordReasonName(static_cast<DroppedRecordReason>(i)))] = n;
    }
  }
  for (const internal::TaskSnapshot& task : t.tasks_snapshot()) {
    m.active_tasks.push_back({task.id.ToString(), task.partitions,
                              task.processed_total, task.uncommitted,
                              task.stores});
  }
  for (int i = 0; i < 3; ++i) {
    const int64_t n = s.dead_letter_records[i].load(std::memory_order_relaxed);
    if (n > 0) {
      m.dead_letter_records[std::string(
          RecordErrorKindName(static_cast<RecordErrorKind>(i)))] = n;
    }
  }
  return m;
}

std::vector<StreamThreadMetrics> KafkaStreams::Metrics() const {
  absl::MutexLock lock(&mu_);
  std::vector<StreamThreadMetrics> out;
  for (const auto& t : threads_) out.push_back(ThreadMetrics(*t));
  for (const auto& t : replaced_) out.push_back(ThreadMetrics(*t));
  if (retired_threads_ > 0) {
    StreamThreadMetrics retired = retired_;
    retired.name = absl::StrCat(config_.application_id, "-replaced-threads");
    retired.state = "DEAD";
    out.push_back(std::move(retired));
  }
  return out;
}

absl::StatusOr<std::vector<PartitionLag>> KafkaStreams::ConsumerLag(
    absl::Duration timeout) const {
  std::vector<PartitionLag> lags;
  absl::flat_hash_map<TopicPartition, int64_t> positions;
  for (const StreamThreadMetrics& thread : Metrics()) {
    for (const TaskMetrics& task : thread.active_tasks) {
      for (const TopicPartition& tp : task.partitions) {
        lags.push_back(
            {.partition = tp, .task_id = task.task_id, .thread = thread.name});
      }
      for (const TopicPartitionOffset& o : task.uncommitted_offsets) {
        positions[o.tp] = o.offset;
      }
    }
  }
  if (lags.empty()) return lags;
  absl::MutexLock lock(&lag_mu_);
  if (lag_consumer_ == nullptr) {
    const bool eos =
        config_.processing_guarantee == ProcessingGuarantee::kExactlyOnceV2;
    ClientConfig consumer_config = config_.consumer_config;
    consumer_config["bootstrap.servers"] = config_.bootstrap_servers;
    // The group's id, to read its committed offsets; it never subscribes,
    // so it never joins the group.
    consumer_config["group.id"] = config_.application_id;
    consumer_config["client.id"] = absl::StrCat(
        config_.application_id, "-", process_id().substr(0, 8), "-lag");
    // read_committed: ListOffsets answers with the last stable offset.
    consumer_config["isolation.level"] =
        eos ? "read_committed" : "read_uncommitted";
    BROOK_ASSIGN_OR_RETURN(lag_consumer_,
                           factory_.consumer(consumer_config, nullptr));
  }
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<TopicPartition> partitions;
  for (const PartitionLag& l : lags) partitions.push_back(l.partition);
  BROOK_ASSIGN_OR_RETURN(std::vector<TopicPartitionOffset> committed,
                         lag_consumer_->Committed(partitions, timeout));
  absl::flat_hash_map<TopicPartition, int64_t> committed_by_partition;
  for (const TopicPartitionOffset& o : committed) {
    committed_by_partition[o.tp] = o.offset;
  }
  for (PartitionLag& l : lags) {
    BROOK_ASSIGN_OR_RETURN(auto watermarks,
                           lag_consumer_->QueryWatermarks(
                               l.partition, std::max(deadline - absl::Now(),
                                                     absl::Milliseconds(1))));
    const auto [low, end] = watermarks;
    auto it = committed_by_partition.find(l.partition);
    const int64_t committed_offset =
        it == committed_by_partition.end() || it->second < 0 ? -1 : it->second;
    l.committed_offset = committed_offset;
    l.end_offset = end;
    l.lag = std::max<int64_t>(
        0, end - (committed_offset >= 0 ? committed_offset : low));
    if (auto p = positions.find(l.partition); p != positions.end()) {
      l.uncommitted = std::max<int64_t>(
          0, p->second - (committed_offset >= 0 ? committed_offset : low));
    }
  }
  return lags;
}

absl::StatusOr<std::vector<OutputPartitionHealth>> KafkaStreams::OutputHealth(
    absl::Duration timeout) const {
  absl::MutexLock lock(&lag_mu_);
  std::vector<OutputPartitionHealth> out;
  if (sink_partitions_.empty()) return out;
  // Two views of each partition's end: read_uncommitted answers with the
  // high watermark, read_committed with the last stable offset.
  for (auto [consumer, isolation] :
       {std::pair{&hw_consumer_, "read_uncommitted"},
        std::pair{&lso_consumer_, "read_committed"}}) {
    if (*consumer != nullptr) continue;
    ClientConfig c = config_.consumer_config;
    c["bootstrap.servers"] = config_.bootstrap_servers;
    c["group.id"] = absl::StrCat(config_.application_id, "-output-health");
    c["client.id"] = absl::StrCat(config_.application_id, "-",
                                  process_id().substr(0, 8), "-output-health");
    c["isolation.level"] = isolation;
    BROOK_ASSIGN_OR_RETURN(*consumer, factory_.consumer(c, nullptr));
  }
  const absl::Time deadline = absl::Now() + timeout;
  const absl::Time now = absl::Now();
  for (const auto& [topic, partitions] : sink_partitions_) {
    for (int32_t p = 0; p < partitions; ++p) {
      const TopicPartition tp{topic, p};
      const absl::Duration left =
          std::max(deadline - absl::Now(), absl::Milliseconds(1));
      BROOK_ASSIGN_OR_RETURN(auto hw, hw_consumer_->QueryWatermarks(tp, left));
      BROOK_ASSIGN_OR_RETURN(auto lso,
                             lso_consumer_->QueryWatermarks(tp, left));
      OutputPartitionHealth h{.partition = tp,
                              .high_watermark = hw.second,
                              .last_stable_offset = lso.second};
      h.undecided_records =
          std::max<int64_t>(0, h.high_watermark - h.last_stable_offset);
      auto [it, fresh] = lso_seen_.try_emplace(tp, lso.second, now);
      if (!fresh && it->second.first != lso.second)
        it->second = {lso.second, now};
      if (h.undecided_records > 0) {
        h.lso_stalled_seconds = absl::ToDoubleSeconds(now - it->second.second);
      } else {
        it->second.second = now;  // caught up: a later stall starts now
      }
      out.push_back(h);
    }
  }
  return out;
}

RocksDBMemory KafkaStreams::RocksDBMemoryUsage() const {
  RocksDBMemory m;
  m.budget_bytes = rocksdb_->config().memory_budget_bytes;
  m.block_cache_bytes = rocksdb_->block_cache_usage();
  m.memtable_bytes = rocksdb_->memtable_usage();
  m.recent_windows_bytes = rocksdb_->recent_windows_usage();
  return m;
}

}  // namespace brook
