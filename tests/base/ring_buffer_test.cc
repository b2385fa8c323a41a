#include "brook/base/ring_buffer.h"

#include <deque>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace brook {
namespace {

TEST(RingBufferTest, KeepsFifoOrderAcrossWrapsAndGrowth) {
  // Random pushes and pops against std::deque: the ring wraps many times
  // and grows from 16 to at least 64 slots with elements straddling its end.
  RingBuffer<std::string> ring;
  std::deque<std::string> model;
  std::mt19937 rng(7);
  int next = 0;
  for (int step = 0; step < 20000; ++step) {
    const bool push = model.empty() || (rng() % 100) < (step < 10000 ? 55 : 45);
    if (push) {
      // Long enough to live on the heap, so a lost move would show.
      std::string v = "value-number-" + std::to_string(next++) + "-padding";
      model.push_back(v);
      ring.push_back(v);
    } else {
      ASSERT_FALSE(ring.empty());
      ASSERT_EQ(ring.front(), model.front());
      ASSERT_EQ(ring.pop_front(), model.front());
      model.pop_front();
    }
    ASSERT_EQ(ring.size(), model.size());
  }
  EXPECT_GE(ring.capacity(), 64u);
  while (!model.empty()) {
    ASSERT_EQ(ring.pop_front(), model.front());
    model.pop_front();
  }
  EXPECT_TRUE(ring.empty());
}

TEST(RingBufferTest, ReusesItsSlotsOnceGrown) {
  RingBuffer<int> ring;
  for (int i = 0; i < 16; ++i) ring.push_back(i);
  EXPECT_EQ(ring.capacity(), 16u);
  for (int round = 0; round < 1000; ++round) {
    EXPECT_EQ(ring.pop_front(), round);
    ring.push_back(round + 16);
  }
  EXPECT_EQ(ring.capacity(), 16u);  // never more than 16 held
  ring.push_back(0);                // the 17th
  EXPECT_EQ(ring.capacity(), 32u);
  EXPECT_EQ(ring.front(), 1000);
}

TEST(RingBufferTest, PushBackSlotAndDropFront) {
  RingBuffer<std::string> ring;
  ring.push_back_slot() = "a";
  ring.push_back_slot() = "b";
  EXPECT_EQ(ring.front(), "a");
  ring.drop_front();
  EXPECT_EQ(ring.front(), "b");
  EXPECT_EQ(ring.size(), 1u);
  ring.clear();
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.capacity(), 0u);
  ring.push_back("c");
  EXPECT_EQ(ring.front(), "c");
}

}  // namespace
}  // namespace brook
