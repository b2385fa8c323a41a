#include "brook/runtime/stores.h"

namespace brook {
namespace internal {

std::map<std::string, std::string> WindowedChangelogConfig(
    int64_t retention_ms) {
  return {{"cleanup.policy", "compact,delete"},
          {"retention.ms", absl::StrCat(retention_ms + 24 * 3600 * 1000)}};
}

std::unique_ptr<WindowBytesStore> NewWindowBytesStore(
    const std::string& name, int64_t retention_ms, const StoreOptions& options,
    const StoreContext& context) {
  if (!options.persistent) return NewInMemoryWindowStore(name, retention_ms);
  return NewRocksDBWindowStore(name, retention_ms, 0, context.rocksdb,
                               options.recent_windows_ms);
}

std::unique_ptr<SessionBytesStore> NewSessionBytesStore(
    const std::string& name, int64_t retention_ms, const StoreOptions& options,
    const StoreContext& context) {
  if (!options.persistent) return NewInMemorySessionStore(name, retention_ms);
  return NewRocksDBSessionStore(name, retention_ms, context.rocksdb);
}

}  // namespace internal
namespace {

using internal::WindowedChangelogConfig;

enum class WindowKind { kWindow, kSession };

class WindowBuilder final : public StoreBuilder {
 public:
  WindowBuilder(std::string name, int64_t retention_ms, StoreOptions options,
                WindowKind kind)
      : name_(std::move(name)),
        retention_ms_(retention_ms),
        options_(options),
        kind_(kind) {}
  const std::string& name() const override { return name_; }
  bool logging_enabled() const override { return options_.logging_enabled; }
  std::map<std::string, std::string> changelog_config() const override {
    return WindowedChangelogConfig(retention_ms_);
  }
  std::unique_ptr<StateStore> Build(
      const StoreContext& context) const override {
    if (kind_ == WindowKind::kSession) {
      return internal::NewSessionBytesStore(name_, retention_ms_, options_,
                                            context);
    }
    return internal::NewWindowBytesStore(name_, retention_ms_, options_,
                                         context);
  }

 private:
  const std::string name_;
  const int64_t retention_ms_;
  const StoreOptions options_;
  const WindowKind kind_;
};

}  // namespace

std::shared_ptr<const StoreBuilder> Stores::WindowStoreBuilder(
    std::string name, int64_t retention_ms, StoreOptions options) {
  return std::make_shared<WindowBuilder>(std::move(name), retention_ms, options,
                                         WindowKind::kWindow);
}

std::shared_ptr<const StoreBuilder> Stores::SessionStoreBuilder(
    std::string name, int64_t retention_ms, StoreOptions options) {
  return std::make_shared<WindowBuilder>(std::move(name), retention_ms, options,
                                         WindowKind::kSession);
}

}  // namespace brook
