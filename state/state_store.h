// StateStore and StoreBuilder: the contract between processors and the
// stores they keep state in. Processors reach a store by name through their
// ProcessorContext; a StoreBuilder attached to the topology makes one store
// per task.
//
// Only the interfaces exist so far. Key-value, window and session stores
// (in memory and on RocksDB, transactional, backed by changelog topics) are
// the next milestone; see docs/architecture.md.
#ifndef BROOK_STATE_STATE_STORE_H_
#define BROOK_STATE_STATE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace brook {

// One store of one task.
// Threading model: owned by the task, used only on its stream thread.
class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual const std::string& name() const = 0;

  // True if the store keeps its data on disk across restarts.
  virtual bool persistent() const = 0;

  // Called when the task starts, with the task's private directory.
  virtual absl::Status Open(const std::string& task_dir) = 0;

  // Makes everything written so far durable (called after a commit).
  virtual absl::Status Flush() = 0;

  virtual void Close() = 0;
};

// Makes the store a task uses. One builder serves every task.
// Threading model: immutable after construction; Build() may be called from
// any stream thread.
class StoreBuilder {
 public:
  virtual ~StoreBuilder() = default;

  virtual const std::string& name() const = 0;

  // Whether the store is backed by a changelog topic (and so is
  // fault-tolerant).
  virtual bool logging_enabled() const = 0;

  virtual std::unique_ptr<StateStore> Build() const = 0;
};

}  // namespace brook

#endif  // BROOK_STATE_STATE_STORE_H_
