// `brook lag`: how far an application's consumer group is behind its input.
// Threading model: functions only; each call uses the Admin it is given.
#ifndef BROOK_TOOLS_BROOK_LAG_H_
#define BROOK_TOOLS_BROOK_LAG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "brook/kafka/admin.h"
#include "tools/brook/internal/command.h"

namespace brook::tool {

// One input partition of the group.
struct PartitionLag {
  TopicPartition tp;
  int64_t committed = 0;
  // The log end offset as a read_committed reader sees it: the last stable
  // offset (librdkafka answers watermark queries with it by default).
  int64_t end = 0;
  int64_t lag = 0;  // end - committed, never below 0
  // The member that owns the partition now, if the group has one.
  std::optional<GroupMember> owner;
};

struct GroupLag {
  std::string group;
  std::string state;  // the group's state, e.g. "Stable" or "Empty"
  std::vector<PartitionLag> partitions;  // sorted by partition
};

// The lag of every partition that `group` has a committed offset for or
// that a member owns (an owned partition without a commit counts from its
// log start). kNotFound, naming the group, if it has neither.
absl::StatusOr<GroupLag> ComputeLag(Admin& admin, const std::string& group,
                                    absl::Duration timeout);

std::string LagTable(const GroupLag& lag);
std::string LagJson(const GroupLag& lag);

Command LagCommand();

}  // namespace brook::tool

#endif  // BROOK_TOOLS_BROOK_LAG_H_
