// BufferPlan: values alive at the same time never share a slot, every slot
// holds the largest value it serves, and dead values' slots are reused.

#include <catch2/catch.hpp>
#include <map>
#include <vector>

#include "trim/core/buffer_plan.hpp"
#include "trim/core/error.hpp"
#include "trim/core/rng.hpp"

using namespace trim;

TEST_CASE("buffer plan reuses the slots of dead values, best fit first", "[core][buffer_plan]") {
  BufferPlan p;
  const int a = p.open(100), b = p.open(10);
  REQUIRE(a != b);
  p.close(a);
  p.close(b);
  REQUIRE(p.open(8) == b);    // the smallest free slot that holds 8
  REQUIRE(p.open(50) == a);   // the other one
  REQUIRE(p.open(5) == 2);    // nothing free: a new slot
  p.close(a);
  REQUIRE(p.open(300) == a);  // too large for any free slot: the largest grows
  REQUIRE(p.size(a) == 300);
  REQUIRE(p.slots() == 3);
  REQUIRE(p.total() == 300 + 10 + 5);
  REQUIRE_THROWS_AS(p.close(7), Error);
  p.close(b);
  REQUIRE_THROWS_WITH(p.close(b), Catch::Contains("closed but not open"));
}

TEST_CASE("buffer plan: random lifetimes never share a slot while alive", "[core][buffer_plan]") {
  Rng rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    BufferPlan p;
    std::map<int, int64_t> alive;  // slot → numel of the value in it
    std::vector<int64_t> largest;  // per slot, the largest value it served
    int64_t peak = 0, now = 0;
    for (int step = 0; step < 200; ++step) {
      if (!alive.empty() && rng.uniform() < 0.45) {
        auto it = alive.begin();
        std::advance(it, static_cast<long>(rng.uniform() * alive.size()) % static_cast<long>(alive.size()));
        now -= it->second;
        p.close(it->first);
        alive.erase(it);
      } else {
        const int64_t n = 1 + static_cast<int64_t>(rng.uniform() * 1000);
        const int s = p.open(n);
        REQUIRE(alive.count(s) == 0);
        alive[s] = n;
        if (static_cast<int>(largest.size()) <= s) largest.resize(static_cast<size_t>(s) + 1, 0);
        largest[static_cast<size_t>(s)] = std::max(largest[static_cast<size_t>(s)], n);
        now += n;
        peak = std::max(peak, now);
      }
    }
    for (int s = 0; s < p.slots(); ++s) REQUIRE(p.size(s) == largest[static_cast<size_t>(s)]);
    // Shared slots still hold at least what was alive at the peak.
    REQUIRE(p.total() >= peak);
  }
}

TEST_CASE("slot buffers keep their allocations across plans", "[core][buffer_plan]") {
  BufferPlan big;
  big.open(1000);
  SlotBuffers buffers;
  buffers.reserve(big);
  const float* data = buffers.use(0, Shape{10, 100}).data();
  BufferPlan small;
  small.open(10);
  small.open(20);
  buffers.reserve(small);
  Tensor& t = buffers.use(0, Shape{2, 5}, true);
  REQUIRE(t.data() == data);  // kept, not reallocated
  for (float v : t) REQUIRE(v == 0.0f);
  REQUIRE(buffers.use(1, Shape{20}).numel() == 20);
}
