// passthrough_bench's Markdown report (report.h). Statistics cover the valid
// (ok) runs only; every ratio is of two medians measured in the same run.
#include "bench/passthrough/report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include "bench/passthrough/machine.h"
#include "bench/passthrough/raw_copy.h"
#include "bench/passthrough/run.h"

namespace brook::passthrough_bench {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// One variant's runs. Statistics cover the valid (ok) runs only.
struct Summary {
  int ok = 0;
  int total = 0;
  double median = 0;  // records/s
  double min = 0;
  double max = 0;
  double median_commits = 0;
  absl::Duration median_startup;  // assignment -> first output
  double median_cpu_us = 0;       // client CPU per record
  std::string failures;           // e.g. "INVALID x1, TIMEOUT x1"
};

Summary Summarize(const std::vector<RunResult>& results, int index,
                  int64_t records) {
  Summary s;
  std::vector<double> rates, commits, startups, cpu;
  int failed[4] = {0, 0, 0, 0};
  for (const RunResult& r : results) {
    if (r.variant_index != index) continue;
    ++s.total;
    ++failed[static_cast<int>(r.outcome)];
    if (r.outcome != Outcome::kOk) continue;
    rates.push_back(records / absl::ToDoubleSeconds(r.measurement.elapsed()));
    commits.push_back(static_cast<double>(r.measurement.commits));
    startups.push_back(absl::ToDoubleSeconds(r.measurement.startup()));
    cpu.push_back(r.client_cpu_us_per_record);
  }
  s.ok = static_cast<int>(rates.size());
  if (!rates.empty()) {
    s.median = Median(rates);
    s.min = *std::min_element(rates.begin(), rates.end());
    s.max = *std::max_element(rates.begin(), rates.end());
    s.median_commits = Median(commits);
    s.median_startup = absl::Seconds(Median(startups));
    s.median_cpu_us = Median(cpu);
  }
  for (Outcome o : {Outcome::kInvalid, Outcome::kTimeout, Outcome::kError}) {
    const int count = failed[static_cast<int>(o)];
    if (count == 0) continue;
    if (!s.failures.empty()) s.failures += ", ";
    absl::StrAppend(&s.failures, OutcomeName(o), " x", count);
  }
  return s;
}

std::string Thousands(double value) {
  std::string digits = absl::StrCat(std::llround(value));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    // insert(pos, count, char) rather than insert(pos, ","): the same
    // result, without GCC 12's false -Wrestrict on the latter (GCC PR 105329).
    if (digits[i - 1] != '-') digits.insert(i, 1, ',');
  }
  return digits;
}

int FindVariant(const std::vector<Variant>& variants, Loop loop, Commit commit,
                absl::Duration interval) {
  for (int i = 0; i < static_cast<int>(variants.size()); ++i) {
    const Variant& v = variants[i];
    if (v.loop == loop && v.commit == commit && v.interval == interval) {
      return i;
    }
  }
  return -1;
}

// a.median / b.median, or "-" when either has no valid run.
std::string Ratio(const std::vector<Summary>& s, int a, int b) {
  if (a < 0 || b < 0 || s[a].ok == 0 || s[b].ok == 0) return "-";
  return absl::StrFormat("%.2f", s[a].median / s[b].median);
}

void AppendThroughputTable(const ReportContext& ctx,
                           const std::vector<Summary>& summaries,
                           std::string& out) {
  const std::vector<Variant>& variants = ctx.variants;
  const int nocommit =
      FindVariant(variants, Loop::kRaw, Commit::kNone, absl::ZeroDuration());
  const double bytes_per_record =
      static_cast<double>(ctx.input_bytes) / ctx.config.records;
  absl::StrAppend(
      &out,
      "| variant | commit interval | records/s (median) | min - max | spread "
      "| MB/s | / raw_nocommit | / raw_alos | commits | startup "
      "| client CPU/record | status |\n",
      "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
  for (int i = 0; i < static_cast<int>(variants.size()); ++i) {
    const Variant& v = variants[i];
    const Summary& s = summaries[i];
    const int alos = v.commit == Commit::kNone
                         ? -1
                         : FindVariant(variants, Loop::kRaw,
                                       Commit::kAtLeastOnce, v.interval);
    const std::string status =
        s.failures.empty()
            ? absl::StrCat("ok ", s.ok, "/", s.total)
            : absl::StrCat(s.failures, "; ok ", s.ok, "/", s.total);
    if (s.ok == 0) {
      absl::StrAppend(&out, "| ", v.Name(), " | ", v.IntervalLabel(),
                      " | - | - | - | - | - | - | - | - | - | ", status,
                      " |\n");
      continue;
    }
    absl::StrAppendFormat(
        &out,
        "| %s | %s | %s | %s - %s | %.0f%% | %.1f | %s | %s | %s | %dms | "
        "%.2f us | %s |\n",
        v.Name(), v.IntervalLabel(), Thousands(s.median), Thousands(s.min),
        Thousands(s.max), 100 * (s.max - s.min) / s.median,
        s.median * bytes_per_record / 1e6, Ratio(summaries, i, nocommit),
        Ratio(summaries, i, alos),
        v.commit == Commit::kNone ? "-" : Thousands(s.median_commits),
        absl::ToInt64Milliseconds(s.median_startup), s.median_cpu_us, status);
  }
}

void AppendOverheadTable(const ReportContext& ctx,
                         const std::vector<Summary>& summaries,
                         std::string& out) {
  absl::StrAppend(&out,
                  "| commit interval | brook_eos / raw_eos (framework, EOS) "
                  "| brook_alos / raw_alos (framework, ALOS) "
                  "| brook_eos / brook_alos (Brook's EOS tax) "
                  "| raw_eos / raw_alos (protocol's EOS tax) |\n",
                  "|---|--:|--:|--:|--:|\n");
  for (absl::Duration interval : ctx.config.intervals) {
    auto find = [&](Loop loop, Commit commit) {
      return FindVariant(ctx.variants, loop, commit, interval);
    };
    const int raw_alos = find(Loop::kRaw, Commit::kAtLeastOnce);
    const int raw_eos = find(Loop::kRaw, Commit::kExactlyOnce);
    const int brook_alos = find(Loop::kBrook, Commit::kAtLeastOnce);
    const int brook_eos = find(Loop::kBrook, Commit::kExactlyOnce);
    absl::StrAppend(&out, "| ", absl::FormatDuration(interval), " | ",
                    Ratio(summaries, brook_eos, raw_eos), " | ",
                    Ratio(summaries, brook_alos, raw_alos), " | ",
                    Ratio(summaries, brook_eos, brook_alos), " | ",
                    Ratio(summaries, raw_eos, raw_alos), " |\n");
  }
}

void AppendRunsTable(const ReportContext& ctx,
                     const std::vector<RunResult>& results, std::string& out) {
  absl::StrAppend(&out,
                  "| # | round | variant | commit interval | records/s | "
                  "commits | startup | client CPU/record | machine busy | "
                  "steal | status |\n",
                  "|--:|--:|---|---|--:|--:|--:|--:|--:|--:|---|\n");
  int n = 0;
  for (const RunResult& r : results) {
    const Variant& v = ctx.variants[r.variant_index];
    const bool timed = Timed(r);
    absl::StrAppendFormat(
        &out,
        "| %d | %d | %s | %s | %s | %d | %s | %.2f us | %.0f%% | %.1f%% | "
        "%s%s%s |\n",
        ++n, r.round, v.Name(), v.IntervalLabel(),
        timed ? Thousands(RecordsPerSecond(ctx.config.records, r)) : "-",
        r.measurement.commits,
        timed ? absl::StrCat(absl::ToInt64Milliseconds(r.measurement.startup()),
                             "ms")
              : "-",
        r.client_cpu_us_per_record, r.cpu_busy_percent, r.steal_percent,
        OutcomeName(r.outcome), r.detail.empty() ? "" : ": ", r.detail);
  }
}

}  // namespace

std::string Report(const ReportContext& ctx,
                   const std::vector<RunResult>& results, absl::Time started,
                   const std::string& load_before) {
  const BenchConfig& c = ctx.config;
  std::vector<Summary> summaries;
  for (int i = 0; i < static_cast<int>(ctx.variants.size()); ++i) {
    summaries.push_back(Summarize(results, i, c.records));
  }
  std::string out = "## Passthrough benchmark\n\n";
  absl::StrAppend(
      &out, "- started ",
      absl::FormatTime("%Y-%m-%d %H:%M %Z", started, absl::UTCTimeZone()),
      ", took ",
      absl::FormatDuration(
          absl::Trunc(absl::Now() - started, absl::Seconds(1))),
      "; ", std::thread::hardware_concurrency(), " cores; load average ",
      load_before, " before, ", LoadAverage(), " after\n", "- librdkafka ",
      LibrdkafkaVersion(), ", broker ", c.bootstrap_servers, "\n",
      "- input: ", Thousands(c.records), " records, ", c.value_bytes,
      "-byte values, keys k0..k", kKeyCardinality - 1, ", ", c.partitions,
      " partitions, ", absl::StrFormat("%.1f", ctx.input_bytes / 1e6),
      " MB of keys and values\n", "- ", c.repetitions,
      " runs per variant, interleaved round by round; clock: first output "
      "record -> every offset committed (raw_nocommit: last record "
      "delivered); consumer prefetch limits ",
      c.consumer_prefetch ? "raised" : "librdkafka's", "\n\n");
  AppendThroughputTable(ctx, summaries, out);
  absl::StrAppend(
      &out,
      "\nMedians and min - max over the valid runs; spread = (max - min) / "
      "median; MB/s counts keys and values (10^6 bytes); ratios are of "
      "medians; commits = median number of commits per run; startup = "
      "median time from the start of a run (before its clients exist) to its "
      "first output record, outside the measured window.\n\n"
      "### Overheads at each commit interval (ratios of medians; 1.00 = no "
      "cost)\n\n");
  AppendOverheadTable(ctx, summaries, out);
  absl::StrAppend(&out, "\n### Every run, in the order run\n\n");
  AppendRunsTable(ctx, results, out);
  return out;
}

}  // namespace brook::passthrough_bench
