#include "brook/state/internal/in_memory_engine.h"

#include <utility>

namespace brook::internal {
namespace {

// Merges the committed map with the buffer; a buffered entry shadows the
// committed one with the same key, and a buffered delete hides it. The
// current pair is copied, so writes to the store during the walk (which
// never erase map nodes) leave the iterator valid.
// Threading model: as its engine (one stream thread).
class MergingIterator : public EngineIterator {
 public:
  MergingIterator(const InMemoryEngine::CommittedMap* committed,
                  const InMemoryEngine::BufferMap* buffer,
                  std::optional<absl::string_view> from,
                  std::optional<absl::string_view> to)
      : committed_(committed),
        buffer_(buffer),
        committed_it_(from ? committed->lower_bound(*from)
                           : committed->begin()),
        buffer_it_(from ? buffer->lower_bound(*from) : buffer->begin()),
        to_(to ? std::optional<std::string>(*to) : std::nullopt) {
    Settle();
  }

  bool Valid() const override { return valid_; }
  void Next() override { Settle(); }
  void Seek(absl::string_view target) override {
    committed_it_ = committed_->lower_bound(target);
    buffer_it_ = buffer_->lower_bound(target);
    Settle();
  }
  absl::string_view key() const override { return key_; }
  absl::string_view value() const override { return value_; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  bool InRange(const std::string& key) const { return !to_ || key < *to_; }

  // Makes the next visible pair current and steps past it.
  void Settle() {
    while (true) {
      bool committed_ok =
          committed_it_ != committed_->end() && InRange(committed_it_->first);
      bool buffer_ok =
          buffer_it_ != buffer_->end() && InRange(buffer_it_->first);
      if (!committed_ok && !buffer_ok) {
        valid_ = false;
        return;
      }
      if (buffer_ok &&
          (!committed_ok || buffer_it_->first <= committed_it_->first)) {
        if (committed_ok && committed_it_->first == buffer_it_->first) {
          ++committed_it_;
        }
        auto entry = buffer_it_++;
        if (!entry->second) continue;  // a buffered delete
        Load(entry->first, *entry->second);
        return;
      }
      auto entry = committed_it_++;
      Load(entry->first, entry->second);
      return;
    }
  }

  void Load(const std::string& key, const std::string& value) {
    key_ = key;
    value_ = value;
    valid_ = true;
  }

  const InMemoryEngine::CommittedMap* const committed_;
  const InMemoryEngine::BufferMap* const buffer_;
  InMemoryEngine::CommittedMap::const_iterator committed_it_;
  InMemoryEngine::BufferMap::const_iterator buffer_it_;
  const std::optional<std::string> to_;
  bool valid_ = false;
  std::string key_;
  std::string value_;
};

}  // namespace

absl::Status InMemoryEngine::Open(const std::string& path) {
  if (open_) {
    return absl::FailedPreconditionError("state store '" + store_name_ +
                                         "' is already open");
  }
  Clear();
  open_ = true;
  ever_opened_ = true;
  return absl::OkStatus();
}

void InMemoryEngine::Close() {
  Clear();
  open_ = false;
}

absl::Status InMemoryEngine::Wipe() {
  if (!ever_opened_) return NotOpenError(store_name_);
  Clear();
  return absl::OkStatus();
}

void InMemoryEngine::Clear() {
  committed_.clear();
  buffer_.clear();
  meta_.fill(std::nullopt);
}

absl::StatusOr<std::optional<std::string>> InMemoryEngine::Get(
    absl::string_view key) {
  if (!open_) return NotOpenError(store_name_);
  if (auto it = buffer_.find(key); it != buffer_.end()) return it->second;
  if (auto it = committed_.find(key); it != committed_.end()) {
    return it->second;
  }
  return std::nullopt;
}

absl::Status InMemoryEngine::Put(absl::string_view key,
                                 absl::string_view value) {
  if (!open_) return NotOpenError(store_name_);
  buffer_.insert_or_assign(std::string(key), std::string(value));
  return absl::OkStatus();
}

absl::Status InMemoryEngine::Delete(absl::string_view key) {
  if (!open_) return NotOpenError(store_name_);
  buffer_.insert_or_assign(std::string(key), std::nullopt);
  return absl::OkStatus();
}

std::unique_ptr<EngineIterator> InMemoryEngine::NewIterator(
    std::optional<absl::string_view> from,
    std::optional<absl::string_view> to) {
  if (!open_) return NewErrorIterator(NotOpenError(store_name_));
  return std::make_unique<MergingIterator>(&committed_, &buffer_, from, to);
}

absl::Status InMemoryEngine::Commit(const CommitExtras& extras) {
  if (!open_) return NotOpenError(store_name_);
  for (auto& [key, value] : buffer_) {
    if (value) {
      committed_.insert_or_assign(key, std::move(*value));
    } else {
      committed_.erase(key);
    }
  }
  buffer_.clear();
  ApplyExtras(extras);
  return absl::OkStatus();
}

absl::Status InMemoryEngine::WriteCommitted(
    absl::Span<const ChangeRecord> records, const CommitExtras& extras) {
  if (!open_) return NotOpenError(store_name_);
  for (const ChangeRecord& record : records) {
    if (record.value) {
      committed_.insert_or_assign(record.key, *record.value);
    } else {
      committed_.erase(record.key);
    }
  }
  ApplyExtras(extras);
  return absl::OkStatus();
}

void InMemoryEngine::ApplyExtras(const CommitExtras& extras) {
  if (extras.changelog_offset) {
    meta_[static_cast<int>(MetaKey::kChangelogOffset)] =
        extras.changelog_offset;
  }
  if (extras.stream_time) {
    meta_[static_cast<int>(MetaKey::kStreamTime)] = extras.stream_time;
  }
  for (const auto& [begin, end] : extras.delete_ranges) {
    if (!(begin < end)) continue;
    committed_.erase(committed_.lower_bound(begin),
                     committed_.lower_bound(end));
  }
}

absl::StatusOr<int64_t> InMemoryEngine::ApproximateNumEntries() {
  if (!open_) return NotOpenError(store_name_);
  int64_t count = static_cast<int64_t>(committed_.size());
  for (const auto& [key, value] : buffer_) {
    bool committed = committed_.find(key) != committed_.end();
    if (value && !committed) ++count;
    if (!value && committed) --count;
  }
  return count;
}

StateStoreMetrics InMemoryEngine::Metrics() const {
  StateStoreMetrics m;
  if (open_) m.estimate_num_keys = static_cast<int64_t>(committed_.size());
  return m;
}

}  // namespace brook::internal
