#include "tools/brook/state_inspect.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rocksdb/db.h"

#include "brook/state/internal/key_codec.h"
#include "brook/state/internal/rocksdb_handle.h"
#include "tools/brook/internal/progress.h"
#include "tools/brook/internal/table.h"

namespace brook::tool {

namespace fs = std::filesystem;

namespace {

// The file names StateDirectory writes (state/state_directory.cc).
constexpr char kMetadataFile[] = "brook.metadata";
constexpr char kLockFile[] = ".lock";

int64_t BytesUnder(const fs::path& dir) {
  int64_t bytes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) bytes += static_cast<int64_t>(size);
    }
  }
  return bytes;
}

// Reads the stored changelog offset of one RocksDB store, read-only.
void ReadStore(StoreInfo& store) {
  if (!fs::exists(fs::path(store.path) / "CURRENT")) {
    store.error =
        absl::StrCat(store.path, ": not a RocksDB store (no CURRENT file)");
    return;
  }
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  rocksdb::Status s =
      rocksdb::DB::ListColumnFamilies(options, store.path, &names);
  if (!s.ok()) {
    store.error = absl::StrCat(store.path, ": ", s.ToString());
    return;
  }
  if (std::find(names.begin(), names.end(), internal::kMetaColumnFamily) ==
      names.end()) {
    store.error =
        absl::StrCat(store.path, ": no '", internal::kMetaColumnFamily,
                     "' column family; not a Brook store");
    return;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) {
    families.push_back({name, rocksdb::ColumnFamilyOptions()});
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(options, store.path, families, &handles,
                                   &raw);
  if (!s.ok()) {
    store.error = absl::StrCat(store.path, ": cannot open: ", s.ToString());
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* data = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  for (auto* h : handles) {
    if (h->GetName() == rocksdb::kDefaultColumnFamilyName) data = h;
    if (h->GetName() == internal::kMetaColumnFamily) meta = h;
  }
  uint64_t keys = 0;
  if (data != nullptr &&
      db->GetIntProperty(data, "rocksdb.estimate-num-keys", &keys)) {
    store.estimated_keys = static_cast<int64_t>(keys);
  }
  std::string value;
  s = db->Get(rocksdb::ReadOptions(), meta, internal::kChangelogOffsetKey,
              &value);
  if (s.ok() && value.size() != 8) {
    store.error =
        absl::StrCat(store.path, ": the stored '",
                     internal::kChangelogOffsetKey, "' has ", value.size(),
                     " bytes instead of 8; the store is damaged "
                     "(Brook will wipe and restore it)");
  } else if (s.ok()) {
    store.changelog_offset = internal::ReadBigEndian64(value);
  } else if (!s.IsNotFound()) {
    store.error =
        absl::StrCat(store.path, ": cannot read '",
                     internal::kChangelogOffsetKey, "': ", s.ToString());
  }
  for (auto* h : handles)
    db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
}

std::vector<fs::path> SortedSubdirectories(const fs::path& dir) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace

std::string LockHolder(const std::string& lock_file) {
  struct stat st;
  if (stat(lock_file.c_str(), &st) != 0) return "no lock file";
  // Lines read "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF": the pid,
  // then major:minor:inode of the locked file.
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::vector<std::string> fields =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    // A blocked waiter's line has "->" in place of FLOCK: not a holder.
    if (fields.size() < 6 || fields[1] != "FLOCK") continue;
    std::vector<std::string> id = absl::StrSplit(fields[5], ':');
    unsigned long long inode = 0;
    unsigned int major_dev = 0, minor_dev = 0;
    if (id.size() != 3 || !absl::SimpleAtoi(id[2], &inode) ||
        !absl::SimpleHexAtoi(id[0], &major_dev) ||
        !absl::SimpleHexAtoi(id[1], &minor_dev)) {
      continue;
    }
    if (inode == st.st_ino && major_dev == major(st.st_dev) &&
        minor_dev == minor(st.st_dev)) {
      return absl::StrCat("locked by pid ", fields[4]);
    }
  }
  return "unlocked";
}

absl::StatusOr<std::vector<AppStateInfo>> InspectStateDir(
    const std::string& dir, const std::string& application_id) {
  std::vector<fs::path> app_dirs;
  if (fs::exists(fs::path(dir) / kMetadataFile)) {
    app_dirs.push_back(dir);
  } else {
    for (const fs::path& sub : SortedSubdirectories(dir)) {
      if (!fs::exists(sub / kMetadataFile)) continue;
      if (!application_id.empty() && sub.filename() != application_id) continue;
      app_dirs.push_back(sub);
    }
  }
  if (app_dirs.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no Brook application state in '", dir, "'",
        application_id.empty()
            ? ""
            : absl::StrCat(" for application '", application_id, "'"),
        " (looked for ", kMetadataFile, ")"));
  }
  std::vector<AppStateInfo> apps;
  for (const fs::path& app_dir : app_dirs) {
    AppStateInfo app;
    app.application_id = fs::absolute(app_dir).filename().string();
    app.path = app_dir.string();
    app.lock = LockHolder((app_dir / kLockFile).string());
    for (const fs::path& task_dir : SortedSubdirectories(app_dir)) {
      TaskInfo task;
      task.id = task_dir.filename().string();
      task.path = task_dir.string();
      task.lock = LockHolder((task_dir / kLockFile).string());
      for (const fs::path& store_dir : SortedSubdirectories(task_dir)) {
        task.stores.push_back({.name = store_dir.filename().string(),
                               .path = store_dir.string()});
      }
      app.tasks.push_back(std::move(task));
    }
    apps.push_back(std::move(app));
  }
  int64_t total = 0;
  for (const auto& app : apps) {
    for (const auto& task : app.tasks) total += task.stores.size();
  }
  Progress progress(stderr, total, "stores");
  for (auto& app : apps) {
    for (auto& task : app.tasks) {
      for (StoreInfo& store : task.stores) {
        store.bytes = BytesUnder(store.path);
        ReadStore(store);
        progress.Advance();
      }
    }
  }
  return apps;
}

std::string StateReport(const std::vector<AppStateInfo>& apps) {
  std::string out;
  for (const AppStateInfo& app : apps) {
    absl::StrAppend(&out, "application ", app.application_id, " at ", app.path,
                    " (", app.lock, ")\n\n");
    Table table(
        {"TASK", "LOCK", "STORE", "CHANGELOG_OFFSET", "KEYS~", "BYTES"});
    std::vector<std::string> errors;
    for (const TaskInfo& task : app.tasks) {
      if (task.stores.empty()) {
        table.AddRow({task.id, task.lock, "-", "-", "-", "-"});
      }
      for (const StoreInfo& store : task.stores) {
        std::string offset = "none";
        if (!store.error.empty()) {
          offset = "ERROR";
          errors.push_back(store.error);
        } else if (store.changelog_offset.has_value()) {
          offset = absl::StrCat(*store.changelog_offset);
        }
        table.AddRow({task.id, task.lock, store.name, offset,
                      absl::StrCat(store.estimated_keys),
                      absl::StrCat(store.bytes)});
      }
    }
    absl::StrAppend(&out, table.ToString());
    for (const std::string& e : errors)
      absl::StrAppend(&out, "error: ", e, "\n");
    absl::StrAppend(&out, "\n");
  }
  return out;
}

namespace {

int RunStateInspect(const ParsedArgs& args, Io io) {
  if (args.positional.size() != 1) {
    io.err << "brook state inspect: give exactly one state directory\n";
    return kExitUsage;
  }
  absl::StatusOr<std::vector<AppStateInfo>> apps =
      InspectStateDir(args.positional[0], args.Get("application-id"));
  if (!apps.ok()) {
    io.err << "brook state inspect: " << apps.status().message() << "\n";
    return kExitError;
  }
  io.out << StateReport(*apps);
  bool damaged = false;
  for (const auto& app : *apps) {
    for (const auto& task : app.tasks) {
      for (const auto& store : task.stores) damaged |= !store.error.empty();
    }
  }
  if (damaged) io.err << "brook state inspect: some stores could not be read\n";
  return damaged ? kExitError : kExitOk;
}

}  // namespace

Command StateInspectCommand() {
  return Command{
      .name = "state inspect",
      .synopsis = "<state.dir> [--application-id=X]",
      .summary =
          "Lists the tasks and stores of a state directory with their "
          "stored changelog offsets, sizes and lock holders; "
          "read-only, safe while the application runs.",
      .flags = {{"application-id",
                 "only this application's directory under <state.dir>"}},
      .run = RunStateInspect,
  };
}

}  // namespace brook::tool
