#include "brook/operators/streams_builder.h"

#include "brook/base/status_macros.h"

namespace brook {

absl::StatusOr<Topology> StreamsBuilder::Build() const {
  BROOK_ASSIGN_OR_RETURN(
      Topology topology,
      graph_->Build({.fuse_stateless = options_.fuse_stateless}));
  BROOK_RETURN_IF_ERROR(topology.Validate());
  return topology;
}

}  // namespace brook
