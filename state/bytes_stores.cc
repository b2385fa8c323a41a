#include "brook/state/bytes_stores.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"

#include "brook/base/status_macros.h"
#include "brook/state/internal/byte_budget.h"
#include "brook/state/internal/in_memory_engine.h"
#include "brook/state/internal/key_value_store_impl.h"
#include "brook/state/internal/rocksdb_engine.h"
#include "brook/state/internal/session_store_impl.h"
#include "brook/state/internal/window_store_impl.h"

namespace brook {

absl::Status RocksDBConfig::Validate() const {
  if (memory_budget_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'memory_budget_bytes' of the RocksDB config must be "
                     "positive, is ",
                     memory_budget_bytes));
  }
  if (read_cache_bytes_per_store < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'read_cache_bytes_per_store' of the RocksDB config must "
                     "not be negative, is ",
                     read_cache_bytes_per_store));
  }
  if (recent_windows_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'recent_windows_bytes' of the RocksDB config must not "
                     "be negative, is ",
                     recent_windows_bytes));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<RocksDBResources>> RocksDBResources::Create(
    const RocksDBConfig& config) {
  BROOK_RETURN_IF_ERROR(config.Validate());
  return std::shared_ptr<RocksDBResources>(new RocksDBResources(config));
}

RocksDBResources::RocksDBResources(const RocksDBConfig& config)
    : config_(config),
      cache_(rocksdb::NewLRUCache(
          static_cast<size_t>(config.memory_budget_bytes))),
      // Memtables may take half of the budget; their memory is charged to
      // the cache, which evicts blocks to make room.
      write_buffer_manager_(std::make_shared<rocksdb::WriteBufferManager>(
          static_cast<size_t>(config.memory_budget_bytes / 2), cache_)),
      recent_windows_budget_(
          std::make_shared<internal::ByteBudget>(config.recent_windows_bytes)) {
}

int64_t RocksDBResources::recent_windows_usage() const {
  return recent_windows_budget_->used();
}

rocksdb::Options RocksDBResources::OptionsFor(
    const std::string& store_name) const {
  rocksdb::Options options;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache_;
  // Index and filter blocks count against the budget too, instead of
  // growing with the number of table files.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Most reads of stream state are point lookups of a key.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.write_buffer_manager = write_buffer_manager_;
  options.compression = config_.compression;
  options.create_if_missing = true;
  // RocksDB reserves disk for a write-ahead log of ~1.1 write buffers
  // (64 MiB) and a 4 MiB MANIFEST up front, per store: a count over 600
  // partitions took 66 GB of disk for 10,000 keys (issue 10's scaling run)
  // and filled it. Files now grow as they are written.
  options.allow_fallocate = false;
  options.manifest_preallocation_size = 64 << 10;
  // Every store's memtable is charged to the shared write buffer manager in
  // whole arena blocks, 1 MiB by default: 60 stores filled the budget with
  // nearly empty memtables, and every commit of every store then flushed a
  // table file (issue 10: a count over 60 partitions spent most of its CPU
  // on flushes, fsyncs, compactions and zeroing fresh pages). With 16 KiB
  // blocks a store that holds little costs little; a memtable of 64 MiB
  // takes 4,096 allocations instead of 64, which no profile shows.
  options.arena_block_size = 16 << 10;
  if (config_.config_setter) config_.config_setter(store_name, &options);
  return options;
}

std::unique_ptr<KeyValueBytesStore> NewInMemoryKeyValueStore(std::string name) {
  auto engine = std::make_unique<internal::InMemoryEngine>(name);
  return std::make_unique<internal::KeyValueStoreImpl>(std::move(name),
                                                       std::move(engine));
}

std::unique_ptr<KeyValueBytesStore> NewRocksDBKeyValueStore(
    std::string name, std::shared_ptr<RocksDBResources> resources) {
  auto engine =
      std::make_unique<internal::RocksDBEngine>(name, std::move(resources));
  return std::make_unique<internal::KeyValueStoreImpl>(std::move(name),
                                                       std::move(engine));
}

std::unique_ptr<WindowBytesStore> NewInMemoryWindowStore(
    std::string name, int64_t retention_ms, int64_t segment_interval_ms) {
  auto engine = std::make_unique<internal::InMemoryEngine>(name);
  return std::make_unique<internal::WindowStoreImpl>(
      std::move(name), std::move(engine), retention_ms, segment_interval_ms);
}

std::unique_ptr<WindowBytesStore> NewRocksDBWindowStore(
    std::string name, int64_t retention_ms, int64_t segment_interval_ms,
    std::shared_ptr<RocksDBResources> resources, int64_t recent_windows_ms) {
  // Null resources: the store's copy gets a budget of its own.
  std::shared_ptr<internal::ByteBudget> recent_budget =
      resources != nullptr ? resources->recent_windows_budget() : nullptr;
  auto engine =
      std::make_unique<internal::RocksDBEngine>(name, std::move(resources));
  return std::make_unique<internal::WindowStoreImpl>(
      std::move(name), std::move(engine), retention_ms, segment_interval_ms,
      recent_windows_ms, std::move(recent_budget));
}

std::unique_ptr<SessionBytesStore> NewInMemorySessionStore(
    std::string name, int64_t retention_ms) {
  auto engine = std::make_unique<internal::InMemoryEngine>(name);
  return std::make_unique<internal::SessionStoreImpl>(
      std::move(name), std::move(engine), retention_ms);
}

std::unique_ptr<SessionBytesStore> NewRocksDBSessionStore(
    std::string name, int64_t retention_ms,
    std::shared_ptr<RocksDBResources> resources) {
  auto engine =
      std::make_unique<internal::RocksDBEngine>(name, std::move(resources));
  return std::make_unique<internal::SessionStoreImpl>(
      std::move(name), std::move(engine), retention_ms);
}

}  // namespace brook
