#include "brook/state/internal/rocksdb_handle.h"

#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/state/internal/rocksdb_status.h"

namespace brook::internal {
namespace {

std::string Describe(const std::string& store_name, const std::string& path) {
  return absl::StrCat("state store '", store_name, "' in '", path, "'");
}

// A database directory without CURRENT is either new (empty) or damaged.
// RocksDB would silently create a fresh database over a damaged one, so
// Brook refuses instead.
absl::Status CheckDirectory(const std::string& store_name,
                            const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the directory of ",
                     Describe(store_name, path), ": ", ec.message()));
  }
  if (std::filesystem::exists(path + "/CURRENT", ec)) return absl::OkStatus();
  if (std::filesystem::is_empty(path, ec) && !ec) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat(Describe(store_name, path),
                   " has files but no CURRENT file; its database is damaged"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDBHandle>> RocksDBHandle::Open(
    const std::string& store_name, const std::string& path,
    rocksdb::Options options, Verify verify) {
  BROOK_RETURN_IF_ERROR(CheckDirectory(store_name, path));
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.atomic_flush = true;
  const rocksdb::ColumnFamilyOptions cf_options(options);
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {kMetaColumnFamily, cf_options}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(rocksdb::DBOptions(options), path,
                                             families, &handles, &raw_db);
  const std::string context =
      absl::StrCat("cannot open ", Describe(store_name, path));
  if (!status.ok()) return FromRocksDBOpen(status, context);
  std::unique_ptr<RocksDBHandle> handle(new RocksDBHandle(
      std::unique_ptr<rocksdb::DB>(raw_db), handles[0], handles[1]));
  if (verify == Verify::kChecksums) {
    status = handle->db()->VerifyChecksum();
    if (!status.ok()) return FromRocksDBOpen(status, context);
  }
  return handle;
}

absl::Status RocksDBHandle::Destroy(const std::string& store_name,
                                    const std::string& path,
                                    const rocksdb::Options& options) {
  // DestroyDB removes what it recognises; a damaged directory may hold
  // more, which remove_all takes, so DestroyDB's own result does not matter.
  rocksdb::DestroyDB(path, options).PermitUncheckedError();
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat(
        "cannot delete ", Describe(store_name, path), ": ", ec.message()));
  }
  return absl::OkStatus();
}

RocksDBHandle::~RocksDBHandle() {
  // Errors here cannot be acted on: committed writes are already in the WAL
  // or in table files, and atomic_flush keeps data and offset together.
  db_->DestroyColumnFamilyHandle(data_).PermitUncheckedError();
  db_->DestroyColumnFamilyHandle(meta_).PermitUncheckedError();
  db_->Close().PermitUncheckedError();
}

}  // namespace brook::internal
