// SessionBytesStore: values per (key, session start, session end), with the
// same retention rules as WindowBytesStore, by session end. The DSL's
// session windows merge overlapping sessions through FindSessions().
//
// Changelog format: key = user key bytes, then the session end and the
// session start, each 8 bytes big-endian.
// Threading model: owned by one task (see StateStore).
#ifndef BROOK_STATE_SESSION_BYTES_STORE_H_
#define BROOK_STATE_SESSION_BYTES_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

#include "brook/state/state_store.h"

namespace brook {

class SessionIterator {
 public:
  virtual ~SessionIterator() = default;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  // REQUIRES: Valid().
  virtual absl::string_view key() const = 0;
  virtual int64_t start_ms() const = 0;
  virtual int64_t end_ms() const = 0;
  virtual absl::string_view value() const = 0;
  virtual absl::Status status() const = 0;
};

class SessionBytesStore : public StateStore {
 public:
  virtual int64_t retention_ms() const = 0;

  // Writes (or, with nullopt, removes) a session. Returns false, writing
  // nothing, if the session's end has expired; kInvalidArgument if
  // start_ms > end_ms.
  virtual absl::StatusOr<bool> Put(absl::string_view key, int64_t start_ms,
                                   int64_t end_ms,
                                   std::optional<absl::string_view> value) = 0;

  virtual absl::StatusOr<std::optional<std::string>> FetchSession(
      absl::string_view key, int64_t start_ms, int64_t end_ms) = 0;

  // Sessions of `key` with end >= earliest_end and start <= latest_start,
  // ordered by end then start: the sessions a new event at [latest_start,
  // earliest_end] overlaps.
  virtual std::unique_ptr<SessionIterator> FindSessions(
      absl::string_view key, int64_t earliest_end_ms,
      int64_t latest_start_ms) = 0;
  // The same sessions in the reverse order: latest end first (Kafka
  // Streams' backwardFindSessions).
  virtual std::unique_ptr<SessionIterator> BackwardFindSessions(
      absl::string_view key, int64_t earliest_end_ms,
      int64_t latest_start_ms) = 0;
};

std::string EncodeSessionKey(absl::string_view key, int64_t start_ms,
                             int64_t end_ms);
bool DecodeSessionKey(absl::string_view encoded, std::string* key,
                      int64_t* start_ms, int64_t* end_ms);

}  // namespace brook

#endif  // BROOK_STATE_SESSION_BYTES_STORE_H_
