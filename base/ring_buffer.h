// RingBuffer: a FIFO queue over one growable array whose slots are reused.
//
// std::deque allocates a node of 512 bytes every few elements of a large
// type and frees it when they are popped: for a task's buffered input
// records (about 190 bytes each) that was a malloc and a free every two
// records, 3% of the stream thread of a passthrough (issue 10, perf). A
// RingBuffer allocates only when it grows past its largest size so far.
//
// Threading model: not thread-safe; owned by one thread at a time.
#ifndef BROOK_BASE_RING_BUFFER_H_
#define BROOK_BASE_RING_BUFFER_H_

#include <cstddef>
#include <utility>
#include <vector>

#include "brook/base/logging.h"

namespace brook {

// T must be default-constructible and move-assignable. A popped element is
// moved out of its slot, and the slot keeps the moved-from value until a
// later push overwrites it.
template <typename T>
class RingBuffer {
 public:
  RingBuffer() = default;
  RingBuffer(RingBuffer&&) = default;
  RingBuffer& operator=(RingBuffer&&) = default;

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }

  // The slot after the last element, made part of the queue. Its content is
  // whatever the slot held last (a moved-from or default value): the caller
  // assigns every field it uses.
  T& push_back_slot() {
    if (size_ == slots_.size()) Grow();
    T& slot = slots_[(head_ + size_) & (slots_.size() - 1)];
    ++size_;
    return slot;
  }
  void push_back(T value) { push_back_slot() = std::move(value); }

  // REQUIRES: !empty().
  T& front() {
    DCHECK(!empty());
    return slots_[head_];
  }
  const T& front() const {
    DCHECK(!empty());
    return slots_[head_];
  }
  // Removes the first element, leaving its value in the slot (for a caller
  // that has moved what it needs out of front()). REQUIRES: !empty().
  void drop_front() {
    DCHECK(!empty());
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }
  // Moves the first element out and removes it. REQUIRES: !empty().
  T pop_front() {
    T out = std::move(front());
    drop_front();
    return out;
  }

  // Drops every element and releases the memory.
  void clear() {
    std::vector<T>().swap(slots_);
    head_ = 0;
    size_ = 0;
  }

 private:
  // Doubles the capacity (a power of two, at least 16), moving the
  // elements to the front of the new array in order.
  void Grow() {
    std::vector<T> bigger(slots_.empty() ? 16 : 2 * slots_.size());
    for (size_t i = 0; i < size_; ++i) {
      bigger[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
    }
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;  // size 0 or a power of two
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace brook

#endif  // BROOK_BASE_RING_BUFFER_H_
