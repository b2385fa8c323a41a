#include "runtime/stores.h"

namespace brook {
namespace {

// Windowed changelogs are compacted and also deleted by time, so that keys of
// expired windows do not stay forever; a day of slack, as Kafka Streams'
// windowstore.changelog.additional.retention.ms.
std::map<std::string, std::string> WindowedChangelogConfig(
    int64_t retention_ms) {
  return {{"cleanup.policy", "compact,delete"},
          {"retention.ms", absl::StrCat(retention_ms + 24 * 3600 * 1000)}};
}

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
      if (!options_.persistent)
        return NewInMemorySessionStore(name_, retention_ms_);
      return NewRocksDBSessionStore(name_, retention_ms_, context.rocksdb);
    }
    if (!options_.persistent)
      return NewInMemoryWindowStore(name_, retention_ms_);
    return NewRocksDBWindowStore(name_, retention_ms_, 0, context.rocksdb);
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
