// Evaluation of attributions in coefficient space: exact properties on a
// linear model (analytic deletion / insertion curves, µ-fidelity 1), exact
// ROAD imputation of constant and linear coefficients, and the model
// randomisation check on a model trained here.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "models.hpp"
#include "trim/attribution/evaluate.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/core/error.hpp"
#include "trim/train/trainer.hpp"
#include "trim/transforms/wavelet.hpp"

using namespace trim;
using test::randn;

namespace {

/// The exact attribution of a linear model F(s) = v·s + c at a zero
/// baseline: v ⊙ s, with v_i = F(e_i) − F(0) read off the model.
Tensor exact_linear_attribution(const TrimModel& tm, const Tensor& s, int64_t n_outputs) {
  const int64_t N = s.dim(0), P = s.numel() / N;
  Shape one = s.shape();
  one[0] = P + 1;
  Tensor basis(one);  // row 0: zeros; row i + 1: e_i
  for (int64_t i = 0; i < P; ++i) basis[(i + 1) * P + i] = 1.0f;
  const Tensor y = tm.forward(basis);
  Shape as{n_outputs};
  for (int64_t d : s.shape()) as.push_back(d);
  Tensor a(as);
  for (int64_t t = 0; t < n_outputs; ++t)
    for (int64_t e = 0; e < N; ++e)
      for (int64_t i = 0; i < P; ++i) a[(t * N + e) * P + i] = (y[(i + 1) * n_outputs + t] - y[t]) * s[e * P + i];
  return a;
}

}  // namespace

TEST_CASE("evaluate: deletion and insertion curves of a linear model are the cumulative sums",
          "[attribution][evaluate]") {
  const Graph model = test::linear_model();  // [*, 6] -> 3
  const TrimModel tm(model, make_transform("dct1:ortho", {6}));
  const Tensor s = tm.coefficients(randn({2, 6}, 3));
  const Tensor a = exact_linear_attribution(tm, s, 3);
  FaithfulnessOptions fo;
  fo.road = false;
  fo.n_random = 4;
  AttributionOptions o;
  o.max_batch = 5;  // many chunks
  const FaithfulnessCurves c = faithfulness_curves(tm.graph(), s, a, fo, o);
  REQUIRE(c.fractions.size() == 7);
  const Tensor fx = tm.forward(s), f0 = tm.forward(Tensor({2, 6}));
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t e = 0; e < 2; ++e) {
      std::vector<double> v(a.data() + (t * 2 + e) * 6, a.data() + (t * 2 + e) * 6 + 6);
      std::sort(v.begin(), v.end(), std::greater<>());
      double del = fx[e * 3 + t], ins = f0[e * 3 + t], del_auc = 0.0, prev_del = del;
      for (int64_t p = 0; p <= 6; ++p) {
        INFO("target " << t << " example " << e << " point " << p);
        REQUIRE(c.deletion[(t * 2 + e) * 7 + p] == Approx(del).margin(1e-4));
        REQUIRE(c.insertion[(t * 2 + e) * 7 + p] == Approx(ins).margin(1e-4));
        if (p > 0) del_auc += (prev_del + del) / 12.0;
        prev_del = del;
        if (p < 6) del -= v[static_cast<size_t>(p)], ins += v[static_cast<size_t>(p)];
      }
      REQUIRE(c.deletion_auc[t * 2 + e] == Approx(del_auc).margin(1e-4));
      // Sorted by decreasing contribution, the deletion curve is the lowest any order gives.
      REQUIRE(c.deletion_auc[t * 2 + e] <= c.random_deletion_auc_mean[t * 2 + e] + 1e-5f);
      REQUIRE(c.insertion_auc[t * 2 + e] >= c.random_insertion_auc_mean[t * 2 + e] - 1e-5f);
      REQUIRE(c.random_deletion_std[(t * 2 + e) * 7] == Approx(0.0).margin(1e-6));  // every order starts at F(s)
    }
}

TEST_CASE("evaluate: deletion by groups removes whole groups in steps", "[attribution][evaluate]") {
  const Graph model = test::linear_model();
  const TrimModel tm(model, make_transform("identity", {6}));
  const Tensor s = randn({1, 6}, 4);
  Grouping g;
  g.coefficient_shape = {6};
  g.labels = {0, 0, 1, 1, -1, 2};
  g.names = {"a", "b", "c"};
  const Tensor a = exact_linear_attribution(tm, s, 3);
  AttributionOptions o;
  o.grouping = &g;
  o.targets = Targets(1);
  Tensor scores({1, 1, 3});
  for (int64_t i = 0; i < 6; ++i)
    if (g.labels[static_cast<size_t>(i)] >= 0) scores[g.labels[static_cast<size_t>(i)]] += a[6 + i];
  FaithfulnessOptions fo;
  fo.road = false;
  fo.n_random = 0;
  const FaithfulnessCurves c = faithfulness_curves(tm.graph(), s, scores, fo, o);
  REQUIRE(c.deletion.shape() == Shape{1, 1, 4});
  // Element 4 is in no group: it stays, so the last point is F with only it kept.
  Tensor only(Shape{1, 6});
  only[4] = s[4];
  REQUIRE(c.deletion[3] == Approx(tm.forward(only)[1]).margin(1e-5));
  REQUIRE(c.random_deletion_mean.empty());
  REQUIRE_THROWS_AS(faithfulness_curves(tm.graph(), s, a, fo, o), ShapeError);
}

TEST_CASE("evaluate: µ-fidelity of the exact attribution of a linear model is 1", "[attribution][evaluate]") {
  const Graph model = test::linear_model();
  const TrimModel tm(model, make_transform("dct1:ortho", {6}));
  const Tensor s = tm.coefficients(randn({3, 6}, 5));
  const Tensor a = exact_linear_attribution(tm, s, 3);
  FaithfulnessOptions fo;
  fo.mu_subsets = 20;
  fo.mu_fraction = 0.5;
  const Tensor mu = mu_fidelity(tm.graph(), s, a, fo);
  REQUIRE(mu.shape() == Shape{3, 3});
  for (float v : mu) REQUIRE(v == Approx(1.0).margin(1e-4));
  // A wrong attribution scores less.
  const Tensor wrong = randn(a.shape(), 6);
  const Tensor mw = mu_fidelity(tm.graph(), s, wrong, fo);
  REQUIRE(*std::max_element(mw.begin(), mw.end()) < 0.99f);
  fo.seed = 1;
  REQUIRE(mu_fidelity(tm.graph(), s, a, fo).shape() == Shape{3, 3});
}

TEST_CASE("evaluate: ROAD imputes constant coefficients exactly along every transform's axes",
          "[attribution][evaluate][road]") {
  for (const char* spec : {"fft2", "rfft2", "dct2", "dwt2:db2:2", "swt2:haar:2", "identity"}) {
    INFO(spec);
    const auto t = make_transform(spec, {1, 8, 8});
    const CoefficientNeighbours nb = coefficient_neighbours(*t);
    const int64_t n = t->coefficient_shape().numel();
    REQUIRE(static_cast<int64_t>(nb.adjacent.size()) == n);
    for (const auto& adj : nb.adjacent) REQUIRE(!adj.empty());
    std::vector<float> values(static_cast<size_t>(n), 2.5f), fallback(static_cast<size_t>(n), 0.0f);
    std::vector<char> unknown(static_cast<size_t>(n), 0);
    Rng rng(7);
    for (int64_t i = 0; i < n; ++i) unknown[static_cast<size_t>(i)] = rng.uniform() < 0.6;
    for (int64_t i = 0; i < n; ++i)
      if (unknown[static_cast<size_t>(i)]) values[static_cast<size_t>(i)] = 100.0f;  // forgotten
    const std::vector<float> im = impute_from_neighbours(nb, values, unknown, fallback);
    for (float v : im) REQUIRE(v == Approx(2.5).margin(1e-5));
  }
  // Along one DCT axis the harmonic interpolation is linear: a ramp is exact.
  const auto d = make_transform("dct1", {10});
  const CoefficientNeighbours nb = coefficient_neighbours(*d);
  std::vector<float> ramp(10), fallback(10, 0.0f);
  for (int i = 0; i < 10; ++i) ramp[static_cast<size_t>(i)] = 1.0f + 0.5f * i;
  std::vector<char> unknown = {0, 1, 1, 0, 1, 1, 1, 0, 1, 0};
  const std::vector<float> im = impute_from_neighbours(nb, ramp, unknown, fallback);
  for (int i = 0; i < 10; ++i) REQUIRE(im[static_cast<size_t>(i)] == Approx(1.0 + 0.5 * i).margin(1e-5));
  // Everything unknown: nothing to interpolate from, the fallback.
  std::vector<char> all(10, 1);
  for (float v : impute_from_neighbours(nb, ramp, all, fallback)) REQUIRE(v == 0.0f);
}

TEST_CASE("evaluate: ROAD curves on constant coefficients stay at F(s)", "[attribution][evaluate][road]") {
  const Graph model = test::fixture_cnn(test::Fixture("attribution_fft2.txt"));  // smooth (tanh)
  const TrimModel tm(model, make_transform("dct2", {1, 8, 8}));
  Tensor s({1, 1, 8, 8});
  s.fill(0.3f);
  const CoefficientNeighbours nb = coefficient_neighbours(tm.transform());
  FaithfulnessOptions fo;
  fo.neighbours = &nb;
  fo.road_noise = 0.0f;
  fo.n_random = 0;
  fo.steps = 8;
  const Tensor scores = randn({3, 1, 1, 8, 8}, 9);
  const FaithfulnessCurves c = faithfulness_curves(tm.graph(), s, scores, fo);
  const Tensor fx = tm.forward(s);
  // All but the last point keep a known coefficient to interpolate from.
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t p = 0; p < 8; ++p) {
      REQUIRE(c.road_morf[t * 9 + p] == Approx(fx[t]).margin(1e-4));
      REQUIRE(c.road_lerf[t * 9 + p] == Approx(fx[t]).margin(1e-4));
    }
  // The curves do move when the removed coefficients are not imputable: deletion.
  REQUIRE(c.deletion[4] != Approx(fx[0]).margin(1e-4));
  fo.road_noise = 0.5f;  // noise moves the output
  const FaithfulnessCurves noisy = faithfulness_curves(tm.graph(), s, scores, fo);
  REQUIRE(noisy.road_morf[4] != Approx(fx[0]).margin(1e-4));
}

TEST_CASE("evaluate: Spearman rank correlation", "[attribution][evaluate]") {
  REQUIRE(spearman({1, 2, 3, 4}, {10, 20, 30, 40}) == Approx(1.0));
  REQUIRE(spearman({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1.0));
  // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9486832980505138
  REQUIRE(spearman({1, 2, 2, 3}, {1, 3, 2, 4}) == Approx(0.9486832980505138));
  REQUIRE(spearman({1, 1, 1}, {1, 2, 3}) == 0.0);
}

TEST_CASE("evaluate: model randomisation leaves an input-only 'attribution' unchanged, not the gradient",
          "[attribution][evaluate][randomisation]") {
  // A small MLP trained here on y = x0 + x1 − x2 (inputs [16]); in dct1 space.
  Graph g(3);
  NodeId in = nn::input(g, "x", {16});
  NodeId h = nn::tanh(g, nn::linear(g, in, 12, "fc1"));
  h = nn::tanh(g, nn::linear(g, h, 12, "fc2"));
  g.set_outputs({nn::linear(g, h, 1, "out")});
  g.finalize();
  const Tensor x = randn({256, 16}, 11);
  Tensor y({256, 1});
  for (int64_t e = 0; e < 256; ++e) y[e] = x[e * 16] + x[e * 16 + 1] - x[e * 16 + 2];
  train::Adam opt(0.01);
  train::FitOptions fit;
  fit.epochs = 40;
  fit.batch_size = 32;
  const train::History hist = train::fit(g, x, y, train::LossKind::MSE, opt, fit);
  REQUIRE(hist.final_loss() < 0.1 * hist.losses().front());

  const TrimModel tm(g, make_transform("identity", {16}));
  const Tensor s = tm.coefficients(randn({4, 16}, 12));
  const AttributionMethod input_only = [](const Graph&, const Tensor& v, const AttributionOptions&) {
    Attribution a;
    a.targets = {0};
    Shape sh{1};
    for (int64_t d : v.shape()) sh.push_back(d);
    a.attributions = v.reshaped(sh);
    return a;
  };
  const RandomisationResult same = model_randomisation(tm.graph(), s, input_only);
  REQUIRE(same.layers == std::vector<std::string>{"out", "fc2", "fc1"});
  for (float v : same.correlation) REQUIRE(v == Approx(1.0));
  const RandomisationResult grad = model_randomisation(tm.graph(), s, gradient);
  REQUIRE(grad.correlation.shape() == Shape{3, 1, 4});
  // Fully randomised: the gradient no longer points at x0, x1, x2.
  double mean = 0.0;
  for (int64_t e = 0; e < 4; ++e) mean += grad.correlation[2 * 4 + e] / 4.0;
  INFO("mean rank correlation of the gradient after randomising every layer: " << mean);
  REQUIRE(mean < 0.5);
  // The same seed gives the same result.
  const RandomisationResult again = model_randomisation(tm.graph(), s, gradient);
  REQUIRE(std::equal(grad.correlation.begin(), grad.correlation.end(), again.correlation.begin()));
}

TEST_CASE("evaluate: the report runs every metric; bad input is named", "[attribution][evaluate]") {
  const Graph model = test::relu_cnn();
  const TrimModel tm(model, make_transform("fft2", {1, 8, 8}));
  const Tensor s = tm.coefficients(randn({2, 1, 8, 8}, 13));
  AttributionOptions o;
  o.targets = Targets(std::vector<int64_t>{0, 2});
  const Attribution a = input_x_gradient(tm.graph(), s, o);
  EvaluationOptions eo;
  eo.faithfulness.steps = 10;
  eo.faithfulness.n_random = 3;
  eo.faithfulness.mu_subsets = 10;
  eo.sensitivity.n_perturb_samples = 2;
  const EvaluationReport r = evaluate_attribution(tm, s, a, input_x_gradient, eo, o);
  REQUIRE(r.targets == std::vector<int64_t>{0, 2});
  REQUIRE(r.curves.deletion.shape() == Shape{2, 2, 11});
  REQUIRE(r.curves.road_morf.shape() == Shape{2, 2, 11});
  REQUIRE(r.mu_fidelity.shape() == Shape{2, 2});
  REQUIRE(r.infidelity.shape() == Shape{2, 2});
  REQUIRE(r.sensitivity.shape() == Shape{2, 2});
  REQUIRE(r.randomisation.correlation.dim(1) == 2);
  for (const Tensor* t : {&r.curves.deletion, &r.curves.insertion, &r.curves.road_lerf, &r.mu_fidelity})
    for (float v : *t) REQUIRE(std::isfinite(v));

  Tensor bad = a.attributions;
  bad[3] = std::nanf("");
  REQUIRE_THROWS_AS(faithfulness_curves(tm.graph(), s, bad, {}, o), ValueError);  // ROAD without neighbours
  FaithfulnessOptions fo;
  fo.road = false;
  REQUIRE_THROWS_AS(faithfulness_curves(tm.graph(), s, bad, fo, o), ValueError);
  REQUIRE_THROWS_AS(faithfulness_curves(tm.graph(), s, Tensor({2, 2, 5}), fo, o), ShapeError);
  fo.steps = -1;
  REQUIRE_THROWS_AS(faithfulness_curves(tm.graph(), s, a.attributions, fo, o), ValueError);
}

namespace {

/// Every metric of the fixture (NumPy / PyTorch, make_evaluate.py) against trim's.
void check_against_reference(const TrimModel& tm, const Tensor& s, const test::Fixture& r, const Grouping* g,
                             int steps) {
  AttributionOptions o;
  o.grouping = g;
  o.max_batch = 7;
  const CoefficientNeighbours nb = coefficient_neighbours(tm.transform());
  FaithfulnessOptions fo;
  fo.steps = steps;
  fo.n_random = 0;
  fo.neighbours = &nb;
  fo.road_noise = 0.0f;
  fo.mu_masks = r["masks"];
  const FaithfulnessCurves c = faithfulness_curves(tm.graph(), s, r["scores"], fo, o);
  test::require_close(c.deletion, r["deletion"], 1e-4, 1e-1, "deletion");
  test::require_close(c.insertion, r["insertion"], 1e-4, 1e-1, "insertion");
  test::require_close(c.deletion_auc, r["deletion_auc"], 1e-4, 1e-1, "deletion AUC");
  test::require_close(c.insertion_auc, r["insertion_auc"], 1e-4, 1e-1, "insertion AUC");
  test::require_close(c.road_morf, r["road_morf"], 1e-4, 1e-1, "ROAD MoRF");
  test::require_close(c.road_lerf, r["road_lerf"], 1e-4, 1e-1, "ROAD LeRF");
  test::require_close(c.road_morf_auc, r["road_morf_auc"], 1e-4, 1e-1, "ROAD MoRF AUC");
  test::require_close(mu_fidelity(tm.graph(), s, r["scores"], fo, o), r["mu_fidelity"], 1e-3, 1e-1, "µ-fidelity");
}

}  // namespace

TEST_CASE("evaluate: every metric matches NumPy / PyTorch on a CNN in fft2 space",
          "[attribution][evaluate][reference]") {
  const test::Fixture f("attribution_fft2.txt");
  const test::Fixture r("evaluate_fft2.txt");
  const Graph model = test::fixture_cnn(f);
  const TrimModel tm(model, make_transform("fft2", {1, 8, 8}));
  check_against_reference(tm, r["s"], r, nullptr, 16);
}

TEST_CASE("evaluate: every metric matches NumPy / PyTorch on a CNN by dwt2 sub-band",
          "[attribution][evaluate][reference]") {
  const test::Fixture f("attribution_fft2.txt");
  const test::Fixture r("evaluate_dwt2.txt");
  const Graph model = test::fixture_cnn(f);
  const TrimModel tm(model, make_transform("dwt2:db2:2:symmetric", {1, 8, 8}));
  const Grouping g = wavelet_subbands(tm.transform());
  check_against_reference(tm, r["coefficients"], r, &g, 0);
}
