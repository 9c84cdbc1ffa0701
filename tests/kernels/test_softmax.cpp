// Softmax / log-softmax kernels against PyTorch (fixture) and a naive
// double-precision reference on shapes large enough to run in parallel.
#include <cmath>
#include <string>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/kernels/softmax.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;

namespace {

using Forward = void (*)(const Tensor&, int, Tensor&);
using Backward = void (*)(const Tensor&, const Tensor&, int, Tensor&);

struct Map {
  const char* name;
  Forward fwd;
  Backward bwd;
  bool log;
};

const Map kMaps[] = {{"softmax", kernels::softmax_forward, kernels::softmax_backward, false},
                     {"log_softmax", kernels::log_softmax_forward, kernels::log_softmax_backward, true}};

/// Naive (log-)softmax along `axis` in double, and its VJP with u.
void reference(const Tensor& x, const Tensor& u, int axis, bool log, Tensor& y, Tensor& dx) {
  const Shape& s = x.shape();
  const int64_t outer = s.numel(0, axis), len = s[axis], inner = s.numel(axis + 1, s.rank());
  y = Tensor(s);
  dx = Tensor(s);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const auto at = [&](int64_t k) { return (o * len + k) * inner + i; };
      double m = -1e300, sum = 0, usum = 0, dot = 0;
      for (int64_t k = 0; k < len; ++k) m = std::max(m, double(x[at(k)]));
      for (int64_t k = 0; k < len; ++k) sum += std::exp(x[at(k)] - m);
      for (int64_t k = 0; k < len; ++k) {
        const double p = std::exp(x[at(k)] - m) / sum;
        usum += u[at(k)];
        dot += u[at(k)] * p;
      }
      for (int64_t k = 0; k < len; ++k) {
        const double p = std::exp(x[at(k)] - m) / sum;
        y[at(k)] = static_cast<float>(log ? x[at(k)] - m - std::log(sum) : p);
        dx[at(k)] = static_cast<float>(log ? u[at(k)] - p * usum : p * (u[at(k)] - dot));
      }
    }
}

}  // namespace

TEST_CASE("softmax kernels match torch along every axis", "[kernels][softmax]") {
  const test::Fixture f("softmax.txt");
  const Tensor& x = f["x"];
  const Tensor& u = f["u"];
  for (const Map& m : kMaps)
    for (int axis = 0; axis < 3; ++axis)
      for (int given : {axis, axis - 3}) {  // the negative spelling of the same axis
        const std::string key = std::string(m.name) + std::to_string(axis);
        INFO(m.name << " axis " << given);
        Tensor y(x.shape()), dx(x.shape());
        m.fwd(x, given, y);
        require_close(y, f[key + "_y"], 1e-5, 1e-3, key);
        m.bwd(y, u, given, dx);
        require_close(dx, f[key + "_dx"], 1e-4, 1e-3, key);
      }
}

TEST_CASE("softmax kernels are stable on extreme rows", "[kernels][softmax]") {
  const test::Fixture f("softmax.txt");
  const Tensor& e = f["e"];
  for (const Map& m : kMaps) {
    const std::string key = std::string(m.name) + "_e";
    Tensor y(e.shape()), dx(e.shape());
    m.fwd(e, -1, y);
    for (float v : y) REQUIRE(std::isfinite(v));
    require_close(y, f[key + "_y"], 1e-5, 1e-3, key);
    m.bwd(y, f["ue"], 1, dx);
    for (float v : dx) REQUIRE(std::isfinite(v));
    require_close(dx, f[key + "_dx"], 1e-4, 1e-3, key);
  }
  // A row that would overflow a naive exp: exact halves and log 2.
  const Tensor big({1, 3}, {1000.f, 1000.f, -1000.f});
  Tensor y({1, 3});
  kernels::softmax_forward(big, 1, y);
  CHECK(y[0] == 0.5f);
  CHECK(y[1] == 0.5f);
  CHECK(y[2] == 0.0f);
  kernels::log_softmax_forward(big, 1, y);
  CHECK(y[0] == Approx(-std::log(2.0)));
  CHECK(y[2] == Approx(-2000.0 - std::log(2.0)));
}

TEST_CASE("softmax backward accumulates into dx", "[kernels][softmax]") {
  const Tensor x = randn({3, 5, 4}, 7), u = randn({3, 5, 4}, 8);
  for (const Map& m : kMaps) {
    Tensor y(x.shape()), once(x.shape()), twice(x.shape());
    m.fwd(x, 1, y);
    m.bwd(y, u, 1, once);
    m.bwd(y, u, 1, twice);
    m.bwd(y, u, 1, twice);
    for (int64_t i = 0; i < x.numel(); ++i) REQUIRE(twice[i] == Approx(2 * once[i]).margin(1e-6));
  }
}

TEST_CASE("softmax kernels agree with a naive reference on large inputs", "[kernels][softmax]") {
  // Big enough for the parallel path; inner = 1 (last axis) and inner > 1.
  const Tensor x = randn({64, 50, 12}, 3, 4.0f), u = randn({64, 50, 12}, 4);
  for (const Map& m : kMaps)
    for (int axis : {1, 2}) {
      INFO(m.name << " axis " << axis);
      Tensor ry, rdx, y(x.shape()), dx(x.shape());
      reference(x, u, axis, m.log, ry, rdx);
      m.fwd(x, axis, y);
      m.bwd(y, u, axis, dx);
      require_close(y, ry, 1e-5, 1e-3, "y");
      // dx_k = y_k·(u_k − Σ u·y) cancels to ~1e-4 of |u| ≈ 1..4, which float
      // resolves to ~1 ulp of |u| (2e-7): hence the larger absolute floor.
      require_close(dx, rdx, 1e-4, 1e-2, "dx");
    }
}
