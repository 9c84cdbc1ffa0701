// Perturbation methods: feature ablation, occlusion, Shapley values. The
// expected values are computed here independently of src/attribution: by
// hand on linear models, and by brute force (the subset formula with
// factorial weights, one Graph::evaluate per coalition) on small nets.
#include <cmath>
#include <functional>
#include <vector>

#include "testing.hpp"
#include "trim/attribution/perturbation.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;

namespace {

Grouping make_grouping(const Shape& shape, std::vector<int32_t> labels, int groups) {
  Grouping g;
  g.coefficient_shape = shape;
  g.labels = std::move(labels);
  for (int k = 0; k < groups; ++k) g.names.push_back("g" + std::to_string(k));
  return g;
}

/// x [*, in] -> linear(out): F(x) = W x + c.
Graph linear_model(int64_t in, int64_t out, uint64_t seed = 1) {
  Graph g(seed);
  const NodeId x = nn::input(g, "x", {in});
  g.set_outputs({nn::linear(g, x, out, "fc")});
  g.finalize();
  return g;
}

/// x [*, in] -> linear(hidden) -> relu -> linear(hidden) -> tanh -> linear(out).
Graph small_net(int64_t in, int64_t hidden, int64_t out, uint64_t seed = 2) {
  Graph g(seed);
  NodeId h = nn::input(g, "x", {in});
  h = nn::relu(g, nn::linear(g, h, hidden, "fc1"));
  h = nn::tanh(g, nn::linear(g, h, hidden, "fc2"));
  g.set_outputs({nn::linear(g, h, out, "fc3")});
  g.finalize();
  return g;
}

/// One example [1, ...] of a batch.
Tensor example(const Tensor& x, int64_t e) {
  Shape s = x.shape();
  s[0] = 1;
  const int64_t per = x.numel() / x.dim(0);
  Tensor r(s);
  std::copy(x.begin() + e * per, x.begin() + (e + 1) * per, r.begin());
  return r;
}

/// Model output k for example e of x with the elements where `keep` is false
/// replaced by b's (one Graph::evaluate per call; extra inputs optional).
double eval_masked(const Graph& g, const Tensor& x, const Tensor& b, int64_t e, const std::vector<bool>& keep,
                   int64_t k, const std::vector<Tensor>& extras = {}) {
  Tensor row = example(x, e);
  const Tensor be = example(b, e);
  for (int64_t i = 0; i < row.numel(); ++i)
    if (!keep[static_cast<size_t>(i)]) row[i] = be[i];
  std::vector<Tensor> in{row};
  for (const Tensor& t : extras) in.push_back(example(t, e));
  const Tensor y = g.evaluate(in)[0];
  return y[k];
}

double factorial(int n) { return n <= 1 ? 1.0 : n * factorial(n - 1); }

/// Shapley values by the subset formula: φ_g = Σ_{S ⊆ others} |S|!(K−|S|−1)!/K! (v(S∪g) − v(S)).
std::vector<double> brute_force_shapley(const Graph& g, const Tensor& x, const Tensor& b, int64_t e, int64_t k,
                                        const Grouping& grp, const std::vector<Tensor>& extras = {}) {
  const int K = grp.size();
  const int64_t P = static_cast<int64_t>(grp.labels.size());
  const auto value = [&](const std::vector<bool>& in_coalition) {
    std::vector<bool> keep(static_cast<size_t>(P));
    for (int64_t i = 0; i < P; ++i) {
      const int l = grp.labels[static_cast<size_t>(i)];
      keep[static_cast<size_t>(i)] = l < 0 || in_coalition[static_cast<size_t>(l)];
    }
    return eval_masked(g, x, b, e, keep, k, extras);
  };
  std::vector<double> phi(static_cast<size_t>(K), 0.0);
  for (int gi = 0; gi < K; ++gi) {
    std::vector<int> others;
    for (int o = 0; o < K; ++o)
      if (o != gi) others.push_back(o);
    for (int mask = 0; mask < (1 << (K - 1)); ++mask) {
      std::vector<bool> S(static_cast<size_t>(K), false);
      int size = 0;
      for (int j = 0; j < K - 1; ++j)
        if (mask & (1 << j)) {
          S[static_cast<size_t>(others[static_cast<size_t>(j)])] = true;
          ++size;
        }
      const double w = factorial(size) * factorial(K - size - 1) / factorial(K);
      const double without = value(S);
      S[static_cast<size_t>(gi)] = true;
      phi[static_cast<size_t>(gi)] += w * (value(S) - without);
    }
  }
  return phi;
}

/// The slice [t] of a [T, ...] tensor.
Tensor slice0(const Tensor& a, int64_t t) {
  Shape s;
  for (int i = 1; i < a.rank(); ++i) s.push_back(a.dim(i));
  const int64_t per = a.numel() / a.dim(0);
  Tensor r(s);
  std::copy(a.begin() + t * per, a.begin() + (t + 1) * per, r.begin());
  return r;
}

template <class E, class F>
void require_throws(F&& f, const std::string& prefix) {
  REQUIRE_THROWS_AS(f(), E);
  REQUIRE_THROWS_WITH(f(), Catch::StartsWith(prefix));
}

}  // namespace

TEST_CASE("feature ablation of a linear model is w ⊙ (x − b) summed per group", "[attribution][perturbation]") {
  Graph g = linear_model(6, 3);
  const Tensor W = g.parameter("fc.weight").value;
  const Tensor x = randn({2, 6}, 5);
  const Grouping grp = make_grouping({6}, {0, 0, 1, 2, 2, -1}, 4);  // group 3 empty, element 5 never ablated
  AttributionOptions opt;
  opt.grouping = &grp;
  FeatureAblationOptions fa;
  fa.baseline = Baseline::constant(0.5f);
  const Attribution a = feature_ablation(g, x, fa, opt);
  REQUIRE(a.targets == std::vector<int64_t>{0, 1, 2});
  REQUIRE(a.attributions.shape() == Shape{3, 2, 6});
  REQUIRE(a.group_scores.shape() == Shape{3, 2, 4});
  REQUIRE(a.delta.empty());
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t e = 0; e < 2; ++e) {
      double expect[4] = {0, 0, 0, 0};
      for (int64_t i = 0; i < 6; ++i) {
        const int l = grp.labels[static_cast<size_t>(i)];
        if (l >= 0) expect[l] += double(W[t * 6 + i]) * (x[e * 6 + i] - 0.5);
      }
      for (int k = 0; k < 4; ++k) REQUIRE(a.group_scores[(t * 2 + e) * 4 + k] == Approx(expect[k]).margin(1e-5));
      for (int64_t i = 0; i < 6; ++i) {
        const int l = grp.labels[static_cast<size_t>(i)];
        REQUIRE(a.attributions[(t * 2 + e) * 6 + i] == Approx(l < 0 ? 0.0 : expect[l]).margin(1e-5));
      }
    }
}

TEST_CASE("feature ablation of a nonlinear net matches direct evaluation", "[attribution][perturbation]") {
  Graph g = small_net(6, 8, 2);
  const Tensor x = randn({3, 6}, 6);
  const Tensor b = randn({6}, 7, 0.3f);  // one example, broadcast
  const Grouping grp = make_grouping({6}, {1, 0, 1, 2, 0, 2}, 3);
  AttributionOptions opt;
  opt.grouping = &grp;
  opt.targets = Targets(1);
  FeatureAblationOptions fa;
  fa.baseline = Baseline::of(b);
  const Attribution a = feature_ablation(g, x, fa, opt);
  const Tensor bb = Baseline::of(b).expand(x);
  for (int64_t e = 0; e < 3; ++e)
    for (int k = 0; k < 3; ++k) {
      std::vector<bool> keep(6);
      for (int i = 0; i < 6; ++i) keep[static_cast<size_t>(i)] = grp.labels[static_cast<size_t>(i)] != k;
      const double expect =
          eval_masked(g, x, bb, e, std::vector<bool>(6, true), 1) - eval_masked(g, x, bb, e, keep, 1);
      REQUIRE(a.group_scores[e * 3 + k] == Approx(expect).margin(1e-5));
    }
}

TEST_CASE("occlusion of a linear model averages window sums over covering windows", "[attribution][perturbation]") {
  // x [*, 2, 5, 6] -> flatten -> linear(2); 2-D windows over (5, 6), channels occluded together.
  Graph g(3);
  const NodeId in = nn::input(g, "x", {2, 5, 6});
  g.set_outputs({nn::linear(g, nn::flatten(g, in), 2, "fc")});
  g.finalize();
  const Tensor W = g.parameter("fc.weight").value;
  const Tensor x = randn({2, 2, 5, 6}, 8);
  struct Case {
    std::vector<int64_t> window, strides;
  };
  for (const Case& c : {Case{{2, 3}, {1, 2}}, Case{{3, 4}, {2, 3}}, Case{{2, 2}, {}}, Case{{5, 6}, {1, 1}}}) {
    OcclusionOptions occ;
    occ.window = c.window;
    occ.strides = c.strides;
    occ.baseline = Baseline::constant(-0.25f);
    const Attribution a = occlusion(g, x, occ);
    REQUIRE(a.attributions.shape() == Shape{2, 2, 2, 5, 6});
    const int64_t sh = c.strides.empty() ? c.window[0] : c.strides[0];
    const int64_t sw = c.strides.empty() ? c.window[1] : c.strides[1];
    // Window starts 0, s, 2s, ... while the previous window ends before the edge
    // (captum: ceil((D − k)/s) + 1 positions, the last one clipped).
    std::vector<int64_t> rows, cols;
    for (int64_t r = 0;; r += sh) {
      rows.push_back(r);
      if (r + c.window[0] >= 5) break;
    }
    for (int64_t q = 0;; q += sw) {
      cols.push_back(q);
      if (q + c.window[1] >= 6) break;
    }
    for (int64_t t = 0; t < 2; ++t)
      for (int64_t e = 0; e < 2; ++e) {
        std::vector<double> sum(60, 0.0), count(60, 0.0);
        for (int64_t r0 : rows)
          for (int64_t q0 : cols) {
            double diff = 0.0;
            std::vector<int64_t> covered;
            for (int64_t ch = 0; ch < 2; ++ch)
              for (int64_t r = r0; r < std::min<int64_t>(5, r0 + c.window[0]); ++r)
                for (int64_t q = q0; q < std::min<int64_t>(6, q0 + c.window[1]); ++q) {
                  const int64_t i = ch * 30 + r * 6 + q;
                  diff += double(W[t * 60 + i]) * (x[e * 60 + i] + 0.25);
                  covered.push_back(i);
                }
            for (int64_t i : covered) {
              sum[static_cast<size_t>(i)] += diff;
              count[static_cast<size_t>(i)] += 1.0;
            }
          }
        for (int64_t i = 0; i < 60; ++i) {
          REQUIRE(count[static_cast<size_t>(i)] > 0);
          REQUIRE(a.attributions[(t * 2 + e) * 60 + i] ==
                  Approx(sum[static_cast<size_t>(i)] / count[static_cast<size_t>(i)]).margin(1e-5));
        }
      }
  }
}

TEST_CASE("occlusion: 1-D windows, uncovered elements, groups", "[attribution][perturbation]") {
  Graph g = linear_model(7, 1);
  const Tensor W = g.parameter("fc.weight").value;
  const Tensor x = randn({1, 7}, 9);
  OcclusionOptions occ;
  occ.window = {2};
  occ.strides = {3};  // windows [0,2), [3,5), [6,7): elements 2 and 5 are never occluded
  const Grouping grp = make_grouping({7}, {0, 0, 0, 1, 1, 1, 1}, 2);
  AttributionOptions opt;
  opt.grouping = &grp;
  const Attribution a = occlusion(g, x, occ, opt);
  const double w01 = W[0] * x[0] + W[1] * x[1], w34 = W[3] * x[3] + W[4] * x[4], w6 = W[6] * x[6];
  const double expect[7] = {w01, w01, 0.0, w34, w34, 0.0, w6};
  for (int i = 0; i < 7; ++i) REQUIRE(a.attributions[i] == Approx(expect[i]).margin(1e-5));
  // Occlusion's group scores are sums of its per-element attributions.
  REQUIRE(a.group_scores.shape() == Shape{1, 1, 2});
  REQUIRE(a.group_scores[0] == Approx(2 * w01).margin(1e-5));
  REQUIRE(a.group_scores[1] == Approx(2 * w34 + w6).margin(1e-5));
}

TEST_CASE("exact Shapley values match the subset formula and are efficient", "[attribution][perturbation]") {
  Graph g = small_net(8, 10, 3);
  const Tensor x = randn({2, 8}, 10);
  const Tensor b = randn({2, 8}, 11, 0.5f);  // one baseline per example
  const Grouping grp = make_grouping({8}, {0, 1, 1, 2, 3, 3, -1, 4}, 5);
  AttributionOptions opt;
  opt.grouping = &grp;
  ShapleyOptions sh;
  sh.baseline = Baseline::of(b);
  const Attribution a = shapley(g, x, sh, opt);
  REQUIRE(a.group_scores.shape() == Shape{3, 2, 5});
  REQUIRE(a.delta.shape() == Shape{3, 2});
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t e = 0; e < 2; ++e) {
      const std::vector<double> phi = brute_force_shapley(g, x, b, e, t, grp);
      double total = 0.0;
      for (int k = 0; k < 5; ++k) {
        REQUIRE(a.group_scores[(t * 2 + e) * 5 + k] == Approx(phi[static_cast<size_t>(k)]).margin(1e-5));
        total += a.group_scores[(t * 2 + e) * 5 + k];
      }
      for (int64_t i = 0; i < 8; ++i) {
        const int l = grp.labels[static_cast<size_t>(i)];
        REQUIRE(a.attributions[(t * 2 + e) * 8 + i] == (l < 0 ? 0.0f : a.group_scores[(t * 2 + e) * 5 + l]));
      }
      // Efficiency: Σ φ = F(x) − F(groups at baseline), checked by direct evaluation.
      std::vector<bool> keep(8, false);
      keep[6] = true;
      const double gap = eval_masked(g, x, b, e, std::vector<bool>(8, true), t) - eval_masked(g, x, b, e, keep, t);
      REQUIRE(std::fabs(total - gap) <= 1e-5 * std::max(1.0, std::fabs(gap)));
      REQUIRE(std::fabs(a.delta[t * 2 + e]) <= 1e-5 * std::max(1.0, std::fabs(gap)));
    }
}

TEST_CASE("Shapley values of a linear model equal feature ablation", "[attribution][perturbation]") {
  Graph g = linear_model(6, 2);
  const Tensor x = randn({2, 6}, 12);
  const Grouping grp = make_grouping({6}, {2, 0, 1, 0, 2, 1}, 3);
  AttributionOptions opt;
  opt.grouping = &grp;
  const Attribution s = shapley(g, x, {}, opt);
  const Attribution f = feature_ablation(g, x, {}, opt);
  require_close(s.group_scores, f.group_scores, 1e-5, 1e-3);
  require_close(s.attributions, f.attributions, 1e-5, 1e-3);
  // Sampling is exact for an additive model too.
  ShapleyOptions sampled;
  sampled.exact_max_groups = 0;
  sampled.n_permutations = 3;
  require_close(shapley(g, x, sampled, opt).group_scores, f.group_scores, 1e-5, 1e-3);
}

TEST_CASE("sampled Shapley values converge to the exact ones and are efficient", "[attribution][perturbation]") {
  Graph g = small_net(8, 12, 2, 4);
  const Tensor x = randn({1, 8}, 13, 1.5f);
  const Grouping grp = make_grouping({8}, {0, 1, 2, 3, 4, 5, 6, 7}, 8);
  AttributionOptions opt;
  opt.grouping = &grp;
  ShapleyOptions exact;
  exact.exact_max_groups = 8;
  const Attribution ex = shapley(g, x, exact, opt);
  ShapleyOptions sampled;
  sampled.exact_max_groups = 7;
  sampled.n_permutations = 1500;
  sampled.seed = 42;
  const Attribution sm = shapley(g, x, sampled, opt);
  double scale = 0.0, worst = 0.0;
  for (int64_t j = 0; j < ex.group_scores.numel(); ++j) {
    scale = std::max(scale, double(std::fabs(ex.group_scores[j])));
    worst = std::max(worst, double(std::fabs(sm.group_scores[j] - ex.group_scores[j])));
  }
  INFO("max |sampled − exact| " << worst << ", max |exact| " << scale);
  REQUIRE(worst <= 0.05 * scale);
  REQUIRE(worst > 0.0);  // it is sampling
  // Efficiency holds per permutation, even with one.
  sampled.n_permutations = 1;
  const Attribution one = shapley(g, x, sampled, opt);
  for (int64_t t = 0; t < 2; ++t) {
    double total = 0.0;
    for (int k = 0; k < 8; ++k) total += one.group_scores[t * 8 + k];
    const double gap = eval_masked(g, x, Tensor({1, 8}), 0, std::vector<bool>(8, true), t) -
                       eval_masked(g, x, Tensor({1, 8}), 0, std::vector<bool>(8, false), t);
    REQUIRE(std::fabs(total - gap) <= 1e-5 * std::max(1.0, std::fabs(gap)));
    REQUIRE(std::fabs(one.delta[t]) <= 1e-5 * std::max(1.0, std::fabs(gap)));
  }
}

TEST_CASE("sampled Shapley values: same seed identical, different seed different", "[attribution][perturbation]") {
  Graph g = small_net(6, 8, 1, 5);
  const Tensor x = randn({2, 6}, 14);
  const Grouping grp = make_grouping({6}, {0, 1, 2, 3, 4, 5}, 6);
  AttributionOptions opt;
  opt.grouping = &grp;
  ShapleyOptions sh;
  sh.exact_max_groups = 4;
  sh.n_permutations = 5;
  sh.seed = 7;
  const Attribution a = shapley(g, x, sh, opt), b = shapley(g, x, sh, opt);
  REQUIRE(a.group_scores.to_vector() == b.group_scores.to_vector());
  sh.seed = 8;
  const Attribution c = shapley(g, x, sh, opt);
  REQUIRE(max_abs_diff(a.group_scores, c.group_scores) > 1e-4f);
}

TEST_CASE("all targets at once equal one target at a time", "[attribution][perturbation]") {
  Graph g = small_net(6, 8, 3, 6);
  const Tensor x = randn({2, 6}, 15);
  const Grouping grp = make_grouping({6}, {0, 0, 1, 1, 2, 2}, 3);
  OcclusionOptions occ;
  occ.window = {2};
  occ.strides = {1};
  ShapleyOptions sampled;
  sampled.exact_max_groups = 2;
  sampled.n_permutations = 4;
  using Method = std::function<Attribution(const AttributionOptions&)>;
  const std::vector<Method> methods{
      [&](const AttributionOptions& o) { return feature_ablation(g, x, {}, o); },
      [&](const AttributionOptions& o) { return occlusion(g, x, occ, o); },
      [&](const AttributionOptions& o) { return shapley(g, x, {}, o); },
      [&](const AttributionOptions& o) { return shapley(g, x, sampled, o); },
  };
  for (const Method& m : methods) {
    AttributionOptions all;
    all.grouping = &grp;
    all.targets = Targets(std::vector<int64_t>{2, 0});
    const Attribution both = m(all);
    REQUIRE(both.targets == std::vector<int64_t>{2, 0});
    for (int64_t t = 0; t < 2; ++t) {
      AttributionOptions one = all;
      one.targets = Targets(both.targets[static_cast<size_t>(t)]);
      const Attribution single = m(one);
      REQUIRE(single.attributions.dim(0) == 1);
      REQUIRE(slice0(both.attributions, t).to_vector() == slice0(single.attributions, 0).to_vector());
      REQUIRE(slice0(both.group_scores, t).to_vector() == slice0(single.group_scores, 0).to_vector());
    }
  }
}

TEST_CASE("extra inputs are held fixed per example", "[attribution][perturbation]") {
  // F(x, r) = fc2(relu(fc1(x + r))): r is a second graph input, never perturbed.
  Graph g(7);
  const NodeId x_in = nn::input(g, "x", {5});
  const NodeId r_in = nn::input(g, "r", {5});
  const NodeId h = nn::relu(g, nn::linear(g, nn::add(g, x_in, r_in), 6, "fc1"));
  g.set_outputs({nn::linear(g, h, 2, "fc2")});
  g.finalize();
  const Tensor x = randn({2, 5}, 16), r = randn({2, 5}, 17, 2.0f), b({2, 5});
  const Grouping grp = make_grouping({5}, {0, 1, 1, 2, 0}, 3);
  AttributionOptions opt;
  opt.grouping = &grp;
  opt.extra_inputs = {r};
  opt.max_batch = 3;  // rows of both examples share chunks
  const Attribution fa = feature_ablation(g, x, {}, opt);
  const Attribution sh = shapley(g, x, {}, opt);
  for (int64_t t = 0; t < 2; ++t)
    for (int64_t e = 0; e < 2; ++e) {
      const double fx = eval_masked(g, x, b, e, std::vector<bool>(5, true), t, {r});
      for (int k = 0; k < 3; ++k) {
        std::vector<bool> keep(5);
        for (int i = 0; i < 5; ++i) keep[static_cast<size_t>(i)] = grp.labels[static_cast<size_t>(i)] != k;
        REQUIRE(fa.group_scores[(t * 2 + e) * 3 + k] == Approx(fx - eval_masked(g, x, b, e, keep, t, {r})).margin(1e-5));
      }
      const std::vector<double> phi = brute_force_shapley(g, x, b, e, t, grp, {r});
      for (int k = 0; k < 3; ++k)
        REQUIRE(sh.group_scores[(t * 2 + e) * 3 + k] == Approx(phi[static_cast<size_t>(k)]).margin(1e-5));
    }
}

TEST_CASE("max_batch does not change the results", "[attribution][perturbation]") {
  Graph g = small_net(12, 8, 2, 8);
  const Tensor x = randn({3, 12}, 18);
  const Grouping grp = make_grouping({12}, {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, 6);
  OcclusionOptions occ;
  occ.window = {3};
  occ.strides = {2};
  ShapleyOptions sampled;
  sampled.exact_max_groups = 3;
  sampled.n_permutations = 6;
  AttributionOptions small, large;
  small.grouping = large.grouping = &grp;
  small.max_batch = 1;
  large.max_batch = 256;
  // Identical up to the model's float rounding, which may depend on the batch size (GEMM blocking).
  const auto same = [](const Attribution& a, const Attribution& b) {
    REQUIRE(a.attributions.shape() == b.attributions.shape());
    REQUIRE(max_abs_diff(a.attributions, b.attributions) <= 1e-6f);
    REQUIRE(a.group_scores.shape() == b.group_scores.shape());
    if (!a.group_scores.empty()) REQUIRE(max_abs_diff(a.group_scores, b.group_scores) <= 1e-6f);
  };
  same(feature_ablation(g, x, {}, small), feature_ablation(g, x, {}, large));
  same(occlusion(g, x, occ, small), occlusion(g, x, occ, large));
  same(shapley(g, x, {}, small), shapley(g, x, {}, large));
  same(shapley(g, x, sampled, small), shapley(g, x, sampled, large));
}

TEST_CASE("perturbation methods reject bad arguments with the method's name", "[attribution][perturbation]") {
  Graph g = linear_model(6, 2);
  const Tensor x = randn({2, 6}, 19);
  const Grouping grp = make_grouping({6}, {0, 1, 2, 3, 4, 5}, 6);
  AttributionOptions none, opt;
  opt.grouping = &grp;
  require_throws<ValueError>([&] { feature_ablation(g, x, {}, none); }, "feature_ablation:");
  require_throws<ValueError>([&] { shapley(g, x, {}, none); }, "shapley:");

  // Exact Shapley is capped at 16 groups.
  std::vector<int32_t> labels(17);
  for (int i = 0; i < 17; ++i) labels[static_cast<size_t>(i)] = i;
  Graph g17 = linear_model(17, 1);
  const Grouping grp17 = make_grouping({17}, labels, 17);
  AttributionOptions opt17;
  opt17.grouping = &grp17;
  ShapleyOptions too_many;
  too_many.exact_max_groups = 17;
  require_throws<ValueError>([&] { shapley(g17, randn({1, 17}, 20), too_many, opt17); }, "shapley: exact_max_groups");
  ShapleyOptions no_perms;
  no_perms.n_permutations = 0;
  require_throws<ValueError>([&] { shapley(g, x, no_perms, opt); }, "shapley: n_permutations");

  // Bad baselines.
  FeatureAblationOptions fa;
  fa.baseline = Baseline::of(Tensor({5}));
  require_throws<ShapeError>([&] { feature_ablation(g, x, fa, opt); }, "feature_ablation: baseline");
  ShapleyOptions sh;
  sh.baseline = Baseline::of(Tensor({3, 6}));
  require_throws<ShapeError>([&] { shapley(g, x, sh, opt); }, "shapley: baseline");

  // Bad groupings.
  const Grouping wrong_shape = make_grouping({5}, {0, 1, 2, 3, 4}, 5);
  AttributionOptions ws;
  ws.grouping = &wrong_shape;
  require_throws<ShapeError>([&] { feature_ablation(g, x, {}, ws); }, "feature_ablation:");
  const Grouping bad_label = make_grouping({6}, {0, 1, 2, 3, 4, 9}, 6);
  AttributionOptions bl;
  bl.grouping = &bad_label;
  require_throws<ValueError>([&] { shapley(g, x, {}, bl); }, "shapley: grouping label 9");

  // Groups without elements cost nothing and score 0.
  const Grouping empty = make_grouping({6}, {-1, -1, -1, -1, -1, -1}, 2);
  AttributionOptions eo;
  eo.grouping = &empty;
  for (const Attribution& a : {shapley(g, x, {}, eo), feature_ablation(g, x, {}, eo)}) {
    REQUIRE(a.group_scores.shape() == Shape{2, 2, 2});
    for (float v : a.group_scores) REQUIRE(v == 0.0f);
    for (float v : a.attributions) REQUIRE(v == 0.0f);
  }

  // Bad windows and strides.
  Graph img(4);
  const NodeId in = nn::input(img, "x", {1, 4, 5});
  img.set_outputs({nn::linear(img, nn::flatten(img, in), 1, "fc")});
  img.finalize();
  const Tensor xi = randn({1, 1, 4, 5}, 21);
  const auto occ = [&](std::vector<int64_t> window, std::vector<int64_t> strides) {
    OcclusionOptions o;
    o.window = std::move(window);
    o.strides = std::move(strides);
    return occlusion(img, xi, o);
  };
  require_throws<ShapeError>([&] { occ({5, 2}, {}); }, "occlusion: window [5,2]");
  require_throws<ShapeError>([&] { occ({}, {}); }, "occlusion: window");
  require_throws<ShapeError>([&] { occ({1, 2, 2, 2}, {}); }, "occlusion: window");
  require_throws<ValueError>([&] { occ({0, 2}, {}); }, "occlusion: window size 0");
  require_throws<ValueError>([&] { occ({2, 2}, {1, 0}); }, "occlusion: stride 0");
  require_throws<ValueError>([&] { occ({2, 2}, {1}); }, "occlusion: 1 strides");
  // A window over every axis (channels included) is fine.
  REQUIRE(occ({1, 2, 2}, {1, 1, 1}).attributions.shape() == Shape{1, 1, 1, 4, 5});
}
