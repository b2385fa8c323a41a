#include "brook/state/internal/key_value_store_impl.h"

#include "brook/base/status_macros.h"
#include "brook/state/internal/key_codec.h"

namespace brook::internal {

absl::StatusOr<std::optional<std::string>> KeyValueStoreImpl::Get(
    absl::string_view key) {
  return engine().Get(key);
}

absl::Status KeyValueStoreImpl::Put(absl::string_view key,
                                    absl::string_view value) {
  BROOK_RETURN_IF_ERROR(engine().Put(key, value));
  return LogChange(key, value);
}

absl::Status KeyValueStoreImpl::Delete(absl::string_view key) {
  BROOK_RETURN_IF_ERROR(engine().Delete(key));
  return LogChange(key, std::nullopt);
}

absl::StatusOr<std::optional<std::string>> KeyValueStoreImpl::PutIfAbsent(
    absl::string_view key, absl::string_view value) {
  BROOK_ASSIGN_OR_RETURN(std::optional<std::string> existing, Get(key));
  if (existing) return existing;
  BROOK_RETURN_IF_ERROR(Put(key, value));
  return std::nullopt;
}

std::unique_ptr<KeyValueIterator> KeyValueStoreImpl::Range(
    std::optional<absl::string_view> from,
    std::optional<absl::string_view> to) {
  return engine().NewIterator(from, to);
}

std::unique_ptr<KeyValueIterator> KeyValueStoreImpl::PrefixScan(
    absl::string_view prefix) {
  const std::optional<std::string> end = PrefixSuccessor(prefix);
  return engine().NewIterator(
      prefix, end ? std::optional<absl::string_view>(*end) : std::nullopt);
}

absl::StatusOr<int64_t> KeyValueStoreImpl::ApproximateNumEntries() {
  return engine().ApproximateNumEntries();
}

absl::Status KeyValueStoreImpl::Restore(absl::Span<const ChangeRecord> records,
                                        int64_t next_offset) {
  BROOK_RETURN_IF_ERROR(CheckRestorable());
  CommitExtras extras;
  extras.changelog_offset = next_offset;
  return engine().WriteCommitted(records, extras);
}

}  // namespace brook::internal
