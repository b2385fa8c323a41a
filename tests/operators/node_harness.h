// NodeHarness: runs a Topology's nodes in process for the DSL's unit tests,
// with in-memory state stores (RocksDB ones get a temporary directory) and
// no Kafka. Records a sink sends to a topic that a source reads (a
// repartition topic) are fed back in, as a broker would deliver them.
//
// It is NOT the TopologyTestDriver of issue 8: it makes the nodes from the
// topology and wires them as StreamTask does, but it does not run
// StreamTask (no record queues, stream time, punctuation, commits or
// changelogs). All partitions are one task.
// Threading model: one test thread.
#ifndef BROOK_TESTS_OPERATORS_NODE_HARNESS_H_
#define BROOK_TESTS_OPERATORS_NODE_HARNESS_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "runtime/internal/task_context.h"
#include "runtime/internal/topology_plan.h"
#include "runtime/topology.h"
#include "state/stores.h"

namespace brook::testing {

class NodeHarness final : public internal::TaskContext,
                          public internal::RecordCollector {
 public:
  // Makes and initializes every node of `topology`. CHECK-fails (test
  // failure) on an invalid topology.
  explicit NodeHarness(const Topology& topology) {
    auto plan = internal::TopologyPlan::Build(topology);
    EXPECT_TRUE(plan.ok()) << plan.status();
    plan_ = *plan;
    dir_ = ::testing::TempDir() + "/node_harness_" +
           std::to_string(reinterpret_cast<uintptr_t>(this));
    std::filesystem::create_directories(dir_);
    auto rocksdb = RocksDBResources::Create(RocksDBConfig{});
    EXPECT_TRUE(rocksdb.ok());
    for (const auto& [name, builder] : plan_->stores()) {
      std::unique_ptr<StateStore> store =
          builder->Build(StoreContext{*rocksdb});
      EXPECT_TRUE(store->Open(dir_).ok());
      stores_[name] = std::move(store);
    }
    const auto& specs = plan_->nodes();
    for (const internal::NodeSpec& spec : specs) {
      nodes_[spec.name] = spec.make();
    }
    for (const internal::NodeSpec& spec : specs) {
      for (const std::string& p : spec.parents) {
        nodes_.at(p)->AddChild(nodes_.at(spec.name).get());
      }
    }
    for (const internal::SubTopologyPlan& sub : plan_->subtopologies()) {
      for (int n : sub.nodes) {
        absl::Status s = nodes_.at(specs[n].name)->Init(this);
        EXPECT_TRUE(s.ok()) << s;
      }
    }
  }

  ~NodeHarness() override {
    for (auto& [name, node] : nodes_) node->Close();
    for (auto& [name, store] : stores_) store->Close();
    std::filesystem::remove_all(dir_);
  }

  // Feeds one record to the source reading `topic`, then every record sinks
  // sent to topics that sources read.
  absl::Status Pipe(const std::string& topic, std::optional<std::string> key,
                    std::optional<std::string> value,
                    int64_t timestamp_ms = 0) {
    pending_.push_back(ConsumerRecord{topic, 0, 0, timestamp_ms, std::move(key),
                                      std::move(value)});
    while (!pending_.empty()) {
      ConsumerRecord r = std::move(pending_.front());
      pending_.pop_front();
      std::optional<internal::TopologyPlan::Route> route =
          plan_->RouteFor(r.topic);
      if (!route) {
        return absl::NotFoundError(absl::StrCat("no source reads ", r.topic));
      }
      auto* source = dynamic_cast<internal::SourceNodeBase*>(
          nodes_.at(plan_->nodes()[route->node].name).get());
      metadata_ = RecordMetadata{r.topic, 0, 0};
      stream_time_ms_ = std::max(stream_time_ms_, r.timestamp_ms);
      absl::Status s = source->ProcessRaw(r, r.timestamp_ms);
      metadata_.reset();
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Every record sent to `topic`, in order.
  std::vector<ProducerRecord> Output(const std::string& topic) const {
    std::vector<ProducerRecord> out;
    for (const ProducerRecord& r : sent_) {
      if (r.topic == topic) out.push_back(r);
    }
    return out;
  }

  StateStore* store(const std::string& name) { return stores_.at(name).get(); }

  // RecordCollector:
  absl::Status Send(const ProducerRecord& record) override {
    sent_.push_back(record);
    if (plan_->RouteFor(record.topic)) {
      pending_.push_back(ConsumerRecord{record.topic, 0, 0, record.timestamp_ms,
                                        record.key, record.value,
                                        record.headers});
    }
    return absl::OkStatus();
  }

  // TaskContext:
  const TaskId& task_id() const override { return task_id_; }
  const std::string& application_id() const override { return app_; }
  const std::optional<RecordMetadata>& record_metadata() const override {
    return metadata_;
  }
  int64_t stream_time_ms() const override { return stream_time_ms_; }
  int64_t system_time_ms() const override { return 0; }
  absl::StatusOr<Cancellable> Schedule(internal::ProcessorNode*, absl::Duration,
                                       PunctuationType, Punctuator) override {
    return absl::UnimplementedError("NodeHarness does not punctuate");
  }
  absl::StatusOr<StateStore*> GetStateStore(const internal::ProcessorNode& node,
                                            absl::string_view name) override {
    if (!plan_->IsConnected(node.name(), name)) {
      return absl::NotFoundError(absl::StrCat(name, " not connected"));
    }
    return stores_.at(std::string(name)).get();
  }
  void RequestCommit() override {}
  internal::RecordCollector& collector() override { return *this; }

 private:
  std::shared_ptr<const internal::TopologyPlan> plan_;
  std::string dir_;
  std::map<std::string, std::unique_ptr<StateStore>> stores_;
  std::map<std::string, std::unique_ptr<internal::ProcessorNode>> nodes_;
  std::deque<ConsumerRecord> pending_;
  std::vector<ProducerRecord> sent_;
  std::optional<RecordMetadata> metadata_;
  int64_t stream_time_ms_ = -1;
  const TaskId task_id_{0, 0};
  const std::string app_ = "test";
};

}  // namespace brook::testing

#endif  // BROOK_TESTS_OPERATORS_NODE_HARNESS_H_
