#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <vector>

#include "trim/core/rng.hpp"

TEST_CASE("same seed, same numbers; other seed, other numbers", "[core][rng]") {
  trim::Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    REQUIRE(x == b.next_u64());
    REQUIRE(x != c.next_u64());
  }
}

TEST_CASE("per-sample streams: the same keys give the same numbers, any other key others", "[core][rng]") {
  const uint64_t first = trim::Rng::stream(5, 2, 3).next_u64();
  REQUIRE(trim::Rng::stream(5, 2, 3).next_u64() == first);
  REQUIRE(trim::Rng::stream(6, 2, 3).next_u64() != first);
  REQUIRE(trim::Rng::stream(5, 3, 3).next_u64() != first);
  REQUIRE(trim::Rng::stream(5, 2, 4).next_u64() != first);
  REQUIRE(trim::Rng::stream(5, 3, 2).next_u64() != first);  // the keys are not symmetric
  REQUIRE(trim::Rng(5).next_u64() != first);
  // The first values of 64 × 64 streams of one seed are all different.
  std::vector<uint64_t> v;
  for (int64_t e = 0; e < 64; ++e)
    for (int64_t s = 0; s < 64; ++s) v.push_back(trim::Rng::stream(11, e, s).next_u64());
  std::sort(v.begin(), v.end());
  REQUIRE(std::adjacent_find(v.begin(), v.end()) == v.end());
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

TEST_CASE("ziggurat normals: seeded, standard normal by moments, Kolmogorov-Smirnov and the tail", "[core][rng]") {
  const int64_t n = 400000;
  std::vector<float> z(static_cast<size_t>(n));
  trim::Rng(11).normals(z.data(), n, 0.0f, 1.0f);
  std::vector<float> again(static_cast<size_t>(n));
  trim::Rng(11).normals(again.data(), n, 0.0f, 1.0f);
  REQUIRE(z == again);
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
  int64_t beyond_r = 0, beyond_2 = 0;
  for (float v : z) {
    const double d = v;
    m1 += d;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
    beyond_r += std::fabs(d) > 3.6541528853610088;  // the ziggurat's base layer edge: only the tail code reaches it
    beyond_2 += std::fabs(d) > 2.0;
  }
  // Standard errors at n = 4e5: mean 0.0016, m2 0.0022, m3 0.0039, m4 0.015.
  REQUIRE(m1 / n == Approx(0.0).margin(0.008));
  REQUIRE(m2 / n == Approx(1.0).margin(0.011));
  REQUIRE(m3 / n == Approx(0.0).margin(0.02));
  REQUIRE(m4 / n == Approx(3.0).margin(0.075));
  // P(|z| > 2) = 0.0455003, P(|z| > r) = 2.5822e-4 (103 expected, sd 10).
  REQUIRE(beyond_2 == Approx(0.0455003 * n).margin(5 * std::sqrt(0.0455 * n)));
  REQUIRE(beyond_r == Approx(2.5822e-4 * n).margin(5 * std::sqrt(2.5822e-4 * n)));
  // Kolmogorov-Smirnov against Φ: D·√n above 1.95 has probability 0.001.
  std::sort(z.begin(), z.end());
  double d = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double phi = 0.5 * std::erfc(-z[static_cast<size_t>(i)] / std::sqrt(2.0));
    d = std::max({d, std::fabs(phi - double(i) / n), std::fabs(phi - double(i + 1) / n)});
  }
  REQUIRE(d * std::sqrt(double(n)) < 1.95);
  // Signs independent of magnitude: the halves above and below 0 match in mean |z| (√(2/π)).
  double pos = 0, neg = 0;
  int64_t npos = 0;
  for (float v : z) {
    if (v > 0) pos += v, ++npos;
    else neg -= v;
  }
  REQUIRE(pos / npos == Approx(std::sqrt(2.0 / M_PI)).margin(0.01));
  REQUIRE(neg / (n - npos) == Approx(std::sqrt(2.0 / M_PI)).margin(0.01));
  // Mean and stdev are applied.
  std::vector<float> s(100000);
  trim::Rng(12).normals(s.data(), 100000, 2.0f, 3.0f);
  double sm = 0, ss = 0;
  for (float v : s) sm += v, ss += double(v) * v;
  sm /= 1e5;
  REQUIRE(sm == Approx(2.0).margin(0.05));
  REQUIRE(std::sqrt(ss / 1e5 - sm * sm) == Approx(3.0).margin(0.05));
}

TEST_CASE("ziggurat normals: histogram of 4e6 values against the normal density (chi-square)", "[core][rng]") {
  // Bins of width 0.1 on [-4, 4] and the two tails: a test fine enough to see
  // the ziggurat's wedges (a generator that accepted them without the density
  // test would put ~1% too much mass near 0).
  const int bins = 82;
  std::vector<double> count(bins, 0.0);
  trim::Rng rng(13);
  std::vector<float> z(100000);
  const int64_t n = 4000000;
  for (int64_t done = 0; done < n; done += 100000) {
    rng.normals(z.data(), 100000, 0.0f, 1.0f);
    for (float v : z) {
      const int b = v < -4.0f ? 0 : v >= 4.0f ? bins - 1 : 1 + std::min(79, static_cast<int>(std::floor((v + 4.0f) * 10.0f)));
      count[static_cast<size_t>(b)] += 1;
    }
  }
  auto phi = [](double t) { return 0.5 * std::erfc(-t / std::sqrt(2.0)); };
  double chi2 = 0.0;
  for (int b = 0; b < bins; ++b) {
    const double lo = b == 0 ? -INFINITY : -4.0 + 0.1 * (b - 1), hi = b == bins - 1 ? INFINITY : -4.0 + 0.1 * b;
    const double expected = n * ((b == bins - 1 ? 1.0 : phi(hi)) - (b == 0 ? 0.0 : phi(lo)));
    chi2 += (count[static_cast<size_t>(b)] - expected) * (count[static_cast<size_t>(b)] - expected) / expected;
  }
  INFO("chi-square " << chi2 << " with " << bins - 1 << " degrees of freedom");
  REQUIRE(chi2 < 81 + 5 * std::sqrt(2.0 * 81));  // 5 standard deviations
}
