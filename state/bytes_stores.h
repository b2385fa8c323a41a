// Factories of the built-in stores, and the RocksDB resources they share.
#ifndef BROOK_STATE_BYTES_STORES_H_
#define BROOK_STATE_BYTES_STORES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksdb/options.h"

#include "brook/state/key_value_bytes_store.h"
#include "brook/state/session_bytes_store.h"
#include "brook/state/window_bytes_store.h"

namespace rocksdb {
class Cache;
class WriteBufferManager;
}  // namespace rocksdb

namespace brook {
namespace internal {
class ByteBudget;
}  // namespace internal

// RocksDB settings of an application; one budget for all its stores.
struct RocksDBConfig {
  // Memory for all RocksDB stores of the process together: one LRU block
  // cache of this size, with the memtables (write buffers) charged to it
  // through a WriteBufferManager, so the total stays near this bound however
  // many tasks and stores there are. Kafka Streams gives each store its own
  // 50 MiB cache, which makes memory grow with the partition count. Each
  // open store's memtable holds at least ~18 KiB (16 KiB arena blocks) of
  // the memtables' half: a budget below stores x 40 KiB makes stores flush
  // at nearly every commit.
  int64_t memory_budget_bytes = 128 << 20;
  // Stream state is usually small and short-lived; compression costs CPU on
  // every flush and compaction. Kafka Streams' RocksDB default is also none.
  rocksdb::CompressionType compression = rocksdb::kNoCompression;
  // Whether Open() reads every table file to check its block checksums.
  // RocksDB itself notices only missing or truncated files at open; a flipped
  // bit inside a file would surface later, in the middle of processing, as a
  // failed read. The check is one sequential read of the store's files:
  // 0.04 s for 250 MB in the page cache on a 2-core VM; from a
  // cold disk, that disk's sequential read time. It catches damage before
  // the task starts, when wiping and restoring is cheap.
  bool verify_checksums_on_open = true;
  // Bytes (keys and values) of committed entries each store keeps in a hash
  // map in front of RocksDB, so that a Get of a recently read key skips the
  // memtable's skip list and the block cache. A key enters when a Get
  // finds it (misses are not cached); a commit updates the cached keys it
  // rewrites. Outside memory_budget_bytes; 0 turns it off. When full it is
  // emptied and fills again. It changes no result and no output, only CPU per
  // read (issue 10: skip-list comparisons were the largest cost of a count by
  // key).
  int64_t read_cache_bytes_per_store = 1 << 20;
  // Bytes (keys and values) of recent windows that the window stores built
  // with a recent-windows span (the stream-stream join's stores) also keep
  // in memory, all stores of the process together, so that the join's reads
  // skip RocksDB. Outside memory_budget_bytes. When a store's write finds
  // it exceeded, that store's oldest windows leave the copy and are read
  // from RocksDB again; results do not change. A join over 1 s windows
  // needs about 2 x (span + 1 s) x records per second x (key + value + 80)
  // bytes: 32 MiB holds about 300,000 windows of 20-byte keys and values.
  int64_t recent_windows_bytes = 32 << 20;
  // Called last on every store's options, to override anything above. The
  // store then still sets what its guarantees rest on: create_if_missing,
  // create_missing_column_families and atomic_flush. May be called from
  // several stream threads at once.
  std::function<void(const std::string& store_name, rocksdb::Options* options)>
      config_setter;

  // kInvalidArgument, naming the field, if memory_budget_bytes <= 0,
  // read_cache_bytes_per_store < 0 or recent_windows_bytes < 0.
  absl::Status Validate() const;
};

// The shared cache and write buffer manager.
// Threading model: thread-safe (RocksDB's cache and manager are).
class RocksDBResources {
 public:
  // Errors: those of config.Validate().
  static absl::StatusOr<std::shared_ptr<RocksDBResources>> Create(
      const RocksDBConfig& config);
  // Options for one store: the shared budget (block cache, with index and
  // filter blocks in it, and the write buffer manager), a 10-bit Bloom
  // filter, the compression, create_if_missing, then the user's setter.
  rocksdb::Options OptionsFor(const std::string& store_name) const;
  const RocksDBConfig& config() const { return config_; }
  // Bytes held in the shared block cache, memtables included (the write
  // buffer manager charges them to it), against memory_budget_bytes.
  // Thread-safe and cheap (RocksDB reads counters).
  int64_t block_cache_usage() const {
    return static_cast<int64_t>(cache_->GetUsage());
  }
  // Bytes of the window stores' in-memory copies of recent windows, against
  // recent_windows_bytes. Thread-safe.
  int64_t recent_windows_usage() const;
  // The count of recent_windows_bytes that the window stores' in-memory
  // copies share.
  const std::shared_ptr<internal::ByteBudget>& recent_windows_budget() const {
    return recent_windows_budget_;
  }
  // Bytes of memtables of all stores (the write buffer manager's count).
  int64_t memtable_usage() const {
    return static_cast<int64_t>(write_buffer_manager_->memory_usage());
  }

 private:
  explicit RocksDBResources(const RocksDBConfig& config);
  const RocksDBConfig config_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffer_manager_;
  std::shared_ptr<internal::ByteBudget> recent_windows_budget_;
};

// Each store lives in <dir given to Open()>/<store name>/ when persistent.
// Given null resources, a RocksDB store makes its own with RocksDBConfig's
// defaults, outside the application's shared budget.
std::unique_ptr<KeyValueBytesStore> NewInMemoryKeyValueStore(std::string name);
std::unique_ptr<KeyValueBytesStore> NewRocksDBKeyValueStore(
    std::string name, std::shared_ptr<RocksDBResources> resources);

// segment_interval_ms 0 picks max(retention / 2, 60 s), as Kafka Streams.
// recent_windows_ms > 0 also keeps the windows that start within that span
// of the stream time in memory (within the resources' recent_windows_bytes,
// shared by all stores), and reads them there.
std::unique_ptr<WindowBytesStore> NewInMemoryWindowStore(
    std::string name, int64_t retention_ms, int64_t segment_interval_ms = 0);
std::unique_ptr<WindowBytesStore> NewRocksDBWindowStore(
    std::string name, int64_t retention_ms, int64_t segment_interval_ms,
    std::shared_ptr<RocksDBResources> resources, int64_t recent_windows_ms = 0);

std::unique_ptr<SessionBytesStore> NewInMemorySessionStore(
    std::string name, int64_t retention_ms);
std::unique_ptr<SessionBytesStore> NewRocksDBSessionStore(
    std::string name, int64_t retention_ms,
    std::shared_ptr<RocksDBResources> resources);

}  // namespace brook

#endif  // BROOK_STATE_BYTES_STORES_H_
