// Products of data (Kind::Product) under DeepLIFT and CD: the symmetric
// split written out by hand for a bilinear model, completeness through
// attention and LayerNorm built from kinds, and CD's even split of the
// cross terms.
#include <cmath>

#include "models.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/graph/layers.hpp"

using namespace trim;
using test::randn;

namespace {

/// y = Σ_i x_i · x_{i+2} over i < 2: a = x[:, :2], b = x[:, 2:].
Graph bilinear() {
  Graph g(1);
  const NodeId x = nn::input(g, "x", {4});
  const NodeId a = nn::slice(g, x, 1, 0, 2), b = nn::slice(g, x, 1, 2, 4);
  g.set_outputs({nn::reduce_sum(g, nn::multiply(g, a, b, "ab"), {1})});
  g.finalize();
  return g;
}

/// A pre-norm self-attention block over 5 tokens of width 4, from kinds.
Graph attention() {
  Graph g(3);
  const NodeId x = nn::input(g, "x", {5, 4});
  const NodeId h = nn::layer_norm(g, x, -1, "ln");
  const NodeId q = nn::linear(g, h, 4, "q"), k = nn::linear(g, h, 4, "k"), v = nn::linear(g, h, 4, "v");
  const NodeId scores = nn::matmul(g, q, nn::transpose(g, k, {0, 2, 1}), "scores");
  const NodeId att = nn::softmax_by_kinds(g, scores, -1, "softmax");
  NodeId y = nn::add(g, x, nn::matmul(g, att, v, "mix"));
  y = nn::add(g, y, nn::linear(g, nn::silu(g, nn::linear(g, y, 6, "up")), 4, "down"));
  g.set_outputs({nn::linear(g, nn::reduce_mean(g, y, {1}, false), 3, "head")});
  g.finalize();
  return g;
}

}  // namespace

TEST_CASE("DeepLIFT on a product: Δa·(b + b₀)/2 and (a + a₀)/2·Δb", "[attribution][deeplift][product]") {
  const Graph g = bilinear();
  const Tensor x = randn({3, 4}, 1), b = randn({4}, 2);
  DeepLiftOptions dl;
  dl.baseline = Baseline::of(b);
  const Attribution a = deeplift(g, x, dl);
  for (int64_t n = 0; n < 3; ++n)
    for (int i = 0; i < 2; ++i) {
      const float* xn = x.data() + n * 4;
      const double ea = (xn[i] - b[i]) * (xn[i + 2] + b[i + 2]) / 2.0;
      const double eb = (xn[i] + b[i]) / 2.0 * (xn[i + 2] - b[i + 2]);
      REQUIRE(std::fabs(a.attributions[n * 4 + i] - ea) < 1e-5);
      REQUIRE(std::fabs(a.attributions[n * 4 + i + 2] - eb) < 1e-5);
    }
  for (float d : a.delta) REQUIRE(std::fabs(d) < 1e-5);
}

TEST_CASE("DeepLIFT completeness is exact through attention, softmax and LayerNorm built from kinds",
          "[attribution][deeplift][product]") {
  const Graph g = attention();
  const Tensor x = randn({4, 5, 4}, 3, 1.5f);
  for (const Baseline& base : {Baseline::constant(0.0f), Baseline::of(randn({5, 4}, 4, 0.5f))}) {
    DeepLiftOptions dl;
    dl.baseline = base;
    const Attribution a = deeplift(g, x, dl);
    const Tensor fx = g.evaluate(x), fb = g.evaluate(base.expand(x));
    for (int64_t i = 0; i < a.delta.numel(); ++i) {
      const int64_t t = i / 4, n = i % 4;
      const double scale = std::max({std::fabs(double(fx[n * 3 + t]) - fb[n * 3 + t]), std::fabs(double(fx[n * 3 + t])), 1e-3});
      REQUIRE(std::fabs(a.delta[i]) <= 1e-5 * scale);
    }
  }
}

TEST_CASE("CD splits a product's cross terms evenly between the parts", "[attribution][cd][product]") {
  const Graph g = bilinear();
  const Tensor x = randn({2, 4}, 5);
  const std::vector<Tensor> masks{Tensor({4}, std::vector<float>{1, 1, 0, 0}), Tensor({4}, std::vector<float>{0, 0, 1, 1}),
                                  Tensor({4}, std::vector<float>{1, 0, 1, 0}), Tensor({4}, 1.0f), Tensor({4})};
  const CdResult cd = contextual_decomposition(g, x, masks);
  for (int64_t n = 0; n < 2; ++n) {
    const float* v = x.data() + n * 4;
    const double y = double(v[0]) * v[2] + double(v[1]) * v[3];
    const double expected[] = {y / 2, y / 2, double(v[0]) * v[2], y, 0.0};
    // Group {0, 2} holds both factors of the first term and none of the second.
    for (int gi = 0; gi < 5; ++gi) {
      INFO("example " << n << " group " << gi);
      REQUIRE(std::fabs(cd.rel[n * 5 + gi] - expected[gi]) < 1e-5);
      REQUIRE(std::fabs(cd.rel[n * 5 + gi] + cd.irrel[n * 5 + gi] - y) < 1e-5);
    }
  }
}

TEST_CASE("CD: a factor that does not depend on the input is fixed, the product linear in the other",
          "[attribution][cd][product]") {
  Graph g(2);
  const NodeId x = nn::input(g, "x", {3});
  const NodeId c = nn::constant(g, Tensor({1, 3}, std::vector<float>{2.0f, -1.0f, 0.5f}), "c");
  g.set_outputs({nn::reduce_sum(g, nn::multiply(g, x, c), {1})});
  g.finalize();
  const Tensor in({1, 3}, std::vector<float>{1.0f, 2.0f, 3.0f});
  const CdResult cd = contextual_decomposition(g, in, {Tensor({3}, std::vector<float>{1, 0, 0}), Tensor({3}, std::vector<float>{0, 1, 1})});
  REQUIRE(std::fabs(cd.rel[0] - 2.0f) < 1e-6);
  REQUIRE(std::fabs(cd.rel[1] - (-2.0f + 1.5f)) < 1e-6);
}

TEST_CASE("CD passes attention and LayerNorm: finite parts, nothing for an empty group", "[attribution][cd][product]") {
  const Graph g = attention();
  const Tensor x = randn({3, 5, 4}, 6, 1.5f);
  std::vector<Tensor> masks;
  for (int t = 0; t < 5; ++t) {  // one group per token
    Tensor m({5, 4});
    for (int j = 0; j < 4; ++j) m[t * 4 + j] = 1.0f;
    masks.push_back(m);
  }
  masks.push_back(Tensor({5, 4}));
  const CdResult cd = contextual_decomposition(g, x, masks);
  const Tensor y = g.evaluate(x);
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t gi = 0; gi < 6; ++gi) {
        const int64_t i = (t * 3 + n) * 6 + gi;
        REQUIRE(std::isfinite(cd.rel[i]));
        REQUIRE(std::fabs(cd.rel[i] + cd.irrel[i] - y[n * 3 + t]) < 1e-5);
        if (gi == 5) REQUIRE(std::fabs(cd.rel[i]) < 1e-6);
      }
}
