// Activation kernels: φ and φ' against PyTorch (fixture), against closed
// forms in double precision on a dense grid, and at extreme inputs.
#include <cfloat>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/kernels/activation.hpp"

using namespace trim;
using trim::test::require_close;

namespace {

using Fn = std::function<void(const float*, float*, int64_t)>;

struct Act {
  const char* name;
  Fn phi, dphi;
  std::function<double(double)> ref, dref;  ///< closed forms in double
  /// Relative errors of φ' are taken against max(|φ'|, floor): GELU' has a
  /// root (x ≈ −0.75), where it is a difference of two terms near 0.23 and
  /// only an error relative to those terms means anything.
  double dfloor = 1e-30;
};

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }
double softplus(double x, double b, double t) { return b * x > t ? x : std::log1p(std::exp(b * x)) / b; }

std::vector<Act> activations() {
  namespace k = trim::kernels;
  const double pi = 3.14159265358979323846;
  return {
      {"relu", k::relu_forward, k::relu_derivative, [](double x) { return x > 0 ? x : 0.0; },
       [](double x) { return x > 0 ? 1.0 : 0.0; }},
      {"leaky_relu", [](const float* x, float* y, int64_t n) { k::leaky_relu_forward(x, y, n, 0.01f); },
       [](const float* x, float* d, int64_t n) { k::leaky_relu_derivative(x, d, n, 0.01f); },
       [](double x) { return x > 0 ? x : double(0.01f) * x; }, [](double x) { return x > 0 ? 1.0 : double(0.01f); }},
      {"leaky_relu_0_2", [](const float* x, float* y, int64_t n) { k::leaky_relu_forward(x, y, n, 0.2f); },
       [](const float* x, float* d, int64_t n) { k::leaky_relu_derivative(x, d, n, 0.2f); },
       [](double x) { return x > 0 ? x : double(0.2f) * x; }, [](double x) { return x > 0 ? 1.0 : double(0.2f); }},
      {"elu", [](const float* x, float* y, int64_t n) { k::elu_forward(x, y, n, 1.0f); },
       [](const float* x, float* d, int64_t n) { k::elu_derivative(x, d, n, 1.0f); },
       [](double x) { return x > 0 ? x : std::expm1(x); }, [](double x) { return x > 0 ? 1.0 : std::exp(x); }},
      {"elu_0_5", [](const float* x, float* y, int64_t n) { k::elu_forward(x, y, n, 0.5f); },
       [](const float* x, float* d, int64_t n) { k::elu_derivative(x, d, n, 0.5f); },
       [](double x) { return x > 0 ? x : 0.5 * std::expm1(x); }, [](double x) { return x > 0 ? 1.0 : 0.5 * std::exp(x); }},
      {"tanh", k::tanh_forward, k::tanh_derivative, [](double x) { return std::tanh(x); },
       [](double x) { return 1.0 / (std::cosh(x) * std::cosh(x)); }},
      {"sigmoid", k::sigmoid_forward, k::sigmoid_derivative, sigmoid,
       [](double x) { return sigmoid(x) * sigmoid(-x); }},
      {"softplus", [](const float* x, float* y, int64_t n) { k::softplus_forward(x, y, n, 1.0f, 20.0f); },
       [](const float* x, float* d, int64_t n) { k::softplus_derivative(x, d, n, 1.0f, 20.0f); },
       [](double x) { return softplus(x, 1, 20); }, [](double x) { return x > 20 ? 1.0 : sigmoid(x); }},
      {"softplus_2_5", [](const float* x, float* y, int64_t n) { k::softplus_forward(x, y, n, 2.0f, 5.0f); },
       [](const float* x, float* d, int64_t n) { k::softplus_derivative(x, d, n, 2.0f, 5.0f); },
       [](double x) { return softplus(x, 2, 5); }, [](double x) { return 2 * x > 5 ? 1.0 : sigmoid(2 * x); }},
      {"gelu", k::gelu_forward, k::gelu_derivative, [](double x) { return x * normal_cdf(x); },
       [pi](double x) { return normal_cdf(x) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * pi); }, 0.1},
  };
}

}  // namespace

TEST_CASE("activation kernels match torch.nn.functional values and gradients", "[kernels][activation]") {
  const test::Fixture f("activation.txt");
  const Tensor& x = f["x"];
  const Tensor& u = f["u"];
  for (const Act& a : activations()) {
    Tensor y(x.shape()), d(x.shape());
    a.phi(x.data(), y.data(), x.numel());
    a.dphi(x.data(), d.data(), x.numel());
    Tensor dx(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) dx[i] = u[i] * d[i];
    require_close(y, f[std::string(a.name) + "_y"], 1e-5, 1e-3, a.name);
    require_close(dx, f[std::string(a.name) + "_dx"], 1e-4, 1e-3, a.name);
  }
}

TEST_CASE("activation kernels are accurate on a dense grid", "[kernels][activation]") {
  // x in [-40, 40] in steps of 1/64 (exact in float), odd count so chunk
  // tails are exercised; relative error against double-precision closed forms.
  std::vector<float> x;
  for (int i = -40 * 64; i <= 40 * 64; ++i) x.push_back(static_cast<float>(i) / 64.0f);
  x.push_back(1e-7f);
  x.push_back(-1e-7f);
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> y(x.size()), d(x.size());
  for (const Act& a : activations()) {
    a.phi(x.data(), y.data(), n);
    a.dphi(x.data(), d.data(), n);
    double worst_y = 0, worst_d = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double xi = x[static_cast<size_t>(i)];
      const double ry = a.ref(xi), rd = a.dref(xi);
      worst_y = std::max(worst_y, std::fabs(y[static_cast<size_t>(i)] - ry) / std::max(std::fabs(ry), 1e-30));
      worst_d = std::max(worst_d, std::fabs(d[static_cast<size_t>(i)] - rd) / std::max(std::fabs(rd), a.dfloor));
    }
    INFO(a.name << ": worst relative error of phi " << worst_y << ", of phi' " << worst_d);
    CHECK(worst_y < 2e-6);
    CHECK(worst_d < 2e-6);
  }
}

TEST_CASE("activation kernels stay finite and take their limits at extreme inputs", "[kernels][activation]") {
  const std::vector<float> x{-FLT_MAX, -1e30f, -1e10f, -1000.f, -100.f, -88.8f, -30.f, -1e-30f, -1e-40f, -0.0f,
                             0.0f,     1e-40f, 1e-30f, 30.f,    88.8f,  100.f,  1000.f, 1e10f,   1e30f,   FLT_MAX};
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> y(x.size()), d(x.size());
  for (const Act& a : activations()) {
    a.phi(x.data(), y.data(), n);
    a.dphi(x.data(), d.data(), n);
    for (size_t i = 0; i < x.size(); ++i) {
      INFO(a.name << " at x = " << x[i] << ": phi " << y[i] << ", phi' " << d[i]);
      REQUIRE(std::isfinite(y[i]));
      REQUIRE(std::isfinite(d[i]));
      REQUIRE(d[i] >= 0.0f);
      REQUIRE(d[i] <= 1.13f);  // GELU' peaks at 1.129; the others at 1
    }
    INFO(a.name);
    // Far right every one of these is the identity or saturates at 1.
    const float right = y.back(), right_d = d.back();
    const bool saturates = std::string(a.name) == "tanh" || std::string(a.name) == "sigmoid";
    CHECK(right_d == Approx(saturates ? 0.0 : 1.0).margin(1e-30));
    CHECK((right == FLT_MAX || right == 1.0f));
    CHECK(std::fabs(d.front()) < 0.21f);  // slope far left: 0, leaky slope, or α·0
  }
  // Values worth pinning exactly.
  float v[4] = {-100.f, 100.f, 0.f, -1e10f}, out[4];
  kernels::sigmoid_forward(v, out, 4);
  CHECK(out[0] < 1e-37f);
  CHECK(out[1] == 1.0f);
  CHECK(out[2] == 0.5f);
  kernels::tanh_forward(v, out, 4);
  CHECK(out[0] == -1.0f);
  CHECK(out[1] == 1.0f);
  CHECK(out[2] == 0.0f);
  kernels::softplus_forward(v, out, 4, 1.0f, 20.0f);
  CHECK(out[0] < 1e-37f);
  CHECK(out[1] == 100.0f);
  CHECK(out[2] == Approx(std::log(2.0)));
  kernels::gelu_forward(v, out, 4);
  CHECK(out[0] == 0.0f);
  CHECK(out[1] == 100.0f);
  CHECK(out[3] == 0.0f);
  kernels::elu_forward(v, out, 4, 2.0f);
  CHECK(out[0] == -2.0f);
  CHECK(out[3] == -2.0f);
}

TEST_CASE("activation kernels may run in place", "[kernels][activation]") {
  std::vector<float> x;
  for (int i = 0; i < 1500; ++i) x.push_back(static_cast<float>(i % 97) * 0.25f - 12.0f);
  const int64_t n = static_cast<int64_t>(x.size());
  for (const Act& a : activations()) {
    std::vector<float> y(x.size()), inplace = x, d(x.size()), dinplace = x;
    a.phi(x.data(), y.data(), n);
    a.phi(inplace.data(), inplace.data(), n);
    a.dphi(x.data(), d.data(), n);
    a.dphi(dinplace.data(), dinplace.data(), n);
    INFO(a.name);
    CHECK(y == inplace);
    CHECK(d == dinplace);
  }
}
