// The StreamThreadTest fixture: one StreamThread driven step by step over
// the Kafka fakes (tests/testing/fake_kafka.h). Shared by
// stream_thread_test.cc and task_lifecycle_test.cc.
//
// Threading: a fixture lives on the test's thread, and so does the thread it
// drives (RunOnce() is called from the test body); nothing here is
// thread-safe.
#ifndef BROOK_TESTS_RUNTIME_STREAM_THREAD_FIXTURE_H_
#define BROOK_TESTS_RUNTIME_STREAM_THREAD_FIXTURE_H_

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "brook/runtime/internal/client_factory.h"
#include "brook/runtime/internal/stream_thread.h"
#include "brook/runtime/streams_config.h"
#include "brook/runtime/topology.h"
#include "tests/testing/fake_kafka.h"

namespace brook::internal {

using ::brook::testing::FakeConsumer;
using ::brook::testing::FakeKafka;
using ::brook::testing::FakeProducer;

inline const TopicPartition kIn0{"in", 0};
inline const TopicPartition kIn1{"in", 1};

inline std::vector<std::string> Values(
    const std::vector<ProducerRecord>& records) {
  std::vector<std::string> out;
  for (const ProducerRecord& r : records) out.push_back(r.value.value_or("-"));
  return out;
}

inline std::vector<std::string> Numbered(const std::string& prefix, int from,
                                         int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(absl::StrCat(prefix, i));
  return out;
}

class StreamThreadTest : public ::testing::Test {
 protected:
  StreamThreadTest() {
    kafka_.CreateTopic("in", 4);
    kafka_.CreateTopic("out", 1);
    config_.application_id = "app";
    config_.bootstrap_servers = "fake:9092";
    config_.state_dir = ::testing::TempDir();
    // Long enough never to elapse in a test; tests that want interval
    // commits set 1 ms and sleep 2 ms between iterations.
    config_.commit_interval = absl::Seconds(5);
    // BROOK_TEST_PAUSE_RESUME=1 runs every test over pause/resume
    // back-pressure instead of the default per-partition queues (the tests
    // of either path set it themselves).
    config_.partition_queues =
        std::getenv("BROOK_TEST_PAUSE_RESUME") == nullptr;
  }

  // The input of `tp` waits (a task not running yet): paused, or with
  // partition queues never read.
  void ExpectInputHeld(const TopicPartition& tp) {
    if (config_.partition_queues) {
      EXPECT_EQ(consumer_->PartitionPollCount(tp), 0) << tp.ToString();
      EXPECT_THAT(consumer_->PausedPartitions(), ::testing::IsEmpty());
    } else {
      EXPECT_THAT(consumer_->PausedPartitions(), ::testing::ElementsAre(tp));
    }
  }

  ~StreamThreadTest() override {
    if (thread_ != nullptr) thread_->Shutdown(absl::OkStatus());
  }

  KafkaClientFactory Factory() {
    KafkaClientFactory factory;
    factory.consumer = [this](const ClientConfig& config,
                              RebalanceListener* listener)
        -> absl::StatusOr<std::unique_ptr<Consumer>> {
      auto consumer = std::make_unique<FakeConsumer>(&kafka_, listener);
      if (auto reset = config.find("auto.offset.reset"); reset != config.end())
        consumer->set_auto_offset_reset(reset->second);
      if (listener != nullptr) {  // the group consumer, not a restore one
        consumer_config_ = config;
        consumer_ = consumer.get();
      }
      return std::unique_ptr<Consumer>(std::move(consumer));
    };
    factory.producer = [this](const ClientConfig& config)
        -> absl::StatusOr<std::unique_ptr<Producer>> {
      producer_configs_.push_back(config);
      auto producer = std::make_unique<FakeProducer>(
          &kafka_, config.contains("transactional.id"));
      producers_.push_back(producer.get());
      return std::unique_ptr<Producer>(std::move(producer));
    };
    factory.admin =
        [](const ClientConfig&) -> absl::StatusOr<std::unique_ptr<Admin>> {
      return absl::UnimplementedError("a StreamThread makes no admin client");
    };
    return factory;
  }

  // Creates the thread and runs Startup(). Returns false on error.
  bool Start(const Topology& topology) {
    absl::StatusOr<std::shared_ptr<const TopologyPlan>> plan =
        TopologyPlan::Build(topology);
    EXPECT_TRUE(plan.ok()) << plan.status();
    if (!plan.ok()) return false;
    StreamThread::Callbacks callbacks;
    callbacks.on_state_change = [this](int, StreamThread::State s) {
      states_.emplace_back(StreamThread::StateName(s));
    };
    absl::StatusOr<std::unique_ptr<StreamThread>> thread =
        StreamThread::Create(*plan, config_, 0, "0123456789abcdef",
                             ::testing::TempDir(), Factory(), callbacks);
    EXPECT_TRUE(thread.ok()) << thread.status();
    if (!thread.ok()) return false;
    thread_ = *std::move(thread);
    absl::Status s = thread_->Startup();
    EXPECT_TRUE(s.ok()) << s;
    return s.ok();
  }

  // One iteration of the thread's loop; false (and a failure) on error.
  bool RunOnce() {
    absl::Status s = thread_->RunOnce();
    EXPECT_TRUE(s.ok()) << s;
    return s.ok();
  }

  // Schedules a rebalance onto `partitions` and runs the iteration whose
  // poll delivers it (after any events queued before it).
  bool Assign(std::vector<TopicPartition> partitions) {
    const int64_t rebalances = thread_->stats().rebalances.load();
    kafka_.Rebalance(consumer_, std::move(partitions));
    return RunUntil([this, rebalances] {
      return thread_->stats().rebalances.load() > rebalances &&
             thread_->state() == StreamThread::State::kRunning;
    });
  }

  // Runs iterations, 2 ms apart so that a 1 ms commit interval elapses,
  // until `done` (checked before each) or 200 iterations.
  bool RunUntil(const std::function<bool()>& done) {
    for (int i = 0; i < 200; ++i) {
      if (done()) return true;
      if (!RunOnce()) return false;
      absl::SleepFor(absl::Milliseconds(2));
    }
    return done();
  }

  void Append(const TopicPartition& tp, const std::vector<std::string>& vs) {
    for (const std::string& v : vs) {
      kafka_.Append(tp.topic, tp.partition, "key", v,
                    1000 + kafka_.EndOffset(tp));
    }
  }

  std::vector<std::string> Output() { return Values(kafka_.Output("out")); }
  std::vector<std::string> Aborted() {
    return Values(kafka_.AbortedOutput("out"));
  }
  FakeProducer* producer() { return producers_.back(); }

  FakeKafka kafka_;
  StreamsConfig config_;
  FakeConsumer* consumer_ = nullptr;      // owned by thread_
  std::vector<FakeProducer*> producers_;  // only the last one is alive
  ClientConfig consumer_config_;
  std::vector<ClientConfig> producer_configs_;
  std::vector<std::string> states_;
  std::unique_ptr<StreamThread> thread_;
};

}  // namespace brook::internal

#endif  // BROOK_TESTS_RUNTIME_STREAM_THREAD_FIXTURE_H_
