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

// The buffer merged with the database. The current pair is copied, because a
// write to the buffer may move the bytes the underlying iterator points at;
// after such a write the iterator re-seeks past the copied key instead of
// trusting its position (see NewIteratorWithBase's comment; RocksDB 7.8
// copes in practice, but does not promise to).
// Threading model: as its engine (one stream thread).
class BufferedIterator : public EngineIterator {
 public:
  BufferedIterator(const RocksDBHandle& handle,
                   rocksdb::WriteBatchWithIndex* buffer,
                   const uint64_t* write_generation,
                   std::optional<absl::string_view> from,
                   std::optional<absl::string_view> to, std::string context)
      : write_generation_(write_generation),
        seen_generation_(*write_generation),
        context_(std::move(context)) {
    if (to) {
      upper_ = std::string(*to);
      upper_slice_ = rocksdb::Slice(*upper_);
      read_options_.iterate_upper_bound = &upper_slice_;
    }
    rocksdb::Iterator* base =
        handle.db()->NewIterator(read_options_, handle.data());
    it_.reset(buffer->NewIteratorWithBase(handle.data(), base, &read_options_));
    if (from) {
      it_->Seek(ToSlice(*from));
    } else {
      it_->SeekToFirst();
    }
    Load();
  }

  bool Valid() const override { return valid_; }
  absl::string_view key() const override { return key_; }
  absl::string_view value() const override { return value_; }
  absl::Status status() const override { return status_; }

  void Seek(absl::string_view target) override {
    seen_generation_ = *write_generation_;
    it_->Seek(ToSlice(target));
    Load();
  }

  void Next() override {
    if (!valid_) return;
    if (*write_generation_ != seen_generation_) {
      seen_generation_ = *write_generation_;
      it_->Seek(key_);
      if (it_->Valid() && ToView(it_->key()) == key_) it_->Next();
    } else {
      it_->Next();
    }
    Load();
  }

 private:
  void Load() {
    valid_ = it_->Valid() &&
             (!upper_ || ToView(it_->key()) < absl::string_view(*upper_));
    if (valid_) {
      key_.assign(it_->key().data(), it_->key().size());
      value_.assign(it_->value().data(), it_->value().size());
    } else {
      status_ = FromRocksDB(it_->status(), context_);
    }
  }

  const uint64_t* const write_generation_;
  uint64_t seen_generation_;
  const std::string context_;
  // Referenced by it_, so declared before it.
  std::optional<std::string> upper_;
  rocksdb::Slice upper_slice_;
  rocksdb::ReadOptions read_options_;
  std::unique_ptr<rocksdb::Iterator> it_;
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
      resources_(OrDefault(std::move(resources))),
      buffer_(rocksdb::BytewiseComparator(), /*reserved_bytes=*/0,
              /*overwrite_key=*/true) {}

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
  rocksdb::PinnableSlice value;
  rocksdb::Status status =
      buffer_.GetFromBatchAndDB(handle_->db(), rocksdb::ReadOptions(),
                                handle_->data(), ToSlice(key), &value);
  if (status.IsNotFound()) return std::nullopt;
  BROOK_RETURN_IF_ERROR(
      FromRocksDB(status, absl::StrCat("cannot read ", Describe())));
  return std::string(value.data(), value.size());
}

absl::Status RocksDBEngine::Put(absl::string_view key,
                                absl::string_view value) {
  if (handle_ == nullptr) return NotOpenError(store_name_);
  BROOK_RETURN_IF_ERROR(
      FromRocksDB(buffer_.Put(handle_->data(), ToSlice(key), ToSlice(value)),
                  absl::StrCat("cannot buffer a write to ", Describe())));
  ++buffered_writes_;
  ++buffered_puts_;
  ++write_generation_;
  return absl::OkStatus();
}

absl::Status RocksDBEngine::Delete(absl::string_view key) {
  if (handle_ == nullptr) return NotOpenError(store_name_);
  BROOK_RETURN_IF_ERROR(
      FromRocksDB(buffer_.Delete(handle_->data(), ToSlice(key)),
                  absl::StrCat("cannot buffer a delete in ", Describe())));
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
  // The meta values join the buffer behind a save point, so that a failed
  // write leaves the buffer as it was.
  buffer_.SetSavePoint();
  absl::Status status = AppendMeta(extras, &buffer_);
  if (status.ok()) {
    if (extras.delete_ranges.empty()) {
      status = Write(buffer_.GetWriteBatch(), extras);
    } else {
      // WriteBatchWithIndex refuses DeleteRange: append the ranges to a copy.
      rocksdb::WriteBatch batch(*buffer_.GetWriteBatch());
      status = Write(&batch, extras);
    }
  }
  if (!status.ok()) {
    buffer_.RollbackToSavePoint().PermitUncheckedError();  // cannot fail here
    return status;
  }
  ClearBuffer();
  return absl::OkStatus();
}

void RocksDBEngine::Abort() { ClearBuffer(); }

void RocksDBEngine::ClearBuffer() {
  buffer_.Clear();
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
