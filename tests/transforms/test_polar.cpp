// Polar (amplitude, phase) Fourier coefficients: forward against a naive DFT
// in double, perfect reconstruction, the nonlinear inverse op's gradient
// (finite differences), its DeepLIFT and CD rules (check_kind), the spec and
// the amplitude / phase groupings.

#include <cmath>
#include <complex>
#include <string>

#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/transforms/grouping.hpp"
#include "trim/transforms/transform.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

namespace {

const double pi = 3.14159265358979323846;

Shape with_batch(int64_t n, const Shape& s) {
  Shape r{n};
  for (int64_t v : s) r.push_back(v);
  return r;
}

/// The complex DFT (numpy.fft.fftn, norm "backward") of one 2-D slice x
/// [n1, n2] at (k1, k2), in double.
std::complex<double> dft2(const float* x, int64_t n1, int64_t n2, int64_t k1, int64_t k2) {
  std::complex<double> acc = 0;
  for (int64_t j1 = 0; j1 < n1; ++j1)
    for (int64_t j2 = 0; j2 < n2; ++j2)
      acc += double(x[j1 * n2 + j2]) * std::polar(1.0, -2 * pi * (double(k1 * j1) / n1 + double(k2 * j2) / n2));
  return acc;
}

}  // namespace

TEST_CASE("polar coefficients are |DFT| and arg DFT", "[transform][polar]") {
  const Tensor x = randn({2, 3, 6, 5}, 1);
  const auto t = make_transform("fft2:polar", {3, 6, 5});
  REQUIRE(t->coefficient_shape() == Shape{3, 6, 5, 2});
  const Tensor s = t->forward(x);
  for (int64_t b = 0; b < 6; ++b)
    for (int64_t k1 = 0; k1 < 6; ++k1)
      for (int64_t k2 = 0; k2 < 5; ++k2) {
        const std::complex<double> z = dft2(x.data() + b * 30, 6, 5, k1, k2);
        const int64_t i = ((b * 6 + k1) * 5 + k2) * 2;
        CHECK(s[i] == Approx(std::abs(z)).margin(1e-4));
        // Compare angles on the circle (±π are the same phase).
        CHECK(std::fabs(std::remainder(double(s[i + 1]) - std::arg(z), 2 * pi)) < 1e-4);
      }
  // rfft1 with ortho: the half spectrum scaled by 1/√n.
  const Tensor x1 = randn({2, 7}, 2);
  const Tensor s1 = make_transform("rfft1:ortho:polar", {7})->forward(x1);
  REQUIRE(s1.shape() == Shape{2, 4, 2});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t k = 0; k < 4; ++k) {
      const std::complex<double> z = dft2(x1.data() + b * 7, 1, 7, 0, k) / std::sqrt(7.0);
      CHECK(s1[(b * 4 + k) * 2] == Approx(std::abs(z)).margin(1e-5));
      CHECK(std::fabs(std::remainder(double(s1[(b * 4 + k) * 2 + 1]) - std::arg(z), 2 * pi)) < 1e-4);
    }
}

TEST_CASE("polar transforms answer what they are and parse their spec", "[transform][polar]") {
  const auto t = make_transform("fft2:polar:ortho", {1, 8, 8});
  CHECK(t->spec() == "fft2:ortho:polar");
  CHECK(t->family() == "fft2");
  CHECK(t->polar());
  CHECK(t->complex_pairs());
  CHECK(t->coefficient_layout() == CoefficientLayout::Spectrum);
  CHECK(t->figure_kind() == FigureKind::Spectrum);
  CHECK(make_transform(t->spec(), {1, 8, 8})->spec() == t->spec());
  CHECK_FALSE(make_transform("fft2:ortho", {1, 8, 8})->polar());
  CHECK(make_transform("rfft1:polar", {9})->coefficient_layout() == CoefficientLayout::HalfSpectrum);
  CHECK(signal_shape_for("rfft2:polar", {1, 8, 5, 2}) == Shape{1, 8, 8});
  CHECK(t->inverse_op()->kind() == Kind::Cell);
  CHECK(t->inverse_op()->type() == "inverse_fft2_polar");
  CHECK_THROWS_WITH(make_transform("dct2:polar", {8, 8}), Catch::Contains("polar") && Catch::Contains("DCT"));
  CHECK_THROWS_WITH(make_transform("fft2:polar:polar", {8, 8}), Catch::Contains("twice"));
  CHECK_THROWS_WITH(make_transform("fft2:ortho:forward", {8, 8}), Catch::Contains("'forward'"));
  CHECK_THROWS_WITH(make_transform("rfft1:polr", {8}), Catch::Contains("polar"));
}

TEST_CASE("polar: perfect reconstruction, graph inverse equals inverse()", "[transform][polar]") {
  uint64_t seed = 10;
  for (const char* spec : {"fft1:polar", "fft2:polar", "rfft1:polar", "rfft2:ortho:polar", "rfft2:forward:polar"})
    for (const Shape& shape : {Shape{2, 6, 5}, Shape{1, 7, 8}}) {
      INFO(spec << " on " << shape.str());
      const auto t = make_transform(spec, shape);
      REQUIRE(t->exact());
      const Tensor x = randn(with_batch(2, shape), ++seed);
      const Tensor s = t->forward(x);
      require_close(t->inverse(s), x, 1e-5, 1.0, "reconstruction");
      Graph g;
      const NodeId in = nn::input(g, "s", t->coefficient_shape());
      g.set_outputs({add_inverse(g, in, *t)});
      g.finalize();
      require_close(g.evaluate(s), x, 1e-5, 1.0, "graph reconstruction");
      // Arbitrary (r, θ), negative radii included: the op agrees with inverse().
      const Tensor r = randn(s.shape(), ++seed);
      require_close(g.evaluate(r), t->inverse(r), 1e-6, 1e-3, "graph vs inverse()");
    }
}

TEST_CASE("polar inverse op: gradients match finite differences, DeepLIFT complete, CD of all = forward",
          "[transform][polar]") {
  for (const char* spec : {"fft2:polar", "rfft1:polar", "rfft2:ortho:polar"}) {
    INFO(spec);
    const Shape shape = std::string(spec).find("2") != std::string::npos ? Shape{2, 6, 5} : Shape{9};
    const auto t = make_transform(spec, shape);
    Graph g;
    const NodeId in = nn::input(g, "s", t->coefficient_shape());
    const NodeId inv = add_inverse(g, in, *t, "inv");
    // A nonlinearity after the inverse, so the check sees the op inside a model.
    g.set_outputs({nn::tanh(g, inv)});
    g.finalize();
    const Tensor s = t->forward(randn(with_batch(2, shape), 7, 0.3f));
    require_ok(check_gradients(g, {s}));
    require_ok(check_kind(g, inv, {s}));
  }
}

TEST_CASE("polar radial groupings split every band into amplitude and phase", "[transform][polar][grouping]") {
  const auto t = make_transform("rfft2:polar", {2, 8, 8});
  const auto c = make_transform("rfft2", {2, 8, 8});
  const Grouping gp = radial_bands(*t, 3), gc = radial_bands(*c, 3);
  REQUIRE(gp.size() == 6);
  CHECK(gp.names[0] == "amplitude 0.00-0.47");
  CHECK(gp.names[3] == "phase 0.00-0.47");
  CHECK(gp.centers[1] == gp.centers[4]);
  REQUIRE(gp.labels.size() == gc.labels.size());
  for (size_t i = 0; i < gp.labels.size(); i += 2) {
    CHECK(gp.labels[i] == gc.labels[i]);                                          // amplitude: the band
    CHECK(gp.labels[i + 1] == (gc.labels[i + 1] < 0 ? -1 : gc.labels[i + 1] + 3));  // phase: after them
  }
  const Grouping one = radial_band(*t, 0.5, 0.2);
  REQUIRE(one.size() == 2);
  CHECK(one.names[1].rfind("phase ", 0) == 0);
  const Grouping ell = physical_bands(*t, {0, 100, 200}, 1.0, "cycles");
  CHECK(ell.size() == 4);
}
