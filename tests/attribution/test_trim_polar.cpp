// TRIM in amplitude / phase coordinates (fft2:polar, rfft1:polar): the
// composition F(T(x)) = model(x), DeepLIFT's and IG's completeness through
// the nonlinear inverse, CD's rel + irrel = output, and the separation a
// model that only sees phases (or only amplitudes) must show.
#include <cmath>

#include "models.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/graph/layers.hpp"

using namespace trim;
using test::randn;

namespace {

constexpr double kPi = 3.14159265358979323846;

/// A model of x [n] that sees only the Fourier bins 1..K of x through either
/// their phases (re/|s|, im/|s|) or their amplitudes |s|: the DFT is a dense
/// layer with the DFT matrix as weights, |s| = √(re² + im²).
Graph phase_or_amplitude_model(int64_t n, int64_t K, bool phases) {
  Graph g(5);
  const NodeId x = nn::input(g, "x", {n});
  const NodeId c = nn::linear(g, x, 2 * K, "dft", false);
  const NodeId re = nn::slice(g, c, 1, 0, K), im = nn::slice(g, c, 1, K, 2 * K);
  const NodeId amp =
      nn::math(g, nn::add(g, nn::multiply(g, re, re), nn::multiply(g, im, im)), ops::Math::Sqrt);
  const NodeId feat =
      phases ? nn::concat(g, {nn::divide(g, re, amp), nn::divide(g, im, amp)}, 1) : amp;
  g.set_outputs({nn::linear(g, nn::tanh(g, nn::linear(g, feat, 4, "fc1")), 1, "fc2")});
  g.finalize();
  Tensor& w = g.parameter("dft.weight").value;  // [2K, n]
  for (int64_t k = 1; k <= K; ++k)
    for (int64_t j = 0; j < n; ++j) {
      w[(k - 1) * n + j] = static_cast<float>(std::cos(2 * kPi * double(j * k) / double(n)));
      w[(K + k - 1) * n + j] = static_cast<float>(-std::sin(2 * kPi * double(j * k) / double(n)));
    }
  return g;
}

double max_abs(const Tensor& t, int64_t first, int64_t step) {
  double m = 0;
  for (int64_t i = first; i < t.numel(); i += step) m = std::max(m, std::fabs(double(t[i])));
  return m;
}

}  // namespace

TEST_CASE("TrimModel: F(T(x)) equals model(x) in polar coordinates", "[attribution][trim_model][polar]") {
  const Graph model = test::relu_cnn();
  const Tensor x = randn({3, 1, 8, 8}, 1);
  const Tensor y = model.evaluate(x);
  for (const char* spec : {"fft1:polar", "fft2:polar", "rfft1:polar", "rfft2:ortho:polar"}) {
    INFO(spec);
    const TrimModel tm(model, make_transform(spec, {1, 8, 8}));
    REQUIRE_FALSE(tm.has_residual());
    test::require_close(tm.forward(tm.coefficients(x)), y, 1e-4, 1e-3, spec);
  }
}

TEST_CASE("polar TRIM: DeepLIFT and IG are complete through the nonlinear inverse; CD splits the output",
          "[attribution][trim_model][polar]") {
  const Graph model = test::relu_cnn();
  const TrimModel tm(model, make_transform("rfft2:polar", {1, 8, 8}));
  const Tensor x = randn({2, 1, 8, 8}, 2);
  const Tensor s = tm.coefficients(x);
  const Tensor ref = tm.coefficients(randn({1, 1, 8, 8}, 3, 0.5f));
  for (const Baseline& b : {Baseline::zero(), Baseline::of(ref)}) {
    DeepLiftOptions dl;
    dl.baseline = b;
    const Attribution a = deeplift(tm.graph(), s, dl);
    const Tensor fx = tm.graph().evaluate(s), fb = tm.graph().evaluate(b.expand(s));
    for (int64_t i = 0; i < a.delta.numel(); ++i) {
      const double scale = std::fabs(fx[i]) + std::fabs(fb[i]) + 1e-2;
      CHECK(std::fabs(a.delta[i]) <= 1e-4 * scale);
    }
  }
  // A smooth model: IG's delta is only its quadrature error.
  Graph smooth(6);
  NodeId in = nn::input(smooth, "x", {1, 8, 8});
  in = nn::flatten(smooth, in);
  smooth.set_outputs({nn::linear(smooth, nn::tanh(smooth, nn::linear(smooth, in, 6, "fc1")), 2, "fc2")});
  smooth.finalize();
  const TrimModel ts(smooth, make_transform("fft2:polar", {1, 8, 8}));
  IntegratedGradientsOptions ig;
  ig.baseline = Baseline::of(ts.coefficients(randn({1, 1, 8, 8}, 4, 0.5f)));
  const Attribution a = integrated_gradients(ts.graph(), ts.coefficients(x), ig);
  for (int64_t i = 0; i < a.delta.numel(); ++i) CHECK(std::fabs(a.delta[i]) < 2e-3);
  // CD by amplitude and phase bands: rel + irrel is the output.
  const Grouping bands = radial_bands(tm.transform(), 2);
  REQUIRE(bands.size() == 4);
  const CdResult cd = contextual_decomposition(tm.graph(), s, bands);
  const Tensor fx = tm.graph().evaluate(s);
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t e = 0; e < 2; ++e)
      for (int64_t k = 0; k < 4; ++k) {
        const int64_t i = (t * 2 + e) * 4 + k;
        CHECK(cd.rel[i] + cd.irrel[i] == Approx(fx[e * 3 + t]).margin(1e-4));
      }
}

TEST_CASE("polar TRIM: a phase-only model gets no amplitude attribution, an amplitude-only model no phase attribution",
          "[attribution][trim_model][polar]") {
  const int64_t n = 16, K = 5;
  const Tensor x = randn({3, n}, 7);
  for (bool phases : {true, false}) {
    INFO((phases ? "phase-only model" : "amplitude-only model"));
    const Graph model = phase_or_amplitude_model(n, K, phases);
    const TrimModel tm(model, make_transform("rfft1:polar", {n}));
    const Tensor s = tm.coefficients(x);  // [3, 9, 2]
    IntegratedGradientsOptions ig;
    ig.baseline = Baseline::of(tm.coefficients(randn({1, n}, 8)));
    const Grouping bands = radial_bands(tm.transform(), 2);  // amplitude 0-0.5, 0.5-1, phase 0-0.5, 0.5-1
    AttributionOptions o;
    o.grouping = &bands;
    for (const Attribution& a : {integrated_gradients(tm.graph(), s, ig, o), gradient(tm.graph(), s, o)}) {
      const double used = max_abs(a.attributions, phases ? 1 : 0, 2);
      const double unused = max_abs(a.attributions, phases ? 0 : 1, 2);
      INFO("largest attribution to the used part " << used << ", to the other " << unused);
      CHECK(used > 1e-2);
      CHECK(unused <= 1e-4 * used);
      // The same by band: the groups of the unused part score (nearly) nothing.
      REQUIRE(a.group_scores.shape() == Shape{1, 3, 4});
      for (int64_t e = 0; e < 3; ++e)
        for (int64_t k = 0; k < 2; ++k) CHECK(std::fabs(a.group_scores[e * 4 + (phases ? k : 2 + k)]) <= 1e-4 * used);
    }
  }
}
