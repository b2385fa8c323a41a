// TaskId: a task is one sub-topology working on one partition number.
// Threading model: a plain value.
#ifndef BROOK_RUNTIME_TASK_ID_H_
#define BROOK_RUNTIME_TASK_ID_H_

#include <cstdint>
#include <string>
#include <utility>

namespace brook {

struct TaskId {
  int32_t subtopology = 0;
  int32_t partition = 0;

  friend bool operator==(const TaskId&, const TaskId&) = default;
  friend auto operator<=>(const TaskId&, const TaskId&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const TaskId& id) {
    return H::combine(std::move(h), id.subtopology, id.partition);
  }
  // "1_3": sub-topology 1, partition 3, as Kafka Streams prints task ids.
  std::string ToString() const;
};

}  // namespace brook

#endif  // BROOK_RUNTIME_TASK_ID_H_
