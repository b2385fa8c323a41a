// `brook reset`: makes an application start over from its input, as Kafka's
// kafka-streams-application-reset does: resets the group's committed
// offsets of the input topics, deletes the application's internal topics
// (changelogs and repartition topics) and, if asked, its local state.
// Threading model: functions only.
#ifndef BROOK_TOOLS_BROOK_RESET_H_
#define BROOK_TOOLS_BROOK_RESET_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "brook/kafka/admin.h"
#include "tools/brook/internal/command.h"

namespace brook::tool {

struct ResetOptions {
  std::string application_id;
  // Empty: every topic the group has committed offsets for, other than
  // the application's internal topics.
  std::vector<std::string> input_topics;
  // Reset to the first offset at or after this time; nullopt: to the
  // earliest offset still stored.
  std::optional<absl::Time> to_time;
  // If not empty, <state_dir>/<application_id> is removed.
  std::string state_dir;
};

struct OffsetChange {
  TopicPartition tp;
  std::optional<int64_t> from;  // nullopt: nothing committed
  int64_t to = 0;
};

struct ResetPlan {
  std::string group;
  std::vector<OffsetChange> offsets;
  std::vector<std::string> topics_to_delete;
  std::string state_to_remove;  // empty: none
};

// True for "<application_id>-...-changelog" and "-...-repartition".
bool IsInternalTopic(const std::string& application_id,
                     const std::string& topic);

// Works out what a reset would do, changing nothing. kFailedPrecondition,
// naming the group and its members, while the group has active members;
// likewise if the local state directory is locked by a running instance.
absl::StatusOr<ResetPlan> PlanReset(Admin& admin, const ResetOptions& options,
                                    absl::Duration timeout);

// One line per action.
std::string PlanText(const ResetPlan& plan);

// Carries the plan out: offsets, then topics, then local state. Stops at
// the first error, which names what failed.
absl::Status ApplyReset(Admin& admin, const ResetPlan& plan,
                        absl::Duration timeout);

Command ResetCommand();

}  // namespace brook::tool

#endif  // BROOK_TOOLS_BROOK_RESET_H_
