// InMemoryEngine: a StoreEngine over std::map, for stores that need no disk.
// Its data, committed or not, lives only as long as it is open: after a
// restart its store restores the whole changelog.
#ifndef BROOK_STATE_INTERNAL_IN_MEMORY_ENGINE_H_
#define BROOK_STATE_INTERNAL_IN_MEMORY_ENGINE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "brook/state/internal/store_engine.h"

namespace brook::internal {

// Threading model: as StoreEngine (one stream thread).
class InMemoryEngine : public StoreEngine {
 public:
  using CommittedMap = std::map<std::string, std::string, std::less<>>;
  using BufferMap =
      std::map<std::string, std::optional<std::string>, std::less<>>;

  explicit InMemoryEngine(std::string store_name)
      : store_name_(std::move(store_name)) {}

  bool persistent() const override { return false; }
  // Starts empty, whatever was there before; `path` is not used.
  absl::Status Open(const std::string& path) override;
  bool is_open() const override { return open_; }
  void Close() override;
  absl::Status Wipe() override;

  std::optional<int64_t> committed_meta(MetaKey key) const override {
    return meta_[static_cast<int>(key)];
  }

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override;
  absl::Status Put(absl::string_view key, absl::string_view value) override;
  absl::Status Delete(absl::string_view key) override;
  std::unique_ptr<EngineIterator> NewIterator(
      std::optional<absl::string_view> from,
      std::optional<absl::string_view> to) override;

  bool has_uncommitted() const override { return !buffer_.empty(); }
  absl::Status Commit(const CommitExtras& extras) override;
  void Abort() override { buffer_.clear(); }
  absl::Status WriteCommitted(absl::Span<const ChangeRecord> records,
                              const CommitExtras& extras) override;

  absl::StatusOr<int64_t> ApproximateNumEntries() override;
  // estimate_num_keys: the committed keys, exactly.
  StateStoreMetrics Metrics() const override;

 private:
  void Clear();
  void ApplyExtras(const CommitExtras& extras);

  const std::string store_name_;
  bool open_ = false;
  bool ever_opened_ = false;
  CommittedMap committed_;
  BufferMap buffer_;
  std::array<std::optional<int64_t>, kNumMetaKeys> meta_;
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_IN_MEMORY_ENGINE_H_
