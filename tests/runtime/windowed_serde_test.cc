// The windowed serdes against fixed byte strings: the layouts of Kafka
// Streams' TimeWindowedSerializer (key bytes, then the window start as 8
// bytes big-endian) and SessionWindowedSerializer (key bytes, then end and
// start, 8 bytes big-endian each).
#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

#include "brook/runtime/serdes.h"
#include "brook/runtime/windowed.h"

namespace brook {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(WindowedSerdeTest, TimeWindowedKeyIsKeyThenStartBigEndian) {
  auto serde =
      WindowedSerdes::TimeWindowed<std::string>(Serdes::String(), 60'000);
  // "page" in the window [1700000000000, 1700000060000).
  const std::string wire =
      "page" + Bytes({0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00});
  EXPECT_EQ(
      serde->Serialize("t", {"page", 1'700'000'000'000, 1'700'000'060'000}),
      wire);
  auto back = serde->Deserialize("t", wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, (Windowed<std::string>{"page", 1'700'000'000'000,
                                          1'700'000'060'000}));
}

TEST(WindowedSerdeTest, TimeWindowedKeyWrapsTheInnerSerde) {
  auto serde = WindowedSerdes::TimeWindowed<int64_t>(Serdes::Int64(), 1'000);
  const std::string wire = Bytes({0, 0, 0, 0, 0, 0, 0, 42,  //
                                  0, 0, 0, 0, 0, 0, 0x03, 0xE8});
  EXPECT_EQ(serde->Serialize("t", {42, 1'000, 2'000}), wire);
  auto back = serde->Deserialize("t", wire);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (Windowed<int64_t>{42, 1'000, 2'000}));
}

TEST(WindowedSerdeTest, TimeWindowedEndSaturatesLikeKafkaStreams) {
  auto serde = WindowedSerdes::TimeWindowed<std::string>(
      Serdes::String(), std::numeric_limits<int64_t>::max());
  auto back = serde->Deserialize("t", "k" + Bytes({0, 0, 0, 0, 0, 0, 0, 5}));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->start_ms, 5);
  EXPECT_EQ(back->end_ms, std::numeric_limits<int64_t>::max());
}

TEST(WindowedSerdeTest, SessionWindowedKeyIsKeyThenEndThenStart) {
  auto serde = WindowedSerdes::SessionWindowed<std::string>(Serdes::String());
  const std::string wire = "user" +
                           Bytes({0, 0, 0, 0, 0, 0, 0x07, 0xD0}) +  // end 2000
                           Bytes({0, 0, 0, 0, 0, 0, 0x03, 0xE8});  // start 1000
  EXPECT_EQ(serde->Serialize("t", {"user", 1'000, 2'000}), wire);
  auto back = serde->Deserialize("t", wire);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (Windowed<std::string>{"user", 1'000, 2'000}));
}

TEST(WindowedSerdeTest, ShortInputIsAnError) {
  auto time = WindowedSerdes::TimeWindowed<std::string>(Serdes::String(), 1);
  EXPECT_FALSE(time->Deserialize("t", "1234567").ok());
  EXPECT_TRUE(time->Deserialize("t", "12345678").ok());  // empty key
  auto session = WindowedSerdes::SessionWindowed<std::string>(Serdes::String());
  auto r = session->Deserialize("t", std::string(15, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace brook
