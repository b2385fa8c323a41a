// FusedNode: one processor node that runs a chain of stateless DSL operators
// (filter, map, mapValues, peek, ...). Each operator is a Step that takes the
// record as the previous one left it and calls `next` zero or more times, so
// a chain costs one indirect call per operator and copies a record only
// where an operator makes a new one (a type or key change); a filter or a
// peek passes the same record on.
// Threading model: one node per task, used on its stream thread only.
#ifndef BROOK_OPERATORS_INTERNAL_FUSED_NODE_H_
#define BROOK_OPERATORS_INTERNAL_FUSED_NODE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

#include "runtime/internal/processor_node.h"

namespace brook::internal {

class FusedNode;

// The rest of the chain after one step.
class Next {
 public:
  Next(FusedNode* node, size_t index) : node_(node), index_(index) {}
  // REQUIRES: `record` points to a Record of the next step's input types.
  absl::Status operator()(const void* record) const;

 private:
  FusedNode* const node_;
  const size_t index_;
};

// One operator, type-erased: `record` points to a Record<K, V> of the
// types the DSL checked when it added the operator.
using Step = std::function<absl::Status(const void* record, const Next& next)>;

class FusedNode final : public ProcessorNode {
 public:
  FusedNode(std::string name, std::vector<Step> steps)
      : ProcessorNode(std::move(name)), steps_(std::move(steps)) {}

  absl::Status ProcessErased(const void* record) override {
    return Run(0, record);
  }

  // Runs steps[index..] on `record`; past the last step, forwards it.
  absl::Status Run(size_t index, const void* record) {
    if (index == steps_.size()) {
      for (ProcessorNode* child : children()) {
        absl::Status s = child->ProcessErased(record);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    return steps_[index](record, Next(this, index + 1));
  }

 private:
  const std::vector<Step> steps_;
};

inline absl::Status Next::operator()(const void* record) const {
  return node_->Run(index_, record);
}

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_FUSED_NODE_H_
