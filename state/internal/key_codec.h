// Byte encodings shared by the stores: fixed-width integers and key bounds.
// Threading model: stateless functions.
#ifndef BROOK_STATE_INTERNAL_KEY_CODEC_H_
#define BROOK_STATE_INTERNAL_KEY_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace brook::internal {

// Two's complement, 8 bytes, most significant first: the changelog formats
// and the stored offsets. Bytewise order matches numeric order only for
// non-negative values.
void AppendBigEndian64(int64_t value, std::string* out);
// REQUIRES: bytes.size() >= 8; reads the first 8 bytes.
int64_t ReadBigEndian64(absl::string_view bytes);

// Big-endian with the sign bit flipped, so that bytewise order matches
// numeric order for every int64_t: the layout of times inside stored keys.
void AppendOrdered64(int64_t value, std::string* out);
// REQUIRES: bytes.size() >= 8; reads the first 8 bytes.
int64_t ReadOrdered64(absl::string_view bytes);

// The smallest string greater than every string that starts with `prefix`,
// or nullopt if there is none (`prefix` is empty or all 0xff bytes).
std::optional<std::string> PrefixSuccessor(absl::string_view prefix);

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_KEY_CODEC_H_
