// Contextual decomposition: acd's rules written independently in PyTorch,
// rel + irrel = output on every test model, the linear-model and two-term
// Shapley formulas, batching, band sweeps and errors.
#include <cmath>

#include "fixture.hpp"
#include "models.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/core/error.hpp"
#include "trim/transforms/dictionary.hpp"
#include "trim/transforms/wavelet.hpp"

using namespace trim;
using test::randn;

namespace {

/// The CNN of tests/reference/make_cd.py with the fixture's weights.
Graph acd_cnn(const test::Fixture& f) {
  Graph g(0);
  NodeId x = nn::input(g, "x", {1, 8, 8});
  x = nn::max_pool2d(g, nn::relu(g, nn::conv2d(g, x, 4, {3, 3}, "conv1", Conv2dOptions().padding(1))), {2, 2});
  x = nn::max_pool2d(g, nn::relu(g, nn::conv2d(g, x, 6, {3, 3}, "conv2", Conv2dOptions().padding(1))), {2, 2});
  x = nn::relu(g, nn::linear(g, nn::flatten(g, x), 10, "fc1"));
  g.set_outputs({nn::linear(g, x, 3, "fc2")});
  g.finalize();
  for (const char* p : {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias",
                        "fc2.weight", "fc2.bias"})
    g.set_parameter(p, f[p]);
  return g;
}

/// Fixture [masks, N, 3] -> trim's layout [3, N, masks].
Tensor to_target_major(const Tensor& m) {
  const int64_t G = m.dim(0), N = m.dim(1), T = m.dim(2);
  Tensor r({T, N, G});
  for (int64_t g = 0; g < G; ++g)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = 0; t < T; ++t) r[(t * N + n) * G + g] = m[(g * N + n) * T + t];
  return r;
}

/// rel + irrel equals the model's output for every group, relative to the output scale.
void require_exact_sum(const CdResult& cd, const Tensor& output, double rtol = 1e-5) {
  const int64_t T = cd.rel.dim(0), N = cd.rel.dim(1), G = cd.rel.dim(2), K = output.numel() / N;
  double scale = 1e-3;
  for (float v : output) scale = std::max(scale, double(std::fabs(v)));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t g = 0; g < G; ++g) {
        const int64_t i = (t * N + n) * G + g;
        const double sum = double(cd.rel[i]) + cd.irrel[i];
        REQUIRE(std::fabs(sum - output[n * K + cd.targets[static_cast<size_t>(t)]]) <= rtol * scale);
      }
}

std::vector<Tensor> random_masks(const Shape& shape, int count, uint64_t seed) {
  std::vector<Tensor> masks;
  Rng rng(seed);
  for (int k = 0; k < count; ++k) {
    Tensor m(shape);
    for (float& v : m) v = rng.uniform() < 0.5 ? 1.0f : 0.0f;
    masks.push_back(m);
  }
  return masks;
}

}  // namespace

TEST_CASE("CD equals acd's rules written in PyTorch, in pixel space and in fft2 bands", "[attribution][cd]") {
  const test::Fixture f("cd.txt");
  const Graph g = acd_cnn(f);
  const Tensor& x = f["x"];
  test::require_close(g.evaluate(x), f["output"], 1e-5, 1e-3, "model output");

  const Tensor& pm = f["pixel_masks"];
  std::vector<Tensor> masks;
  for (int64_t k = 0; k < pm.dim(0); ++k) {
    Tensor m({1, 8, 8});
    std::copy(pm.begin() + k * 64, pm.begin() + (k + 1) * 64, m.begin());
    masks.push_back(m);
  }
  const CdResult pixel = contextual_decomposition(g, x, masks);
  test::require_close(pixel.rel, to_target_major(f["pixel_rel"]), 1e-5, 1e-2, "pixel rel");
  test::require_close(pixel.irrel, to_target_major(f["pixel_irrel"]), 1e-5, 1e-2, "pixel irrel");

  const TrimModel tm(g, make_transform("fft2", {1, 8, 8}));
  // The centres as the script's doubles (the fixture's float32 copies would
  // move band edges that fall exactly on a frequency radius).
  const CdResult bands = cd_band_sweep(tm.graph(), tm.coefficients(x), tm.transform(), {0.1, 0.3, 0.5, 0.7}, 0.1);
  test::require_close(bands.rel, to_target_major(f["band_rel"]), 1e-5, 1e-2, "band rel");
  test::require_close(bands.irrel, to_target_major(f["band_irrel"]), 1e-5, 1e-2, "band irrel");
}

TEST_CASE("CD: rel + irrel equals the output on every test model", "[attribution][cd]") {
  SECTION("smooth MLP (tanh, softplus, sigmoid: the Shapley rule)") {
    const Graph g = test::smooth_model();
    const Tensor x = randn({3, 5}, 1);
    require_exact_sum(contextual_decomposition(g, x, random_masks({5}, 4, 2)), g.evaluate(x));
  }
  SECTION("CNN with max-pool, batch-norm and a residual block") {
    const Graph g = test::relu_cnn();
    const Tensor x = randn({3, 1, 8, 8}, 3);
    require_exact_sum(contextual_decomposition(g, x, random_masks({1, 8, 8}, 6, 4)), g.evaluate(x));
  }
  SECTION("TrimModel in dwt2 space, grouped by sub-band") {
    const Graph g = test::relu_cnn();
    const Tensor x = randn({2, 1, 8, 8}, 11);
    const TrimModel tm(g, make_transform("dwt2:db2:2", {1, 8, 8}));
    const Grouping sub = wavelet_subbands(tm.transform());
    require_exact_sum(contextual_decomposition(tm.graph(), tm.coefficients(x), sub), g.evaluate(x));
  }
  SECTION("TrimModel in NMF space with its residual") {
    const Graph g = test::relu_cnn();
    Tensor x = randn({2, 1, 8, 8}, 12);
    for (float& v : x) v = std::fabs(v);
    Tensor d = randn({5, 64}, 13);
    for (float& v : d) v = std::fabs(v);
    auto t = std::make_shared<DictionaryTransform>(LinearDictionary(to_matrix(d)), Shape{1, 8, 8});
    const TrimModel tm(g, t);
    CdOptions o;
    o.extra_inputs = tm.options_for(x).extra_inputs;
    std::vector<Tensor> one_each;
    for (int k = 0; k < 5; ++k) {
      Tensor m({1, 5});
      m[k] = 1.0f;
      one_each.push_back(m);
    }
    require_exact_sum(contextual_decomposition(tm.graph(), tm.coefficients(x), one_each, o), g.evaluate(x));
  }
  SECTION("TrimModel in fft2, rfft2 and dct2 space") {
    const Graph g = test::relu_cnn();
    const Tensor x = randn({2, 1, 8, 8}, 5);
    for (const char* spec : {"fft2", "rfft2", "dct2:ortho"}) {
      INFO(spec);
      const TrimModel tm(g, make_transform(spec, {1, 8, 8}));
      const Tensor s = tm.coefficients(x);
      if (std::string(spec) == "dct2:ortho") {
        require_exact_sum(contextual_decomposition(tm.graph(), s, random_masks({1, 8, 8}, 4, 6)), g.evaluate(x));
      } else {
        require_exact_sum(contextual_decomposition(tm.graph(), s, radial_bands(tm.transform(), 5)), g.evaluate(x));
      }
    }
  }
}

TEST_CASE("CD of a linear model: w·x_g plus the group's share of the bias", "[attribution][cd]") {
  const Graph g = test::linear_model();
  const Tensor x = randn({2, 6}, 7);
  Tensor m({6}, std::vector<float>{1, 1, 0, 0, 1, 0});
  const CdResult cd = contextual_decomposition(g, x, std::vector<Tensor>{m});
  const Tensor& w = g.parameter("fc.weight").value;
  const Tensor& c = g.parameter("fc.bias").value;
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t n = 0; n < 2; ++n) {
      double a = 0.0, b = 0.0;
      for (int64_t i = 0; i < 6; ++i) (m[i] ? a : b) += double(w[t * 6 + i]) * x[n * 6 + i];
      const double pa = std::fabs(a) + 1e-20, pb = std::fabs(b) + 1e-20;
      REQUIRE(cd.rel[t * 2 + n] == Approx(a + c[t] * pa / (pa + pb)).margin(1e-5));
    }
}

TEST_CASE("CD: the two-term Shapley rule for a non-ReLU nonlinearity", "[attribution][cd]") {
  // y = tanh(x0 + x1) (weights 1, no bias): rel of {x0} is
  // ½[tanh(x0) + tanh(x0 + x1) − tanh(x1)].
  Graph g(1);
  NodeId x = nn::input(g, "x", {2});
  g.set_outputs({nn::tanh(g, nn::linear(g, x, 1, "sum", false))});
  g.finalize();
  g.set_parameter("sum.weight", Tensor({1, 2}, std::vector<float>{1, 1}));
  const Tensor xv({1, 2}, std::vector<float>{0.8f, -1.7f});
  const CdResult cd = contextual_decomposition(g, xv, std::vector<Tensor>{Tensor({2}, std::vector<float>{1, 0})});
  const double a = 0.8, b = -1.7;
  REQUIRE(cd.rel[0] == Approx(0.5 * (std::tanh(a) + std::tanh(a + b) - std::tanh(b))).margin(1e-6));
  REQUIRE(cd.irrel[0] == Approx(std::tanh(a + b) - cd.rel[0]).margin(1e-6));
}

TEST_CASE("CD: groups and examples batch freely; the residual is irrelevant", "[attribution][cd]") {
  const Graph g = test::relu_cnn();
  const Tensor x = randn({3, 1, 8, 8}, 8);
  const auto masks = random_masks({1, 8, 8}, 7, 9);
  const CdResult big = contextual_decomposition(g, x, masks);
  for (int64_t mb : {1, 2, 5, 20}) {
    CdOptions o;
    o.max_batch = mb;
    const CdResult small = contextual_decomposition(g, x, masks, o);
    test::require_close(small.rel, big.rel, 1e-5, 1e-3, "max_batch " + std::to_string(mb));
  }
  CdOptions one;
  one.targets = Targets(2);
  const CdResult t2 = contextual_decomposition(g, x, masks, one);
  REQUIRE(t2.rel.shape() == Shape{1, 3, 7});
  for (int64_t j = 0; j < 21; ++j) REQUIRE(t2.rel[j] == Approx(big.rel[2 * 21 + j]).margin(1e-6));

  // A TrimModel with a residual input: an all-zero mask leaves everything irrelevant,
  // and the sum is still the model's output on x + r.
  TrimOptions opt;
  opt.residual = TrimOptions::Residual::On;
  const TrimModel tm(g, make_transform("fft2", {1, 8, 8}), opt);
  const Tensor r = randn({3, 1, 8, 8}, 10, 0.2f);
  CdOptions with_r;
  with_r.extra_inputs = {r};
  const Tensor s = tm.coefficients(x);
  const CdResult cd = contextual_decomposition(tm.graph(), s, radial_bands(tm.transform(), 4), with_r);
  require_exact_sum(cd, tm.forward(s, &r));
}

TEST_CASE("CD errors name the node or the mask", "[attribution][cd]") {
  Graph g(2);
  NodeId x = nn::input(g, "x", {4});
  g.set_outputs({nn::softmax(g, nn::linear(g, x, 3, "fc"), -1, "probs")});
  g.finalize();
  const Tensor xv = randn({1, 4}, 1);
  REQUIRE_THROWS_WITH(contextual_decomposition(g, xv, std::vector<Tensor>{Tensor({4}, 1.0f)}),
                      Catch::Contains("probs") && Catch::Contains("logits"));
  const Graph lin = test::linear_model();
  REQUIRE_THROWS_WITH(contextual_decomposition(lin, randn({1, 6}, 1), std::vector<Tensor>{Tensor({5}, 1.0f)}),
                      Catch::Contains("mask 0"));
  REQUIRE_THROWS_AS(contextual_decomposition(lin, randn({1, 6}, 1), std::vector<Tensor>{}), ValueError);
  const TrimModel tm(test::relu_cnn(), make_transform("dct2", {1, 8, 8}));
  REQUIRE_THROWS_AS(cd_band_sweep(tm.graph(), tm.coefficients(randn({1, 1, 8, 8}, 2)), tm.transform(), {0.5}, 0.1),
                    ValueError);  // radial bands need a Fourier transform
}
