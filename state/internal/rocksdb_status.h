// Conversions of rocksdb::Status into absl::Status, so that RocksDB's status
// type never leaves state/internal/.
// Threading model: stateless functions.
#ifndef BROOK_STATE_INTERNAL_ROCKSDB_STATUS_H_
#define BROOK_STATE_INTERNAL_ROCKSDB_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace brook::internal {

// For reads and writes of an open database: Corruption -> kDataLoss (the
// store must be wiped and restored), NoSpace -> kResourceExhausted,
// Busy/TryAgain/TimedOut -> kUnavailable, NotFound -> kNotFound,
// InvalidArgument -> kInvalidArgument, anything else -> kInternal. The
// message is `context`, then RocksDB's.
absl::Status FromRocksDB(const rocksdb::Status& status,
                         absl::string_view context);

// For DB::Open and the checks right after it, where a failure usually means
// the files are bad: Corruption, a missing file (PathNotFound) and
// InvalidArgument (files that do not match the options, such as unknown
// column families) -> kDataLoss; other I/O errors, such as the lock being
// held by another store or process -> kUnavailable; the rest as FromRocksDB.
absl::Status FromRocksDBOpen(const rocksdb::Status& status,
                             absl::string_view context);

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_ROCKSDB_STATUS_H_
