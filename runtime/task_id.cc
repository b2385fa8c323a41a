#include "brook/runtime/task_id.h"

#include "absl/strings/str_cat.h"

namespace brook {

std::string TaskId::ToString() const {
  return absl::StrCat(subtopology, "_", partition);
}

}  // namespace brook
