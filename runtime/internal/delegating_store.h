// DelegatingStore: a StateStore that forwards the life-cycle calls to the
// bytes store it wraps; the typed stores derive from it.
// Threading model: owned by one task.
#ifndef BROOK_RUNTIME_INTERNAL_DELEGATING_STORE_H_
#define BROOK_RUNTIME_INTERNAL_DELEGATING_STORE_H_

#include <optional>
#include <string>

#include "brook/state/state_store.h"

namespace brook::internal {

class DelegatingStore : public StateStore {
 public:
  explicit DelegatingStore(StateStore* inner) : inner_(inner) {}

  const std::string& name() const override { return inner_->name(); }
  bool persistent() const override { return inner_->persistent(); }
  absl::Status Open(const std::string& dir) override {
    return inner_->Open(dir);
  }
  void SetChangeSink(ChangeSink* logger) override {
    inner_->SetChangeSink(logger);
  }
  std::optional<int64_t> committed_offset() const override {
    return inner_->committed_offset();
  }
  absl::Status Commit(std::optional<int64_t> offset) override {
    return inner_->Commit(offset);
  }
  void Abort() override { inner_->Abort(); }
  bool has_uncommitted() const override { return inner_->has_uncommitted(); }
  absl::Status Restore(absl::Span<const ChangeRecord> records,
                       int64_t next_offset) override {
    return inner_->Restore(records, next_offset);
  }
  absl::Status Wipe() override { return inner_->Wipe(); }
  void Close() override { inner_->Close(); }
  StateStoreMetrics Metrics() const override { return inner_->Metrics(); }
  void EnableLatencyMetrics() override { inner_->EnableLatencyMetrics(); }

 private:
  StateStore* const inner_;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_DELEGATING_STORE_H_
