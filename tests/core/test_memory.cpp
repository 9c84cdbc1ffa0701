// The cache of large tensor blocks (trim/core/memory.hpp): freed blocks are
// handed to the next tensor of about their size, and what it keeps idle
// never makes the process hold more than it had in use at once.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

#include "trim/core/memory.hpp"
#include "trim/core/tensor.hpp"

using trim::Shape;
using trim::Tensor;

namespace {
constexpr int64_t MiB = int64_t{1} << 20;
Shape floats_of_bytes(int64_t bytes) { return Shape{bytes / static_cast<int64_t>(sizeof(float))}; }
}  // namespace

TEST_CASE("memory: a freed large block is reused, zeroed, by the next tensor of its size", "[core][memory]") {
  trim::release_cached_tensor_memory();
  REQUIRE(trim::cached_tensor_bytes() == 0);
  const float* first = nullptr;
  {
    Tensor t(floats_of_bytes(MiB), 5.0f);
    first = t.data();
  }
  CHECK(trim::cached_tensor_bytes() == MiB);
  Tensor again(floats_of_bytes(MiB));
  CHECK(again.data() == first);
  CHECK(trim::cached_tensor_bytes() == 0);
  for (float v : again) REQUIRE(v == 0.0f);  // the old values are not seen
  // A slightly smaller tensor takes a block up to twice its size, and its
  // capacity says so (a later resize within it allocates nothing).
  const float* reused = again.data();
  again = Tensor();
  Tensor smaller(floats_of_bytes(MiB * 3 / 4));
  CHECK(smaller.data() == reused);
  CHECK(smaller.capacity() == MiB / static_cast<int64_t>(sizeof(float)));
}

TEST_CASE("memory: small tensors and blocks more than twice the size are not handed out", "[core][memory]") {
  trim::release_cached_tensor_memory();
  { Tensor small(Shape{1000}); }
  CHECK(trim::cached_tensor_bytes() == 0);
  { Tensor big(floats_of_bytes(4 * MiB)); }
  REQUIRE(trim::cached_tensor_bytes() == 4 * MiB);
  // 1 MiB would waste 3/4 of the 4 MiB block: a fresh block, and the miss
  // returns at least 1 MiB of idle memory (here the only block) first.
  Tensor one(floats_of_bytes(MiB));
  CHECK(trim::cached_tensor_bytes() == 0);
}

TEST_CASE("memory: a miss returns the smallest idle blocks first, as many bytes as it takes", "[core][memory]") {
  trim::release_cached_tensor_memory();
  {
    Tensor a(floats_of_bytes(MiB)), b(floats_of_bytes(MiB)), c(floats_of_bytes(4 * MiB));
  }
  REQUIRE(trim::cached_tensor_bytes() == 6 * MiB);
  // No idle block fits 1.5 MiB within twice its size (1 MiB is too small,
  // 4 MiB too large): both 1 MiB blocks go back, the 4 MiB one stays.
  Tensor t(floats_of_bytes(3 * MiB / 2));
  CHECK(trim::cached_tensor_bytes() == 4 * MiB);
  // Idle plus live never exceeds the 6 MiB that were live at once.
  CHECK(trim::cached_tensor_bytes() + 3 * MiB / 2 <= 6 * MiB);
  trim::release_cached_tensor_memory();
  CHECK(trim::cached_tensor_bytes() == 0);
}

TEST_CASE("memory: a small miss keeps the large idle blocks a later call needs", "[core][memory]") {
  trim::release_cached_tensor_memory();
  Tensor live(floats_of_bytes(16 * MiB));
  { Tensor big(floats_of_bytes(16 * MiB)); }  // 32 MiB were live at once
  REQUIRE(trim::cached_tensor_bytes() == 16 * MiB);
  // 1 MiB fits no idle block; the 16 MiB one is more than 4× larger, so it
  // stays (idle 16 MiB is within the 32 MiB once live).
  Tensor small(floats_of_bytes(MiB));
  CHECK(trim::cached_tensor_bytes() == 16 * MiB);
  Tensor again(floats_of_bytes(16 * MiB));
  CHECK(trim::cached_tensor_bytes() == 0);  // the kept block serves it
}

TEST_CASE("memory: under a StrictTensorCache idle and live memory stay within the most live at once",
          "[core][memory]") {
  { Tensor big(floats_of_bytes(4 * MiB)); }
  trim::StrictTensorCache strict;
  CHECK(trim::cached_tensor_bytes() == 0);  // it starts empty
  Tensor live(floats_of_bytes(16 * MiB));
  { Tensor big(floats_of_bytes(16 * MiB)); }
  REQUIRE(trim::cached_tensor_bytes() == 16 * MiB);
  // Unlike the default (test above), the 1 MiB miss returns the idle block.
  Tensor small(floats_of_bytes(MiB));
  CHECK(trim::cached_tensor_bytes() == 0);
}

TEST_CASE("memory: threads allocating and freeing large tensors at once", "[core][memory]") {
  trim::release_cached_tensor_memory();
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([k, &bad] {
      for (int round = 0; round < 200; ++round) {
        Tensor t(floats_of_bytes((1 + (round + k) % 3) * MiB / 2), static_cast<float>(k));
        for (int64_t i = 0; i < t.numel(); i += 4096)
          if (t[i] != static_cast<float>(k)) ++bad[static_cast<size_t>(k)];
      }
    });
  for (std::thread& t : threads) t.join();
  for (int b : bad) CHECK(b == 0);
  // Idle blocks never exceed the most that was live at once: here at most
  // one block per thread (unless an earlier test had more live).
  CHECK(trim::cached_tensor_bytes() <= std::max<int64_t>(4 * 3 * MiB / 2, 32 * MiB + MiB));
}
