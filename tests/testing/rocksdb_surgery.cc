#include "tests/testing/rocksdb_surgery.h"

#include <filesystem>
#include <vector>

#include "rocksdb/db.h"

#include "base/logging.h"

namespace brook::testing {

namespace {

enum class Surgery { kGarble, kDelete };

int Operate(const std::string& root, const std::string& store,
            Surgery surgery) {
  int damaged = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_directory() || entry.path().filename() != store ||
        !std::filesystem::exists(entry.path() / "CURRENT")) {
      continue;
    }
    rocksdb::Options options;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        // The layout of state/internal/rocksdb_handle.h.
        {"brook_meta", rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s =
        rocksdb::DB::Open(rocksdb::DBOptions(options), entry.path().string(),
                          families, &handles, &db);
    CHECK(s.ok()) << s.ToString();
    CHECK(
        db->Put(rocksdb::WriteOptions(), handles[1], "changelog_offset", "abc")
            .ok());
    for (auto* h : handles) CHECK(db->DestroyColumnFamilyHandle(h).ok());
    CHECK(db->Close().ok());
    delete db;
    ++damaged;
  }
  return damaged;
}

}  // namespace

int GarbleStoredOffsets(const std::string& root, const std::string& store) {
  return Operate(root, store, Surgery::kGarble);
}

int DeleteStoredOffsets(const std::string& root, const std::string& store) {
  return Operate(root, store, Surgery::kDelete);
}

}  // namespace brook::testing
