#include "tests/testing/rocksdb_surgery.h"

#include <filesystem>
#include <functional>
#include <vector>

#include "rocksdb/db.h"

#include "brook/base/logging.h"

namespace brook::testing {

namespace {

// The layout of state/internal/rocksdb_handle.h: data in the default column
// family, the stored changelog offset and stream time in "brook_meta".
constexpr char kMetaFamily[] = "brook_meta";
constexpr char kChangelogOffsetKey[] = "changelog_offset";

struct Families {
  rocksdb::ColumnFamilyHandle* data;
  rocksdb::ColumnFamilyHandle* meta;
};

// Opens every store named `store` under `root` in turn, applies `surgery`
// and closes it. Returns how many stores it operated on.
int Operate(
    const std::string& root, const std::string& store,
    const std::function<rocksdb::Status(rocksdb::DB*, Families)>& surgery) {
  int operated = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_directory() || entry.path().filename() != store ||
        !std::filesystem::exists(entry.path() / "CURRENT")) {
      continue;
    }
    rocksdb::Options options;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {kMetaFamily, rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s =
        rocksdb::DB::Open(rocksdb::DBOptions(options), entry.path().string(),
                          families, &handles, &db);
    CHECK(s.ok()) << s.ToString();
    s = surgery(db, {handles[0], handles[1]});
    CHECK(s.ok()) << entry.path() << ": " << s.ToString();
    // Make the change durable the way a clean close of Brook would.
    CHECK(db->FlushWAL(/*sync=*/true).ok());
    for (auto* h : handles) CHECK(db->DestroyColumnFamilyHandle(h).ok());
    CHECK(db->Close().ok());
    delete db;
    ++operated;
  }
  return operated;
}

}  // namespace

int GarbleStoredOffsets(const std::string& root, const std::string& store) {
  return Operate(root, store, [](rocksdb::DB* db, Families f) {
    return db->Put(rocksdb::WriteOptions(), f.meta, kChangelogOffsetKey, "abc");
  });
}

int DeleteStoredOffsets(const std::string& root, const std::string& store) {
  return Operate(root, store, [](rocksdb::DB* db, Families f) {
    rocksdb::Status s =
        db->Delete(rocksdb::WriteOptions(), f.meta, kChangelogOffsetKey);
    if (!s.ok()) return s;
    // The key must be gone, not merely rewritten.
    std::string value;
    s = db->Get(rocksdb::ReadOptions(), f.meta, kChangelogOffsetKey, &value);
    return s.IsNotFound() ? rocksdb::Status::OK()
                          : rocksdb::Status::Corruption("offset still there");
  });
}

int PutRawValue(const std::string& root, const std::string& store,
                const std::string& key, const std::string& value) {
  return Operate(root, store, [&](rocksdb::DB* db, Families f) {
    return db->Put(rocksdb::WriteOptions(), f.data, key, value);
  });
}

}  // namespace brook::testing
