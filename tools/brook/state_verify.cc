#include "tools/brook/state_verify.h"

#include <map>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rocksdb/db.h"

#include "brook/kafka/topic_reader.h"
#include "brook/state/internal/key_codec.h"
#include "brook/state/internal/rocksdb_handle.h"
#include "tools/brook/internal/progress.h"
#include "tools/brook/state_inspect.h"

namespace brook::tool {

namespace {

struct StoreContents {
  std::map<std::string, std::string> data;
  bool segmented = false;  // has a stored stream time
};

// Reads the committed contents of a Brook RocksDB store, read-only.
absl::StatusOr<StoreContents> ReadStoreContents(const std::string& path) {
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {internal::kMetaColumnFamily, rocksdb::ColumnFamilyOptions()}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path,
                                                   families, &handles, &raw);
  if (!s.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, ": cannot open: ", s.ToString()));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  StoreContents contents;
  std::string value;
  contents.segmented = db->Get(rocksdb::ReadOptions(), handles[1],
                               internal::kStreamTimeKey, &value)
                           .ok();
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions(), handles[0]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    contents.data[it->key().ToString()] = it->value().ToString();
  }
  s = it->status();
  it.reset();
  for (auto* h : handles)
    db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  if (!s.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, ": cannot read: ", s.ToString()));
  }
  return contents;
}

// Printable form of binary keys and values: text as is, else hex.
std::string Printable(const std::optional<std::string>& bytes) {
  if (!bytes.has_value()) return "(absent)";
  for (unsigned char c : *bytes) {
    if (c < 0x20 || c > 0x7e) {
      std::string hex = "0x";
      for (unsigned char b : *bytes) {
        absl::StrAppend(&hex, absl::Hex(b, absl::kZeroPad2));
      }
      return hex;
    }
  }
  return absl::StrCat("\"", *bytes, "\"");
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyState(const std::string& state_dir,
                                         const std::string& application_id,
                                         const ClientConfig& kafka,
                                         absl::Duration timeout) {
  absl::StatusOr<std::vector<AppStateInfo>> apps =
      InspectStateDir(state_dir, application_id);
  if (!apps.ok()) return apps.status();
  int64_t total = 0;
  for (const auto& app : *apps) {
    for (const auto& task : app.tasks) total += task.stores.size();
  }
  VerifyReport report;
  // Each changelog topic is read once, all its partitions.
  std::map<std::string, std::vector<ConsumerRecord>> changelogs;
  Progress progress(stderr, total, "stores");
  for (const AppStateInfo& app : *apps) {
    for (const TaskInfo& task : app.tasks) {
      // Task ids read "<sub-topology>_<partition>".
      std::vector<std::string> parts = absl::StrSplit(task.id, '_');
      int32_t partition = 0;
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &partition)) {
        report.skipped.push_back(
            absl::StrCat(task.path, ": not a task directory name"));
        progress.Advance(task.stores.size());
        continue;
      }
      for (const StoreInfo& store : task.stores) {
        progress.Advance();
        if (!store.error.empty()) {
          report.errors.push_back(store.error);
          continue;
        }
        absl::StatusOr<StoreContents> local = ReadStoreContents(store.path);
        if (!local.ok()) {
          report.errors.push_back(std::string(local.status().message()));
          continue;
        }
        if (local->segmented) {
          report.skipped.push_back(absl::StrCat(
              store.path, ": a window or session store (segmented keys)"));
          continue;
        }
        // The runtime's changelog name
        // (runtime/internal/store_change_logger.h).
        const std::string topic =
            absl::StrCat(app.application_id, "-", store.name, "-changelog");
        auto cached = changelogs.find(topic);
        if (cached == changelogs.end()) {
          absl::StatusOr<std::vector<ConsumerRecord>> records =
              ReadTopic(kafka, topic, IsolationLevel::kReadCommitted, timeout);
          if (!records.ok()) {
            report.errors.push_back(
                absl::StrCat(store.path, ": cannot read changelog topic '",
                             topic, "': ", records.status().message()));
            continue;
          }
          cached = changelogs.emplace(topic, *std::move(records)).first;
        }
        const int64_t end = store.changelog_offset.value_or(0);
        std::map<std::string, std::optional<std::string>> folded;
        for (const ConsumerRecord& r : cached->second) {
          if (r.partition != partition || r.offset >= end) continue;
          folded[r.key.value_or("")] = r.value;
        }
        std::map<std::string, std::pair<std::optional<std::string>,
                                        std::optional<std::string>>>
            keys;
        for (const auto& [k, v] : local->data) keys[k].first = v;
        for (const auto& [k, v] : folded) {
          if (v.has_value()) keys[k].second = v;
        }
        for (const auto& [k, values] : keys) {
          ++report.keys_checked;
          if (values.first != values.second) {
            report.mismatches.push_back(
                {store.path, k, values.first, values.second});
          }
        }
        ++report.stores_checked;
      }
    }
  }
  return report;
}

std::string VerifyText(const VerifyReport& report) {
  std::string text;
  for (const Mismatch& m : report.mismatches) {
    absl::StrAppend(&text, "mismatch in ", m.store_path, ": key ",
                    Printable(m.key), ": local ", Printable(m.local),
                    ", changelog ", Printable(m.changelog), "\n");
  }
  for (const std::string& s : report.skipped) {
    absl::StrAppend(&text, "skipped ", s, "\n");
  }
  for (const std::string& e : report.errors) {
    absl::StrAppend(&text, "error: ", e, "\n");
  }
  absl::StrAppend(&text, report.stores_checked, " stores, ",
                  report.keys_checked,
                  " keys checked: ", report.mismatches.size(), " mismatches, ",
                  report.errors.size(), " unreadable, ", report.skipped.size(),
                  " skipped\n");
  return text;
}

namespace {

int RunStateVerify(const ParsedArgs& args, Io io) {
  const std::string servers = args.Get("bootstrap-servers");
  const std::string app = args.Get("application-id");
  if (args.positional.size() != 1 || servers.empty() || app.empty()) {
    io.err << "brook state verify: give one state directory, "
              "--bootstrap-servers and --application-id\n";
    return kExitUsage;
  }
  absl::StatusOr<VerifyReport> report =
      VerifyState(args.positional[0], app, {{"bootstrap.servers", servers}},
                  absl::Seconds(60));
  if (!report.ok()) {
    io.err << "brook state verify: " << report.status().message() << "\n";
    return kExitError;
  }
  io.out << VerifyText(*report);
  return report->mismatches.empty() && report->errors.empty() ? kExitOk
                                                              : kExitError;
}

}  // namespace

Command StateVerifyCommand() {
  return Command{
      .name = "state verify",
      .synopsis = "<state.dir> --bootstrap-servers=B --application-id=X",
      .summary =
          "Compares each local key-value store with its changelog "
          "(read_committed, up to the stored offset) and prints the "
          "keys that differ.",
      .flags = {{"bootstrap-servers", "Kafka bootstrap servers, host:port"},
                {"application-id", "the application.id"}},
      .run = RunStateVerify,
  };
}

}  // namespace brook::tool
