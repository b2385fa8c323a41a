#include "brook/state/session_bytes_store.h"

#include "brook/state/internal/key_codec.h"

namespace brook {

std::string EncodeSessionKey(absl::string_view key, int64_t start_ms,
                             int64_t end_ms) {
  std::string encoded(key);
  internal::AppendBigEndian64(end_ms, &encoded);
  internal::AppendBigEndian64(start_ms, &encoded);
  return encoded;
}

bool DecodeSessionKey(absl::string_view encoded, std::string* key,
                      int64_t* start_ms, int64_t* end_ms) {
  if (encoded.size() < 16) return false;
  const size_t key_size = encoded.size() - 16;
  key->assign(encoded.data(), key_size);
  *end_ms = internal::ReadBigEndian64(encoded.substr(key_size));
  *start_ms = internal::ReadBigEndian64(encoded.substr(key_size + 8));
  return true;
}

}  // namespace brook
