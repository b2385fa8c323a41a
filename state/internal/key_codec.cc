#include "brook/state/internal/key_codec.h"

namespace brook::internal {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

void AppendUnsigned64(uint64_t value, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint64_t ReadUnsigned64(absl::string_view bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

}  // namespace

void AppendBigEndian64(int64_t value, std::string* out) {
  AppendUnsigned64(static_cast<uint64_t>(value), out);
}

int64_t ReadBigEndian64(absl::string_view bytes) {
  return static_cast<int64_t>(ReadUnsigned64(bytes));
}

void AppendOrdered64(int64_t value, std::string* out) {
  AppendUnsigned64(static_cast<uint64_t>(value) ^ kSignBit, out);
}

int64_t ReadOrdered64(absl::string_view bytes) {
  return static_cast<int64_t>(ReadUnsigned64(bytes) ^ kSignBit);
}

std::optional<std::string> PrefixSuccessor(absl::string_view prefix) {
  std::string successor(prefix);
  while (!successor.empty()) {
    unsigned char last = static_cast<unsigned char>(successor.back());
    if (last != 0xff) {
      successor.back() = static_cast<char>(last + 1);
      return successor;
    }
    successor.pop_back();
  }
  return std::nullopt;
}

}  // namespace brook::internal
