#include "tools/brook/reset.h"

#include <filesystem>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "brook/base/status_macros.h"
#include "tools/brook/internal/progress.h"
#include "tools/brook/state_inspect.h"

namespace brook::tool {

namespace fs = std::filesystem;

bool IsInternalTopic(const std::string& application_id,
                     const std::string& topic) {
  return absl::StartsWith(topic, absl::StrCat(application_id, "-")) &&
         (absl::EndsWith(topic, "-changelog") ||
          absl::EndsWith(topic, "-repartition"));
}

absl::StatusOr<ResetPlan> PlanReset(Admin& admin, const ResetOptions& options,
                                    absl::Duration timeout) {
  const std::string& group = options.application_id;
  BROOK_ASSIGN_OR_RETURN(GroupDescription description,
                         admin.DescribeGroup(group, timeout));
  if (!description.members.empty()) {
    std::vector<std::string> members;
    for (const GroupMember& m : description.members) {
      members.push_back(absl::StrCat(m.client_id, "@", m.host));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "group '", group, "' has ", members.size(), " active member(s) (",
        absl::StrJoin(members, ", "),
        "); stop every instance of the application before resetting it"));
  }
  ResetPlan plan;
  plan.group = group;
  BROOK_ASSIGN_OR_RETURN(std::vector<TopicPartitionOffset> committed,
                         admin.ListGroupOffsets(group, timeout));
  std::map<TopicPartition, int64_t> current;
  for (const auto& c : committed) current[c.tp] = c.offset;

  std::vector<std::string> inputs = options.input_topics;
  if (inputs.empty()) {
    for (const auto& [tp, offset] : current) {
      if (!IsInternalTopic(group, tp.topic) &&
          (inputs.empty() || inputs.back() != tp.topic)) {
        inputs.push_back(tp.topic);
      }
    }
  }
  std::vector<TopicPartition> partitions;
  for (const std::string& topic : inputs) {
    absl::StatusOr<int32_t> count = admin.PartitionCount(topic, timeout);
    if (!count.ok()) {
      return absl::Status(count.status().code(),
                          absl::StrCat("input topic '", topic,
                                       "': ", count.status().message()));
    }
    for (int32_t p = 0; p < *count; ++p) partitions.push_back({topic, p});
  }
  std::vector<TopicPartitionOffset> targets;
  if (options.to_time.has_value()) {
    BROOK_ASSIGN_OR_RETURN(
        targets, admin.OffsetsForTime(partitions, *options.to_time, timeout));
  } else {
    for (const TopicPartition& tp : partitions) {
      BROOK_ASSIGN_OR_RETURN(WatermarkOffsets marks,
                             admin.QueryWatermarks(tp, timeout));
      targets.push_back({tp, marks.low});
    }
  }
  for (const TopicPartitionOffset& t : targets) {
    OffsetChange change{t.tp, std::nullopt, t.offset};
    if (auto it = current.find(t.tp); it != current.end()) {
      change.from = it->second;
    }
    plan.offsets.push_back(change);
  }

  BROOK_ASSIGN_OR_RETURN(std::vector<std::string> topics,
                         admin.ListTopics(timeout));
  for (const std::string& topic : topics) {
    if (IsInternalTopic(group, topic)) plan.topics_to_delete.push_back(topic);
  }

  if (!options.state_dir.empty()) {
    const fs::path app_dir = fs::path(options.state_dir) / group;
    if (fs::exists(app_dir)) {
      const std::string lock = LockHolder((app_dir / ".lock").string());
      if (absl::StartsWith(lock, "locked")) {
        return absl::FailedPreconditionError(
            absl::StrCat("state directory '", app_dir.string(), "' is ", lock,
                         "; stop that instance before resetting"));
      }
      plan.state_to_remove = app_dir.string();
    }
  }
  return plan;
}

std::string PlanText(const ResetPlan& plan) {
  std::string text;
  for (const OffsetChange& c : plan.offsets) {
    absl::StrAppend(&text, "reset offset of group '", plan.group, "' on ",
                    c.tp.ToString(), ": ",
                    c.from.has_value() ? absl::StrCat(*c.from) : "none", " -> ",
                    c.to, "\n");
  }
  for (const std::string& topic : plan.topics_to_delete) {
    absl::StrAppend(&text, "delete internal topic ", topic, "\n");
  }
  if (!plan.state_to_remove.empty()) {
    absl::StrAppend(&text, "remove local state directory ",
                    plan.state_to_remove, "\n");
  }
  if (text.empty()) text = "nothing to do\n";
  return text;
}

absl::Status ApplyReset(Admin& admin, const ResetPlan& plan,
                        absl::Duration timeout) {
  std::vector<TopicPartitionOffset> offsets;
  for (const OffsetChange& c : plan.offsets) offsets.push_back({c.tp, c.to});
  Progress progress(stderr,
                    1 + static_cast<int64_t>(plan.topics_to_delete.size()) +
                        (plan.state_to_remove.empty() ? 0 : 1),
                    "steps");
  BROOK_RETURN_IF_ERROR(admin.AlterGroupOffsets(plan.group, offsets, timeout));
  progress.Advance();
  for (const std::string& topic : plan.topics_to_delete) {
    BROOK_RETURN_IF_ERROR(admin.DeleteTopic(topic, timeout));
    progress.Advance();
  }
  if (!plan.state_to_remove.empty()) {
    std::error_code ec;
    fs::remove_all(plan.state_to_remove, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat(
          "cannot remove '", plan.state_to_remove, "': ", ec.message()));
    }
    progress.Advance();
  }
  return absl::OkStatus();
}

namespace {

int RunReset(const ParsedArgs& args, Io io) {
  const std::string servers = args.Get("bootstrap-servers");
  ResetOptions options;
  options.application_id = args.Get("application-id");
  if (servers.empty() || options.application_id.empty()) {
    io.err << "brook reset: --bootstrap-servers and --application-id are "
              "required\n";
    return kExitUsage;
  }
  options.input_topics = SplitList(args.Get("input-topics"));
  options.state_dir = args.Get("state-dir");
  if (args.Has("to-datetime")) {
    if (args.GetBool("to-earliest")) {
      io.err << "brook reset: give --to-earliest or --to-datetime, not both\n";
      return kExitUsage;
    }
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, args.Get("to-datetime"), &time,
                         &error)) {
      io.err << "brook reset: --to-datetime '" << args.Get("to-datetime")
             << "' is not an RFC 3339 time such as 2026-12-03T10:00:00Z: "
             << error << "\n";
      return kExitUsage;
    }
    options.to_time = time;
  }
  absl::StatusOr<std::unique_ptr<Admin>> admin =
      Admin::Create({{"bootstrap.servers", servers}});
  if (!admin.ok()) {
    io.err << "brook reset: " << admin.status().message() << "\n";
    return kExitError;
  }
  const absl::Duration timeout = absl::Seconds(30);
  absl::StatusOr<ResetPlan> plan = PlanReset(**admin, options, timeout);
  if (!plan.ok()) {
    io.err << "brook reset: " << plan.status().message() << "\n";
    return absl::IsFailedPrecondition(plan.status()) ? kExitUsage : kExitError;
  }
  const bool dry_run = args.GetBool("dry-run");
  io.out << (dry_run ? "dry run; would:\n" : "") << PlanText(*plan);
  if (dry_run) return kExitOk;
  if (absl::Status s = ApplyReset(**admin, *plan, timeout); !s.ok()) {
    io.err << "brook reset: " << s.message() << "\n";
    return kExitError;
  }
  io.out << "done\n";
  return kExitOk;
}

}  // namespace

Command ResetCommand() {
  return Command{
      .name = "reset",
      .synopsis =
          "--bootstrap-servers=B --application-id=X "
          "[--input-topics=a,b] [--to-earliest | "
          "--to-datetime=2026-12-03T10:00:00Z] [--state-dir=D] "
          "[--dry-run]",
      .summary =
          "Makes a stopped application start over: resets its "
          "group's offsets on the input topics, deletes its internal "
          "topics and (with --state-dir) its local state. Refuses, "
          "with exit code 2, while the group has active members.",
      .flags = {{"bootstrap-servers", "Kafka bootstrap servers, host:port"},
                {"application-id", "the application.id (= its group id)"},
                {"input-topics",
                 "comma-separated input topics; default: every non-internal "
                 "topic the group has committed offsets for"},
                {"to-earliest", "reset to the earliest offsets (the default)",
                 FlagKind::kBoolean},
                {"to-datetime",
                 "reset to the first offset at or after this RFC 3339 time"},
                {"state-dir",
                 "the application's state.dir; its <application "
                 "id> directory is removed"},
                {"dry-run", "print every action and do nothing",
                 FlagKind::kBoolean}},
      .run = RunReset,
  };
}

}  // namespace brook::tool
