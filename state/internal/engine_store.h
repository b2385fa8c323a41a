// EngineStore: the StateStore half that every built-in store shares: naming,
// opening, committing, aborting, wiping and logging over a StoreEngine. The
// key-value, window and session stores derive from it and add their own
// reads, writes and Restore().
#ifndef BROOK_STATE_INTERNAL_ENGINE_STORE_H_
#define BROOK_STATE_INTERNAL_ENGINE_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/state/internal/counting_engine.h"
#include "brook/state/internal/store_engine.h"
#include "brook/state/state_store.h"

namespace brook::internal {

// `Interface` is KeyValueBytesStore, WindowBytesStore or SessionBytesStore.
// Threading model: as StateStore (owned by one task, on its stream thread).
template <typename Interface>
class EngineStore : public Interface {
 public:
  EngineStore(std::string name, std::unique_ptr<StoreEngine> engine)
      : name_(std::move(name)),
        engine_(std::make_unique<CountingEngine>(std::move(engine))) {}

  const std::string& name() const final { return name_; }
  bool persistent() const final { return engine_->persistent(); }

  // Opens the engine in <dir>/<name>. kInvalidArgument for a name that is
  // not a plain directory name or a bad store setting; kFailedPrecondition
  // if already open.
  absl::Status Open(const std::string& dir) final {
    BROOK_RETURN_IF_ERROR(ValidateName());
    BROOK_RETURN_IF_ERROR(ValidateSettings());
    BROOK_RETURN_IF_ERROR(engine_->Open(absl::StrCat(dir, "/", name_)));
    OnOpened();
    return absl::OkStatus();
  }

  void SetChangeSink(ChangeSink* logger) final { logger_ = logger; }

  std::optional<int64_t> committed_offset() const final {
    return engine_->committed_meta(MetaKey::kChangelogOffset);
  }

  absl::Status Commit(std::optional<int64_t> changelog_offset) final {
    CommitExtras extras = PrepareCommit();
    extras.changelog_offset = changelog_offset;
    BROOK_RETURN_IF_ERROR(engine_->Commit(extras));
    OnCommitted();
    return absl::OkStatus();
  }

  void Abort() final {
    engine_->Abort();
    OnAborted();
  }

  bool has_uncommitted() const final { return engine_->has_uncommitted(); }

  // Leaves the store open (and empty) if it was open, closed otherwise; works
  // after a failed Open() too.
  absl::Status Wipe() final {
    BROOK_RETURN_IF_ERROR(engine_->Wipe());
    if (engine_->is_open()) OnOpened();
    return absl::OkStatus();
  }

  void Close() final { engine_->Close(); }
  StateStoreMetrics Metrics() const final { return engine_->Metrics(); }
  void EnableLatencyMetrics() final { engine_->EnableLatencyMetrics(); }

 protected:
  // Hooks for stores with more committed state than the engine's data.
  virtual absl::Status ValidateSettings() const { return absl::OkStatus(); }
  // After Open() and after Wipe() of an open store.
  virtual void OnOpened() {}
  // What Commit() writes besides the buffer and the offset.
  virtual CommitExtras PrepareCommit() { return {}; }
  virtual void OnCommitted() {}
  virtual void OnAborted() {}

  StoreEngine& engine() { return *engine_; }

  // Sends a change to the logger, if any.
  absl::Status LogChange(absl::string_view key,
                         std::optional<absl::string_view> value) {
    if (logger_ == nullptr) return absl::OkStatus();
    return logger_->LogChange(key, value);
  }

  // The preconditions of Restore().
  absl::Status CheckRestorable() const {
    if (!engine_->is_open()) return NotOpenError(name_);
    if (engine_->has_uncommitted()) {
      return absl::FailedPreconditionError(
          absl::StrCat("state store '", name_,
                       "' cannot restore while it has uncommitted writes"));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status ValidateName() const {
    if (name_.empty() || name_ == "." || name_ == ".." ||
        name_.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "state store name '", name_,
          "' must be non-empty, not '.' or '..', and contain no '/'"));
    }
    return absl::OkStatus();
  }

  const std::string name_;
  const std::unique_ptr<CountingEngine> engine_;
  ChangeSink* logger_ = nullptr;
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_ENGINE_STORE_H_
