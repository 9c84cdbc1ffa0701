// Fourier-family transforms: forward against naive O(n²) DFT / DCT written
// here in double (NumPy / SciPy formulas), perfect reconstruction, the inverse
// op's exact adjoint, gradient and kind checks.

#include <cmath>
#include <complex>
#include <string>
#include <vector>

#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/transforms/transform.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

namespace {

const double pi = 3.14159265358979323846;

/// Forward scale of numpy's norm for a transform of n points (n includes the
/// 2^d factor for the DCT).
double fwd_scale(const std::string& norm, double n) {
  if (norm == "ortho") return 1.0 / std::sqrt(n);
  if (norm == "forward") return 1.0 / n;
  return 1.0;
}

Shape with_batch(int64_t n, const Shape& s) {
  Shape r{n};
  for (int64_t v : s) r.push_back(v);
  return r;
}

/// numpy.fft.fftn over the last d axes of a real tensor, truncated to `keep`
/// bins in the last axis (n for fftn, n/2+1 for rfftn).
Tensor naive_fft(const Tensor& x, int d, const std::string& norm, bool half) {
  const int r = x.rank();
  const int64_t n2 = x.dim(r - 1);
  const int64_t n1 = d == 2 ? x.dim(r - 2) : 1;
  const int64_t keep = half ? n2 / 2 + 1 : n2;
  const int64_t slices = x.numel() / (n1 * n2);
  Shape out = x.shape();
  out[r - 1] = keep;
  out.push_back(2);
  Tensor y(out);
  const double sc = fwd_scale(norm, double(n1 * n2));
  for (int64_t b = 0; b < slices; ++b)
    for (int64_t k1 = 0; k1 < n1; ++k1)
      for (int64_t k2 = 0; k2 < keep; ++k2) {
        std::complex<double> acc = 0;
        for (int64_t j1 = 0; j1 < n1; ++j1)
          for (int64_t j2 = 0; j2 < n2; ++j2) {
            const double ang = -2 * pi * (double(k1 * j1) / n1 + double(k2 * j2) / n2);
            acc += double(x[(b * n1 + j1) * n2 + j2]) * std::polar(1.0, ang);
          }
        const int64_t o = ((b * n1 + k1) * keep + k2) * 2;
        y[o] = float(acc.real() * sc);
        y[o + 1] = float(acc.imag() * sc);
      }
  return y;
}

/// scipy.fft.dctn(type=2) over the last d axes.
Tensor naive_dct(const Tensor& x, int d, const std::string& norm) {
  const int r = x.rank();
  const int64_t n2 = x.dim(r - 1);
  const int64_t n1 = d == 2 ? x.dim(r - 2) : 1;
  const int64_t slices = x.numel() / (n1 * n2);
  Tensor y(x.shape());
  auto basis = [&](int64_t k, int64_t j, int64_t n) {
    double v = 2 * std::cos(pi * k * (2 * j + 1) / (2.0 * n));
    if (norm == "ortho") v *= (k == 0 ? std::sqrt(1.0 / (4.0 * n)) : std::sqrt(1.0 / (2.0 * n)));
    else if (norm == "forward") v /= 2.0 * n;
    return v;
  };
  for (int64_t b = 0; b < slices; ++b)
    for (int64_t k1 = 0; k1 < n1; ++k1)
      for (int64_t k2 = 0; k2 < n2; ++k2) {
        double acc = 0;
        for (int64_t j1 = 0; j1 < n1; ++j1)
          for (int64_t j2 = 0; j2 < n2; ++j2)
            acc += double(x[(b * n1 + j1) * n2 + j2]) * (d == 2 ? basis(k1, j1, n1) : 1.0) * basis(k2, j2, n2);
        y[(b * n1 + k1) * n2 + k2] = float(acc);
      }
  return y;
}

struct Case {
  std::string name;
  Shape shape;  // one example
};

/// Every transform on odd and even sizes with leading channel axes.
std::vector<Case> cases() {
  std::vector<Case> c;
  for (const char* n : {"fft1", "rfft1", "dct1"})
    for (const Shape& s : {Shape{7}, Shape{8}, Shape{3, 7}, Shape{2, 8}}) c.push_back({n, s});
  for (const char* n : {"fft2", "rfft2", "dct2"})
    for (const Shape& s : {Shape{2, 6, 5}, Shape{1, 4, 8}, Shape{5, 7}, Shape{2, 3, 3}}) c.push_back({n, s});
  return c;
}

const char* const norms[] = {"backward", "ortho", "forward"};

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += double(a[i]) * b[i];
  return s;
}

}  // namespace

TEST_CASE("fourier forward matches naive DFT/DCT on batched input", "[transform][fourier]") {
  uint64_t seed = 10;
  for (const Case& c : cases())
    for (const char* norm : norms) {
      const std::string spec = c.name + ":" + norm;
      INFO(spec << " on " << c.shape.str());
      const auto t = make_transform(spec, c.shape);
      const int d = c.name.back() - '0';
      REQUIRE(t->axes() == d);
      const Tensor x = randn(with_batch(3, c.shape), ++seed);
      const Tensor s = t->forward(x);
      REQUIRE(s.shape() == with_batch(3, t->coefficient_shape()));
      Tensor expected;
      if (c.name.rfind("dct", 0) == 0) expected = naive_dct(x, d, norm);
      else expected = naive_fft(x, d, norm, c.name[0] == 'r');
      const double floor = std::string(norm) == "forward" ? 1e-3 : 1e-2;
      require_close(s, expected, 1e-4, floor, spec);
    }
}

TEST_CASE("fourier coefficient shapes keep channel axes", "[transform][fourier]") {
  CHECK(make_transform("fft2", {1, 64, 64})->coefficient_shape() == Shape{1, 64, 64, 2});
  CHECK(make_transform("rfft2", {3, 6, 5})->coefficient_shape() == Shape{3, 6, 3, 2});
  CHECK(make_transform("rfft1", {7})->coefficient_shape() == Shape{4, 2});
  CHECK(make_transform("rfft1", {2, 8})->coefficient_shape() == Shape{2, 5, 2});
  CHECK(make_transform("dct2", {2, 6, 5})->coefficient_shape() == Shape{2, 6, 5});
  CHECK(make_transform("fft1", {7})->input_shape() == Shape{7});
}

TEST_CASE("fourier perfect reconstruction and inverse op equals inverse()", "[transform][fourier]") {
  uint64_t seed = 100;
  for (const Case& c : cases())
    for (const char* norm : norms) {
      const std::string spec = c.name + ":" + norm;
      INFO(spec << " on " << c.shape.str());
      const auto t = make_transform(spec, c.shape);
      REQUIRE(t->exact());
      const Tensor x = randn(with_batch(2, c.shape), ++seed);
      const Tensor s = t->forward(x);
      const Tensor back = t->inverse(s);
      require_close(back, x, 1e-5, 1.0, "reconstruction");

      Graph g;
      const NodeId in = nn::input(g, "s", t->coefficient_shape());
      const NodeId out = add_inverse(g, in, *t);
      REQUIRE(g.shape(out) == with_batch(Shape::free, t->input_shape()));
      g.set_outputs({out});
      g.finalize();
      // Arbitrary (non-Hermitian) coefficients: the op must agree with inverse().
      const Tensor r = randn(s.shape(), ++seed);
      require_close(g.evaluate(r), t->inverse(r), 1e-6, 1e-3, "graph vs inverse()");
      require_close(g.evaluate(s), x, 1e-5, 1.0, "graph reconstruction");
    }
}

TEST_CASE("fourier inverse op backward is the exact adjoint", "[transform][fourier]") {
  uint64_t seed = 1000;
  for (const Case& c : cases())
    for (const char* norm : norms) {
      const std::string spec = c.name + ":" + norm;
      INFO(spec << " on " << c.shape.str());
      const auto t = make_transform(spec, c.shape);
      Graph g;
      const NodeId in = nn::input(g, "s", t->coefficient_shape());
      g.set_outputs({add_inverse(g, in, *t)});
      g.finalize();
      for (int trial = 0; trial < 2; ++trial) {
        const Tensor s = randn(with_batch(2, t->coefficient_shape()), ++seed);
        const Tensor u = randn(with_batch(2, t->input_shape()), ++seed);
        Workspace ws;
        forward(g, ws, {s});
        const Tensor as = outputs(g, ws)[0];
        const Gradients gr = backward(g, ws, {u});
        const Tensor& atu = gr.inputs.at(0);
        REQUIRE(atu.shape() == s.shape());
        const double lhs = dot(as, u), rhs = dot(s, atu);
        const double scale = std::sqrt(dot(as, as) * dot(u, u)) + std::sqrt(dot(s, s) * dot(atu, atu));
        INFO("<As,u> = " << lhs << ", <s,Atu> = " << rhs);
        CHECK(std::fabs(lhs - rhs) <= 1e-5 * scale);
      }
    }
}

TEST_CASE("rfft adjoint doubles interior bins and zeroes DC/Nyquist imaginary parts", "[transform][fourier]") {
  // A constant cotangent only reaches the DC bin; its adjoint value is c·n.
  const auto t = make_transform("rfft1", {8});
  Graph g;
  const NodeId in = nn::input(g, "s", t->coefficient_shape());
  g.set_outputs({add_inverse(g, in, *t)});
  g.finalize();
  Workspace ws;
  forward(g, ws, {Tensor(with_batch(1, t->coefficient_shape()))});
  Tensor u(Shape{1, 8});
  u[3] = 1.0f;  // a unit impulse at j = 3
  const Tensor a = backward(g, ws, {u}).inputs.at(0);
  // x_3 = (1/8)[Re s0 + 2 Σ_{k=1..3} Re(s_k e^{2πi 3k/8}) + Re s4 (−1)^3]
  for (int k = 0; k <= 4; ++k) {
    const double m = (k == 0 || k == 4) ? 1.0 : 2.0;
    const double ang = 2 * pi * 3 * k / 8.0;
    CHECK(a[2 * k] == Approx(m * std::cos(ang) / 8).margin(1e-6));
    CHECK(a[2 * k + 1] == Approx(-m * std::sin(ang) / 8).margin(1e-6));
  }
  CHECK(a[1] == 0.0f);
  CHECK(std::fabs(a[9]) < 1e-7);
}

TEST_CASE("fourier inverse op passes check_gradients and check_kind", "[transform][fourier]") {
  for (const Case& c : cases())
    for (const char* norm : norms) {
      const std::string spec = c.name + ":" + norm;
      INFO(spec << " on " << c.shape.str());
      const auto t = make_transform(spec, c.shape);
      Graph g;
      const NodeId in = nn::input(g, "s", t->coefficient_shape());
      const NodeId inv = add_inverse(g, in, *t, "inv");
      g.set_outputs({inv});
      g.finalize();
      REQUIRE(g.node(inv).op->kind() == Kind::Linear);
      const Tensor s = randn(with_batch(2, t->coefficient_shape()), 7);
      require_ok(check_gradients(g, {s}));
      require_ok(check_kind(g, inv, {s}));
    }
}

TEST_CASE("fourier inverse op rejects wrong coefficient shapes", "[transform][fourier]") {
  const auto t = make_transform("rfft2", {2, 6, 5});
  Graph g;
  const NodeId bad = nn::input(g, "s", {2, 6, 5, 2});  // full, not half spectrum
  try {
    add_inverse(g, bad, *t, "inv");
    FAIL("expected ShapeError");
  } catch (const ShapeError& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK(m.find("'inv'") != std::string::npos);
    CHECK(m.find("[*,2,6,5,2]") != std::string::npos);
    CHECK(m.find("[*,2,6,3,2]") != std::string::npos);
  }
  CHECK_THROWS_AS(t->inverse(Tensor(Shape{1, 2, 6, 5, 2})), ShapeError);
  CHECK_THROWS_AS(t->forward(Tensor(Shape{1, 6, 5})), ShapeError);
}

TEST_CASE("fourier inverse op outlives its transform", "[transform][fourier]") {
  auto t = make_transform("rfft2:ortho", {2, 6, 5});
  const Tensor x = randn({2, 2, 6, 5}, 5);
  const Tensor s = t->forward(x);
  const Shape coef = t->coefficient_shape();
  const std::shared_ptr<const Op> op = t->inverse_op();
  CHECK(op->type() == "inverse_rfft2");
  CHECK(op->kind() == Kind::Linear);
  t.reset();
  Graph g;
  const NodeId in = nn::input(g, "s", coef);
  g.set_outputs({g.add(op, {in}, {})});
  g.finalize();
  require_close(g.evaluate(s), x, 1e-5, 1.0);
}
