// StateStore: what every store of a task offers the runtime, and
// StoreBuilder, which makes one store per task.
//
// Stores are transactional. Writes a processor makes go to an uncommitted
// buffer that reads see (read-your-writes); the same changes are handed to a
// ChangeSink, which the runtime points at the store's changelog topic inside
// the open Kafka transaction. When the transaction commits, the runtime calls
// Commit() with the changelog offset that the committed data now corresponds
// to; the store writes the buffer and that offset in one atomic write, so the
// stored offset never runs ahead of the stored data. When the transaction
// aborts, Abort() drops the buffer. After a crash the store is therefore at
// some committed point, and the runtime restores only the changelog records
// after committed_offset().
//
// State knows nothing of Kafka: changelog records are plain key/value pairs
// and offsets plain integers.
#ifndef BROOK_STATE_STATE_STORE_H_
#define BROOK_STATE_STATE_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "brook/state/state_store_metrics.h"

namespace brook {

// One change as it travels through the changelog: the store's own binary key
// and value; no value means the key was deleted.
struct ChangeRecord {
  std::string key;
  std::optional<std::string> value;
};

// Where a store sends its changes. Implemented by the runtime (a changelog
// topic partition, inside the task's transaction).
// Threading model: called on the task's stream thread.
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  virtual absl::Status LogChange(absl::string_view key,
                                 std::optional<absl::string_view> value) = 0;
};

// One store of one task.
// Threading model: owned by the task; used only on its stream thread.
class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual const std::string& name() const = 0;

  // True if the store keeps its data on disk across restarts; an in-memory
  // store restores its whole changelog after every restart.
  virtual bool persistent() const = 0;

  // Opens the store under `dir` (the task's directory), creating it if
  // needed. kDataLoss if what is on disk cannot be trusted (unreadable
  // files, a garbled offset): the runtime then wipes the store and restores
  // it from its changelog. kUnavailable if another open store holds its
  // files (retry later); kInvalidArgument for a name that is not a plain
  // directory name or a bad setting (such as a negative retention);
  // kFailedPrecondition if already open.
  virtual absl::Status Open(const std::string& dir) = 0;

  // Changes made from now on are also sent to `logger` (may be null: not
  // logged). `logger` must outlive the store.
  virtual void SetChangeSink(ChangeSink* logger) = 0;

  // The changelog offset the committed data corresponds to, i.e. the first
  // changelog offset not yet reflected in the store; nullopt if nothing was
  // ever committed (restore from the beginning).
  virtual std::optional<int64_t> committed_offset() const = 0;

  // Makes the uncommitted writes durable together with `changelog_offset`
  // (the new committed_offset(); nullopt keeps the old one), atomically.
  // Called after the Kafka transaction that carried the changes committed.
  virtual absl::Status Commit(std::optional<int64_t> changelog_offset) = 0;

  // Drops the uncommitted writes (the transaction aborted).
  virtual void Abort() = 0;

  // True if there are uncommitted writes.
  virtual bool has_uncommitted() const = 0;

  // Applies changelog records read during restore and sets
  // committed_offset() to `next_offset`, atomically. Does not log them.
  // REQUIRES: !has_uncommitted().
  virtual absl::Status Restore(absl::Span<const ChangeRecord> records,
                               int64_t next_offset) = 0;

  // Deletes everything (data and offset), e.g. before a full restore. An
  // open store stays open (and empty). A store whose Open() failed is left
  // closed, its files gone, and the next Open() starts it empty.
  // REQUIRES: Open() was called.
  virtual absl::Status Wipe() = 0;

  // Releases files and memory. Uncommitted writes are dropped.
  virtual void Close() = 0;

  // The store's counters and size (state_store_metrics.h). A store that
  // keeps none reports zeros, which this default does.
  virtual StateStoreMetrics Metrics() const { return {}; }
  // Times every get, put and delete from now on, for the latencies in
  // Metrics() (metrics.recording.level=DEBUG). A store that keeps no
  // metrics ignores it, which this default does.
  virtual void EnableLatencyMetrics() {}
};

class RocksDBResources;

// What a builder may use to make a store.
struct StoreContext {
  // Shared by every RocksDB store of the application (see stores.h).
  std::shared_ptr<RocksDBResources> rocksdb;
};

// Makes the store a task uses. One builder serves every task.
// Threading model: immutable after construction; Build() may be called from
// any stream thread.
class StoreBuilder {
 public:
  virtual ~StoreBuilder() = default;

  virtual const std::string& name() const = 0;

  // Whether the store is backed by a changelog topic. A store without one is
  // not fault-tolerant: its data is lost with its state directory, and it is
  // not moved with its task.
  virtual bool logging_enabled() const = 0;

  // Topic configs of the changelog, e.g. cleanup.policy=compact.
  virtual std::map<std::string, std::string> changelog_config() const {
    return {{"cleanup.policy", "compact"}};
  }

  virtual std::unique_ptr<StateStore> Build(
      const StoreContext& context) const = 0;
};

}  // namespace brook

#endif  // BROOK_STATE_STATE_STORE_H_
