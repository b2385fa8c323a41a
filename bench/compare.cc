// brook_compare: Brook against Kafka Streams on the same broker, in one run.
// scripts/compare builds both peers and calls it; bench/README.md has the
// method and the results.
//
// It preloads one input topic, then runs each workload with Brook's peer
// (bench/peer.cc) and Kafka Streams' (bench/kstreams/), alternately, for
// --repetitions rounds, each run a separate process with a fresh
// application.id and output topic. A watcher outside both processes reads
// Kafka every 20 ms:
//   - the window opens when the first output record appears (the output's
//     high watermarks) and closes when the group's committed input offsets
//     cover the whole input: start-up, the JVM's included, is left out;
//   - CPU is the process's user+system time (/proc/<pid>/stat, all threads)
//     over the window, per input record;
//   - peak RSS is the process's VmHWM when the window closes.
// Then the peer gets SIGTERM, and the output is read back with
// read_committed: under exactly-once it must hold exactly one record per
// input record (both workloads emit one per record, with no record cache),
// under at-least-once at least that many. windowed-count (1-minute tumbling
// windows) also emits one record per input record. join reads two topics of
// --records / 2 records each, whose i-th records share key and timestamp and
// join with each other only (a key repeats every --keys records, 12 s of event
// time at the defaults, far outside the 1 s join window): it must emit
// exactly --records / 2 under exactly-once. count_cached runs count with the
// record cache on in both peers (--cache_max_bytes): per key the counts must
// strictly increase and the last ones add up to the input records. A run that
// fails is INVALID and left out of the medians.
//
// --mode=latency instead feeds each run's own input topic live, at
// --latency_rate records/s with each record stamped with its send time, and
// times every output record from that timestamp to the moment a
// read_committed reader outside the peer sees it (see RunLatency).
//
// The report (stdout, and --out) is a Markdown table of medians with the
// ratios Brook / Kafka Streams; with gnuplot installed, a PNG of throughput
// and CPU per record per workload is written next to --out.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/producer.h"
#include "brook/kafka/topic_reader.h"

extern char** environ;

ABSL_FLAG(std::string, bootstrap_servers, "",
          "bootstrap.servers (default: $BROOK_BOOTSTRAP_SERVERS)");
ABSL_FLAG(int64_t, records, 1000000, "records preloaded and processed per run");
ABSL_FLAG(int32_t, value_bytes, 10, "bytes per value");
ABSL_FLAG(int32_t, keys, 10000, "distinct keys (k0..)");
ABSL_FLAG(int32_t, partitions, 6, "partitions of the input and outputs");
ABSL_FLAG(std::vector<std::string>, workloads,
          std::vector<std::string>({"passthrough", "count"}),
          "passthrough, count, count_cached (count with the record cache on "
          "in both, --cache_max_bytes), windowed-count, join");
ABSL_FLAG(absl::Duration, event_time_span, absl::Minutes(10),
          "the preloaded records' timestamps spread evenly over this span, "
          "ending an hour ago (10 one-minute windows for windowed-count)");
ABSL_FLAG(int64_t, join_window_ms, 1000,
          "join: JoinWindows' time difference (before = after)");
ABSL_FLAG(int64_t, join_grace_ms, 600000,
          "join: JoinWindows' grace; the default covers the whole "
          "--event_time_span, so that neither runtime drops a record as late "
          "whichever partition it reads first");
ABSL_FLAG(int64_t, cache_max_bytes, int64_t{10} << 20,
          "statestore.cache.max.bytes of both peers in count_cached (Kafka "
          "Streams' default)");
ABSL_FLAG(std::vector<std::string>, guarantees,
          std::vector<std::string>({"eos", "alos"}), "eos, alos");
ABSL_FLAG(int32_t, repetitions, 3, "rounds; each runs every variant once");
ABSL_FLAG(int64_t, commit_interval_ms, 100, "commit.interval.ms of both");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads of both");
ABSL_FLAG(std::string, brook_peer, "", "the brook_peer binary");
ABSL_FLAG(std::string, java, "java", "the java binary");
ABSL_FLAG(std::string, kstreams_classpath, "",
          "classpath of the Kafka Streams peer (its jars and classes)");
ABSL_FLAG(std::string, java_heap, "512m", "-Xmx of the Kafka Streams peer");
ABSL_FLAG(std::string, work_dir, "/tmp/brook-compare",
          "state directories and peer logs");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(10), "bound on one run");
ABSL_FLAG(std::string, out, "", "also write the report here (and a PNG)");
ABSL_FLAG(absl::Duration, readback_timeout, absl::Minutes(10),
          "bound on reading a run's output back (outside the measured window; "
          "the join's 500,000 outputs took over 2 minutes on the busy "
          "machine)");
ABSL_FLAG(std::vector<std::string>, brook_flags, {},
          "extra flags for Brook's peer, e.g. "
          "--brook_flags=--consumer_config=queued.max.messages.kbytes=16384");
ABSL_FLAG(std::vector<std::string>, impls,
          std::vector<std::string>({"brook", "kstreams"}),
          "runtimes to run (both for a comparison; one for an experiment)");
ABSL_FLAG(std::string, mode, "throughput",
          "throughput: a preloaded input processed as fast as possible; "
          "latency: a paced live input, timed from each input record's "
          "timestamp to its output's visibility under read_committed");
ABSL_FLAG(int64_t, latency_rate, 5000, "latency mode: input records/s");
ABSL_FLAG(absl::Duration, latency_warmup, absl::Seconds(10),
          "latency mode: paced input before measuring (JIT, caches)");
ABSL_FLAG(absl::Duration, latency_duration, absl::Seconds(30),
          "latency mode: paced input that is measured");

namespace brook {
namespace {

using S = std::string;

// A peer process with its output in a log file.
class Peer {
 public:
  Peer(const std::vector<S>& args, const S& log) {
    std::vector<char*> argv;
    for (const S& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ) !=
        0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Peer() { Stop(absl::Seconds(60)); }

  pid_t pid() const { return pid_; }
  bool Exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }
  // SIGTERM, then SIGKILL after `bound`. True if it stopped on SIGTERM.
  bool Stop(absl::Duration bound) {
    if (pid_ <= 0) return true;
    kill(pid_, SIGTERM);
    const absl::Time deadline = absl::Now() + bound;
    while (absl::Now() < deadline) {
      if (Exited()) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return false;
  }

 private:
  pid_t pid_ = -1;
};

// User+system CPU seconds of every thread of `pid`.
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<std::string> f =
      absl::StrSplit(text.substr(close + 2), ' ', absl::SkipEmpty());
  // f[0] is field 3 (state); utime and stime are fields 14 and 15.
  int64_t utime = 0, stime = 0;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) ||
      !absl::SimpleAtoi(f[12], &stime)) {
    return -1;
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// Peak resident set size of `pid` in MiB (VmHWM).
double PeakRssMiB(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    std::vector<std::string> f =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    int64_t kb = 0;
    if (f.size() >= 2 && absl::SimpleAtoi(f[1], &kb)) return kb / 1024.0;
  }
  return -1;
}

struct Variant {
  S workload, guarantee, impl;  // impl: brook or kstreams
  S Name() const { return absl::StrCat(workload, " ", guarantee, " ", impl); }
};

struct Result {
  double records_per_s = 0;
  double cpu_us_per_record = 0;
  double peak_rss_mib = 0;
  // Latency mode: milliseconds from an input record's timestamp to the
  // moment its output record was read under read_committed.
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  double latency_max_ms = 0;
};

struct Env {
  S bootstrap;
  ClientConfig client;
  S input;
  int64_t records = 0;
  // The join's inputs, records / 2 each (empty unless join runs).
  S left, right;
};

// The topics `workload` reads, and how many records they hold together.
std::vector<S> InputsOf(const Env& env, const S& workload) {
  if (workload == "join") return {env.left, env.right};
  return {env.input};
}

// Writes `n` records to each of `topics`: the i-th record of every topic has
// key k<i % keys>, a random value, and a timestamp that grows evenly over
// --event_time_span (ending an hour ago, on a minute boundary; recent enough
// that the broker's 7-day retention keeps it).
absl::Status Preload(const Env& env, const std::vector<S>& topics, int64_t n) {
  ClientConfig config = env.client;
  // Where Java's producer would put each key, so both runtimes see the same
  // partitions (and the join's two topics are co-partitioned either way).
  config["partitioner"] = "murmur2_random";
  BROOK_ASSIGN_OR_RETURN(auto producer, Producer::Create(config));
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> letter('a', 'z');
  const int keys = absl::GetFlag(FLAGS_keys);
  const int64_t span_ms =
      absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_event_time_span));
  const int64_t end_ms =
      (absl::ToUnixMillis(absl::Now()) - 3'600'000) / 60'000 * 60'000;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ts = end_ms - span_ms + i * span_ms / n;
    for (const S& topic : topics) {
      S value(absl::GetFlag(FLAGS_value_bytes), 'x');
      for (char& c : value) c = static_cast<char>(letter(rng));
      BROOK_RETURN_IF_ERROR(producer->Send({.topic = topic,
                                            .key = absl::StrCat("k", i % keys),
                                            .value = std::move(value),
                                            .timestamp_ms = ts}));
    }
  }
  return producer->Flush(absl::Minutes(5));
}

// The command line of `v`'s peer, reading `input` and writing `output`.
std::vector<S> PeerArgs(const Env& env, const Variant& v, const S& app,
                        const S& input, const S& output, const S& work) {
  // count_cached is count with the record cache on, in both runtimes.
  const bool cached = v.workload == "count_cached";
  std::vector<S> peer_flags = {
      absl::StrCat("--workload=", cached ? S("count") : v.workload),
      absl::StrCat("--cache_max_bytes=",
                   cached ? absl::GetFlag(FLAGS_cache_max_bytes) : 0),
      absl::StrCat("--guarantee=", v.guarantee),
      absl::StrCat("--bootstrap_servers=", env.bootstrap),
      absl::StrCat("--application_id=", app),
      absl::StrCat("--input_topic=", v.workload == "join" ? env.left : input),
      absl::StrCat("--output_topic=", output),
      absl::StrCat("--state_dir=", work, "/state"),
      absl::StrCat("--threads=", absl::GetFlag(FLAGS_threads)),
      absl::StrCat("--commit_interval_ms=",
                   absl::GetFlag(FLAGS_commit_interval_ms))};
  if (v.workload == "join") {
    peer_flags.push_back(absl::StrCat("--right_topic=", env.right));
    peer_flags.push_back(
        absl::StrCat("--join_window_ms=", absl::GetFlag(FLAGS_join_window_ms)));
    peer_flags.push_back(
        absl::StrCat("--join_grace_ms=", absl::GetFlag(FLAGS_join_grace_ms)));
  }
  std::vector<S> args;
  if (v.impl == "brook") {
    args = {absl::GetFlag(FLAGS_brook_peer)};
    for (const S& f : absl::GetFlag(FLAGS_brook_flags)) args.push_back(f);
  } else {
    args = {absl::GetFlag(FLAGS_java),
            absl::StrCat("-Xmx", absl::GetFlag(FLAGS_java_heap)), "-cp",
            absl::GetFlag(FLAGS_kstreams_classpath),
            "dev.brook.bench.KStreamsPeer"};
  }
  args.insert(args.end(), peer_flags.begin(), peer_flags.end());
  return args;
}

absl::StatusOr<Result> RunOnce(const Env& env, const Variant& v, int run) {
  const S app = absl::StrCat("cmp-", absl::ToUnixSeconds(absl::Now()), "-", run,
                             "-", v.workload, "-", v.guarantee, "-", v.impl);
  const S output = app + "-out";
  const S work = absl::StrCat(absl::GetFlag(FLAGS_work_dir), "/", app);
  std::filesystem::create_directories(work);
  const int32_t partitions = absl::GetFlag(FLAGS_partitions);
  BROOK_ASSIGN_OR_RETURN(auto admin, Admin::Create(env.client));
  BROOK_RETURN_IF_ERROR(
      admin->CreateTopic({output, partitions}, absl::Seconds(30)));

  const std::vector<S> args = PeerArgs(env, v, app, env.input, output, work);
  const S log = work + "/peer.log";

  ClientConfig watch = env.client;
  watch["group.id"] = app;
  BROOK_ASSIGN_OR_RETURN(auto consumer, Consumer::Create(watch, nullptr));
  std::vector<TopicPartition> inputs;
  for (const S& topic : InputsOf(env, v.workload)) {
    for (int p = 0; p < partitions; ++p) inputs.push_back({topic, p});
  }
  // Records in the inputs, and outputs expected: one per input record, but
  // for the join one per pair.
  const int64_t input_records =
      v.workload == "join" ? env.records / 2 * 2 : env.records;
  const int64_t expected = v.workload == "join" ? env.records / 2 : env.records;

  Peer peer(args, log);
  if (peer.pid() <= 0) {
    return absl::InternalError(absl::StrCat("cannot start ", args[0]));
  }
  const absl::Time deadline = absl::Now() + absl::GetFlag(FLAGS_timeout);
  std::optional<absl::Time> first;
  double cpu_first = 0;
  Result result;
  while (true) {
    if (peer.Exited()) {
      return absl::InternalError(
          absl::StrCat(v.Name(), ": the peer exited early; see ", log));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(v.Name(), ": not done within the timeout; see ", log));
    }
    absl::SleepFor(absl::Milliseconds(20));
    if (!first.has_value()) {
      int64_t out = 0;
      for (int p = 0; p < partitions; ++p) {
        auto marks = consumer->QueryWatermarks({output, p}, absl::Seconds(5));
        if (marks.ok()) out += marks->second;
      }
      if (out > 0) {
        first = absl::Now();
        cpu_first = CpuSeconds(peer.pid());
      }
      continue;
    }
    auto committed = consumer->Committed(inputs, absl::Seconds(5));
    if (!committed.ok()) continue;
    int64_t done = 0;
    for (const TopicPartitionOffset& c : *committed) {
      done += std::max<int64_t>(c.offset, 0);
    }
    if (done < input_records) continue;
    const double seconds = absl::ToDoubleSeconds(absl::Now() - *first);
    result.records_per_s = input_records / seconds;
    result.cpu_us_per_record =
        (CpuSeconds(peer.pid()) - cpu_first) * 1e6 / input_records;
    result.peak_rss_mib = PeakRssMiB(peer.pid());
    break;
  }
  consumer->Close().IgnoreError();  // a watcher only
  if (!peer.Stop(absl::Seconds(60))) {
    LOG(WARNING) << v.Name() << ": the peer needed SIGKILL; see " << log;
  }
  BROOK_ASSIGN_OR_RETURN(
      auto out, ReadTopic(env.client, output, IsolationLevel::kReadCommitted,
                          absl::GetFlag(FLAGS_readback_timeout)));
  const int64_t n = static_cast<int64_t>(out.size());
  if (v.workload == "count_cached") {
    // One update per key and commit: per key the counts strictly increase
    // (exactly-once) and the last ones add up to the input records.
    std::map<S, int64_t> last;
    for (const ConsumerRecord& r : out) {
      if (!r.key || !r.value || r.value->size() != 8) {
        return absl::DataLossError(absl::StrCat(v.Name(), ": a bad count"));
      }
      int64_t count = 0;
      for (unsigned char c : *r.value) count = (count << 8) | c;
      int64_t& prev = last[*r.key];
      if (v.guarantee == "eos" && count <= prev) {
        return absl::DataLossError(absl::StrCat(
            v.Name(), ": key ", *r.key, " went from ", prev, " to ", count));
      }
      prev = std::max(prev, count);
    }
    int64_t total = 0;
    for (const auto& [key, count] : last) total += count;
    std::cerr << v.Name() << ": " << n << " count updates for " << env.records
              << " records\n";
    if (v.guarantee == "eos" ? total != env.records : total < env.records) {
      return absl::DataLossError(
          absl::StrCat(v.Name(), ": final counts add up to ", total, " for ",
                       env.records, " input records"));
    }
  } else if (v.guarantee == "eos" ? n != expected : n < expected) {
    return absl::DataLossError(
        absl::StrCat(v.Name(), ": ", n, " output records for ", input_records,
                     " input records (", expected, " expected)"));
  }
  admin->DeleteTopic(output, absl::Seconds(30)).IgnoreError();  // best effort
  std::filesystem::remove_all(work + "/state");
  return result;
}

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

// Latency mode. The peer reads a topic of its own, fed live at
// --latency_rate records/s, each record stamped with the time it was sent.
// A reader outside the peer (read_committed, fetch.wait.max.ms=5, from the
// beginning of each output partition) takes, for every output record, the
// time it was read minus its timestamp: both peers keep the input record's
// timestamp on their output. Pacing starts once the peer emits its first
// output (start-up left out); records of the warm-up are not measured; every
// measured input must come out, or the run is INVALID.
absl::StatusOr<Result> RunLatency(const Env& env, const Variant& v, int run) {
  const S app = absl::StrCat("lat-", absl::ToUnixSeconds(absl::Now()), "-", run,
                             "-", v.workload, "-", v.guarantee, "-", v.impl);
  const S input = app + "-in";
  const S output = app + "-out";
  const S work = absl::StrCat(absl::GetFlag(FLAGS_work_dir), "/", app);
  std::filesystem::create_directories(work);
  const int32_t partitions = absl::GetFlag(FLAGS_partitions);
  BROOK_ASSIGN_OR_RETURN(auto admin, Admin::Create(env.client));
  BROOK_RETURN_IF_ERROR(
      admin->CreateTopic({input, partitions}, absl::Seconds(30)));
  BROOK_RETURN_IF_ERROR(
      admin->CreateTopic({output, partitions}, absl::Seconds(30)));

  ClientConfig reader_config = env.client;
  reader_config["isolation.level"] = "read_committed";
  reader_config["fetch.wait.max.ms"] = "5";
  BROOK_ASSIGN_OR_RETURN(auto reader, Consumer::Create(reader_config, nullptr));
  std::vector<TopicPartitionOffset> from;
  for (int p = 0; p < partitions; ++p) {
    from.push_back({{output, p}, kOffsetBeginning});
  }
  BROOK_RETURN_IF_ERROR(reader->Assign(from));
  ClientConfig producer_config = env.client;
  producer_config["linger.ms"] = "1";
  BROOK_ASSIGN_OR_RETURN(auto producer, Producer::Create(producer_config));

  const S log = work + "/peer.log";
  Peer peer(PeerArgs(env, v, app, input, output, work), log);
  if (peer.pid() <= 0) return absl::InternalError("cannot start the peer");
  const absl::Time ready_deadline = absl::Now() + absl::Minutes(2);
  // A probe record per second until the first output shows the peer runs.
  bool ready = false;
  for (int64_t probe = 0; !ready; ++probe) {
    if (peer.Exited() || absl::Now() > ready_deadline) {
      return absl::InternalError(
          absl::StrCat(v.Name(), ": no output from the peer; see ", log));
    }
    BROOK_RETURN_IF_ERROR(producer->Send(
        {.topic = input, .key = "probe", .value = absl::StrCat(probe)}));
    BROOK_RETURN_IF_ERROR(producer->Flush(absl::Seconds(10)));
    const absl::Time until = absl::Now() + absl::Seconds(1);
    while (!ready && absl::Now() < until) {
      BROOK_ASSIGN_OR_RETURN(auto r, reader->Poll(absl::Milliseconds(50)));
      ready = r.has_value();
    }
  }

  // The pacer, on a thread of its own: records due so far, every 2 ms.
  const int64_t rate = absl::GetFlag(FLAGS_latency_rate);
  const int64_t start_ms = NowMs();
  const int64_t measure_from =
      start_ms + absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_latency_warmup));
  const int64_t measure_to =
      measure_from +
      absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_latency_duration));
  std::atomic<int64_t> measured_sent{0};
  std::atomic<bool> pacer_done{false};
  absl::Status pacer_status;  // written by the pacer before pacer_done
  std::thread pacer([&] {
    const int keys = absl::GetFlag(FLAGS_keys);
    const S value(absl::GetFlag(FLAGS_value_bytes), 'v');
    int64_t sent = 0;
    for (int64_t now = NowMs(); now < measure_to; now = NowMs()) {
      for (const int64_t due = (now - start_ms) * rate / 1000; sent < due;
           ++sent) {
        pacer_status = producer->Send({.topic = input,
                                       .key = absl::StrCat("k", sent % keys),
                                       .value = value,
                                       .timestamp_ms = now});
        if (!pacer_status.ok()) break;
        if (now >= measure_from) measured_sent.fetch_add(1);
      }
      if (!pacer_status.ok()) break;
      absl::SleepFor(absl::Milliseconds(2));
    }
    if (pacer_status.ok()) pacer_status = producer->Flush(absl::Seconds(30));
    pacer_done.store(true);
  });

  std::vector<double> latencies;
  double cpu_from = -1, cpu_to = -1;
  const int64_t deadline = measure_to + 60000;
  absl::Status status;
  while (true) {
    const int64_t now = NowMs();
    if (cpu_from < 0 && now >= measure_from) cpu_from = CpuSeconds(peer.pid());
    if (cpu_to < 0 && now >= measure_to) cpu_to = CpuSeconds(peer.pid());
    if (pacer_done.load() && cpu_to >= 0 &&
        static_cast<int64_t>(latencies.size()) >= measured_sent.load()) {
      break;
    }
    if (now > deadline || peer.Exited()) {
      status = absl::DeadlineExceededError(absl::StrCat(
          v.Name(), ": ", latencies.size(), " of ", measured_sent.load(),
          " measured records came out; see ", log));
      break;
    }
    absl::StatusOr<std::optional<ConsumerRecord>> r =
        reader->Poll(absl::Milliseconds(20));
    if (!r.ok()) {
      status = r.status();
      break;
    }
    if (!r->has_value()) continue;
    const int64_t ts = (*r)->timestamp_ms;
    if (ts >= measure_from && ts < measure_to) {
      latencies.push_back(static_cast<double>(NowMs() - ts));
    }
  }
  pacer.join();
  Result result;
  result.peak_rss_mib = PeakRssMiB(peer.pid());
  reader->Close().IgnoreError();
  if (!peer.Stop(absl::Seconds(60))) {
    LOG(WARNING) << v.Name() << ": the peer needed SIGKILL; see " << log;
  }
  BROOK_RETURN_IF_ERROR(pacer_status);
  BROOK_RETURN_IF_ERROR(status);
  const double seconds =
      absl::ToDoubleSeconds(absl::GetFlag(FLAGS_latency_duration));
  result.records_per_s = measured_sent.load() / seconds;
  result.cpu_us_per_record = (cpu_to - cpu_from) * 1e6 / measured_sent.load();
  result.latency_p50_ms = Percentile(latencies, 0.50);
  result.latency_p99_ms = Percentile(latencies, 0.99);
  result.latency_max_ms = Percentile(latencies, 1.0);
  admin->DeleteTopic(output, absl::Seconds(30)).IgnoreError();  // best effort
  admin->DeleteTopic(input, absl::Seconds(30)).IgnoreError();
  std::filesystem::remove_all(work + "/state");
  return result;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void Plot(const S& out, const std::vector<std::pair<S, S>>& rows,
          const std::map<S, std::vector<Result>>& results) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    std::cerr << "gnuplot is not installed: no PNG\n";
    return;
  }
  const S data = out + ".dat";
  {
    std::ofstream d(data);
    d << "# workload brook_rps kstreams_rps brook_cpu_us kstreams_cpu_us\n";
    for (const auto& [workload, guarantee] : rows) {
      auto med = [&](const S& impl, auto field) {
        std::vector<double> v;
        auto it =
            results.find(absl::StrCat(workload, " ", guarantee, " ", impl));
        if (it != results.end()) {
          for (const Result& r : it->second) v.push_back(r.*field);
        }
        return Median(v);
      };
      d << "\"" << workload << " " << guarantee << "\" "
        << med("brook", &Result::records_per_s) / 1000 << " "
        << med("kstreams", &Result::records_per_s) / 1000 << " "
        << med("brook", &Result::cpu_us_per_record) << " "
        << med("kstreams", &Result::cpu_us_per_record) << "\n";
    }
  }
  const S png = out + ".png";
  const S script = absl::StrCat(
      "set terminal png size 1100,450; set output '", png, "';",
      "set style data histograms; set style histogram clustered gap 1;",
      "set style fill solid 0.8 border -1; set boxwidth 0.9; set grid ytics;",
      "set key outside bottom center horizontal; set xtics rotate by -20;",
      "set multiplot layout 1,2;",
      "set title 'throughput (thousand records/s, higher is better)';",
      "set yrange [0:*]; plot '", data,
      "' using 2:xtic(1) title 'Brook', '' using 3 title 'Kafka Streams';",
      "set title 'CPU per record (us, lower is better)';", "plot '", data,
      "' using 4:xtic(1) title 'Brook', '' using 5 title 'Kafka Streams';",
      "unset multiplot");
  const S cmd = absl::StrCat("gnuplot -e \"", script, "\"");
  if (std::system(cmd.c_str()) == 0) {
    std::cerr << "plot: " << png << "\n";
  } else {
    std::cerr << "gnuplot failed: " << cmd << "\n";
  }
}

// The throughput mode's report: medians over runs.
void ThroughputReport(const Env& env, const std::vector<std::pair<S, S>>& rows,
                      std::map<S, std::vector<Result>>& results, int invalid,
                      std::ostringstream& report) {
  report << absl::StrFormat(
      "Brook vs Kafka Streams 3.9.1, %d records (%d-byte values, %d keys), "
      "%d partitions, %d stream thread(s), commit.interval.ms=%d, no record "
      "cache (count_cached: statestore.cache.max.bytes=%d in both), medians "
      "of %d alternated runs (%d invalid)\n\n",
      env.records, absl::GetFlag(FLAGS_value_bytes), absl::GetFlag(FLAGS_keys),
      absl::GetFlag(FLAGS_partitions), absl::GetFlag(FLAGS_threads),
      absl::GetFlag(FLAGS_commit_interval_ms),
      absl::GetFlag(FLAGS_cache_max_bytes), absl::GetFlag(FLAGS_repetitions),
      invalid);
  report << "| workload | Brook records/s | Kafka Streams records/s | ratio | "
            "Brook CPU us/record | KS CPU us/record | ratio | Brook peak RSS "
            "MiB | KS peak RSS MiB | ratio |\n"
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const auto& [w, g] : rows) {
    auto med = [&](const S& impl, double Result::*field) {
      std::vector<double> v;
      for (const Result& r : results[absl::StrCat(w, " ", g, " ", impl)]) {
        v.push_back(r.*field);
      }
      return Median(v);
    };
    const double br = med("brook", &Result::records_per_s);
    const double kr = med("kstreams", &Result::records_per_s);
    const double bc = med("brook", &Result::cpu_us_per_record);
    const double kc = med("kstreams", &Result::cpu_us_per_record);
    const double bm = med("brook", &Result::peak_rss_mib);
    const double km = med("kstreams", &Result::peak_rss_mib);
    report << absl::StrFormat(
        "| %s %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f | "
        "%.2f |\n",
        w, g, br, kr, kr > 0 ? br / kr : 0, bc, kc, kc > 0 ? bc / kc : 0, bm,
        km, km > 0 ? bm / km : 0);
  }
}

// The latency mode's report: medians over runs of each run's percentiles.
void LatencyReport(const std::vector<std::pair<S, S>>& rows,
                   std::map<S, std::vector<Result>>& results, int invalid,
                   std::ostringstream& report) {
  const int64_t commit_ms = absl::GetFlag(FLAGS_commit_interval_ms);
  report << absl::StrFormat(
      "Brook vs Kafka Streams 3.9.1, end-to-end latency: %d records/s for "
      "%s after a %s warm-up (%d-byte values, %d keys), %d partitions, %d "
      "stream thread(s), commit.interval.ms=%d, no record cache; input "
      "timestamp to output read under read_committed; medians of %d "
      "alternated runs (%d invalid)\n\n",
      absl::GetFlag(FLAGS_latency_rate),
      absl::FormatDuration(absl::GetFlag(FLAGS_latency_duration)),
      absl::FormatDuration(absl::GetFlag(FLAGS_latency_warmup)),
      absl::GetFlag(FLAGS_value_bytes), absl::GetFlag(FLAGS_keys),
      absl::GetFlag(FLAGS_partitions), absl::GetFlag(FLAGS_threads), commit_ms,
      absl::GetFlag(FLAGS_repetitions), invalid);
  report << "| workload | Brook p50 ms | KS p50 ms | Brook p99 ms | KS p99 ms "
            "| p99 ratio | Brook p99 / commit interval | Brook max ms | KS max "
            "ms | Brook CPU us/record | KS CPU us/record | ratio |\n"
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const auto& [w, g] : rows) {
    auto med = [&](const S& impl, double Result::*field) {
      std::vector<double> v;
      for (const Result& r : results[absl::StrCat(w, " ", g, " ", impl)]) {
        v.push_back(r.*field);
      }
      return Median(v);
    };
    const double b99 = med("brook", &Result::latency_p99_ms);
    const double k99 = med("kstreams", &Result::latency_p99_ms);
    const double bc = med("brook", &Result::cpu_us_per_record);
    const double kc = med("kstreams", &Result::cpu_us_per_record);
    report << absl::StrFormat(
        "| %s %s | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f | %.0f | "
        "%.2f | %.2f | %.2f |\n",
        w, g, med("brook", &Result::latency_p50_ms),
        med("kstreams", &Result::latency_p50_ms), b99, k99,
        k99 > 0 ? b99 / k99 : 0, b99 / commit_ms,
        med("brook", &Result::latency_max_ms),
        med("kstreams", &Result::latency_max_ms), bc, kc, kc > 0 ? bc / kc : 0);
  }
}

absl::Status Main() {
  Env env;
  env.bootstrap = absl::GetFlag(FLAGS_bootstrap_servers);
  if (env.bootstrap.empty() && std::getenv("BROOK_BOOTSTRAP_SERVERS")) {
    env.bootstrap = std::getenv("BROOK_BOOTSTRAP_SERVERS");
  }
  if (env.bootstrap.empty()) {
    return absl::InvalidArgumentError(
        "no broker: pass --bootstrap_servers or set BROOK_BOOTSTRAP_SERVERS");
  }
  if (absl::GetFlag(FLAGS_brook_peer).empty() ||
      absl::GetFlag(FLAGS_kstreams_classpath).empty()) {
    return absl::InvalidArgumentError(
        "--brook_peer and --kstreams_classpath are required (scripts/compare "
        "sets them)");
  }
  env.client = {{"bootstrap.servers", env.bootstrap}};
  const S mode = absl::GetFlag(FLAGS_mode);
  if (mode != "throughput" && mode != "latency") {
    return absl::InvalidArgumentError(
        absl::StrCat("--mode='", mode, "': expected throughput or latency"));
  }
  const bool latency = mode == "latency";
  env.records = absl::GetFlag(FLAGS_records);
  env.input = absl::StrCat("cmp-in-", absl::ToUnixSeconds(absl::Now()));
  BROOK_ASSIGN_OR_RETURN(auto admin, Admin::Create(env.client));
  const std::vector<S> workloads = absl::GetFlag(FLAGS_workloads);
  const bool join =
      std::find(workloads.begin(), workloads.end(), "join") != workloads.end();
  for (const S& w : workloads) {
    if (w != "passthrough" && w != "count" && w != "count_cached" &&
        w != "windowed-count" && w != "join") {
      return absl::InvalidArgumentError(absl::StrCat(
          "--workloads: unknown workload '", w,
          "' (passthrough, count, count_cached, windowed-count, join)"));
    }
    if (latency && (w == "windowed-count" || w == "join")) {
      return absl::InvalidArgumentError(
          absl::StrCat("--workloads: ", w, " has no latency mode yet"));
    }
  }
  if (!latency) {
    const int32_t partitions = absl::GetFlag(FLAGS_partitions);
    BROOK_RETURN_IF_ERROR(
        admin->CreateTopic({env.input, partitions}, absl::Seconds(30)));
    BROOK_RETURN_IF_ERROR(Preload(env, {env.input}, env.records));
    std::cerr << "preloaded " << env.records << " records to " << env.input
              << "\n";
    if (join) {
      env.left = env.input + "-left";
      env.right = env.input + "-right";
      BROOK_RETURN_IF_ERROR(
          admin->CreateTopic({env.left, partitions}, absl::Seconds(30)));
      BROOK_RETURN_IF_ERROR(
          admin->CreateTopic({env.right, partitions}, absl::Seconds(30)));
      BROOK_RETURN_IF_ERROR(
          Preload(env, {env.left, env.right}, env.records / 2));
      std::cerr << "preloaded " << env.records / 2 << " records each to "
                << env.left << " and " << env.right << "\n";
    }
  }

  std::vector<std::pair<S, S>> rows;
  for (const S& w : absl::GetFlag(FLAGS_workloads)) {
    for (const S& g : absl::GetFlag(FLAGS_guarantees)) rows.push_back({w, g});
  }
  std::map<S, std::vector<Result>> results;
  int invalid = 0;
  for (int run = 0; run < absl::GetFlag(FLAGS_repetitions); ++run) {
    for (const auto& [w, g] : rows) {
      // Alternate which runtime goes first, so that drift spreads evenly.
      std::vector<S> impls = absl::GetFlag(FLAGS_impls);
      if (run % 2 == 1) std::reverse(impls.begin(), impls.end());
      for (const S& impl : impls) {
        const Variant v{w, g, impl};
        absl::StatusOr<Result> r =
            latency ? RunLatency(env, v, run) : RunOnce(env, v, run);
        if (!r.ok()) {
          ++invalid;
          std::cerr << "run " << run << " " << v.Name()
                    << ": INVALID: " << r.status() << "\n";
          continue;
        }
        results[v.Name()].push_back(*r);
        if (latency) {
          std::cerr << absl::StrFormat(
              "run %d %-28s latency p50 %4.0f ms  p99 %4.0f ms  max %5.0f ms  "
              "%6.2f us CPU/record  %6.0f MiB peak RSS\n",
              run, v.Name(), r->latency_p50_ms, r->latency_p99_ms,
              r->latency_max_ms, r->cpu_us_per_record, r->peak_rss_mib);
          continue;
        }
        std::cerr << absl::StrFormat(
            "run %d %-28s %9.0f records/s  %6.2f us CPU/record  %6.0f MiB "
            "peak RSS\n",
            run, v.Name(), r->records_per_s, r->cpu_us_per_record,
            r->peak_rss_mib);
      }
    }
  }
  if (!latency) {
    for (const S& topic : {env.input, env.left, env.right}) {
      if (!topic.empty()) {
        admin->DeleteTopic(topic, absl::Seconds(30))
            .IgnoreError();  // best effort
      }
    }
  }

  std::ostringstream report;
  if (latency) {
    LatencyReport(rows, results, invalid, report);
  } else {
    ThroughputReport(env, rows, results, invalid, report);
  }
  std::cout << report.str();
  const S out = absl::GetFlag(FLAGS_out);
  if (!out.empty()) {
    std::ofstream(out) << report.str();
    if (!latency) Plot(out, rows, results);
  }
  return invalid == 0
             ? absl::OkStatus()
             : absl::DataLossError(absl::StrCat(invalid, " runs were INVALID"));
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  if (absl::Status s = brook::Main(); !s.ok()) {
    std::cerr << "brook_compare: " << s << "\n";
    return 1;
  }
  return 0;
}
