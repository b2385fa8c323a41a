#include "tools/chaos/verifier.h"

#include <algorithm>
#include <fstream>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/topic_reader.h"

namespace brook::chaos {
namespace {

// Where a record sits, as Kafka's tools print it: "topic-3@1234".
std::string Where(const ConsumerRecord& r) {
  return absl::StrCat(r.topic, "-", r.partition, "@", r.offset);
}

std::string KeyOf(const ConsumerRecord& r) { return r.key.value_or("<null>"); }

// Collects violations, counting all and keeping the first few of each kind.
class Collector {
 public:
  Collector(Report& report, int max_listed)
      : report_(report), max_listed_(max_listed) {}
  void Add(Invariant invariant, std::string detail) {
    if (++report_.counts[invariant] <= max_listed_) {
      report_.listed.push_back({invariant, std::move(detail)});
    }
  }

 private:
  Report& report_;
  int max_listed_;
};

struct InputId {
  const ConsumerRecord* record;
  int occurrences = 0;
  std::vector<std::string> seen_at;  // output positions
};

// An output value "<id>:<count>", split at the last ':'.
bool ParseOutput(const ConsumerRecord& r, std::string& id, int64_t& count) {
  if (!r.value.has_value()) return false;
  const std::string& v = *r.value;
  const size_t colon = v.rfind(':');
  if (colon == std::string::npos) return false;
  id = v.substr(0, colon);
  return absl::SimpleAtoi(v.substr(colon + 1), &count);
}

// Serdes::Int64: 8 bytes, big-endian two's complement.
bool DecodeInt64(const std::string& bytes, int64_t& value) {
  if (bytes.size() != 8) return false;
  uint64_t v = 0;
  for (unsigned char c : bytes) v = (v << 8) | c;
  value = static_cast<int64_t>(v);
  return true;
}

bool ByPosition(const ConsumerRecord* a, const ConsumerRecord* b) {
  return std::tie(a->partition, a->offset) < std::tie(b->partition, b->offset);
}

// E1 and E2, and the per-key output sequences E3 and E4 need.
void CheckOutputIds(const VerifierInput& in, Collector& c, Report& report) {
  absl::flat_hash_map<std::string, InputId> committed;
  for (const ConsumerRecord& r : in.input_committed) {
    committed.try_emplace(r.value.value_or(""), InputId{&r});
  }
  absl::flat_hash_map<std::string, const ConsumerRecord*> aborted;
  for (const ConsumerRecord& r : in.input_uncommitted) {
    const std::string id = r.value.value_or("");
    if (!committed.contains(id)) aborted.try_emplace(id, &r);
  }
  report.input_aborted = static_cast<int64_t>(aborted.size());
  for (const ConsumerRecord& r : in.output_committed) {
    std::string id;
    int64_t count = 0;
    if (!ParseOutput(r, id, count)) {
      c.Add(Invariant::kE1, absl::StrCat("key '", KeyOf(r), "': output ",
                                         Where(r), " has a malformed value '",
                                         r.value.value_or("<null>"), "'"));
      continue;
    }
    if (auto it = committed.find(id); it != committed.end()) {
      ++it->second.occurrences;
      it->second.seen_at.push_back(Where(r));
      if (KeyOf(*it->second.record) != KeyOf(r)) {
        c.Add(Invariant::kE1,
              absl::StrCat("id '", id, "': input ", Where(*it->second.record),
                           " has key '", KeyOf(*it->second.record),
                           "' but output ", Where(r), " has key '", KeyOf(r),
                           "'"));
      }
    } else if (auto a = aborted.find(id); a != aborted.end()) {
      c.Add(Invariant::kE2,
            absl::StrCat("key '", KeyOf(r), "': output ", Where(r),
                         " carries id '", id,
                         "' of an aborted input transaction (input ",
                         Where(*a->second), ")"));
    } else {
      c.Add(Invariant::kE1,
            absl::StrCat("key '", KeyOf(r), "': output ", Where(r),
                         " carries id '", id, "', which no input record has"));
    }
  }
  // Report in input order, so that the listing is stable between runs.
  for (const ConsumerRecord& r : in.input_committed) {
    const InputId& id = committed.at(r.value.value_or(""));
    if (id.record != &r) continue;  // a repeated input id: count it once
    if (id.occurrences == 0) {
      c.Add(Invariant::kE1,
            absl::StrCat("key '", KeyOf(r), "': input ", Where(r), " (id '",
                         r.value.value_or(""), "') has no output"));
    } else if (id.occurrences > 1) {
      c.Add(Invariant::kE1,
            absl::StrCat("key '", KeyOf(r), "': input ", Where(r), " (id '",
                         r.value.value_or(""), "') appears ", id.occurrences,
                         " times in the output, at ",
                         absl::StrJoin(id.seen_at, ", ")));
    }
  }
}

// E3, and the last output count per key for E4.
std::map<std::string, std::pair<int64_t, const ConsumerRecord*>> CheckSequences(
    const VerifierInput& in, Collector& c) {
  std::map<std::string, std::vector<const ConsumerRecord*>> per_key;
  for (const ConsumerRecord& r : in.output_committed) {
    per_key[KeyOf(r)].push_back(&r);
  }
  std::map<std::string, std::pair<int64_t, const ConsumerRecord*>> last;
  for (auto& [key, records] : per_key) {
    std::sort(records.begin(), records.end(), ByPosition);
    int64_t expected = 1;
    for (const ConsumerRecord* r : records) {
      std::string id;
      int64_t count = 0;
      if (!ParseOutput(*r, id, count)) continue;  // E1 reported it
      if (count != expected) {
        c.Add(Invariant::kE3,
              absl::StrCat("key '", key, "': output ", Where(*r), " has count ",
                           count, ", expected ", expected,
                           count < expected ? " (a repeat)" : " (a gap)"));
      }
      expected = count + 1;  // resynchronise: one fault, one violation
      last[key] = {count, r};
    }
  }
  return last;
}

void CheckChangelog(
    const VerifierInput& in,
    const std::map<std::string, std::pair<int64_t, const ConsumerRecord*>>&
        last_output,
    Collector& c) {
  std::map<std::string, std::pair<int64_t, const ConsumerRecord*>> folded;
  for (const ConsumerRecord& r : in.changelog_committed) {
    if (!r.value.has_value()) {
      folded.erase(KeyOf(r));
      continue;
    }
    int64_t v = 0;
    if (!DecodeInt64(*r.value, v)) {
      c.Add(Invariant::kE4,
            absl::StrCat("key '", KeyOf(r), "': changelog ", Where(r),
                         " holds ", r.value->size(), " bytes, not an int64"));
      continue;
    }
    folded[KeyOf(r)] = {v, &r};
  }
  for (const auto& [key, value] : folded) {
    auto it = last_output.find(key);
    if (it == last_output.end()) {
      c.Add(Invariant::kE4,
            absl::StrCat("key '", key, "': changelog ", Where(*value.second),
                         " holds ", value.first, " but the key has no output"));
    } else if (it->second.first != value.first) {
      c.Add(Invariant::kE4,
            absl::StrCat("key '", key, "': changelog ", Where(*value.second),
                         " holds ", value.first, " but the last output ",
                         Where(*it->second.second), " has count ",
                         it->second.first));
    }
  }
  for (const auto& [key, value] : last_output) {
    if (!folded.contains(key)) {
      c.Add(Invariant::kE4,
            absl::StrCat("key '", key, "': output ", Where(*value.second),
                         " has count ", value.first,
                         " but the changelog holds no value"));
    }
  }
}

void CheckEnds(const VerifierInput& in, Collector& c) {
  for (const PartitionEnd& e : in.ends) {
    if (e.stable_end != e.log_end) {
      c.Add(Invariant::kE5,
            absl::StrCat(e.topic, "-", e.partition, ": last stable offset ",
                         e.stable_end, " < high watermark ", e.log_end,
                         " (a transaction is still open)"));
    }
  }
}

void CheckGroupOffsets(const VerifierInput& in, Collector& c) {
  std::map<int32_t, const ConsumerRecord*> last;
  for (const ConsumerRecord& r : in.input_committed) {
    auto& l = last[r.partition];
    if (l == nullptr || l->offset < r.offset) l = &r;
  }
  for (const auto& [partition, r] : last) {
    const int64_t committed =
        partition < static_cast<int32_t>(in.group_committed.size())
            ? in.group_committed[partition]
            : -1;
    if (committed <= r->offset) {
      c.Add(Invariant::kE6,
            absl::StrCat(r->topic, "-", partition, ": the group committed ",
                         committed < 0 ? std::string("nothing")
                                       : absl::StrCat("offset ", committed),
                         " but the last committed input record is at ",
                         r->offset, " (key '", KeyOf(*r), "')"));
    }
  }
}

}  // namespace

const char* InvariantName(Invariant invariant) {
  static const char* const kNames[] = {"E1", "E2", "E3", "E4",
                                       "E5", "E6", "E7"};
  return kNames[static_cast<int>(invariant)];
}

const char* InvariantSummary(Invariant invariant) {
  switch (invariant) {
    case Invariant::kE1:
      return "every committed input id appears exactly once in the output";
    case Invariant::kE2:
      return "no output from an aborted input transaction";
    case Invariant::kE3:
      return "per key, counts run 1..n with no gap and no repeat";
    case Invariant::kE4:
      return "folded changelog equals the last output count per key";
    case Invariant::kE5:
      return "no hanging transaction (LSO == high watermark)";
    case Invariant::kE6:
      return "group offsets cover every committed input record";
    case Invariant::kE7:
      return "every instance ended RUNNING or closed cleanly";
  }
  return "";
}

int64_t Report::Count(Invariant invariant) const {
  auto it = counts.find(invariant);
  return it == counts.end() ? 0 : it->second;
}

std::string Report::ToString() const {
  std::string out = absl::StrFormat(
      "input: %d committed records, %d aborted; output: %d records; %d keys\n",
      input_committed, input_aborted, output_records, keys);
  absl::StrAppendFormat(&out, "%-4s %-8s %10s  %s\n", "", "verdict",
                        "violations", "invariant");
  for (int i = 0; i < kInvariantCount; ++i) {
    const Invariant inv = static_cast<Invariant>(i);
    absl::StrAppendFormat(&out, "%-4s %-8s %10d  %s\n", InvariantName(inv),
                          Count(inv) == 0 ? "ok" : "VIOLATED", Count(inv),
                          InvariantSummary(inv));
  }
  for (const Violation& v : listed) {
    absl::StrAppend(&out, InvariantName(v.invariant), ": ", v.detail, "\n");
  }
  for (const auto& [inv, n] : counts) {
    int64_t shown = 0;
    for (const Violation& v : listed) shown += v.invariant == inv;
    if (n > shown) {
      absl::StrAppend(&out, InvariantName(inv), ": ... and ", n - shown,
                      " more\n");
    }
  }
  return out;
}

Report Check(const VerifierInput& input, int max_listed) {
  Report report;
  Collector c(report, max_listed);
  report.input_committed = static_cast<int64_t>(input.input_committed.size());
  report.output_records = static_cast<int64_t>(input.output_committed.size());
  absl::flat_hash_map<std::string, bool> keys;
  for (const ConsumerRecord& r : input.input_committed) keys[KeyOf(r)] = true;
  report.keys = static_cast<int64_t>(keys.size());
  CheckOutputIds(input, c, report);
  CheckChangelog(input, CheckSequences(input, c), c);
  CheckEnds(input, c);
  CheckGroupOffsets(input, c);
  for (const Violation& v : input.external) c.Add(v.invariant, v.detail);
  return report;
}

std::vector<Violation> ScanInstanceLogs(const std::vector<std::string>& logs) {
  std::vector<Violation> out;
  for (const std::string& path : logs) {
    std::ifstream in(path);
    std::string line;
    int64_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      // A stream thread that dies logs "<thread> failed: <status>" at
      // glog's ERROR severity (lines "E<mmdd> ..."). An instance in ERROR
      // has such a line, so count_app's own "count_app: failed" would only
      // count the same event twice.
      const bool thread_failed = line.size() > 1 && line[0] == 'E' &&
                                 absl::ascii_isdigit(line[1]) &&
                                 absl::StrContains(line, " failed: ");
      if (thread_failed) {
        out.push_back({Invariant::kE7, absl::StrCat(path, ":", number, ": ",
                                                    line.substr(0, 300))});
      }
    }
  }
  return out;
}

std::string ChangelogTopic(const std::string& application_id) {
  return absl::StrCat(application_id, "-counts-changelog");
}

namespace {

// Waits (bounded) for the LSO of each partition to reach its high
// watermark: the broker writes a transaction's markers after EndTxn returns.
absl::StatusOr<std::vector<PartitionEnd>> ReadEnds(const KafkaSource& source,
                                                   const std::string& topic,
                                                   int32_t partitions) {
  ClientConfig committed_config = source.config;
  committed_config.erase("group.id");
  committed_config["isolation.level"] = "read_committed";
  ClientConfig uncommitted_config = committed_config;
  uncommitted_config["isolation.level"] = "read_uncommitted";
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Consumer> committed,
                         Consumer::Create(committed_config, nullptr));
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Consumer> uncommitted,
                         Consumer::Create(uncommitted_config, nullptr));
  const absl::Time deadline = absl::Now() + source.stable_wait;
  std::vector<PartitionEnd> ends;
  for (int32_t p = 0; p < partitions; ++p) {
    PartitionEnd end{topic, p};
    while (true) {
      BROOK_ASSIGN_OR_RETURN(
          auto c, committed->QueryWatermarks({topic, p}, source.timeout));
      BROOK_ASSIGN_OR_RETURN(
          auto u, uncommitted->QueryWatermarks({topic, p}, source.timeout));
      end.stable_end = c.second;
      end.log_end = u.second;
      if (end.stable_end >= end.log_end || absl::Now() > deadline) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ends.push_back(end);
  }
  return ends;
}

}  // namespace

absl::StatusOr<VerifierInput> ReadFromKafka(const KafkaSource& source) {
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin,
                         Admin::Create(source.config));
  const std::string changelog = ChangelogTopic(source.application_id);
  BROOK_ASSIGN_OR_RETURN(
      int32_t input_partitions,
      admin->PartitionCount(source.input_topic, source.timeout));
  BROOK_ASSIGN_OR_RETURN(
      int32_t output_partitions,
      admin->PartitionCount(source.output_topic, source.timeout));
  absl::StatusOr<int32_t> changelog_partitions =
      admin->PartitionCount(changelog, source.timeout);
  if (!changelog_partitions.ok() &&
      !absl::IsNotFound(changelog_partitions.status())) {
    return changelog_partitions.status();
  }

  VerifierInput in;
  BROOK_ASSIGN_OR_RETURN(
      in.ends, ReadEnds(source, source.output_topic, output_partitions));
  if (changelog_partitions.ok()) {
    BROOK_ASSIGN_OR_RETURN(std::vector<PartitionEnd> ends,
                           ReadEnds(source, changelog, *changelog_partitions));
    in.ends.insert(in.ends.end(), ends.begin(), ends.end());
    BROOK_ASSIGN_OR_RETURN(
        in.changelog_committed,
        ReadTopic(source.config, changelog, IsolationLevel::kReadCommitted,
                  source.timeout));
  }
  BROOK_ASSIGN_OR_RETURN(
      in.input_committed,
      ReadTopic(source.config, source.input_topic,
                IsolationLevel::kReadCommitted, source.timeout));
  BROOK_ASSIGN_OR_RETURN(
      in.input_uncommitted,
      ReadTopic(source.config, source.input_topic,
                IsolationLevel::kReadUncommitted, source.timeout));
  BROOK_ASSIGN_OR_RETURN(
      in.output_committed,
      ReadTopic(source.config, source.output_topic,
                IsolationLevel::kReadCommitted, source.timeout));

  ClientConfig group_config = source.config;
  group_config["group.id"] = source.application_id;
  group_config["isolation.level"] = "read_committed";
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Consumer> group,
                         Consumer::Create(group_config, nullptr));
  std::vector<TopicPartition> tps;
  for (int32_t p = 0; p < input_partitions; ++p) {
    tps.push_back({source.input_topic, p});
  }
  BROOK_ASSIGN_OR_RETURN(auto offsets, group->Committed(tps, source.timeout));
  in.group_committed.assign(input_partitions, -1);
  for (const TopicPartitionOffset& o : offsets) {
    in.group_committed[o.tp.partition] = o.offset;
  }
  BROOK_RETURN_IF_ERROR(group->Close());
  return in;
}

}  // namespace brook::chaos
