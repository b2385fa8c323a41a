// RocksDBHandle: one open RocksDB database of a store, with its two column
// families: "default" for the data and "brook_meta" for the values committed
// with it (the changelog offset, a segmented store's stream time).
#ifndef BROOK_STATE_INTERNAL_ROCKSDB_HANDLE_H_
#define BROOK_STATE_INTERNAL_ROCKSDB_HANDLE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

namespace brook::internal {

inline constexpr char kMetaColumnFamily[] = "brook_meta";
// Keys in kMetaColumnFamily; each value is 8 bytes big-endian.
inline constexpr char kChangelogOffsetKey[] = "changelog_offset";
inline constexpr char kStreamTimeKey[] = "stream_time";

// Threading model: as rocksdb::DB (thread-safe); Brook uses each handle from
// one stream thread.
class RocksDBHandle {
 public:
  enum class Verify { kNone, kChecksums };

  // Opens the database in `path`, creating the directory and the database
  // if needed. Forces options->atomic_flush, so that a flush persists both
  // column families together: whatever the WAL setting, the stored offset
  // never runs ahead of the stored data.
  // Errors: kDataLoss (naming `store_name` and `path`) if the files cannot be
  // trusted: RocksDB reports corruption or a missing file, the directory
  // has files but no CURRENT, or `verify` finds a bad checksum.
  static absl::StatusOr<std::unique_ptr<RocksDBHandle>> Open(
      const std::string& store_name, const std::string& path,
      rocksdb::Options options, Verify verify);

  // Deletes the database in `path` and the directory.
  static absl::Status Destroy(const std::string& store_name,
                              const std::string& path,
                              const rocksdb::Options& options);

  RocksDBHandle(const RocksDBHandle&) = delete;
  RocksDBHandle& operator=(const RocksDBHandle&) = delete;
  // Closes the database.
  ~RocksDBHandle();

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* data() const { return data_; }
  rocksdb::ColumnFamilyHandle* meta() const { return meta_; }

 private:
  RocksDBHandle(std::unique_ptr<rocksdb::DB> db,
                rocksdb::ColumnFamilyHandle* data,
                rocksdb::ColumnFamilyHandle* meta)
      : db_(std::move(db)), data_(data), meta_(meta) {}

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* const data_;
  rocksdb::ColumnFamilyHandle* const meta_;
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_ROCKSDB_HANDLE_H_
