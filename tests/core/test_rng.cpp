#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "trim/core/rng.hpp"

TEST_CASE("same seed, same numbers; other seed, other numbers", "[core][rng]") {
  trim::Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    REQUIRE(x == b.next_u64());
    REQUIRE(x != c.next_u64());
  }
}

TEST_CASE("distributions have the right moments", "[core][rng]") {
  trim::Rng rng(7);
  const int n = 200000;
  double su = 0, sn = 0, sn2 = 0, umin = 1, umax = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    umin = std::min(umin, u);
    umax = std::max(umax, u);
    su += u;
    const double z = rng.normal();
    sn += z;
    sn2 += z * z;
  }
  REQUIRE(umin >= 0.0);
  REQUIRE(umax < 1.0);
  REQUIRE(su / n == Approx(0.5).margin(0.005));
  REQUIRE(sn / n == Approx(0.0).margin(0.01));
  REQUIRE(sn2 / n == Approx(1.0).margin(0.02));
  int counts[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < 50000; ++i) ++counts[rng.below(5)];
  for (int k : counts) REQUIRE(k == Approx(10000).margin(400));
}
