// StoreEngine: the transactional sorted map of bytes under every store. The
// key-value, window and session stores are written once over this interface;
// RocksDBEngine and InMemoryEngine implement it.
//
// An engine holds committed data and an uncommitted buffer of writes that
// reads see (read-your-writes; a buffered delete hides a committed key).
// Commit() applies the buffer together with a few named 64-bit values (the
// changelog offset, a window store's stream time) and range deletions in one
// atomic step.
#ifndef BROOK_STATE_INTERNAL_STORE_ENGINE_H_
#define BROOK_STATE_INTERNAL_STORE_ENGINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "brook/state/key_value_bytes_store.h"
#include "brook/state/state_store.h"

namespace brook::internal {

// The named values an engine commits with its data.
enum class MetaKey {
  kChangelogOffset,  // StateStore::committed_offset()
  kStreamTime,       // a segmented store's observed stream time
};
inline constexpr int kNumMetaKeys = 2;

// What Commit() and WriteCommitted() write besides the data.
struct CommitExtras {
  // nullopt keeps the committed value.
  std::optional<int64_t> changelog_offset;
  std::optional<int64_t> stream_time;
  // Key ranges [first, second) deleted after the data is applied.
  std::vector<std::pair<std::string, std::string>> delete_ranges;

  bool empty() const {
    return !changelog_offset && !stream_time && delete_ranges.empty();
  }
};

// A KeyValueIterator that can be moved. Its pairs stay within [from, to) of
// NewIterator(), except that Seek() may go below `from`.
class EngineIterator : public KeyValueIterator {
 public:
  // Moves to the first pair with key >= target.
  virtual void Seek(absl::string_view target) = 0;
};

// Threading model: owned by one store; used only on its task's stream
// thread. Iterators must be destroyed before Commit(), Abort(), Close() or
// Wipe(); they may outlive writes (they then see them or not).
class StoreEngine {
 public:
  virtual ~StoreEngine() = default;

  virtual bool persistent() const = 0;

  // Opens (creating if needed) the storage at `path`, which a persistent
  // engine uses as its directory. kDataLoss if the storage cannot be trusted.
  // The engine remembers `path` even if opening fails, for Wipe().
  // REQUIRES: !is_open().
  virtual absl::Status Open(const std::string& path) = 0;
  virtual bool is_open() const = 0;
  // Drops the buffer and releases the storage. No-op if not open.
  virtual void Close() = 0;
  // Deletes all data and meta values; leaves the engine open (and empty) if
  // it was open, closed otherwise. REQUIRES: Open() was called.
  virtual absl::Status Wipe() = 0;

  // The committed value of `key`; nullopt if never committed.
  virtual std::optional<int64_t> committed_meta(MetaKey key) const = 0;

  // Reads and buffered writes. REQUIRES (else kFailedPrecondition): open.
  virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) = 0;
  virtual absl::Status Put(absl::string_view key, absl::string_view value) = 0;
  virtual absl::Status Delete(absl::string_view key) = 0;
  // Pairs with from <= key < to, in key order, committed data overlaid with
  // the buffer. key() and value() stay valid until the next call on the
  // iterator.
  virtual std::unique_ptr<EngineIterator> NewIterator(
      std::optional<absl::string_view> from,
      std::optional<absl::string_view> to) = 0;

  // True if Put() or Delete() was called since the last Commit() or Abort().
  virtual bool has_uncommitted() const = 0;
  // Applies the buffer, then `extras`, atomically, and empties the buffer.
  // On error nothing is applied and the buffer is kept.
  virtual absl::Status Commit(const CommitExtras& extras) = 0;
  // Empties the buffer.
  virtual void Abort() = 0;
  // Applies `records` (no value: delete), then `extras`, atomically,
  // bypassing the buffer (the restore path).
  virtual absl::Status WriteCommitted(absl::Span<const ChangeRecord> records,
                                      const CommitExtras& extras) = 0;

  // Committed keys (an estimate if persistent) plus buffered puts.
  virtual absl::StatusOr<int64_t> ApproximateNumEntries() = 0;

  // The store's metrics: a storage engine fills the size fields it can tell
  // (all nullopt while not open), CountingEngine the counters.
  virtual StateStoreMetrics Metrics() const = 0;
};

// An iterator that is not Valid() and reports `status`.
std::unique_ptr<EngineIterator> NewErrorIterator(absl::Status status);

// The error of a call on an engine that is not open.
absl::Status NotOpenError(absl::string_view store_name);

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_STORE_ENGINE_H_
