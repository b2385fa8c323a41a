// RocksDBEngine: a StoreEngine over one RocksDB database per store.
//
// The uncommitted writes are an ordered map (one entry per key, the last
// write wins); reads look there first, then in a hash map of committed
// values that Gets read (RocksDBConfig::read_cache_bytes_per_store; a commit
// updates the cached keys it rewrites), then in the database. Iterators merge the map with a database iterator.
// Commit() writes the map's entries and the meta values with one DB::Write,
// so data and changelog offset become durable together; RocksDBHandle's
// atomic_flush keeps them together on flush too.
//
// A rocksdb::WriteBatchWithIndex did this job before: its skip list, with a
// virtual comparator per step, and the memtable's lookup per Get were the
// largest CPU cost of a count by key (issue 10, bench/README.md); it also
// wrote every update, not just the last per key, to the memtable.
//
// Writes go to the WAL without fsync: a process crash loses nothing that
// was committed; a machine crash may lose the last commits, data and offset
// alike, and restore then replays a longer changelog tail.
#ifndef BROOK_STATE_INTERNAL_ROCKSDB_ENGINE_H_
#define BROOK_STATE_INTERNAL_ROCKSDB_ENGINE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

#include "brook/state/bytes_stores.h"
#include "brook/state/internal/rocksdb_handle.h"
#include "brook/state/internal/store_engine.h"

namespace brook::internal {

// Threading model: as StoreEngine (one stream thread).
class RocksDBEngine : public StoreEngine {
 public:
  // Null `resources`: the engine makes its own, with RocksDBConfig's
  // defaults (and so its own memory budget).
  RocksDBEngine(std::string store_name,
                std::shared_ptr<RocksDBResources> resources);
  ~RocksDBEngine() override { Close(); }

  bool persistent() const override { return true; }
  // kDataLoss also if a stored meta value is not exactly 8 bytes.
  absl::Status Open(const std::string& path) override;
  bool is_open() const override { return handle_ != nullptr; }
  void Close() override;
  absl::Status Wipe() override;

  std::optional<int64_t> committed_meta(MetaKey key) const override {
    return meta_[static_cast<int>(key)];
  }

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override;
  absl::Status Put(absl::string_view key, absl::string_view value) override;
  absl::Status Delete(absl::string_view key) override;
  // The iterator reads the database through its own implicit snapshot.
  std::unique_ptr<EngineIterator> NewIterator(
      std::optional<absl::string_view> from,
      std::optional<absl::string_view> to) override;

  bool has_uncommitted() const override { return buffered_writes_ > 0; }
  absl::Status Commit(const CommitExtras& extras) override;
  void Abort() override;
  absl::Status WriteCommitted(absl::Span<const ChangeRecord> records,
                              const CommitExtras& extras) override;

  // RocksDB's "rocksdb.estimate-num-keys" plus the buffered puts.
  absl::StatusOr<int64_t> ApproximateNumEntries() override;
  // RocksDB's estimate-num-keys, total-sst-files-size and
  // cur-size-all-mem-tables of the data column family.
  StateStoreMetrics Metrics() const override;

 private:
  absl::Status ReadMetaValues();
  absl::Status AppendMeta(const CommitExtras& extras,
                          rocksdb::WriteBatchBase* batch);
  // Writes `batch` and, on success, records the meta values of `extras`.
  // Without the WAL for restored changelog records (see WriteCommitted()).
  absl::Status Write(rocksdb::WriteBatch* batch, const CommitExtras& extras,
                     bool wal = true);
  // Makes restored writes durable before anything is written with the WAL.
  absl::Status PersistRestored();
  void ClearBuffer();
  // Remembers a committed value (nullopt: known absent) if the read cache
  // has room; empties the cache first when it is full.
  void CacheCommitted(absl::string_view key,
                      const std::optional<std::string>& value);
  void ClearReadCache();
  std::string Describe() const;

  const std::string store_name_;
  const std::shared_ptr<RocksDBResources> resources_;
  std::string path_;  // empty until the first Open()
  std::unique_ptr<RocksDBHandle> handle_;
  // Restored records are written without the write-ahead log: the
  // changelog already holds them. They and their changelog offset live
  // only in the memtables until a flush, which atomic_flush makes one cut
  // through data and offset, so a crash loses both together and the
  // restore resumes from the older offset. Before the first write that
  // goes through the WAL (a commit), the memtables are flushed: otherwise a
  // crash could replay that commit, offset included, over restored data
  // that was lost, and the offset would run ahead of the data.
  bool unpersisted_restore_ = false;
  // Uncommitted writes by key; nullopt is a delete.
  absl::btree_map<std::string, std::optional<std::string>, std::less<>> buffer_;
  // Committed values by key; nullopt: the key has no value.
  absl::flat_hash_map<std::string, std::optional<std::string>> read_cache_;
  int64_t read_cache_bytes_ = 0;
  int64_t buffered_writes_ = 0;
  int64_t buffered_puts_ = 0;
  // Bumped by every buffered write: iterators re-seek when it moved.
  uint64_t write_generation_ = 0;
  std::array<std::optional<int64_t>, kNumMetaKeys> meta_;
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_ROCKSDB_ENGINE_H_
