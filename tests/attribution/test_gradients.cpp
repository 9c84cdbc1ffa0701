// Gradient, saliency, input×gradient, integrated gradients, SmoothGrad and
// gradient SHAP: exact answers on a linear model, finite differences,
// completeness, quadrature facts, determinism, batching and errors.
#include <cmath>
#include <type_traits>

#include "../../src/attribution/runner.hpp"
#include "models.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/metrics.hpp"
#include "trim/attribution/perturbation.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"

using namespace trim;
using test::randn;

namespace {

/// W[t] ⊙ (x − b) for the linear test model: [T=3, N, 6].
Tensor linear_expected(const Graph& g, const Tensor& x, const Tensor& b) {
  const Tensor& w = g.parameter("fc.weight").value;  // [3, 6]
  const int64_t N = x.dim(0);
  Tensor e({3, N, 6});
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < 6; ++i) e[(t * N + n) * 6 + i] = w[t * 6 + i] * (x[n * 6 + i] - b[n * 6 + i]);
  return e;
}

Tensor outputs_of(const Graph& g, const Tensor& x) { return g.evaluate(x); }

bool identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

/// A per-element grouping of a [5] input into {0,0,1,1,2}.
Grouping small_grouping() {
  Grouping gr;
  gr.coefficient_shape = Shape{5};
  gr.labels = {0, 0, 1, 1, 2};
  gr.names = {"a", "b", "c"};
  gr.centers = {0, 1, 2};
  return gr;
}

}  // namespace

TEST_CASE("additive methods give w ⊙ (x − b) exactly on a linear model", "[attribution][gradients]") {
  const Graph g = test::linear_model();
  const Tensor x = randn({4, 6}, 1);
  const Tensor zero({4, 6});
  const Tensor base = randn({6}, 2);
  const Tensor b = Baseline::of(base).expand(x);

  test::require_close(input_x_gradient(g, x).attributions, linear_expected(g, x, zero), 1e-6, 1e-6, "input×gradient");
  for (Quadrature q : {Quadrature::RiemannLeft, Quadrature::RiemannRight, Quadrature::RiemannMiddle,
                       Quadrature::RiemannTrapezoid, Quadrature::GaussLegendre}) {
    IntegratedGradientsOptions ig;
    ig.method = q;
    ig.n_steps = 7;
    ig.baseline = Baseline::of(base);
    const Attribution a = integrated_gradients(g, x, ig);
    test::require_close(a.attributions, linear_expected(g, x, b), 1e-5, 1e-5, "IG");
    for (float d : a.delta) REQUIRE(std::fabs(d) < 1e-4);
  }
  DeepLiftOptions dl;
  dl.baseline = Baseline::of(base);
  test::require_close(deeplift(g, x, dl).attributions, linear_expected(g, x, b), 1e-5, 1e-5, "DeepLIFT");
  // One baseline: gradient SHAP and DeepLIFT-SHAP reduce to w ⊙ (x − b).
  Tensor one = base.reshaped({1, 6});
  test::require_close(gradient_shap(g, x, one).attributions, linear_expected(g, x, b), 1e-5, 1e-5, "gradient SHAP");
  test::require_close(deeplift_shap(g, x, one).attributions, linear_expected(g, x, b), 1e-5, 1e-5, "DeepLIFT-SHAP");
  // Gradient and saliency: the weights themselves.
  const Attribution gr = gradient(g, x);
  const Attribution sa = saliency(g, x);
  const Tensor& w = g.parameter("fc.weight").value;
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t n = 0; n < 4; ++n)
      for (int64_t i = 0; i < 6; ++i) {
        REQUIRE(gr.attributions[(t * 4 + n) * 6 + i] == Approx(w[t * 6 + i]));
        REQUIRE(sa.attributions[(t * 4 + n) * 6 + i] == Approx(std::fabs(w[t * 6 + i])));
      }
}

TEST_CASE("gradient matches central finite differences for every target", "[attribution][gradients]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({3, 5}, 3);
  AttributionOptions every;
  every.targets = Targets::every();
  const Attribution a = gradient(g, x, every);
  REQUIRE(a.targets == std::vector<int64_t>{0, 1});
  const double h = 1e-2;
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t i = 0; i < 5; ++i) {
      Tensor xp = x, xm = x;
      xp[n * 5 + i] += static_cast<float>(h);
      xm[n * 5 + i] -= static_cast<float>(h);
      const Tensor fp = outputs_of(g, xp), fm = outputs_of(g, xm);
      for (int64_t t = 0; t < 2; ++t) {
        const double fd = (double(fp[n * 2 + t]) - fm[n * 2 + t]) / (2 * h);
        REQUIRE(a.attributions[(t * 3 + n) * 5 + i] == Approx(fd).margin(2e-3));
      }
    }
}

TEST_CASE("quadrature rules: weights sum to 1, Gauss–Legendre is exact to degree 2n − 1", "[attribution][gradients]") {
  std::vector<double> a, w;
  for (Quadrature q : {Quadrature::RiemannLeft, Quadrature::RiemannRight, Quadrature::RiemannMiddle,
                       Quadrature::RiemannTrapezoid, Quadrature::GaussLegendre})
    for (int n : {2, 5, 50}) {
      quadrature(q, n, a, w);
      double s = 0.0;
      for (double v : w) s += v;
      REQUIRE(s == Approx(1.0).epsilon(1e-12));
      for (double v : a) REQUIRE((v >= 0.0 && v <= 1.0));
    }
  quadrature(Quadrature::GaussLegendre, 2, a, w);
  REQUIRE(a[0] == Approx(0.5 - 0.5 / std::sqrt(3.0)));
  REQUIRE(a[1] == Approx(0.5 + 0.5 / std::sqrt(3.0)));
  for (int n : {1, 3, 8, 50}) {
    quadrature(Quadrature::GaussLegendre, n, a, w);
    for (int deg = 0; deg <= 2 * n - 1; ++deg) {
      double s = 0.0;
      for (int k = 0; k < n; ++k) s += w[k] * std::pow(a[k], deg);
      INFO("n=" << n << " degree " << deg);
      REQUIRE(s == Approx(1.0 / (deg + 1)).epsilon(1e-10));
    }
  }
  REQUIRE_THROWS_AS(quadrature(Quadrature::RiemannTrapezoid, 1, a, w), ValueError);
  REQUIRE_THROWS_AS(quadrature(Quadrature::GaussLegendre, 0, a, w), ValueError);
}

TEST_CASE("integrated gradients: completeness on a smooth net, and GL-50 agrees with riemann_middle-2000",
          "[attribution][gradients]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({4, 5}, 5, 1.5f);
  IntegratedGradientsOptions ig;  // Gauss–Legendre, 50 steps, zero baseline
  const Attribution a = integrated_gradients(g, x, ig);
  const Tensor fx = outputs_of(g, x), f0 = outputs_of(g, Tensor({4, 5}));
  for (int64_t t = 0; t < 2; ++t)
    for (int64_t n = 0; n < 4; ++n) {
      const double diff = double(fx[n * 2 + t]) - f0[n * 2 + t];
      double s = 0.0;
      for (int64_t i = 0; i < 5; ++i) s += a.attributions[(t * 4 + n) * 5 + i];
      REQUIRE(std::fabs(s - diff) <= 1e-3 * std::max(std::fabs(diff), 1e-2));
      REQUIRE(a.delta[t * 4 + n] == Approx(s - diff).margin(1e-5));
    }
  IntegratedGradientsOptions fine;
  fine.method = Quadrature::RiemannMiddle;
  fine.n_steps = 2000;
  AttributionOptions big;
  big.max_batch = 4096;
  test::require_close(a.attributions, integrated_gradients(g, x, fine, big).attributions, 2e-4, 1e-3,
                      "GL-50 vs middle-2000");
}

TEST_CASE("results do not depend on max_batch, and all targets at once equal one at a time",
          "[attribution][gradients]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({3, 5}, 6);
  AttributionOptions one;
  one.max_batch = 1;
  IntegratedGradientsOptions ig;
  ig.n_steps = 9;
  const Attribution all = integrated_gradients(g, x, ig);
  test::require_close(integrated_gradients(g, x, ig, one).attributions, all.attributions, 1e-6, 1e-6, "max_batch 1");
  for (int64_t t = 0; t < 2; ++t) {
    AttributionOptions single;
    single.targets = Targets(t);
    const Attribution a = integrated_gradients(g, x, ig, single);
    REQUIRE(a.attributions.dim(0) == 1);
    for (int64_t j = 0; j < 15; ++j) REQUIRE(a.attributions[j] == Approx(all.attributions[t * 15 + j]).margin(1e-6));
  }
}

TEST_CASE("grouped scores are the sums of the per-element scores", "[attribution][gradients]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({2, 5}, 7);
  const Grouping gr = small_grouping();
  AttributionOptions opt;
  opt.grouping = &gr;
  const Attribution a = integrated_gradients(g, x, {}, opt);
  REQUIRE(a.group_scores.shape() == Shape{2, 2, 3});
  for (int64_t r = 0; r < 4; ++r) {
    const float* v = a.attributions.data() + r * 5;
    REQUIRE(a.group_scores[r * 3 + 0] == Approx(v[0] + v[1]));
    REQUIRE(a.group_scores[r * 3 + 1] == Approx(v[2] + v[3]));
    REQUIRE(a.group_scores[r * 3 + 2] == Approx(v[4]));
  }
}

TEST_CASE("SmoothGrad family: noise-free limits and seeds", "[attribution][gradients]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({2, 5}, 8);
  const Attribution grad = gradient(g, x);
  SmoothGradOptions sg;
  sg.stdev = 0.0f;
  sg.n_samples = 3;
  test::require_close(smoothgrad(gradient, g, x, sg).attributions, grad.attributions, 1e-6, 1e-6, "stdev 0");
  sg.type = NoiseTunnel::SmoothGradSquared;
  Tensor sq = grad.attributions;
  for (float& v : sq) v *= v;
  test::require_close(smoothgrad(gradient, g, x, sg).attributions, sq, 1e-5, 1e-6, "smoothgrad_sq stdev 0");
  sg.type = NoiseTunnel::VarGrad;
  for (float v : smoothgrad(gradient, g, x, sg).attributions) REQUIRE(std::fabs(v) < 1e-6);

  SmoothGradOptions noisy;
  noisy.stdev = 0.5f;
  noisy.n_samples = 8;
  noisy.seed = 42;
  const Attribution a1 = smoothgrad(saliency, g, x, noisy);
  const Attribution a2 = smoothgrad(saliency, g, x, noisy);
  REQUIRE(identical(a1.attributions, a2.attributions));
  noisy.seed = 43;
  REQUIRE_FALSE(identical(smoothgrad(saliency, g, x, noisy).attributions, a1.attributions));
  // Many samples: the mean of the noisy gradients, computed by hand.
  noisy.seed = 5;
  noisy.type = NoiseTunnel::SmoothGrad;
  const Attribution sgm = smoothgrad(gradient, g, x, noisy);
  Tensor manual({2, 2, 5});
  for (int64_t n = 0; n < 2; ++n)
    for (int s = 0; s < 8; ++s) {
      Tensor xn({1, 5});
      Rng::stream(5, n, s).normals(xn.data(), 5, 0.0f, 0.5f);  // the noise: sample s of example n under seed 5
      for (int64_t i = 0; i < 5; ++i) xn[i] += x[n * 5 + i];
      const Attribution gn = gradient(g, xn);
      for (int64_t t = 0; t < 2; ++t)
        for (int64_t i = 0; i < 5; ++i) manual[(t * 2 + n) * 5 + i] += gn.attributions[t * 5 + i] / 8.0f;
    }
  test::require_close(sgm.attributions, manual, 1e-5, 1e-5, "smoothgrad by hand");
}

TEST_CASE("gradient SHAP: seeds and the expected-gradients identity on a linear model", "[attribution][gradients]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({2, 5}, 9);
  const Tensor baselines = randn({6, 5}, 10, 0.3f);
  GradientShapOptions gs;
  gs.n_samples = 16;
  gs.stdev = 0.1f;
  gs.seed = 3;
  const Attribution a = gradient_shap(g, x, baselines, gs);
  REQUIRE(identical(a.attributions, gradient_shap(g, x, baselines, gs).attributions));
  AttributionOptions small;
  small.max_batch = 5;
  test::require_close(gradient_shap(g, x, baselines, gs, small).attributions, a.attributions, 1e-6, 1e-3, "chunks");  // batch size only reorders float sums
  gs.seed = 4;
  REQUIRE_FALSE(identical(a.attributions, gradient_shap(g, x, baselines, gs).attributions));
  REQUIRE(a.delta.shape() == Shape{2, 2});
  // Without the delta: the same attributions (the samples do not depend on
  // it) and no delta.
  gs.seed = 3;
  gs.convergence_delta = false;
  const Attribution no_delta = gradient_shap(g, x, baselines, gs);
  REQUIRE(identical(no_delta.attributions, a.attributions));
  REQUIRE(no_delta.delta.numel() == 0);

  // Linear model, many samples, no noise: E[w ⊙ (x − b)] over the baselines.
  const Graph lin = test::linear_model();
  const Tensor xl = randn({1, 6}, 11);
  const Tensor bl = randn({3, 6}, 12);
  GradientShapOptions many;
  many.n_samples = 3000;
  const Attribution al = gradient_shap(lin, xl, bl, many);
  Tensor mean({1, 6});
  for (int64_t j = 0; j < 3; ++j)
    for (int64_t i = 0; i < 6; ++i) mean[i] += bl[j * 6 + i] / 3.0f;
  test::require_close(al.attributions, linear_expected(lin, xl, mean), 0.08, 0.2, "expected gradients");
}

TEST_CASE("gradient methods give the same bits on 1 and 2 threads when rows are wide enough for the pool",
          "[attribution][gradients]") {
  // 374² inputs: the rows are made on the pool, the per-row sums split by
  // element, a batch's tensors (over 2^20 floats) copied in parts, and the
  // noise drawn per sample in parallel. A convolution, whose kernels give the
  // same bits on any number of threads (a dense layer's row split does not:
  // Eigen's product of one row rounds differently from that of two).
  Graph g(23);
  NodeId in = nn::input(g, "x", {1, 374, 374});
  nn::Conv2dOptions stride2;
  stride2.stride = {2, 2};
  const NodeId c = nn::tanh(g, nn::conv2d(g, in, 4, {3, 3}, "conv", stride2));
  g.set_outputs({nn::linear(g, nn::flatten(g, nn::global_avg_pool(g, c)), 2, "out")});
  g.finalize();
  for (Parameter& p : g.parameters()) p.value = randn(p.value.shape(), 31, 0.5f);
  const Tensor x = randn({2, 1, 374, 374}, 32), baselines = randn({3, 1, 374, 374}, 33, 0.5f);
  test::RestoreThreads restore;
  std::vector<Tensor> results[2];
  for (int k = 0; k < 2; ++k) {
    set_num_threads(k + 1);
    IntegratedGradientsOptions ig;
    ig.n_steps = 8;
    ig.share_linear_prefix = false;
    results[k].push_back(integrated_gradients(g, x, ig).attributions);
    results[k].push_back(input_x_gradient(g, x).attributions);
    SmoothGradOptions sg;
    sg.n_samples = 4;
    sg.stdev = 0.3f;
    sg.seed = 8;
    sg.share_linear_prefix = false;
    results[k].push_back(smoothgrad(gradient, g, x, sg).attributions);
    sg.share_linear_prefix = true;
    results[k].push_back(smoothgrad(gradient, g, x, sg).attributions);
    sg.type = NoiseTunnel::VarGrad;
    results[k].push_back(smoothgrad(saliency, g, x, sg).attributions);
    GradientShapOptions gs;
    gs.n_samples = 4;
    gs.stdev = 0.2f;
    gs.seed = 9;
    const Attribution shap = gradient_shap(g, x, baselines, gs);
    results[k].push_back(shap.attributions);
    results[k].push_back(shap.delta);
  }
  for (size_t j = 0; j < results[0].size(); ++j) {
    INFO("result " << j);
    REQUIRE(identical(results[0][j], results[1][j]));
  }
  // Not all zero: the comparison compares something.
  for (const Tensor& r : results[0]) REQUIRE(std::any_of(r.begin(), r.end(), [](float v) { return v != 0.0f; }));
}

TEST_CASE("gradient SHAP: delta is the sum of attributions minus F(x) - mean_b F(b), with and without extra inputs",
          "[attribution][gradients]") {
  const Tensor x = randn({3, 5}, 21), baselines = randn({4, 5}, 22, 0.5f);
  GradientShapOptions gs;
  gs.n_samples = 6;
  gs.stdev = 0.1f;
  AttributionOptions opt;
  opt.max_batch = 4;  // the delta's rows in several batches
  // The expected delta from outputs computed here: fx [3, 2], fb [3 or 1 examples × 4 baselines, 2].
  auto require_delta = [&](const Attribution& a, const Tensor& fx, const std::vector<Tensor>& fb) {
    for (int64_t t = 0; t < 2; ++t)
      for (int64_t e = 0; e < 3; ++e) {
        const Tensor& fbe = fb[fb.size() == 1 ? 0 : static_cast<size_t>(e)];
        double sum = 0.0, mean = 0.0;
        for (int64_t i = 0; i < 5; ++i) sum += a.attributions[(t * 3 + e) * 5 + i];
        for (int64_t j = 0; j < 4; ++j) mean += fbe[j * 2 + t] / 4.0;
        REQUIRE(a.delta[t * 3 + e] == Approx(sum - (fx[e * 2 + t] - mean)).margin(1e-5));
      }
  };
  const Graph g = test::smooth_model();
  require_delta(gradient_shap(g, x, baselines, gs, opt), outputs_of(g, x), {outputs_of(g, baselines)});

  // y = smooth(x + r): each example's own r goes with its baselines.
  Graph gr(5);
  NodeId xi = nn::input(gr, "x", {5});
  NodeId ri = nn::input(gr, "r", {5});
  gr.set_outputs({nn::linear(gr, nn::tanh(gr, nn::linear(gr, nn::add(gr, xi, ri), 6, "fc1")), 2, "out")});
  gr.finalize();
  const Tensor r = randn({3, 5}, 23);
  opt.extra_inputs = {r};
  std::vector<Tensor> fb;
  for (int64_t e = 0; e < 3; ++e) {
    Tensor re({4, 5});
    for (int64_t j = 0; j < 4; ++j) std::copy(r.begin() + e * 5, r.begin() + (e + 1) * 5, re.begin() + j * 5);
    fb.push_back(gr.evaluate({baselines, re})[0]);
  }
  require_delta(gradient_shap(gr, x, baselines, gs, opt), gr.evaluate({x, r})[0], fb);
}

TEST_CASE("integrated gradients: extra inputs are held fixed per example", "[attribution][gradients]") {
  // y = W (x + r): the residual r is a second input; attributions to x only.
  Graph g(3);
  NodeId x = nn::input(g, "x", {4});
  NodeId r = nn::input(g, "r", {4});
  g.set_outputs({nn::linear(g, nn::add(g, x, r), 2, "fc")});
  g.finalize();
  const Tensor xv = randn({3, 4}, 13), rv = randn({3, 4}, 14);
  AttributionOptions opt;
  opt.extra_inputs = {rv};
  const Attribution a = integrated_gradients(g, xv, {}, opt);
  const Tensor& w = g.parameter("fc.weight").value;
  for (int64_t t = 0; t < 2; ++t)
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t i = 0; i < 4; ++i)
        REQUIRE(a.attributions[(t * 3 + n) * 4 + i] == Approx(w[t * 4 + i] * xv[n * 4 + i]).margin(1e-5));
  for (float d : a.delta) REQUIRE(std::fabs(d) < 1e-4);
  REQUIRE_THROWS_AS(integrated_gradients(g, xv), ValueError);  // extra input missing
  opt.extra_inputs = {randn({2, 4}, 1)};
  REQUIRE_THROWS_AS(integrated_gradients(g, xv, {}, opt), ShapeError);  // wrong batch
}

TEST_CASE("attribution errors name the problem", "[attribution][gradients]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({2, 5}, 1);
  AttributionOptions bad;
  bad.targets = Targets(7);
  REQUIRE_THROWS_WITH(gradient(g, x, bad), Catch::Contains("output index 7 is out of range"));
  REQUIRE_THROWS_WITH(gradient(g, randn({2, 4}, 1)), Catch::Contains("does not fit the model's input"));
  Tensor nan = x;
  nan[3] = std::nanf("");
  REQUIRE_THROWS_WITH(saliency(g, nan), Catch::Contains("NaN"));
  IntegratedGradientsOptions ig;
  ig.baseline = Baseline::of(randn({3}, 1));
  REQUIRE_THROWS_WITH(integrated_gradients(g, x, ig), Catch::Contains("baseline"));
  const Grouping gr = small_grouping();
  AttributionOptions grouped;
  grouped.grouping = &gr;
  REQUIRE_THROWS_AS(gradient(test::linear_model(), randn({1, 6}, 2), grouped), ShapeError);
  AttributionOptions zero_batch;
  zero_batch.max_batch = 0;
  REQUIRE_THROWS_AS(gradient(g, x, zero_batch), ValueError);
}

TEST_CASE("every method that takes a baseline refuses NaN and infinity, naming itself", "[attribution][gradients]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({2, 5}, 1);
  const Grouping gr = small_grouping();
  AttributionOptions grouped;
  grouped.grouping = &gr;
  for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    Tensor one = randn({5}, 2);
    one[4] = bad;
    Tensor batch = randn({3, 5}, 3);
    batch[7] = bad;
    const auto expect = [](const std::string& method, auto&& call) {
      REQUIRE_THROWS_WITH(call(), Catch::Contains(method + ": the baseline") && Catch::Contains("NaN or infinity"));
    };
    for (const Baseline& b : {Baseline::of(one), Baseline::constant(bad)}) {
      IntegratedGradientsOptions ig;
      ig.baseline = b;
      expect("integrated_gradients", [&] { integrated_gradients(g, x, ig); });
      DeepLiftOptions dl;
      dl.baseline = b;
      expect("deeplift", [&] { deeplift(g, x, dl); });
      FeatureAblationOptions fa;
      fa.baseline = b;
      expect("feature_ablation", [&] { feature_ablation(g, x, fa, grouped); });
      ShapleyOptions sh;
      sh.baseline = b;
      expect("shapley", [&] { shapley(g, x, sh, grouped); });
      InfidelityOptions inf;
      inf.baseline = b;
      inf.multiply_by_inputs = true;
      expect("infidelity", [&] { infidelity(g, x, saliency(g, x), inf); });
    }
    REQUIRE_THROWS_WITH(gradient_shap(g, x, batch), Catch::Contains("gradient_shap: the baselines contains NaN"));
    REQUIRE_THROWS_WITH(deeplift_shap(g, x, batch), Catch::Contains("NaN or infinity"));
  }
}

TEST_CASE("the model runner owns its input and options: temporaries do not dangle", "[attribution][runner]") {
  // Under the sanitizer build a runner keeping references to the temporaries
  // below reads freed stack memory here.
  const Graph g = test::linear_model();
  const Tensor x = randn({2, 6}, 5);
  detail::ModelRunner run(g, Tensor(x), AttributionOptions{}, "runner");
  Tensor overwrite = randn({64, 64}, 6);  // reuses the temporaries' storage in a plain build
  REQUIRE(overwrite.numel() == 64 * 64);
  const Tensor y = run.outputs(run.x(), {0, 1});
  const Tensor& w = g.parameter("fc.weight").value;
  const Tensor& b = g.parameter("fc.bias").value;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t t = 0; t < 3; ++t) {
      double ref = b[t];
      for (int64_t i = 0; i < 6; ++i) ref += double(w[t * 6 + i]) * x[n * 6 + i];
      REQUIRE(y[n * 3 + t] == Approx(ref).margin(1e-5));
    }
  REQUIRE(run.n_targets() == 3);
}

// A count or seed passed where targets are expected must not compile.
static_assert(!std::is_convertible<int64_t, Targets>::value, "Targets from an integer is explicit");
static_assert(std::is_constructible<Targets, int64_t>::value, "Targets(k) names one output");
