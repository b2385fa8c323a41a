// ByteBudget: a count of bytes that several owners charge against one
// limit, such as the recent-window copies of all window stores of a
// process (RocksDBConfig::recent_windows_bytes).
//
// It only counts: an owner that finds the budget exceeded gives memory back
// itself. Threading model: thread-safe (stores on different stream threads
// share one).
#ifndef BROOK_STATE_INTERNAL_BYTE_BUDGET_H_
#define BROOK_STATE_INTERNAL_BYTE_BUDGET_H_

#include <atomic>
#include <cstdint>

namespace brook::internal {

class ByteBudget {
 public:
  explicit ByteBudget(int64_t limit) : limit_(limit) {}

  ByteBudget(const ByteBudget&) = delete;
  ByteBudget& operator=(const ByteBudget&) = delete;

  int64_t limit() const { return limit_; }
  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  bool exceeded() const { return used() > limit_; }

  // `delta` may be negative (bytes given back).
  void Charge(int64_t delta) {
    used_.fetch_add(delta, std::memory_order_relaxed);
  }

 private:
  const int64_t limit_;
  std::atomic<int64_t> used_{0};
};

}  // namespace brook::internal

#endif  // BROOK_STATE_INTERNAL_BYTE_BUDGET_H_
