#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "testing.hpp"
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

TEST_CASE("parallel_for cuts up to four even chunks per thread, the same every call", "[core][parallel]") {
  trim::test::RestoreThreads restore;
  for (int threads : {1, 2, 3})
    for (int64_t n : {int64_t{5}, int64_t{1000}}) {
      trim::set_num_threads(threads);
      INFO(threads << " threads, n = " << n);
      const auto chunks = [n] {
        std::mutex m;
        std::vector<std::pair<int64_t, int64_t>> seen;
        trim::parallel_for(n, [&](int64_t b, int64_t e) {
          std::lock_guard<std::mutex> lock(m);
          seen.emplace_back(b, e);
        });
        std::sort(seen.begin(), seen.end());
        return seen;
      };
      const auto first = chunks();
      REQUIRE(static_cast<int64_t>(first.size()) == (threads == 1 ? 1 : std::min<int64_t>(n, 4 * threads)));
      int64_t smallest = n, largest = 0;
      for (const auto& [b, e] : first) smallest = std::min(smallest, e - b), largest = std::max(largest, e - b);
      REQUIRE(largest - smallest <= 1);
      REQUIRE(chunks() == first);
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

using trim::test::RestoreThreads;

TEST_CASE("parallel_tasks runs every task once, for any thread count", "[core][parallel]") {
  RestoreThreads restore;
  for (int threads : {1, 2, 3, 5, 2}) {  // growing and shrinking the pool
    trim::set_num_threads(threads);
    for (int rep = 0; rep < 50; ++rep) {
      const int64_t n = 1 + rep % 17;
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      trim::parallel_tasks(n, [&](int64_t i) { hits[static_cast<size_t>(i)]++; });
      for (auto& h : hits) REQUIRE(h.load() == 1);
    }
  }
}

TEST_CASE("loops nested in a task run serially on that thread", "[core][parallel]") {
  RestoreThreads restore;
  trim::set_num_threads(3);
  REQUIRE_FALSE(trim::in_parallel());
  std::atomic<int> nested_calls{0}, wrong{0};
  trim::parallel_tasks(6, [&](int64_t) {
    if (!trim::in_parallel()) wrong++;
    // One chunk covering everything: the nested loop does not fork.
    trim::parallel_for(10, [&](int64_t b, int64_t e) {
      nested_calls++;
      if (b != 0 || e != 10) wrong++;
    });
  });
  REQUIRE(wrong.load() == 0);
  REQUIRE(nested_calls.load() == 6);
  REQUIRE_FALSE(trim::in_parallel());
}

TEST_CASE("concurrent callers share the pool without losing work", "[core][parallel]") {
  RestoreThreads restore;
  trim::set_num_threads(2);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 100; ++rep)
        trim::parallel_for(64, [&](int64_t b, int64_t e) { total += e - b; });
    });
  for (auto& c : callers) c.join();
  REQUIRE(total.load() == 3 * 100 * 64);
}

TEST_CASE("the pool keeps working after a task threw", "[core][parallel]") {
  RestoreThreads restore;
  trim::set_num_threads(2);
  REQUIRE_THROWS_WITH(trim::parallel_tasks(8, [](int64_t i) {
                        if (i == 5) throw std::runtime_error("task 5 failed");
                      }),
                      "task 5 failed");
  std::atomic<int> done{0};
  trim::parallel_tasks(8, [&](int64_t) { done++; });
  REQUIRE(done.load() == 8);
}
