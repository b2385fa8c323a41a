#include "brook/state/internal/store_engine.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace brook::internal {
namespace {

class ErrorIterator : public EngineIterator {
 public:
  explicit ErrorIterator(absl::Status status) : status_(std::move(status)) {}
  bool Valid() const override { return false; }
  void Next() override {}
  void Seek(absl::string_view target) override {}
  absl::string_view key() const override { return {}; }
  absl::string_view value() const override { return {}; }
  absl::Status status() const override { return status_; }

 private:
  const absl::Status status_;
};

}  // namespace

std::unique_ptr<EngineIterator> NewErrorIterator(absl::Status status) {
  return std::make_unique<ErrorIterator>(std::move(status));
}

absl::Status NotOpenError(absl::string_view store_name) {
  return absl::FailedPreconditionError(
      absl::StrCat("state store '", store_name, "' is not open"));
}

}  // namespace brook::internal
