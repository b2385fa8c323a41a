#include "brook/state/internal/rocksdb_engine.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/comparator.h"
#include "rocksdb/db.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "brook/state/internal/key_codec.h"
#include "brook/state/internal/rocksdb_status.h"

namespace brook::internal {
namespace {

constexpr const char* kMetaKeyNames[kNumMetaKeys] = {kChangelogOffsetKey,
                                                     kStreamTimeKey};

absl::string_view ToView(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

rocksdb::Slice ToSlice(absl::string_view view) {
  return rocksdb::Slice(view.data(), view.size());
}

std::string EncodeMeta(int64_t value) {
  std::string bytes;
  AppendBigEndian64(value, &bytes);
  return bytes;
}

using Buffer =
    absl::btree_map<std::string, std::optional<std::string>, std::less<>>;

// The buffer merged with the database: the smaller key of the two goes
// first, the buffer's entry wins a tie, and the buffer's deletes hide the
// database's entries. The current pair is copied, because a write to the
// buffer invalidates the buffer's iterator; after such a write the iterator
// re-seeks both sides past the copied key instead of trusting its position.
// Threading model: as its engine (one stream thread).
class BufferedIterator : public EngineIterator {
 public:
  BufferedIterator(const RocksDBHandle& handle, const Buffer* buffer,
                   const uint64_t* write_generation,
                   std::optional<absl::string_view> from,
                   std::optional<absl::string_view> to, std::string context)
      : buffer_(buffer),
        write_generation_(write_generation),
        context_(std::move(context)) {
    if (to) {
      upper_ = std::string(*to);
      upper_slice_ = rocksdb::Slice(*upper_);
      read_options_.iterate_upper_bound = &upper_slice_;
    }
    db_.reset(handle.db()->NewIterator(read_options_, handle.data()));
    if (from) {
      Position(*from, /*past=*/false);
    } else {
      seen_generation_ = *write_generation_;
      db_->SeekToFirst();
      buffer_it_ = buffer_->begin();
      Load();
    }
  }

  bool Valid() const override { return valid_; }
  absl::string_view key() const override { return key_; }
  absl::string_view value() const override { return value_; }
  absl::Status status() const override { return status_; }

  void Seek(absl::string_view target) override {
    Position(target, /*past=*/false);
  }

  void Next() override {
    if (!valid_) return;
    if (*write_generation_ != seen_generation_) {
      const std::string current = key_;
      Position(current, /*past=*/true);
      return;
    }
    if (buffer_it_ != buffer_->end() && buffer_it_->first == key_) {
      ++buffer_it_;
    }
    if (db_->Valid() && ToView(db_->key()) == key_) db_->Next();
    Load();
  }

 private:
  // Both sides at the first key >= target (> target if `past`).
  void Position(absl::string_view target, bool past) {
    seen_generation_ = *write_generation_;
    db_->Seek(ToSlice(target));
    if (past && db_->Valid() && ToView(db_->key()) == target) db_->Next();
    buffer_it_ =
        past ? buffer_->upper_bound(target) : buffer_->lower_bound(target);
    Load();
  }

  bool InRange(absl::string_view key) const {
    return !upper_ || key < absl::string_view(*upper_);
  }

  // Moves past the buffer's deletes to the next visible pair.
  void Load() {
    while (true) {
      const bool db_valid = db_->Valid() && InRange(ToView(db_->key()));
      const bool buffer_valid =
          buffer_it_ != buffer_->end() && InRange(buffer_it_->first);
      if (!db_valid && !db_->status().ok()) {
        valid_ = false;
        status_ = FromRocksDB(db_->status(), context_);
        return;
      }
      if (!db_valid && !buffer_valid) {
        valid_ = false;
        return;
      }
      const int order = !buffer_valid ? 1
                        : !db_valid   ? -1
                                      : absl::string_view(buffer_it_->first)
                                          .compare(ToView(db_->key()));
      if (order > 0) {  // the database's key comes first
        key_.assign(db_->key().data(), db_->key().size());
        value_.assign(db_->value().data(), db_->value().size());
        valid_ = true;
        return;
      }
      if (buffer_it_->second.has_value()) {
        key_ = buffer_it_->first;
        value_ = *buffer_it_->second;
        valid_ = true;
        return;
      }
      // A buffered delete: skip the key on both sides.
      if (order == 0) db_->Next();
      ++buffer_it_;
    }
  }

  const Buffer* const buffer_;
  const uint64_t* const write_generation_;
  uint64_t seen_generation_ = 0;
  const std::string context_;
  // Referenced by db_, so declared before it.
  std::optional<std::string> upper_;
  rocksdb::Slice upper_slice_;
  rocksdb::ReadOptions read_options_;
  std::unique_ptr<rocksdb::Iterator> db_;
  Buffer::const_iterator buffer_it_;
  bool valid_ = false;
  std::string key_;
  std::string value_;
  absl::Status status_;
};

}  // namespace

namespace {

std::shared_ptr<RocksDBResources> OrDefault(
    std::shared_ptr<RocksDBResources> resources) {
  if (resources != nullptr) return resources;
  absl::StatusOr<std::shared_ptr<RocksDBResources>> own =
      RocksDBResources::Create(RocksDBConfig());
  CHECK(own.ok()) << "the default RocksDBConfig is invalid: " << own.status();
  return *std::move(own);
}

}  // namespace

RocksDBEngine::RocksDBEngine(std::string store_name,
                             std::shared_ptr<RocksDBResources> resources)
    : store_name_(std::move(store_name)),
      resources_(OrDefault(std::move(resources))) {}

std::string RocksDBEngine::Describe() const {
  return absl::StrCat("state store '", store_name_, "' in '", path_, "'");
}

absl::Status RocksDBEngine::Open(const std::string& path) {
  if (handle_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(), " is already open"));
  }
  path_ = path;
  const RocksDBHandle::Verify verify =
      resources_->config().verify_checksums_on_open
          ? RocksDBHandle::Verify::kChecksums
          : RocksDBHandle::Verify::kNone;
  BROOK_ASSIGN_OR_RETURN(
      handle_,
      RocksDBHandle::Open(store_name_, path_,
                          resources_->OptionsFor(store_name_), verify));
  absl::Status status = ReadMetaValues();
  if (!status.ok()) Close();
  return status;
}

absl::Status RocksDBEngine::ReadMetaValues() {
  for (int i = 0; i < kNumMetaKeys; ++i) {
    std::string value;
    rocksdb::Status status = handle_->db()->Get(
        rocksdb::ReadOptions(), handle_->meta(), kMetaKeyNames[i], &value);
    if (status.IsNotFound()) {
      meta_[i] = std::nullopt;
      continue;
    }
    const std::string context =
        absl::StrCat("cannot read '", kMetaKeyNames[i], "' of ", Describe());
    BROOK_RETURN_IF_ERROR(FromRocksDBOpen(status, context));
    if (value.size() != 8) {
      return absl::DataLossError(absl::StrCat(
          "'", kMetaKeyNames[i], "' of ", Describe(), " has ", value.size(),
          " bytes instead of 8; the store's files are damaged"));
    }
    meta_[i] = ReadBigEndian64(value);
  }
  return absl::OkStatus();
}

void RocksDBEngine::Close() {
  ClearBuffer();
  ClearReadCache();
  if (handle_ != nullptr) {
    // Committed data goes from the memtables to table files, so a restart
    // need not replay the WAL. Failure costs only that: the WAL has it all,
    // but for restored data, which is lost together with its offset (see
    // unpersisted_restore_) and restored again.
    rocksdb::FlushOptions flush;
    handle_->db()
        ->Flush(flush, {handle_->data(), handle_->meta()})
        .PermitUncheckedError();
  }
  handle_.reset();
  unpersisted_restore_ = false;
  meta_.fill(std::nullopt);
}

absl::Status RocksDBEngine::Wipe() {
  if (path_.empty()) return NotOpenError(store_name_);
  const bool was_open = handle_ != nullptr;
  Close();
  BROOK_RETURN_IF_ERROR(RocksDBHandle::Destroy(
      store_name_, path_, resources_->OptionsFor(store_name_)));
  if (!was_open) return absl::OkStatus();
  return Open(path_);
}

absl::StatusOr<std::optional<std::string>> RocksDBEngine::Get(
    absl::string_view key) {
  if (handle_ == nullptr) return NotOpenError(store_name_);
  if (auto it = buffer_.find(key); it != buffer_.end()) return it->second;
  if (auto it = read_cache_.find(key); it != read_cache_.end()) {
    return it->second;
  }
  std::string value;
  rocksdb::Status status = handle_->db()->Get(
      rocksdb::ReadOptions(), handle_->data(), ToSlice(key), &value);
  if (status.IsNotFound()) {
    // Absent keys are not cached: in window and join stores a Get of a new
    // (key, time) misses once and is never asked again, and cached misses
    // filled the cache and its updates at every commit (issue 10's join
    // profile). A count's first read of a key misses once more instead.
    return std::nullopt;
  }
  BROOK_RETURN_IF_ERROR(
      FromRocksDB(status, absl::StrCat("cannot read ", Describe())));
  std::optional<std::string> result = std::move(value);
  CacheCommitted(key, result);
  return result;
}

void RocksDBEngine::CacheCommitted(absl::string_view key,
                                   const std::optional<std::string>& value) {
  const int64_t limit = resources_->config().read_cache_bytes_per_store;
  // Each entry also costs its slot and two string headers: count 64 bytes.
  const int64_t bytes =
      static_cast<int64_t>(key.size() + (value ? value->size() : 0)) + 64;
  if (bytes > limit) return;
  auto [it, inserted] = read_cache_.try_emplace(key, value);
  if (!inserted) {
    read_cache_bytes_ -= static_cast<int64_t>(
        it->first.size() + (it->second ? it->second->size() : 0) + 64);
    it->second = value;
  }
  read_cache_bytes_ += bytes;
  if (read_cache_bytes_ > limit) {
    // Full: start over rather than track recency per entry. The entry just
    // written stays, so a read of it right after still hits.
    std::optional<std::string> keep = std::move(it->second);
    ClearReadCache();
    read_cache_.try_emplace(key, std::move(keep));
    read_cache_bytes_ = bytes;
  }
}

void RocksDBEngine::ClearReadCache() {
  read_cache_.clear();
  read_cache_bytes_ = 0;
}

absl::Status RocksDBEngine::Put(absl::string_view key,
                                absl::string_view value) {
  if (handle_ == nullptr) return NotOpenError(store_name_);
  if (auto it = buffer_.find(key); it != buffer_.end()) {
    it->second.emplace(value);
  } else {
    buffer_.emplace(std::string(key), std::string(value));
  }
  ++buffered_writes_;
  ++buffered_puts_;
  ++write_generation_;
  return absl::OkStatus();
}

absl::Status RocksDBEngine::Delete(absl::string_view key) {
  if (handle_ == nullptr) return NotOpenError(store_name_);
  if (auto it = buffer_.find(key); it != buffer_.end()) {
    it->second.reset();
  } else {
    buffer_.emplace(std::string(key), std::nullopt);
  }
  ++buffered_writes_;
  ++write_generation_;
  return absl::OkStatus();
}

std::unique_ptr<EngineIterator> RocksDBEngine::NewIterator(
    std::optional<absl::string_view> from,
    std::optional<absl::string_view> to) {
  if (handle_ == nullptr) return NewErrorIterator(NotOpenError(store_name_));
  return std::make_unique<BufferedIterator>(
      *handle_, &buffer_, &write_generation_, from, to,
      absl::StrCat("cannot iterate over ", Describe()));
}

absl::Status RocksDBEngine::AppendMeta(const CommitExtras& extras,
                                       rocksdb::WriteBatchBase* batch) {
  const std::optional<int64_t> values[kNumMetaKeys] = {extras.changelog_offset,
                                                       extras.stream_time};
  for (int i = 0; i < kNumMetaKeys; ++i) {
    if (!values[i]) continue;
    BROOK_RETURN_IF_ERROR(FromRocksDB(
        batch->Put(handle_->meta(), kMetaKeyNames[i], EncodeMeta(*values[i])),
        absl::StrCat("cannot prepare the commit of ", Describe())));
  }
  return absl::OkStatus();
}

absl::Status RocksDBEngine::PersistRestored() {
  if (!unpersisted_restore_) return absl::OkStatus();
  BROOK_RETURN_IF_ERROR(FromRocksDB(
      handle_->db()->Flush(rocksdb::FlushOptions(),
                           {handle_->data(), handle_->meta()}),
      absl::StrCat("cannot flush the restored data of ", Describe())));
  unpersisted_restore_ = false;
  return absl::OkStatus();
}

absl::Status RocksDBEngine::Write(rocksdb::WriteBatch* batch,
                                  const CommitExtras& extras, bool wal) {
  if (wal) BROOK_RETURN_IF_ERROR(PersistRestored());
  for (const auto& [begin, end] : extras.delete_ranges) {
    BROOK_RETURN_IF_ERROR(
        FromRocksDB(batch->DeleteRange(handle_->data(), begin, end),
                    absl::StrCat("cannot prepare the commit of ", Describe())));
  }
  rocksdb::WriteOptions options;
  options.disableWAL = !wal;
  BROOK_RETURN_IF_ERROR(
      FromRocksDB(handle_->db()->Write(options, batch),
                  absl::StrCat("cannot commit to ", Describe())));
  if (!wal) unpersisted_restore_ = true;
  if (extras.changelog_offset) {
    meta_[static_cast<int>(MetaKey::kChangelogOffset)] =
        extras.changelog_offset;
  }
  if (extras.stream_time) {
    meta_[static_cast<int>(MetaKey::kStreamTime)] = extras.stream_time;
  }
  return absl::OkStatus();
}

absl::Status RocksDBEngine::Commit(const CommitExtras& extras) {
  if (handle_ == nullptr) return NotOpenError(store_name_);
  if (buffered_writes_ == 0 && extras.empty()) return absl::OkStatus();
  // The batch is built aside, so a failed write leaves the buffer as it was.
  // The map is sorted, so the memtable inserts arrive in key order.
  rocksdb::WriteBatch batch;
  const std::string context =
      absl::StrCat("cannot prepare the commit of ", Describe());
  for (const auto& [key, value] : buffer_) {
    BROOK_RETURN_IF_ERROR(
        FromRocksDB(value ? batch.Put(handle_->data(), key, *value)
                          : batch.Delete(handle_->data(), key),
                    context));
  }
  BROOK_RETURN_IF_ERROR(AppendMeta(extras, &batch));
  BROOK_RETURN_IF_ERROR(Write(&batch, extras));
  if (!extras.delete_ranges.empty()) {
    // The ranges were deleted after the buffer's writes, and may cover
    // cached keys: forget everything rather than test each key.
    ClearReadCache();
  } else {
    // Only keys already cached are updated: a Get caches the rest on its
    // miss. Caching every written key cost the join 3% of its CPU in keys
    // that only range scans read (issue 10's profile).
    for (auto& [key, value] : buffer_) {
      if (read_cache_.contains(key)) CacheCommitted(key, value);
    }
  }
  ClearBuffer();
  return absl::OkStatus();
}

void RocksDBEngine::Abort() { ClearBuffer(); }

void RocksDBEngine::ClearBuffer() {
  buffer_.clear();
  buffered_writes_ = 0;
  buffered_puts_ = 0;
  ++write_generation_;
}

absl::Status RocksDBEngine::WriteCommitted(
    absl::Span<const ChangeRecord> records, const CommitExtras& extras) {
  if (handle_ == nullptr) return NotOpenError(store_name_);
  rocksdb::WriteBatch batch;
  const std::string context =
      absl::StrCat("cannot prepare a restore of ", Describe());
  for (const ChangeRecord& record : records) {
    rocksdb::Status status =
        record.value ? batch.Put(handle_->data(), record.key, *record.value)
                     : batch.Delete(handle_->data(), record.key);
    BROOK_RETURN_IF_ERROR(FromRocksDB(status, context));
  }
  BROOK_RETURN_IF_ERROR(AppendMeta(extras, &batch));
  // Restored values replace whatever the read cache knew.
  ClearReadCache();
  return Write(&batch, extras, /*wal=*/false);
}

absl::StatusOr<int64_t> RocksDBEngine::ApproximateNumEntries() {
  if (handle_ == nullptr) return NotOpenError(store_name_);
  uint64_t estimate = 0;
  if (!handle_->db()->GetIntProperty(handle_->data(),
                                     "rocksdb.estimate-num-keys", &estimate)) {
    return absl::InternalError(
        absl::StrCat("cannot estimate the size of ", Describe()));
  }
  return static_cast<int64_t>(estimate) + buffered_puts_;
}

StateStoreMetrics RocksDBEngine::Metrics() const {
  StateStoreMetrics m;
  if (handle_ == nullptr) return m;
  auto property = [&](const std::string& name) -> std::optional<int64_t> {
    uint64_t value = 0;
    if (!handle_->db()->GetIntProperty(handle_->data(), name, &value)) {
      return std::nullopt;
    }
    return static_cast<int64_t>(value);
  };
  m.estimate_num_keys = property("rocksdb.estimate-num-keys");
  m.total_sst_files_size_bytes = property("rocksdb.total-sst-files-size");
  m.cur_size_all_mem_tables_bytes = property("rocksdb.cur-size-all-mem-tables");
  return m;
}

}  // namespace brook::internal
