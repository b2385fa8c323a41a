// KafkaStreams' fault paths in-process against the real broker: a thread
// replaced after a poison record is freed, not kept until Close().
#include <algorithm>
#include <atomic>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "runtime/kafka_streams.h"
#include "runtime/serdes.h"
#include "tests/testing/kafka_env.h"

namespace brook {
namespace {

using ::brook::testing::CreateTopic;
using ::brook::testing::ProduceRawValue;
using ::brook::testing::UniqueName;
using S = std::string;

class FailOnPoison final : public Processor<S, S, S, S> {
 public:
  absl::Status Init(ProcessorContext<S, S>& c) override {
    context_ = &c;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<S, S>& r) override {
    if (r.value == "poison") {
      return absl::InvalidArgumentError("cannot process poison");
    }
    return context_->Forward(r);
  }

 private:
  ProcessorContext<S, S>* context_ = nullptr;
};

TEST(KafkaStreamsFaultTest, ReplacedThreadsAreFreedWhileTheInstanceRuns) {
  const std::string in = UniqueName("replace-in");
  const std::string out = UniqueName("replace-out");
  CreateTopic(in, 1);
  CreateTopic(out, 1);
  ProduceRawValue(in, "poison");
  Topology t;
  t.AddSource<S, S>("in", {in}, Serdes::String(), Serdes::String())
      .AddProcessor<S, S, S, S>(
          "fail", [] { return std::make_unique<FailOnPoison>(); }, {"in"})
      .AddSink<S, S>("out", out, Serdes::String(), Serdes::String(), {"fail"});
  StreamsConfig config;
  config.application_id = UniqueName("replace-app");
  config.bootstrap_servers = testing::BootstrapServers();
  config.state_dir = ::testing::TempDir() + "/" + config.application_id;
  config.session_timeout = absl::Seconds(6);
  auto app = KafkaStreams::Create(t, config);
  ASSERT_TRUE(app.ok()) << app.status();
  std::atomic<int> replacements{0};
  (*app)->SetUncaughtErrorHandler([&](const absl::Status& error) {
    EXPECT_TRUE(absl::StrContains(error.message(), "poison")) << error;
    ++replacements;
    return StreamThreadErrorResponse::kReplaceThread;
  });
  ASSERT_TRUE((*app)->Start().ok());
  // The poison record is never committed, so every replacement meets it
  // again: a loop of replacements, each of which used to keep its consumer,
  // producer and restore consumer alive until Close().
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  bool freed = false;
  size_t max_entries = 0;
  while (absl::Now() < deadline && !(freed && replacements.load() >= 4)) {
    std::vector<StreamThreadMetrics> metrics = (*app)->Metrics();
    max_entries = std::max(max_entries, metrics.size());
    for (const StreamThreadMetrics& m : metrics) {
      if (absl::EndsWith(m.name, "-replaced-threads")) freed = true;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_GE(replacements.load(), 4) << "the poison record was not met again";
  EXPECT_TRUE(freed) << "no replaced thread was freed";
  // The live thread, at most a couple not reaped yet (the watchdog reaps
  // every 250 ms), and the one summary entry.
  const size_t entries = (*app)->Metrics().size();
  EXPECT_LE(entries, 4u) << "replaced threads accumulate: " << entries
                         << " after " << replacements.load() << " replacements";
  const KafkaStreams::State state = (*app)->state();
  EXPECT_TRUE(state == KafkaStreams::State::kRunning ||
              state == KafkaStreams::State::kRebalancing)
      << KafkaStreams::StateName(state);
  ASSERT_TRUE((*app)->Close(absl::Seconds(60)).ok());
  std::filesystem::remove_all(config.state_dir);
}

}  // namespace
}  // namespace brook
