// WindowBytesStore: values per (key, window start), kept for a retention
// period and dropped a segment at a time. Typed access is
// runtime/window_store.h; the DSL's windowed aggregations use it.
//
// Retention: the store tracks the highest window start written
// (observed stream time). Windows that start before observed time -
// retention are expired: a write to one is dropped (Put returns false) and
// reads do not return them. Storage is split into segments of
// segment_interval_ms by window start; a whole segment is deleted, at
// commit, once every window in it has expired.
//
// Changelog format (what the ChangeSink receives and Restore() accepts):
// key = user key bytes followed by the window start as 8 bytes big-endian.
// Threading model: owned by one task (see StateStore).
#ifndef BROOK_STATE_WINDOW_BYTES_STORE_H_
#define BROOK_STATE_WINDOW_BYTES_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

#include "brook/state/state_store.h"

namespace brook {

// Walks windows. Same lifetime rules as KeyValueIterator.
class WindowIterator {
 public:
  virtual ~WindowIterator() = default;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  // REQUIRES: Valid().
  virtual absl::string_view key() const = 0;
  virtual int64_t window_start_ms() const = 0;
  virtual absl::string_view value() const = 0;
  virtual absl::Status status() const = 0;
};

class WindowBytesStore : public StateStore {
 public:
  virtual int64_t retention_ms() const = 0;
  virtual int64_t segment_interval_ms() const = 0;
  // The highest window start written (or restored) so far, in the open
  // transaction; nullopt if the store has never been written.
  virtual std::optional<int64_t> observed_stream_time_ms() const = 0;

  // Writes (or, with nullopt, deletes) the value of `key` in the window that
  // starts at `window_start_ms`. Returns false, writing nothing, if the window
  // has expired.
  virtual absl::StatusOr<bool> Put(absl::string_view key,
                                   int64_t window_start_ms,
                                   std::optional<absl::string_view> value) = 0;

  virtual absl::StatusOr<std::optional<std::string>> Fetch(
      absl::string_view key, int64_t window_start_ms) = 0;

  // Windows of `key` with time_from <= start <= time_to, by start.
  virtual std::unique_ptr<WindowIterator> Fetch(absl::string_view key,
                                                int64_t time_from_ms,
                                                int64_t time_to_ms) = 0;

  // Windows of every key with time_from <= start <= time_to, by start, then
  // key.
  virtual std::unique_ptr<WindowIterator> FetchAll(int64_t time_from_ms,
                                                   int64_t time_to_ms) = 0;

  // The same windows as Fetch(key, from, to) and FetchAll(from, to), in the
  // reverse order: latest start first (Kafka Streams' backwardFetch and
  // backwardFetchAll). They see the open transaction's writes as the forward
  // ones do.
  virtual std::unique_ptr<WindowIterator> BackwardFetch(absl::string_view key,
                                                        int64_t time_from_ms,
                                                        int64_t time_to_ms) = 0;
  virtual std::unique_ptr<WindowIterator> BackwardFetchAll(
      int64_t time_from_ms, int64_t time_to_ms) = 0;
};

// Encodes and decodes the changelog key format above.
std::string EncodeWindowKey(absl::string_view key, int64_t window_start_ms);
// false if `encoded` is shorter than 8 bytes.
bool DecodeWindowKey(absl::string_view encoded, std::string* key,
                     int64_t* window_start_ms);

}  // namespace brook

#endif  // BROOK_STATE_WINDOW_BYTES_STORE_H_
