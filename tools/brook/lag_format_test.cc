#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "tools/brook/lag.h"

namespace brook::tool {
namespace {

GroupLag TwoPartitions() {
  GroupLag lag{.group = "app", .state = "Stable", .partitions = {}};
  lag.partitions.push_back({.tp = {"in", 0},
                            .committed = 5,
                            .end = 7,
                            .lag = 2,
                            .owner = GroupMember{.member_id = "m-1",
                                                 .client_id = "app-1",
                                                 .host = "/10.0.0.1",
                                                 .assignment = {}}});
  lag.partitions.push_back(
      {.tp = {"in", 1}, .committed = 10, .end = 40, .lag = 30, .owner = {}});
  return lag;
}

TEST(LagFormatTest, TheTableAlignsColumnsAndSumsTheLag) {
  EXPECT_EQ(LagTable(TwoPartitions()),
            "group app (Stable), total lag 32\n"
            "\n"
            "TOPIC  PARTITION  COMMITTED  END  LAG  OWNER\n"
            "in             0          5    7    2  app-1@/10.0.0.1\n"
            "in             1         10   40   30  -\n");
}

TEST(LagFormatTest, JsonCarriesEveryFigureAndANullOwner) {
  EXPECT_EQ(LagJson(TwoPartitions()),
            "{\"group\":\"app\",\"state\":\"Stable\",\"partitions\":["
            "{\"topic\":\"in\",\"partition\":0,\"committed\":5,\"end\":7,"
            "\"lag\":2,\"owner\":{\"client_id\":\"app-1\",\"host\":"
            "\"/10.0.0.1\",\"member_id\":\"m-1\"}},"
            "{\"topic\":\"in\",\"partition\":1,\"committed\":10,\"end\":40,"
            "\"lag\":30,\"owner\":null}]}\n");
}

}  // namespace
}  // namespace brook::tool
