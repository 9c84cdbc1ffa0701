// DeepLIFT (rescale rule) and DeepLIFT-SHAP: completeness, a hand-derived
// two-layer reference, the max-pool rule on a worked example, eps fallback.
#include <Eigen/Dense>
#include <cmath>

#include "models.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"

using namespace trim;
using test::randn;

namespace {

/// Σ attributions − (F(x) − F(b)) relative to the scale of the outputs
/// (max of |F(x)|, |F(b)|, |F(x) − F(b)|: float32 sums cannot do better
/// than that scale allows), worst case.
double worst_completeness(const Graph& g, const Tensor& x, const Tensor& b, const Attribution& a) {
  const Tensor fx = g.evaluate(x), fb = g.evaluate(b);
  const int64_t N = x.dim(0), P = x.numel() / N, K = fx.numel() / N;
  double worst = 0.0;
  for (size_t t = 0; t < a.targets.size(); ++t)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0.0;
      for (int64_t i = 0; i < P; ++i) s += a.attributions[(int64_t(t) * N + n) * P + i];
      const double diff = double(fx[n * K + a.targets[t]]) - fb[n * K + a.targets[t]];
      const double scale = std::max({std::fabs(diff), std::fabs(double(fx[n * K + a.targets[t]])),
                                     std::fabs(double(fb[n * K + a.targets[t]])), 1e-3});
      worst = std::max(worst, std::fabs(s - diff) / scale);
    }
  return worst;
}

}  // namespace

TEST_CASE("DeepLIFT completeness is exact on a piecewise-linear CNN with max-pool, batch-norm and a residual add",
          "[attribution][deeplift]") {
  const Graph g = test::relu_cnn();
  const Tensor x = randn({3, 1, 8, 8}, 1);
  const Tensor b = randn({1, 8, 8}, 2, 0.5f);
  DeepLiftOptions dl;
  dl.baseline = Baseline::of(b);
  const Attribution a = deeplift(g, x, dl);
  REQUIRE(a.attributions.shape() == Shape{3, 3, 1, 8, 8});
  REQUIRE(worst_completeness(g, x, Baseline::of(b).expand(x), a) <= 1e-5);
  for (float d : a.delta) REQUIRE(std::fabs(d) < 1e-4);
  // The zero baseline as well.
  REQUIRE(worst_completeness(g, x, Tensor(x.shape()), deeplift(g, x)) <= 1e-5);
}

TEST_CASE("DeepLIFT completeness holds for tanh / sigmoid / softplus nets (rescale rule)", "[attribution][deeplift]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({4, 5}, 3, 2.0f);
  DeepLiftOptions dl;
  dl.baseline = Baseline::constant(0.3f);
  REQUIRE(worst_completeness(g, x, Baseline::constant(0.3f).expand(x), deeplift(g, x, dl)) <= 1e-4);
}

TEST_CASE("DeepLIFT equals the hand-derived rescale multipliers of a two-layer ReLU net", "[attribution][deeplift]") {
  // F = w2ᵀ relu(W1 x + c1) + c2: multiplier of hidden unit j is
  // (relu(h_j) − relu(h0_j)) / (h_j − h0_j), attribution (x − b) ⊙ W1ᵀ(m ⊙ w2).
  Graph g(5);
  NodeId x = nn::input(g, "x", {4});
  x = nn::relu(g, nn::linear(g, x, 6, "fc1"));
  g.set_outputs({nn::linear(g, x, 1, "fc2")});
  g.finalize();
  g.parameter("fc1.bias").value = randn({6}, 6);
  const Tensor xv = randn({1, 4}, 7), bv = randn({1, 4}, 8);
  using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Mat W1 = g.parameter("fc1.weight").value.as_matrix().cast<double>();  // [6, 4]
  const Eigen::VectorXd c1 = g.parameter("fc1.bias").value.as_vector().cast<double>();
  const Eigen::VectorXd w2 = g.parameter("fc2.weight").value.as_vector().cast<double>();
  const Eigen::VectorXd xe = xv.as_vector().cast<double>(), be = bv.as_vector().cast<double>();
  const Eigen::VectorXd h = W1 * xe + c1, h0 = W1 * be + c1;
  Eigen::VectorXd m(6);
  for (int j = 0; j < 6; ++j) {
    const double d = h[j] - h0[j];
    m[j] = std::fabs(d) >= 1e-10 ? (std::max(h[j], 0.0) - std::max(h0[j], 0.0)) / d : (h[j] > 0 ? 1.0 : 0.0);
  }
  const Eigen::VectorXd expected = (xe - be).cwiseProduct(W1.transpose() * m.cwiseProduct(w2));
  DeepLiftOptions dl;
  dl.baseline = Baseline::of(bv);
  const Attribution a = deeplift(g, xv, dl);
  for (int i = 0; i < 4; ++i) REQUIRE(a.attributions[i] == Approx(expected[i]).margin(1e-5));
  // Raw multipliers: the same without the (x − b) factor.
  dl.multiply_by_inputs = false;
  const Attribution raw = deeplift(g, xv, dl);
  for (int i = 0; i < 4; ++i)
    REQUIRE(raw.attributions[i] * (xe[i] - be[i]) == Approx(expected[i]).margin(1e-5));
}

TEST_CASE("DeepLIFT max-pool rule on a worked example", "[attribution][deeplift]") {
  // Max-pool of width 2 over (x0, x1): x = (3, 1), b = (0, 2): y = 3, y0 = 2,
  // m = 3; (m − y0) = 1 goes to x's argmax (x0), (y − m) = 0 to b's (x1).
  // Multipliers 1/3 and 0; attributions (1, 0), summing to y − y0 = 1.
  Graph g(1);
  NodeId x = nn::input(g, "x", {1, 2});
  g.set_outputs({nn::flatten(g, nn::max_pool1d(g, x, 2))});
  g.finalize();
  Tensor xv({1, 1, 2}, std::vector<float>{3, 1}), bv({1, 1, 2}, std::vector<float>{0, 2});
  DeepLiftOptions dl;
  dl.baseline = Baseline::of(bv);
  const Attribution a = deeplift(g, xv, dl);
  REQUIRE(a.attributions[0] == Approx(1.0f));
  REQUIRE(a.attributions[1] == Approx(0.0f).margin(1e-7));
  // The other way round: x = (0, 2), b = (3, 1): y = 2, y0 = 3, m = 3:
  // (m − y0) = 0 through x's argmax (x1), (y − m) = −1 through b's (x0):
  // multipliers −1/−3 and 0, attributions (−1, 0).
  dl.baseline = Baseline::of(xv);
  const Attribution r = deeplift(g, bv, dl);
  REQUIRE(r.attributions[0] == Approx(-1.0f));
  REQUIRE(r.attributions[1] == Approx(0.0f).margin(1e-7));
}

TEST_CASE("DeepLIFT falls back to the gradient where the input equals the baseline", "[attribution][deeplift]") {
  // A ReLU directly on the input: where x = b the multiplier is φ'(x).
  Graph g(2);
  NodeId x = nn::input(g, "x", {3});
  g.set_outputs({nn::linear(g, nn::relu(g, x), 1, "fc")});
  g.finalize();
  Tensor xv({1, 3}, std::vector<float>{1.0f, -2.0f, 0.5f});
  Tensor bv({1, 3}, std::vector<float>{1.0f, 0.0f, 0.5f});
  DeepLiftOptions dl;
  dl.baseline = Baseline::of(bv);
  dl.multiply_by_inputs = false;
  const Attribution a = deeplift(g, xv, dl);
  const Tensor& w = g.parameter("fc.weight").value;
  REQUIRE(a.attributions[0] == Approx(w[0]));  // x = b = 1 > 0: gradient w0
  REQUIRE(a.attributions[1] == Approx(0.0f).margin(1e-7));  // relu(−2) − relu(0) = 0
  REQUIRE(a.attributions[2] == Approx(w[2]));
  for (float v : a.attributions) REQUIRE(std::isfinite(v));
}

TEST_CASE("DeepLIFT's rescale rule over many elements: quotients, gradient fallback, same bits on any thread count",
          "[attribution][deeplift]") {
  // tanh on a 10000-element input, then a linear read-out: multiplier i is
  // w_i·(tanh x_i − tanh b_i)/(x_i − b_i), or w_i·(1 − tanh² x_i) where
  // x_i = b_i (set in several of the rule's chunks).
  Graph g(7);
  NodeId in = nn::input(g, "x", {10000});
  g.set_outputs({nn::linear(g, nn::tanh(g, in), 1, "fc")});
  g.finalize();
  const Tensor x = randn({1, 10000}, 8);
  Tensor b = randn({1, 10000}, 9);
  for (int64_t i = 100; i < 10000; i += 997) b[i] = x[i];
  DeepLiftOptions dl;
  dl.baseline = Baseline::of(Tensor({10000}, std::vector<float>(b.begin(), b.end())));
  dl.multiply_by_inputs = false;
  test::RestoreThreads restore;
  set_num_threads(1);
  const Attribution one = deeplift(g, x, dl);
  set_num_threads(2);
  const Attribution two = deeplift(g, x, dl);
  REQUIRE(std::equal(one.attributions.begin(), one.attributions.end(), two.attributions.begin()));
  const Tensor& w = g.parameter("fc.weight").value;
  for (int64_t i = 0; i < 10000; ++i) {
    const double tx = std::tanh(double(x[i])), tb = std::tanh(double(b[i]));
    const double m = x[i] == b[i] ? 1.0 - tx * tx : (tx - tb) / (double(x[i]) - b[i]);
    INFO("element " << i);
    REQUIRE(one.attributions[i] == Approx(w[i] * m).epsilon(1e-3).margin(1e-6));
  }
}

TEST_CASE("DeepLIFT-SHAP is the mean of DeepLIFT over the baselines", "[attribution][deeplift]") {
  const Graph g = test::relu_cnn();
  const Tensor x = randn({2, 1, 8, 8}, 4);
  const Tensor bs = randn({3, 1, 8, 8}, 5, 0.5f);
  const Attribution shap = deeplift_shap(g, x, bs);
  Tensor mean(shap.attributions.shape());
  for (int64_t j = 0; j < 3; ++j) {
    DeepLiftOptions dl;
    Tensor bj({1, 1, 8, 8});
    std::copy(bs.begin() + j * 64, bs.begin() + (j + 1) * 64, bj.begin());
    dl.baseline = Baseline::of(bj);
    const Attribution a = deeplift(g, x, dl);
    mean.as_vector() += a.attributions.as_vector() / 3.0f;
  }
  test::require_close(shap.attributions, mean, 1e-4, 1e-3, "DeepLIFT-SHAP vs mean of DeepLIFT");
  for (float d : shap.delta) REQUIRE(std::fabs(d) < 1e-3);
  AttributionOptions small;
  small.max_batch = 3;
  test::require_close(deeplift_shap(g, x, bs, {}, small).attributions, shap.attributions, 1e-4, 1e-3, "chunks");
  REQUIRE_THROWS_AS(deeplift_shap(g, x, randn({3, 64}, 1)), ShapeError);
}
