// KeyValueStoreImpl: KeyValueBytesStore over a StoreEngine, which holds the
// keys as they are. The changelog key is the key itself.
#ifndef BROOK_STATE_INTERNAL_KEY_VALUE_STORE_IMPL_H_
#define BROOK_STATE_INTERNAL_KEY_VALUE_STORE_IMPL_H_

#include <memory>
#include <optional>
#include <string>

#include "brook/state/internal/engine_store.h"
#include "brook/state/key_value_bytes_store.h"

namespace brook::internal {

// Threading model: as StateStore (owned by one task, on its stream thread).
class KeyValueStoreImpl : public EngineStore<KeyValueBytesStore> {
 public:
  using EngineStore::EngineStore;

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override;
  // On a logger error the write stays buffered; the caller aborts.
  absl::Status Put(absl::string_view key, absl::string_view value) override;
  absl::Status Delete(absl::string_view key) override;
  absl::StatusOr<std::optional<std::string>> PutIfAbsent(
      absl::string_view key, absl::string_view value) override;
  std::unique_ptr<KeyValueIterator> Range(
      std::optional<absl::string_view> from,
      std::optional<absl::string_view> to) override;
  std::unique_ptr<KeyValueIterator> PrefixScan(
      absl::string_view prefix) override;
  absl::StatusOr<int64_t> ApproximateNumEntries() override;

  absl::Status Restore(absl::Span<const ChangeRecord> records,
                       int64_t next_offset) override;
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_KEY_VALUE_STORE_IMPL_H_
