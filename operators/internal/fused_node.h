// FusedNode: one processor node that runs a chain of stateless DSL operators
// (filter, map, mapValues, peek, ...). Each operator is a Step that takes the
// record as the previous one left it and calls `next` zero or more times, so
// a chain costs one indirect call per operator and copies a record only
// where an operator makes a new one (a type or key change); a filter or a
// peek passes the same record on. A record that a step made is handed on as
// a temporary (Next::Temporary) that the following step may move fields out
// of, so a chain of mapValues copies the key and headers once, not once per
// operator.
// Threading model: one node per task, used on its stream thread only.
#ifndef BROOK_OPERATORS_INTERNAL_FUSED_NODE_H_
#define BROOK_OPERATORS_INTERNAL_FUSED_NODE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

#include "brook/runtime/internal/processor_node.h"
#include "brook/runtime/record.h"

namespace brook::internal {

class FusedNode;

// The rest of the chain after one step.
class Next {
 public:
  Next(FusedNode* node, size_t index, bool input_temporary)
      : node_(node), index_(index), input_temporary_(input_temporary) {}
  // Runs the rest of the chain on `record`, which the caller keeps.
  // REQUIRES: `record` points to a Record of the next step's input types.
  absl::Status operator()(const void* record) const;
  // Runs the rest on a record the step made and drops afterwards: the next
  // step may move its fields out.
  absl::Status Temporary(void* record) const;
  // Runs the rest on the step's own input, unchanged (a filter, a peek): it
  // stays a temporary if it was one.
  absl::Status Pass(const void* record) const;
  // May the step move fields out of the record it was given? Only if the
  // previous step made it (Temporary) and it was passed on unchanged.
  bool input_temporary() const { return input_temporary_; }
  // The step skips its record for `reason` (ProcessorContext::RecordDropped).
  void RecordDropped(DroppedRecordReason reason) const;

 private:
  FusedNode* const node_;
  const size_t index_;
  const bool input_temporary_;
};

// One operator, type-erased: `record` points to a Record<K, V> of the
// types the DSL checked when it added the operator.
using Step = std::function<absl::Status(const void* record, const Next& next)>;

class FusedNode final : public ProcessorNode {
 public:
  FusedNode(std::string name, std::vector<Step> steps)
      : ProcessorNode(std::move(name)), steps_(std::move(steps)) {}

  absl::Status ProcessErased(const void* record) override {
    return Run(0, record, /*temporary=*/false);
  }

  void RecordDropped(DroppedRecordReason reason) {
    task_->RecordDropped(*this, reason);
  }

  // Runs steps[index..] on `record`; past the last step, forwards it.
  absl::Status Run(size_t index, const void* record, bool temporary) {
    if (index == steps_.size()) {
      for (ProcessorNode* child : children()) {
        absl::Status s = child->ProcessErased(record);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    return steps_[index](record, Next(this, index + 1, temporary));
  }

 private:
  const std::vector<Step> steps_;
};

inline absl::Status Next::operator()(const void* record) const {
  return node_->Run(index_, record, /*temporary=*/false);
}
inline absl::Status Next::Temporary(void* record) const {
  return node_->Run(index_, record, /*temporary=*/true);
}
inline absl::Status Next::Pass(const void* record) const {
  return node_->Run(index_, record, input_temporary_);
}
inline void Next::RecordDropped(DroppedRecordReason reason) const {
  node_->RecordDropped(reason);
}

// The key and headers of a step's new record: moved out of the input when
// the input is a temporary (see Next), else copied. `in` is the step's input.
template <typename R>
auto TakeKey(const R& in, const Next& next) {
  if (next.input_temporary()) return std::move(const_cast<R&>(in).key);
  return in.key;
}
template <typename R>
std::vector<Header> TakeHeaders(const R& in, const Next& next) {
  if (next.input_temporary()) return std::move(const_cast<R&>(in).headers);
  if (in.headers.empty()) return {};  // cheaper than the vector's copy
  return in.headers;
}
template <typename R>
std::vector<Header> CopyHeaders(const R& in) {
  if (in.headers.empty()) return {};
  return in.headers;
}
template <typename R>
auto TakeValue(const R& in, const Next& next) {
  if (next.input_temporary()) return std::move(const_cast<R&>(in).value);
  return in.value;
}

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_FUSED_NODE_H_
