// The built-in serdes and their byte formats, which must match Kafka's Java
// serdes so that Brook and Kafka Streams applications share topics.
#include "brook/runtime/serdes.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "proto/state_directory.pb.h"

namespace brook {
namespace {

using ::testing::HasSubstr;

std::string Bytes(std::initializer_list<unsigned char> bytes) {
  return std::string(bytes.begin(), bytes.end());
}

TEST(SerdesTest, StringRoundTripsAnyBytes) {
  SerdePtr<std::string> serde = Serdes::String();
  for (const std::string& s :
       {std::string(), std::string("héllo"), std::string("a\0b", 3)}) {
    std::string bytes = serde->Serialize("t", s);
    EXPECT_EQ(bytes, s);
    absl::StatusOr<std::string> back = serde->Deserialize("t", bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, s);
  }
}

TEST(SerdesTest, Int64IsEightBytesBigEndian) {
  SerdePtr<int64_t> serde = Serdes::Int64();
  EXPECT_EQ(serde->Serialize("t", 1), Bytes({0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(serde->Serialize("t", 0x0102030405060708),
            Bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(serde->Serialize("t", -1), std::string(8, '\xff'));
  EXPECT_EQ(serde->Serialize("t", std::numeric_limits<int64_t>::min()),
            Bytes({0x80, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(SerdesTest, Int64RoundTrips) {
  SerdePtr<int64_t> serde = Serdes::Int64();
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1} << 40,
                    std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    absl::StatusOr<int64_t> back =
        serde->Deserialize("t", serde->Serialize("t", v));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, v);
  }
  absl::StatusOr<int64_t> parsed =
      serde->Deserialize("t", Bytes({0, 0, 0, 0, 0, 0, 1, 0}));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, 256);
}

TEST(SerdesTest, Int64RejectsAnyOtherLength) {
  SerdePtr<int64_t> serde = Serdes::Int64();
  for (size_t n : {0, 1, 4, 7, 9}) {
    absl::StatusOr<int64_t> v = serde->Deserialize("t", std::string(n, 'x'));
    ASSERT_FALSE(v.ok()) << n << " bytes";
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(v.status().message(), HasSubstr("expected 8 bytes"));
  }
}

TEST(SerdesTest, Int32IsFourBytesBigEndianAndRoundTrips) {
  SerdePtr<int32_t> serde = Serdes::Int32();
  EXPECT_EQ(serde->Serialize("t", 1), Bytes({0, 0, 0, 1}));
  EXPECT_EQ(serde->Serialize("t", 0x01020304), Bytes({1, 2, 3, 4}));
  EXPECT_EQ(serde->Serialize("t", -2), Bytes({0xff, 0xff, 0xff, 0xfe}));
  for (int32_t v : {0, 1, -1, std::numeric_limits<int32_t>::min(),
                    std::numeric_limits<int32_t>::max()}) {
    absl::StatusOr<int32_t> back =
        serde->Deserialize("t", serde->Serialize("t", v));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, v);
  }
}

TEST(SerdesTest, Int32RejectsAnyOtherLength) {
  SerdePtr<int32_t> serde = Serdes::Int32();
  for (size_t n : {0, 3, 5, 8}) {
    absl::StatusOr<int32_t> v = serde->Deserialize("t", std::string(n, 'x'));
    ASSERT_FALSE(v.ok()) << n << " bytes";
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(v.status().message(), HasSubstr("expected 4 bytes"));
  }
}

TEST(SerdesTest, ProtobufRoundTripsAMessage) {
  SerdePtr<proto::StateDirectoryMetadata> serde =
      Serdes::Protobuf<proto::StateDirectoryMetadata>();
  proto::StateDirectoryMetadata m;
  m.set_version(3);
  m.set_process_id("00112233445566778899aabbccddeeff");
  m.set_application_id("orders-app");
  std::string bytes = serde->Serialize("t", m);
  EXPECT_EQ(bytes, m.SerializeAsString());
  absl::StatusOr<proto::StateDirectoryMetadata> back =
      serde->Deserialize("t", bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->version(), 3u);
  EXPECT_EQ(back->process_id(), "00112233445566778899aabbccddeeff");
  EXPECT_EQ(back->application_id(), "orders-app");
}

TEST(SerdesTest, ProtobufRejectsGarbageNamingTheMessageType) {
  SerdePtr<proto::StateDirectoryMetadata> serde =
      Serdes::Protobuf<proto::StateDirectoryMetadata>();
  // A length-delimited field claiming 5 bytes with 2 left, an invalid wire
  // type, and a varint that never ends.
  for (const std::string& garbage :
       {Bytes({0x12, 0x05, 'a', 'b'}), Bytes({0x0f}),
        Bytes({0x08, 0xff, 0xff, 0xff})}) {
    absl::StatusOr<proto::StateDirectoryMetadata> m =
        serde->Deserialize("t", garbage);
    ASSERT_FALSE(m.ok()) << "parsed " << garbage.size() << " garbage bytes";
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(m.status().message(),
                HasSubstr("brook.proto.StateDirectoryMetadata"));
  }
}

}  // namespace
}  // namespace brook
