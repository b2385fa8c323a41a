// KeyState<V>: one key's entry in a key-value store, as a function given to
// KStream::MapValuesAsync with a store sees it on its worker thread.
//
// The stream thread reads the entry for the record's key just before the
// function runs, and applies what the function wrote (Put or Delete) when
// its result is forwarded: in the task's open transaction, through the
// store's changelog, before the key's next record reads it. Records of one
// key run one at a time, so each sees what the one before it wrote. The
// function never touches the store itself, so no lock is needed and no
// other key can be read or scanned (a range scan from a worker would race
// with the stream thread's writes; use a processor on the stream thread
// for that). The store should be written by this node only: a punctuator
// or another processor (both run on the stream thread) that writes a key
// whose call is in flight has its write replaced when the call's result
// is written back.
//
// Threading model: not thread-safe. One instance belongs to one call of
// the function: made on the stream thread, used by the worker while the
// call runs, and read back on the stream thread after it returns.
#ifndef BROOK_OPERATORS_KEY_STATE_H_
#define BROOK_OPERATORS_KEY_STATE_H_

#include <optional>
#include <utility>

namespace brook {

template <typename V>
class KeyState {
 public:
  explicit KeyState(std::optional<V> value) : value_(std::move(value)) {}

  // The entry as the function runs: what the key's earlier records wrote,
  // nullopt if there is none (or after Delete()).
  const std::optional<V>& Get() const { return value_; }
  // Replaces the entry when the result is forwarded.
  void Put(V value) {
    value_ = std::move(value);
    written_ = true;
  }
  // Removes the entry when the result is forwarded.
  void Delete() {
    value_.reset();
    written_ = true;
  }

  // True if Put or Delete was called: the stream thread then writes
  // Get() (or deletes, when it is nullopt).
  bool written() const { return written_; }

 private:
  std::optional<V> value_;
  bool written_ = false;
};

}  // namespace brook

#endif  // BROOK_OPERATORS_KEY_STATE_H_
