#include <catch2/catch.hpp>
#include <atomic>
#include <stdexcept>
#include <vector>

#include "trim/core/parallel.hpp"

TEST_CASE("parallel_for covers every index exactly once", "[core][parallel]") {
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    trim::parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
    });
    for (auto& h : hits) REQUIRE(h.load() == 1);
  }
}

TEST_CASE("parallel_for rethrows an exception from a chunk", "[core][parallel]") {
  REQUIRE_THROWS_WITH(trim::parallel_for(100, [](int64_t b, int64_t) {
                        if (b == 0) throw std::runtime_error("chunk failed");
                      }),
                      "chunk failed");
}

TEST_CASE("thread count can be set and restored", "[core][parallel]") {
  const int before = trim::num_threads();
  trim::set_num_threads(1);
  REQUIRE(trim::num_threads() == 1);
  trim::set_num_threads(0);
  REQUIRE(trim::num_threads() == before);
}
