#include "tools/brook/lag.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "brook/base/status_macros.h"
#include "tools/brook/internal/table.h"

namespace brook::tool {

absl::StatusOr<GroupLag> ComputeLag(Admin& admin, const std::string& group,
                                    absl::Duration timeout) {
  BROOK_ASSIGN_OR_RETURN(std::vector<TopicPartitionOffset> committed,
                         admin.ListGroupOffsets(group, timeout));
  BROOK_ASSIGN_OR_RETURN(GroupDescription description,
                         admin.DescribeGroup(group, timeout));
  std::map<TopicPartition, PartitionLag> rows;
  for (const TopicPartitionOffset& c : committed) {
    rows[c.tp].committed = c.offset;
  }
  for (const GroupMember& member : description.members) {
    for (const TopicPartition& tp : member.assignment) {
      auto [it, inserted] = rows.try_emplace(tp);
      if (inserted) it->second.committed = -1;  // resolved below
      it->second.owner = member;
    }
  }
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "group '", group, "' has no committed offsets and no members (state ",
        description.state, "); is --application-id right?"));
  }
  GroupLag lag{group, description.state, {}};
  for (auto& [tp, row] : rows) {
    row.tp = tp;
    BROOK_ASSIGN_OR_RETURN(WatermarkOffsets marks,
                           admin.QueryWatermarks(tp, timeout));
    if (row.committed < 0) row.committed = marks.low;
    row.end = marks.high;
    row.lag = std::max<int64_t>(0, row.end - row.committed);
    lag.partitions.push_back(std::move(row));
  }
  return lag;
}

namespace {
std::string OwnerText(const std::optional<GroupMember>& owner) {
  if (!owner.has_value()) return "-";
  return absl::StrCat(owner->client_id, "@", owner->host);
}
}  // namespace

std::string LagTable(const GroupLag& lag) {
  Table table({"TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "OWNER"});
  int64_t total = 0;
  for (const PartitionLag& p : lag.partitions) {
    table.AddRow({p.tp.topic, absl::StrCat(p.tp.partition),
                  absl::StrCat(p.committed), absl::StrCat(p.end),
                  absl::StrCat(p.lag), OwnerText(p.owner)});
    total += p.lag;
  }
  return absl::StrCat("group ", lag.group, " (", lag.state, "), total lag ",
                      total, "\n\n", table.ToString());
}

std::string LagJson(const GroupLag& lag) {
  std::vector<std::string> partitions;
  for (const PartitionLag& p : lag.partitions) {
    std::string owner = "null";
    if (p.owner.has_value()) {
      owner =
          absl::StrCat("{\"client_id\":", JsonString(p.owner->client_id),
                       ",\"host\":", JsonString(p.owner->host),
                       ",\"member_id\":", JsonString(p.owner->member_id), "}");
    }
    partitions.push_back(absl::StrCat(
        "{\"topic\":", JsonString(p.tp.topic),
        ",\"partition\":", p.tp.partition, ",\"committed\":", p.committed,
        ",\"end\":", p.end, ",\"lag\":", p.lag, ",\"owner\":", owner, "}"));
  }
  return absl::StrCat("{\"group\":", JsonString(lag.group),
                      ",\"state\":", JsonString(lag.state), ",\"partitions\":[",
                      absl::StrJoin(partitions, ","), "]}\n");
}

namespace {

int RunLag(const ParsedArgs& args, Io io) {
  const std::string servers = args.Get("bootstrap-servers");
  const std::string group = args.Get("application-id");
  const std::string format = args.Get("format");
  if (servers.empty() || group.empty()) {
    io.err << "brook lag: --bootstrap-servers and --application-id are "
              "required\n";
    return kExitUsage;
  }
  if (format != "text" && format != "json") {
    io.err << "brook lag: --format must be text or json, not '" << format
           << "'\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<Admin>> admin =
      Admin::Create({{"bootstrap.servers", servers}});
  if (!admin.ok()) {
    io.err << "brook lag: " << admin.status().message() << "\n";
    return kExitError;
  }
  absl::StatusOr<GroupLag> lag = ComputeLag(**admin, group, absl::Seconds(30));
  if (!lag.ok()) {
    io.err << "brook lag: " << lag.status().message() << "\n";
    return kExitError;
  }
  io.out << (format == "json" ? LagJson(*lag) : LagTable(*lag));
  return kExitOk;
}

}  // namespace

Command LagCommand() {
  return Command{
      .name = "lag",
      .synopsis = "--bootstrap-servers=B --application-id=X [--format=json]",
      .summary =
          "Prints, per input partition of the application's consumer "
          "group, the committed offset, the log end offset (last "
          "stable offset), the lag and the member that owns it.",
      .flags = {{"bootstrap-servers", "Kafka bootstrap servers, host:port"},
                {"application-id", "the application.id (= its group id)"},
                {"format", "text or json", FlagKind::kValue, "text"}},
      .run = RunLag,
  };
}

}  // namespace brook::tool
