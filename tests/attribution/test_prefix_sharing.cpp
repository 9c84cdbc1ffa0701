// Integrated gradients with the model's affine prefix shared between the
// steps (IntegratedGradientsOptions::share_linear_prefix): the same
// attributions and delta as the plain path, in Fourier, wavelet and lossy
// dictionary spaces, with several targets, small batches, extra inputs,
// progress and a memory budget; nothing shared where nothing is affine.
#include <algorithm>
#include <cmath>
#include <memory>

#include "models.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/graph/split.hpp"
#include "trim/transforms/dictionary.hpp"
#include "trim/transforms/transform.hpp"

using namespace trim;
using test::randn;

namespace {

/// A stem as torchvision's: conv (stride 2) → batch norm → φ, then a 3×3
/// conv, φ and a dense head. Input [*, 3, 8, 8], 3 outputs. `smooth`: tanh
/// instead of ReLU (completeness is then tight at 50 steps).
Graph stem_cnn(bool smooth) {
  Graph g(41);
  NodeId x = nn::input(g, "x", {3, 8, 8});
  x = nn::conv2d(g, x, 4, {3, 3}, "stem", nn::Conv2dOptions().padding(1).strides(2));
  x = nn::batch_norm(g, x, "bn");
  x = smooth ? nn::tanh(g, x) : nn::relu(g, x);
  x = nn::conv2d(g, x, 4, {3, 3}, "conv2", nn::Conv2dOptions().padding(1));
  x = smooth ? nn::tanh(g, x) : nn::relu(g, x);
  g.set_outputs({nn::linear(g, nn::flatten(g, x), 3, "fc")});
  g.finalize();
  test::randomize_batch_norm(g, "bn", 4, 42);
  return g;
}

/// Both paths on the same call: attributions and delta agree to float rounding.
Attribution require_paths_agree(const Graph& g, const Tensor& s, IntegratedGradientsOptions ig,
                                const AttributionOptions& o) {
  ig.share_linear_prefix = false;
  const Attribution plain = integrated_gradients(g, s, ig, o);
  ig.share_linear_prefix = true;
  const Attribution shared = integrated_gradients(g, s, ig, o);
  REQUIRE(shared.targets == plain.targets);
  test::require_close(shared.attributions, plain.attributions, 2e-4, 1e-3, "attributions");
  test::require_close(shared.delta, plain.delta, 2e-4, 1e-3, "delta");
  if (o.grouping) test::require_close(shared.group_scores, plain.group_scores, 2e-4, 1e-3, "group scores");
  return shared;
}

}  // namespace

TEST_CASE("shared prefix: IG agrees with the plain path in fft2 and wavelet spaces", "[attribution][prefix]") {
  const Graph model = stem_cnn(false);
  for (const char* spec : {"fft2", "dwt2:db2:1"}) {
    INFO(spec);
    const TrimModel tm(model, make_transform(spec, {3, 8, 8}));
    // The cut is the batch norm: inverse, stem and bn are shared.
    const std::optional<GraphSplit> split = split_affine_prefix(tm.graph());
    REQUIRE(split);
    REQUIRE(tm.graph().node(split->cut).name == "bn");
    const Tensor s = tm.coefficients(randn({3, 3, 8, 8}, 7));
    IntegratedGradientsOptions ig;
    ig.baseline = Baseline::constant(0.05f);
    AttributionOptions o;
    o.max_batch = 7;  // 150 rows in batches that split examples
    Grouping four;  // coefficients by flat index mod 4
    four.coefficient_shape = tm.transform().coefficient_shape();
    for (int64_t i = 0; i < four.coefficient_shape.numel(); ++i) four.labels.push_back(static_cast<int32_t>(i % 4));
    four.names = {"a", "b", "c", "d"};
    four.centers = {0, 1, 2, 3};
    o.grouping = &four;
    require_paths_agree(tm.graph(), s, ig, o);
    // A baseline per example.
    ig.baseline = Baseline::of(randn(s.shape(), 14, 0.3f));
    require_paths_agree(tm.graph(), s, ig, o);
    // Two targets in a different order, and every quadrature rule.
    o.targets = Targets(std::vector<int64_t>{2, 0});
    for (Quadrature q : {Quadrature::RiemannLeft, Quadrature::RiemannTrapezoid, Quadrature::GaussLegendre}) {
      ig.method = q;
      ig.n_steps = 9;
      require_paths_agree(tm.graph(), s, ig, o);
    }
  }
}

TEST_CASE("shared prefix: completeness holds on a smooth net", "[attribution][prefix]") {
  const TrimModel tm(stem_cnn(true), make_transform("fft2", {3, 8, 8}));
  const Tensor s = tm.coefficients(randn({2, 3, 8, 8}, 8));
  const Attribution a = integrated_gradients(tm.graph(), s);
  REQUIRE(a.delta.shape() == Shape{3, 2});
  // Σ attributions = F(x) − F(0), checked against the model itself.
  const Tensor fx = tm.forward(s), f0 = tm.forward(Tensor(s.shape()));
  const int64_t P = s.numel() / 2;
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t n = 0; n < 2; ++n) {
      double sum = 0.0;
      for (int64_t i = 0; i < P; ++i) sum += a.attributions[(t * 2 + n) * P + i];
      REQUIRE(sum == Approx(double(fx[n * 3 + t]) - f0[n * 3 + t]).margin(1e-4));
      REQUIRE(std::fabs(a.delta[t * 2 + n]) < 1e-4);
    }
}

TEST_CASE("shared prefix: a lossy dictionary's residual input stays in the rest of the model",
          "[attribution][prefix]") {
  // 20 random atoms for 3·8·8 = 192 pixels: lossy, so the TRIM model adds the
  // residual (an extra input) after the synthesis; only the synthesis is shared.
  MatrixXdRM atoms(20, 192);
  const Tensor r = randn({20 * 192}, 9);
  for (int64_t i = 0; i < 20 * 192; ++i) atoms.data()[i] = r[i];
  auto t = std::make_shared<DictionaryTransform>(LinearDictionary(atoms), Shape{3, 8, 8});
  const TrimModel tm(stem_cnn(false), t);
  REQUIRE(tm.has_residual());
  const std::optional<GraphSplit> split = split_affine_prefix(tm.graph());
  REQUIRE(split);
  REQUIRE(tm.graph().node(split->cut).name == "trim.inverse");
  REQUIRE(split->suffix.inputs().size() == 2);
  const Tensor x = randn({3, 3, 8, 8}, 10);
  AttributionOptions o = tm.options_for(x);
  o.max_batch = 16;
  IntegratedGradientsOptions ig;
  ig.n_steps = 12;
  const Attribution a = require_paths_agree(tm.graph(), tm.coefficients(x), ig, o);
  // The residual matters: without it the delta's F(x) differs.
  AttributionOptions zero = o;
  zero.extra_inputs[0] = Tensor(zero.extra_inputs[0].shape());
  const Attribution z = integrated_gradients(tm.graph(), tm.coefficients(x), ig, zero);
  REQUIRE(max_abs_diff(a.delta, z.delta) > 1e-3f);
}

TEST_CASE("shared prefix: nothing is shared when the first node is nonlinear", "[attribution][prefix]") {
  Graph g(5);
  NodeId x = nn::input(g, "x", {6});
  x = nn::linear(g, nn::tanh(g, x), 4, "fc1");
  g.set_outputs({nn::linear(g, nn::relu(g, x), 2, "fc2")});
  g.finalize();
  REQUIRE_FALSE(split_affine_prefix(g));
  const Tensor s = randn({2, 6}, 11);
  IntegratedGradientsOptions ig;
  ig.n_steps = 10;
  const Attribution plain = [&] {
    IntegratedGradientsOptions off = ig;
    off.share_linear_prefix = false;
    return integrated_gradients(g, s, off);
  }();
  const Attribution a = integrated_gradients(g, s, ig);
  REQUIRE(max_abs_diff(a.attributions, plain.attributions) == 0.0f);  // the same path, bit for bit
}

TEST_CASE("shared prefix: progress counts the steps, cancelling stops it", "[attribution][prefix]") {
  const TrimModel tm(stem_cnn(false), make_transform("fft2", {3, 8, 8}));
  const Tensor s = tm.coefficients(randn({2, 3, 8, 8}, 12));
  IntegratedGradientsOptions ig;
  ig.n_steps = 10;
  AttributionOptions o;
  o.max_batch = 8;
  int64_t last_done = 0, last_total = 0, calls = 0;
  o.progress = [&](int64_t done, int64_t total) {
    last_done = done;
    last_total = total;
    return ++calls < 100;
  };
  integrated_gradients(tm.graph(), s, ig, o);
  REQUIRE(last_done == 20);
  REQUIRE(last_total == 20);
  REQUIRE(calls == 3);  // 8 + 8 + 4 rows
  o.progress = [](int64_t done, int64_t) { return done < 8; };
  REQUIRE_THROWS_AS(integrated_gradients(tm.graph(), s, ig, o), Cancelled);
}

TEST_CASE("shared prefix: under a memory budget the plain path runs", "[attribution][prefix][memory]") {
  const TrimModel tm(stem_cnn(false), make_transform("fft2", {3, 8, 8}));
  const Tensor s = tm.coefficients(randn({2, 3, 8, 8}, 13));
  IntegratedGradientsOptions ig;
  ig.n_steps = 20;
  IntegratedGradientsOptions off = ig;
  off.share_linear_prefix = false;
  const Attribution free_run = integrated_gradients(tm.graph(), s, ig);
  for (int64_t budget : {int64_t{600} << 10, int64_t{4} << 20}) {
    INFO("budget " << budget);
    AttributionOptions o;
    o.max_memory = budget;
    const Attribution a = integrated_gradients(tm.graph(), s, ig, o);
    // The same bits as the plain path in the same budget, and the shared
    // path's result up to rounding.
    REQUIRE(max_abs_diff(a.attributions, integrated_gradients(tm.graph(), s, off, o).attributions) == 0.0f);
    test::require_close(a.attributions, free_run.attributions, 1e-4, 1e-3, "budgeted");
  }
  AttributionOptions tiny;
  tiny.max_memory = 1000;
  REQUIRE_THROWS_WITH(integrated_gradients(tm.graph(), s, ig, tiny), Catch::Contains("too small for one row"));
}

TEST_CASE("shared prefix: SmoothGrad of the gradient agrees with the plain path", "[attribution][prefix][smoothgrad]") {
  MatrixXdRM atoms(20, 192);
  const Tensor r = randn({20 * 192}, 15);
  for (int64_t i = 0; i < 20 * 192; ++i) atoms.data()[i] = r[i];
  auto dict = std::make_shared<DictionaryTransform>(LinearDictionary(atoms), Shape{3, 8, 8});
  for (bool lossy : {false, true}) {
    INFO((lossy ? "dictionary with residual" : "fft2"));
    const TrimModel tm(stem_cnn(false), lossy ? std::shared_ptr<const Transform>(dict) : make_transform("fft2", {3, 8, 8}));
    const Tensor x = randn({3, 3, 8, 8}, 16);
    const Tensor s = tm.coefficients(x);
    AttributionOptions o = tm.options_for(x);
    o.max_batch = 5;  // 3 × 7 copies in batches that split examples
    o.targets = Targets(std::vector<int64_t>{1, 2});
    SmoothGradOptions sg;
    sg.n_samples = 7;
    sg.stdev = 0.2f;
    sg.seed = 3;
    int64_t units = 0;
    o.progress = [&](int64_t done, int64_t total) {
      units = total;
      return done <= total;
    };
    const Attribution shared = smoothgrad(gradient, tm.graph(), s, sg, o);
    REQUIRE(units == 21);
    SmoothGradOptions off = sg;
    off.share_linear_prefix = false;
    const Attribution plain = smoothgrad(gradient, tm.graph(), s, off, o);
    REQUIRE(shared.targets == plain.targets);
    REQUIRE(shared.delta.empty());
    test::require_close(shared.attributions, plain.attributions, 2e-4, 1e-3, "SmoothGrad");
    // A lambda around the gradient is another method: the plain path, bit for bit.
    const Attribution wrapped = smoothgrad(
        [](const Graph& g, const Tensor& t, const AttributionOptions& a) { return gradient(g, t, a); }, tm.graph(), s,
        sg, o);
    REQUIRE(max_abs_diff(wrapped.attributions, plain.attributions) == 0.0f);
  }
}
