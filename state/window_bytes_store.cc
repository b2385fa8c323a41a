#include "brook/state/window_bytes_store.h"

#include "brook/state/internal/key_codec.h"

namespace brook {

std::string EncodeWindowKey(absl::string_view key, int64_t window_start_ms) {
  std::string encoded(key);
  internal::AppendBigEndian64(window_start_ms, &encoded);
  return encoded;
}

bool DecodeWindowKey(absl::string_view encoded, std::string* key,
                     int64_t* window_start_ms) {
  if (encoded.size() < 8) return false;
  const size_t key_size = encoded.size() - 8;
  key->assign(encoded.data(), key_size);
  *window_start_ms = internal::ReadBigEndian64(encoded.substr(key_size));
  return true;
}

}  // namespace brook
