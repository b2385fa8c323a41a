#include "brook/runtime/topology.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

#include "brook/runtime/internal/topology_plan.h"

namespace brook {

Topology& Topology::Add(internal::NodeSpec spec) {
  if (spec.name.empty() && first_error_.ok()) {
    first_error_ =
        absl::InvalidArgumentError("a topology node has an empty name");
  }
  for (const internal::NodeSpec& n : nodes_) {
    if (n.name == spec.name && first_error_.ok()) {
      first_error_ = absl::InvalidArgumentError(
          absl::StrCat("topology node name '", spec.name, "' is used twice"));
    }
  }
  nodes_.push_back(std::move(spec));
  return *this;
}

Topology& Topology::AddStateStore(std::shared_ptr<const StoreBuilder> builder,
                                  std::vector<std::string> processors) {
  const std::string name = builder->name();
  if (stores_.contains(name) && first_error_.ok()) {
    first_error_ = absl::InvalidArgumentError(
        absl::StrCat("state store '", name, "' is added twice"));
  }
  stores_[name] = std::move(builder);
  for (const std::string& p : processors) {
    bool found = false;
    for (internal::NodeSpec& n : nodes_) {
      if (n.name != p) continue;
      found = true;
      if (n.kind != internal::NodeSpec::Kind::kProcessor && first_error_.ok()) {
        first_error_ = absl::InvalidArgumentError(absl::StrCat(
            "state store '", name,
            "' can only be connected to processors, not '", p, "'"));
      }
      n.stores.push_back(name);
    }
    if (!found && first_error_.ok()) {
      first_error_ = absl::InvalidArgumentError(absl::StrCat(
          "state store '", name, "' is connected to unknown processor '", p,
          "' (add the processor first)"));
    }
  }
  return *this;
}

Topology& Topology::ConnectProcessorAndStateStores(
    const std::string& processor, std::vector<std::string> stores) {
  for (internal::NodeSpec& n : nodes_) {
    if (n.name != processor) continue;
    if (n.kind != internal::NodeSpec::Kind::kProcessor && first_error_.ok()) {
      first_error_ = absl::InvalidArgumentError(absl::StrCat(
          "state stores can only be connected to processors, not '", processor,
          "'"));
    }
    for (std::string& s : stores) {
      if (!stores_.contains(s) && first_error_.ok()) {
        first_error_ = absl::InvalidArgumentError(
            absl::StrCat("processor '", processor,
                         "' is connected to unknown state store '", s, "'"));
      }
      n.stores.push_back(std::move(s));
    }
    return *this;
  }
  if (first_error_.ok()) {
    first_error_ = absl::InvalidArgumentError(
        absl::StrCat("cannot connect stores to unknown processor '", processor,
                     "' (add the processor first)"));
  }
  return *this;
}

Topology& Topology::AddInternalTopic(const std::string& name,
                                     InternalTopicOptions options) {
  if (first_error_.ok()) {
    if (name.empty()) {
      first_error_ =
          absl::InvalidArgumentError("an internal topic has an empty name");
    } else if (internal_topics_.contains(name)) {
      first_error_ = absl::InvalidArgumentError(
          absl::StrCat("internal topic '", name, "' is added twice"));
    } else if (options.partitions < 0) {
      first_error_ = absl::InvalidArgumentError(
          absl::StrCat("internal topic '", name, "' has ", options.partitions,
                       " partitions; give 0 (derive) or more"));
    }
  }
  internal_topics_[name] = std::move(options);
  return *this;
}

absl::Status Topology::Validate() const {
  if (!first_error_.ok()) return first_error_;
  return internal::TopologyPlan::Build(*this).status();
}

std::string Topology::Describe() const {
  absl::StatusOr<std::shared_ptr<const internal::TopologyPlan>> plan =
      internal::TopologyPlan::Build(*this);
  if (!first_error_.ok() || !plan.ok()) {
    const absl::Status& error =
        first_error_.ok() ? plan.status() : first_error_;
    return absl::StrCat("Invalid topology: ", error.message(), "\n",
                        internal::DescribeNodes(nodes_, {}));
  }
  return (*plan)->Describe();
}

std::string Topology::ToMermaid() const {
  absl::StatusOr<std::shared_ptr<const internal::TopologyPlan>> plan =
      internal::TopologyPlan::Build(*this);
  if (!first_error_.ok() || !plan.ok()) {
    const absl::Status& error =
        first_error_.ok() ? plan.status() : first_error_;
    return absl::StrCat(
        "flowchart TD\n  %% Invalid topology: ", error.message(), "\n");
  }
  return (*plan)->ToMermaid();
}

std::string Topology::ToDot() const {
  absl::StatusOr<std::shared_ptr<const internal::TopologyPlan>> plan =
      internal::TopologyPlan::Build(*this);
  if (!first_error_.ok() || !plan.ok()) {
    const absl::Status& error =
        first_error_.ok() ? plan.status() : first_error_;
    std::string message(error.message());
    absl::StrReplaceAll({{"*/", "* /"}}, &message);
    return absl::StrCat("digraph topology {\n  /* Invalid topology: ", message,
                        " */\n}\n");
  }
  return (*plan)->ToDot();
}

}  // namespace brook
