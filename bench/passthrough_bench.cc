// passthrough_bench: end-to-end copy throughput of Brook's copier against raw
// librdkafka loops on the same broker, in the same process and the same run.
//
// It preloads one input topic, then copies all of it to a fresh output topic
// once per variant and repetition:
//
//   raw_nocommit  raw consume -> produce loop, no commits (the copy ceiling);
//                 like the copier it copies key, value, timestamp and headers
//   raw_alos      the same loop; every interval: flush, then commit offsets
//   raw_eos       the same loop inside transactions; every interval:
//                 send_offsets_to_transaction, commit_transaction
//   brook_alos    examples::Copier (examples/copier.h), at-least-once
//   brook_eos     examples::Copier, exactly_once_v2
//
// The clock runs from the first output record to the moment the group's
// committed offsets cover the whole input (raw_nocommit: the last record is
// delivered), as perf.md 5.5 prescribes. A watcher reads both milestones
// from Kafka (the output's high watermarks, the group's committed offsets),
// the same way for every variant, so the harness depends on nothing inside
// the copier but Create() and Run(). What comes before the first output,
// "startup", is reported separately: it is dominated by librdkafka waiting
// up to a second for a new output topic's metadata (librdkafka#3202).
//
// After each run a read_committed count of the output guards correctness.
//
// Variants run interleaved, round after round, so that noise on the shared
// machine spreads over all of them; the report gives medians, min-max and
// ratios of medians measured in this run (STYLE.md: never a bare time).
//
// The pieces, under passthrough/: run.h (the types a run is given and
// returns), raw_copy.h (the raw loops and the matched client settings),
// topics.h (the input and the output check), machine.h (the machine's load)
// and report.h (the Markdown report).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include "bench/passthrough/machine.h"
#include "bench/passthrough/raw_copy.h"
#include "bench/passthrough/report.h"
#include "bench/passthrough/run.h"
#include "bench/passthrough/topics.h"
#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/client_config.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/errors.h"
#include "brook/kafka/topic_partition.h"
#include "brook/runtime/streams_config.h"
#include "examples/copier.h"

ABSL_FLAG(std::string, bootstrap_servers, "",
          "Kafka bootstrap.servers (default: $BROOK_BOOTSTRAP_SERVERS)");
ABSL_FLAG(int64_t, records, 300000, "records preloaded and copied per run");
ABSL_FLAG(int32_t, value_bytes, 100, "bytes per record value");
ABSL_FLAG(int32_t, partitions, 3, "partitions of the input and output topics");
ABSL_FLAG(std::vector<std::string>, commit_intervals_ms,
          std::vector<std::string>({"100", "1000"}),
          "commit intervals (ms) for the alos and eos variants");
ABSL_FLAG(int32_t, repetitions, 3, "runs of every variant, interleaved");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(300),
          "a run that has not finished after this long is a TIMEOUT");
ABSL_FLAG(bool, consumer_prefetch, true,
          "raise librdkafka's prefetch limits (queued.min.messages, "
          "queued.max.messages.kbytes) in every variant, so that 2.0.2's ~1 s "
          "fetch back-off on a full prefetch queue does not pace the copy");
ABSL_FLAG(int64_t, brook_partition_queue_max_bytes, 0,
          "StreamsConfig::partition_queue_max_bytes of the brook_* variants "
          "with partition queues (0: Brook's default, 1 MiB); a large value "
          "lets Brook prefetch as the raw loops do, at that memory cost");
ABSL_FLAG(bool, brook_partition_queues, true,
          "run the brook_* variants with StreamsConfig::partition_queues "
          "(the default); false: pause/resume");
ABSL_FLAG(std::vector<std::string>, variants, {},
          "run only these variants (e.g. raw_eos,brook_eos); default: all");
ABSL_FLAG(absl::Duration, watch_period, absl::Milliseconds(5),
          "how often the watcher polls the output's watermarks and the "
          "group's committed offsets: the timing's resolution, at a small "
          "cost to the broker");
ABSL_FLAG(bool, warmup, true,
          "copy once with the first variant (raw_nocommit unless --variants "
          "says otherwise), unreported, before the first round");
ABSL_FLAG(std::string, out, "", "also write the Markdown report to this file");

namespace brook::passthrough_bench {
namespace {

constexpr absl::Duration kWatchPeriod = absl::Milliseconds(2);
constexpr absl::Duration kAdminTimeout = absl::Seconds(30);
// How long past its deadline a run may take to notice and return before the
// harness abandons it.
constexpr absl::Duration kGrace = absl::Seconds(30);

// ---------------------------------------------------------------------------
// The Brook variants: examples::Copier on its own thread, watched from this
// one.

StreamsConfig BrookConfig(const RunSpec& spec) {
  StreamsConfig config;
  config.application_id = spec.group_id;
  config.bootstrap_servers = spec.bootstrap_servers;
  config.state_dir = spec.state_dir;
  config.processing_guarantee = spec.variant.commit == Commit::kExactlyOnce
                                    ? ProcessingGuarantee::kExactlyOnceV2
                                    : ProcessingGuarantee::kAtLeastOnce;
  config.commit_interval = spec.variant.interval;
  // Commit on the interval only, as the raw loops do; a record cap would
  // otherwise turn the longer intervals into "every N records".
  config.commit_max_records = std::numeric_limits<int64_t>::max();
  config.consumer_config = MatchedConsumerConfig(spec);
  config.producer_config = MatchedProducerConfig(spec.bootstrap_servers);
  // bootstrap.servers is StreamsConfig's own setting.
  config.consumer_config.erase("bootstrap.servers");
  config.producer_config.erase("bootstrap.servers");
  config.partition_queues = absl::GetFlag(FLAGS_brook_partition_queues);
  if (config.partition_queues) {
    // The prefetch limits are then per partition and are the memory budget:
    // leave them to Brook's (StreamsConfig::partition_queue_max_*).
    config.consumer_config.erase("queued.min.messages");
    config.consumer_config.erase("queued.max.messages.kbytes");
    if (const int64_t bytes =
            absl::GetFlag(FLAGS_brook_partition_queue_max_bytes);
        bytes > 0) {
      config.partition_queue_max_bytes = bytes;
      // Bytes alone bound the queue, as queued.max.messages.kbytes does the
      // raw loops' prefetch.
      config.partition_queue_max_records = 10000000;
    }
  }
  return config;
}

// ---------------------------------------------------------------------------
// Milestones read from Kafka, the same way for every variant.

// Watches a run from outside, through Kafka: first until the output topic's
// high watermarks show a record (read_uncommitted, so an open transaction's
// records count), then, for variants that commit, until the group's
// committed offsets cover the whole input (stable offsets only: under
// exactly-once they appear when the transaction's markers are written).
// Polls every few milliseconds with its own client, which never joins the
// group.
//
// Threading model: Start(), WaitUntilCommitted() and Stop() from one thread;
// the poller runs on its own thread, which publishes its results before
// notifying finished_.
class ProgressWatcher {
 public:
  static absl::StatusOr<std::unique_ptr<ProgressWatcher>> Start(
      const RunSpec& spec) {
    BROOK_ASSIGN_OR_RETURN(
        std::unique_ptr<Consumer> consumer,
        Consumer::Create({{"bootstrap.servers", spec.bootstrap_servers},
                          {"group.id", spec.group_id},
                          {"isolation.level", "read_uncommitted"}},
                         /*listener=*/nullptr));
    std::unique_ptr<ProgressWatcher> watcher(
        new ProgressWatcher(spec, std::move(consumer)));
    watcher->thread_ = std::thread([w = watcher.get()] { w->Poll(); });
    return watcher;
  }

  ~ProgressWatcher() { Stop(); }

  // Waits until the group has committed every input record. Gives up at
  // `deadline`, on `cancel`, or when `gave_up` (if given) is notified.
  absl::Status WaitUntilCommitted(absl::Time deadline,
                                  const std::atomic<bool>& cancel,
                                  const absl::Notification* gave_up) {
    while (!finished_.WaitForNotificationWithTimeout(kWatchPeriod)) {
      if (cancel.load() || absl::Now() > deadline) {
        return absl::DeadlineExceededError("offsets not all committed");
      }
      if (gave_up != nullptr && gave_up->HasBeenNotified()) {
        return absl::AbortedError("the copier stopped first");
      }
    }
    if (!error_.ok()) return error_;
    if (committed_at_ == absl::InfiniteFuture()) {
      return absl::InternalError("the watcher stopped before the commit");
    }
    return absl::OkStatus();
  }

  // Stops polling. Afterwards the milestones seen (InfiniteFuture if not).
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  absl::Time first_output_at() const { return first_output_at_; }
  absl::Time committed_at() const { return committed_at_; }
  const absl::Status& error() const { return error_; }

 private:
  ProgressWatcher(const RunSpec& spec, std::unique_ptr<Consumer> consumer)
      : spec_(spec),
        period_(absl::GetFlag(FLAGS_watch_period)),
        consumer_(std::move(consumer)) {}

  void Poll() {
    error_ = PollUntil([this]() { return AnyOutput(); }, first_output_at_);
    if (error_.ok() && spec_.variant.commit != Commit::kNone) {
      error_ = PollUntil([this]() { return AllCommitted(); }, committed_at_);
    }
    finished_.Notify();
  }

  // Calls `reached` every few milliseconds until it returns true, then sets
  // `at`. Retriable errors (a partition without a leader yet) mean "not yet".
  template <typename Fn>
  absl::Status PollUntil(Fn reached, absl::Time& at) {
    while (!stop_.load()) {
      absl::StatusOr<bool> done = reached();
      if (!done.ok() && !IsRetriable(done.status())) return done.status();
      if (done.ok() && *done) {
        at = absl::Now();
        return absl::OkStatus();
      }
      absl::SleepFor(period_);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<bool> AnyOutput() {
    for (int32_t p = 0; p < spec_.partitions; ++p) {
      BROOK_ASSIGN_OR_RETURN(auto marks,
                             consumer_->QueryWatermarks({spec_.output_topic, p},
                                                        absl::Seconds(5)));
      if (marks.second > 0) return true;
    }
    return false;
  }

  // The input starts at offset 0 in every partition, so its records are all
  // committed when the committed offsets add up to their number.
  absl::StatusOr<bool> AllCommitted() {
    std::vector<TopicPartition> partitions;
    for (int32_t p = 0; p < spec_.partitions; ++p) {
      partitions.push_back({spec_.input_topic, p});
    }
    BROOK_ASSIGN_OR_RETURN(std::vector<TopicPartitionOffset> committed,
                           consumer_->Committed(partitions, absl::Seconds(5)));
    int64_t total = 0;
    for (const TopicPartitionOffset& c : committed) {
      total += std::max<int64_t>(c.offset, 0);
    }
    return total >= spec_.records;
  }

  const RunSpec spec_;
  const absl::Duration period_;
  const std::unique_ptr<Consumer> consumer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  // Written by the poller before finished_ is notified.
  absl::Notification finished_;
  absl::Time first_output_at_ = absl::InfiniteFuture();
  absl::Time committed_at_ = absl::InfiniteFuture();
  absl::Status error_;
};

// examples::Copier on its own thread until the watcher sees every offset
// committed, then a clean stop. Only Create() and Run() are used, and
// stats() once at the end: polling it would add work inside the copier.
absl::StatusOr<Measurement> RunBrookCopy(const RunSpec& spec,
                                         ProgressWatcher& watcher,
                                         const std::atomic<bool>& cancel) {
  BROOK_ASSIGN_OR_RETURN(
      std::unique_ptr<examples::Copier> copier,
      examples::Copier::Create(BrookConfig(spec), spec.input_topic,
                               spec.output_topic));
  std::atomic<bool> stop{false};
  absl::Status run_status;
  absl::Notification returned;
  std::thread thread([&] {
    run_status = copier->Run(stop);
    returned.Notify();
  });
  const absl::Status committed =
      watcher.WaitUntilCommitted(spec.deadline, cancel, &returned);
  stop.store(true);
  // A Run() that never returns hangs this join; RunBounded() then abandons
  // this whole thread, whose stack keeps the copier alive.
  thread.join();
  BROOK_RETURN_IF_ERROR(run_status);
  BROOK_RETURN_IF_ERROR(committed);
  Measurement m;
  const examples::CopierStats stats = copier->stats();
  m.commits = stats.commits;
  m.aborts = stats.aborts;
  LOG(INFO) << copier->transactional_id() << ": " << stats.commits
            << " commits, average commit latency "
            << stats.commit_latency_avg_ms << " ms";
  return m;
}

// One copy by the variant's loop, timed by the watcher.
absl::StatusOr<Measurement> RunVariant(const RunSpec& spec,
                                       const std::atomic<bool>& cancel) {
  const absl::Time started_at = absl::Now();
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<ProgressWatcher> watcher,
                         ProgressWatcher::Start(spec));
  const bool commits = spec.variant.commit != Commit::kNone;
  absl::StatusOr<Measurement> m = spec.variant.loop == Loop::kRaw
                                      ? RunRawCopy(spec, cancel)
                                      : RunBrookCopy(spec, *watcher, cancel);
  if (m.ok() && commits && spec.variant.loop == Loop::kRaw) {
    // The raw loop knows when it committed; the watcher still has to see it.
    BROOK_RETURN_IF_ERROR(
        watcher->WaitUntilCommitted(spec.deadline, cancel, nullptr));
    LOG(INFO) << spec.group_id << ": watcher saw the last commit "
              << absl::FormatDuration(watcher->committed_at() - m->done_at)
              << " after the loop";
  }
  watcher->Stop();
  if (!m.ok()) return m.status();
  BROOK_RETURN_IF_ERROR(watcher->error());
  m->started_at = started_at;
  m->first_output_at = watcher->first_output_at();
  if (commits) m->done_at = watcher->committed_at();
  if (!(m->first_output_at <= m->done_at &&
        m->done_at < absl::InfiniteFuture())) {
    return absl::InternalError("milestones missing or out of order");
  }
  return m;
}

// ---------------------------------------------------------------------------
// Bounded execution: every wait of the harness ends.

int abandoned_runs = 0;  // touched by the main thread only

// Runs `body` on its own thread until `deadline`, then asks it to stop; a
// body still stuck kGrace later (e.g. inside a blocking librdkafka call) is
// abandoned: its thread is detached and the run reported as a timeout, so
// one hung variant cannot hang the benchmark.
absl::StatusOr<Measurement> RunBounded(
    absl::Time deadline,
    std::function<absl::StatusOr<Measurement>(const std::atomic<bool>&)> body) {
  struct Shared {
    std::atomic<bool> cancel{false};
    absl::Notification done;
    absl::StatusOr<Measurement> result = absl::UnknownError("not run");
  };
  auto shared = std::make_shared<Shared>();
  std::thread thread([shared, body = std::move(body)] {
    shared->result = body(shared->cancel);
    shared->done.Notify();
  });
  if (!shared->done.WaitForNotificationWithDeadline(deadline + kGrace)) {
    shared->cancel.store(true);
    if (!shared->done.WaitForNotificationWithTimeout(kGrace)) {
      thread.detach();
      ++abandoned_runs;
      return absl::DeadlineExceededError("stuck past its deadline; abandoned");
    }
  }
  thread.join();
  return shared->result;
}

// ---------------------------------------------------------------------------
// Orchestration.

absl::StatusOr<BenchConfig> ConfigFromFlags() {
  BenchConfig c;
  c.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  if (c.bootstrap_servers.empty() &&
      std::getenv("BROOK_BOOTSTRAP_SERVERS") != nullptr) {
    c.bootstrap_servers = std::getenv("BROOK_BOOTSTRAP_SERVERS");
  }
  if (c.bootstrap_servers.empty()) {
    return absl::InvalidArgumentError(
        "no broker: pass --bootstrap_servers=$(scripts/kafka bootstrap) or "
        "set BROOK_BOOTSTRAP_SERVERS");
  }
  c.records = absl::GetFlag(FLAGS_records);
  c.value_bytes = absl::GetFlag(FLAGS_value_bytes);
  c.partitions = absl::GetFlag(FLAGS_partitions);
  c.repetitions = absl::GetFlag(FLAGS_repetitions);
  c.timeout = absl::GetFlag(FLAGS_timeout);
  c.consumer_prefetch = absl::GetFlag(FLAGS_consumer_prefetch);
  c.warmup = absl::GetFlag(FLAGS_warmup);
  c.out = absl::GetFlag(FLAGS_out);
  if (c.records <= 0 || c.value_bytes < 0 || c.partitions <= 0 ||
      c.repetitions <= 0 || c.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--records, --partitions, --repetitions and --timeout must be "
        "positive, --value_bytes not negative");
  }
  for (const std::string& ms : absl::GetFlag(FLAGS_commit_intervals_ms)) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(ms, &value) || value <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("--commit_intervals_ms: '",
                                                     ms,
                                                     "' is not a positive "
                                                     "number of milliseconds"));
    }
    c.intervals.push_back(absl::Milliseconds(value));
  }
  return c;
}

// raw_nocommit, then for each interval: raw_alos, brook_alos, raw_eos,
// brook_eos. A round runs them in this order.
std::vector<Variant> AllVariants(const std::vector<absl::Duration>& intervals) {
  std::vector<Variant> variants = {
      {Loop::kRaw, Commit::kNone, absl::ZeroDuration()}};
  for (absl::Duration interval : intervals) {
    for (Commit commit : {Commit::kAtLeastOnce, Commit::kExactlyOnce}) {
      for (Loop loop : {Loop::kRaw, Loop::kBrook}) {
        variants.push_back({loop, commit, interval});
      }
    }
  }
  return variants;
}

absl::StatusOr<std::vector<Variant>> MakeVariants(
    const std::vector<absl::Duration>& intervals) {
  const std::vector<std::string> only = absl::GetFlag(FLAGS_variants);
  std::vector<Variant> variants;
  for (const Variant& v : AllVariants(intervals)) {
    if (only.empty() ||
        std::find(only.begin(), only.end(), v.Name()) != only.end()) {
      variants.push_back(v);
    }
  }
  if (variants.empty()) {
    return absl::InvalidArgumentError(
        "--variants matches none of raw_nocommit, raw_alos, raw_eos, "
        "brook_alos, brook_eos");
  }
  return variants;
}

struct Context {
  BenchConfig config;
  std::vector<Variant> variants;
  std::unique_ptr<Admin> admin;
  std::string prefix;  // of every topic and group of this process
  std::string input_topic;
  std::string state_dir;    // temporary root of the copiers' state
  int64_t input_bytes = 0;  // key + value bytes of the input
  int runs_started = 0;
};

void Verify(const Context& ctx, const RunSpec& spec, RunResult& result) {
  absl::StatusOr<int64_t> count = CountCommitted(
      ctx.config.bootstrap_servers, spec.output_topic, spec.records);
  if (!count.ok()) {
    result.outcome = Outcome::kError;
    result.detail = absl::StrCat("verify: ", count.status().ToString());
    return;
  }
  result.output_records = *count;
  const bool exact = spec.variant.commit == Commit::kExactlyOnce;
  if (exact ? *count == spec.records : *count >= spec.records) {
    result.outcome = Outcome::kOk;
    return;
  }
  result.outcome = Outcome::kInvalid;
  result.detail = absl::StrCat("read_committed count ", *count, ", expected ",
                               exact ? "exactly " : "at least ", spec.records);
}

void LogRun(const Context& ctx, const RunResult& r) {
  const Variant& v = ctx.variants[r.variant_index];
  const bool timed = Timed(r);
  const double seconds =
      timed ? absl::ToDoubleSeconds(r.measurement.elapsed()) : 0.0;
  std::cerr << absl::StrFormat(
      "[round %d] %s %s: %s in %.2fs after %dms startup, %.0f records/s, %d "
      "commits, %d retries, %d aborts, cpu %.0f%% busy, steal %.1f%%%s%s\n",
      r.round, v.Name(), v.IntervalLabel(), OutcomeName(r.outcome), seconds,
      timed ? absl::ToInt64Milliseconds(r.measurement.startup()) : 0,
      timed ? RecordsPerSecond(ctx.config.records, r) : 0.0,
      r.measurement.commits, r.measurement.retries, r.measurement.aborts,
      r.cpu_busy_percent, r.steal_percent, r.detail.empty() ? "" : ": ",
      r.detail);
}

// One copy of the whole input by variant `index` into a fresh output topic,
// then the correctness check; the output topic is deleted afterwards.
RunResult RunOnce(Context& ctx, int index, int round) {
  const Variant& variant = ctx.variants[index];
  const int n = ++ctx.runs_started;
  RunSpec spec{
      .variant = variant,
      .bootstrap_servers = ctx.config.bootstrap_servers,
      .input_topic = ctx.input_topic,
      .output_topic = absl::StrCat(ctx.prefix, "-out-", n),
      .group_id = absl::StrCat(ctx.prefix, "-", n, "-", variant.Name()),
      .state_dir = ctx.state_dir,
      .partitions = ctx.config.partitions,
      .records = ctx.config.records,
      .consumer_prefetch = ctx.config.consumer_prefetch};
  RunResult result{.variant_index = index, .round = round};
  absl::Status created = ctx.admin->CreateTopic(
      {.name = spec.output_topic, .partitions = spec.partitions},
      kAdminTimeout);
  if (!created.ok()) {
    result.detail = absl::StrCat("create output: ", created.ToString());
    return result;
  }
  const CpuTimes before = ReadCpuTimes();
  const absl::Duration cpu_before = ProcessCpuTime();
  spec.deadline = absl::Now() + ctx.config.timeout;
  absl::StatusOr<Measurement> measured =
      RunBounded(spec.deadline, [spec](const std::atomic<bool>& cancel) {
        return RunVariant(spec, cancel);
      });
  const CpuTimes after = ReadCpuTimes();
  result.client_cpu_us_per_record =
      absl::ToDoubleMicroseconds(ProcessCpuTime() - cpu_before) / spec.records;
  result.cpu_busy_percent =
      Percent(after.busy - before.busy, after.total - before.total);
  result.steal_percent =
      Percent(after.steal - before.steal, after.total - before.total);
  if (measured.ok()) {
    result.measurement = *measured;
    Verify(ctx, spec, result);
  } else {
    result.outcome = absl::IsDeadlineExceeded(measured.status())
                         ? Outcome::kTimeout
                         : Outcome::kError;
    result.detail = measured.status().ToString();
  }
  absl::Status deleted =
      ctx.admin->DeleteTopic(spec.output_topic, kAdminTimeout);
  if (!deleted.ok()) LOG(WARNING) << "delete output topic: " << deleted;
  return result;
}

absl::StatusOr<std::vector<RunResult>> PreloadAndRun(Context& ctx) {
  const BenchConfig& c = ctx.config;
  const absl::Time start = absl::Now();
  BROOK_ASSIGN_OR_RETURN(
      ctx.input_bytes,
      Preload(c.bootstrap_servers, ctx.input_topic, c.records, c.value_bytes));
  std::cerr << "preloaded " << c.records << " records (" << ctx.input_bytes
            << " bytes) into " << ctx.input_topic << " in "
            << absl::FormatDuration(absl::Now() - start) << "\n";
  if (c.warmup) {
    // Warms the broker's fetch path and the page cache; not reported.
    LogRun(ctx, RunOnce(ctx, /*index=*/0, /*round=*/0));
  }
  std::vector<RunResult> results;
  for (int round = 1; round <= c.repetitions; ++round) {
    for (int i = 0; i < static_cast<int>(ctx.variants.size()); ++i) {
      results.push_back(RunOnce(ctx, i, round));
      LogRun(ctx, results.back());
    }
  }
  return results;
}

absl::StatusOr<int> RunBenchmark() {
  const absl::Time started = absl::Now();
  const std::string load_before = LoadAverage();
  Context ctx;
  BROOK_ASSIGN_OR_RETURN(ctx.config, ConfigFromFlags());
  BROOK_ASSIGN_OR_RETURN(ctx.variants, MakeVariants(ctx.config.intervals));
  ctx.prefix =
      absl::StrCat("brook-bench-", absl::ToUnixSeconds(started), "-", getpid());
  ctx.input_topic = ctx.prefix + "-in";
  char state_dir[] = "/tmp/brook-bench-XXXXXX";
  if (mkdtemp(state_dir) == nullptr) {
    return absl::InternalError("cannot create a state directory under /tmp");
  }
  ctx.state_dir = state_dir;
  BROOK_ASSIGN_OR_RETURN(
      ctx.admin,
      Admin::Create({{"bootstrap.servers", ctx.config.bootstrap_servers}}));
  BROOK_RETURN_IF_ERROR(ctx.admin->CreateTopic(
      {.name = ctx.input_topic, .partitions = ctx.config.partitions},
      kAdminTimeout));
  absl::StatusOr<std::vector<RunResult>> results = PreloadAndRun(ctx);
  absl::Status deleted = ctx.admin->DeleteTopic(ctx.input_topic, kAdminTimeout);
  if (!deleted.ok()) LOG(WARNING) << "delete input topic: " << deleted;
  std::error_code ignored;  // a leftover temp dir is harmless
  std::filesystem::remove_all(ctx.state_dir, ignored);
  BROOK_RETURN_IF_ERROR(results.status());

  const std::string report = Report({.config = ctx.config,
                                     .variants = ctx.variants,
                                     .input_bytes = ctx.input_bytes},
                                    *results, started, load_before);
  std::cout << report << std::flush;
  if (!ctx.config.out.empty()) {
    std::ofstream file(ctx.config.out);
    file << report;
    if (!file.good()) {
      return absl::UnavailableError(
          absl::StrCat("cannot write --out=", ctx.config.out));
    }
  }
  const bool all_ok =
      std::all_of(results->begin(), results->end(),
                  [](const RunResult& r) { return r.outcome == Outcome::kOk; });
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace brook::passthrough_bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  absl::StatusOr<int> exit_code = brook::passthrough_bench::RunBenchmark();
  if (!exit_code.ok()) {
    std::cerr << "passthrough_bench: " << exit_code.status() << "\n";
    return 2;
  }
  if (brook::passthrough_bench::abandoned_runs > 0) {
    // Abandoned runs still hold threads and clients; skip the destructors
    // that would wait for them.
    std::cerr << brook::passthrough_bench::abandoned_runs
              << " run(s) abandoned\n";
    std::_Exit(*exit_code);
  }
  return *exit_code;
}
