#pragma once
// Small helpers shared by the test executables.

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "trim/core/parallel.hpp"
#include "trim/core/rng.hpp"
#include "trim/core/tensor.hpp"
#include "trim/graph/check.hpp"

namespace trim::test {

/// Restores trim's thread count when a test that changes it ends.
struct RestoreThreads {
  int saved = num_threads();
  ~RestoreThreads() { set_num_threads(saved); }
};

/// The message of the `E` that `fn` throws; fails the test when it throws none.
template <class E, class Fn>
std::string message_of(Fn fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("no exception thrown");
  return "";
}

/// A tensor of standard-normal values from a fixed seed.
inline Tensor randn(const Shape& s, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  Tensor t(s);
  rng.fill_normal(t, 0.0f, scale);
  return t;
}

/// A shape without its leading (batch) axis: what nn::input takes.
inline Shape per_example(const Shape& s) {
  Shape r;
  for (int i = 1; i < s.rank(); ++i) r.push_back(s[i]);
  return r;
}

/// max |a−b| / max(|b|, floor) <= rtol, with a readable failure message.
inline void require_close(const Tensor& a, const Tensor& b, double rtol, double floor = 1e-3,
                          const std::string& what = "") {
  INFO(what << " shapes " << a.shape().str() << " vs " << b.shape().str());
  REQUIRE(a.shape() == b.shape());
  double worst = 0.0;
  int64_t at = -1;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double err = std::fabs(double(a[i]) - b[i]) / std::max(std::fabs(double(b[i])), floor);
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  INFO(what << " worst relative error " << worst << " at flat index " << at << " ("
            << (at >= 0 ? a[at] : 0.f) << " vs " << (at >= 0 ? b[at] : 0.f) << ")");
  REQUIRE(worst <= rtol);
}

/// Asserts a CheckResult, printing its report when it failed.
inline void require_ok(const CheckResult& r) {
  INFO(r.report);
  REQUIRE(r.ok);
}

}  // namespace trim::test
