// Attribution metrics: infidelity and sensitivity_max (captum's definitions).
// References: a NumPy computation (tests/reference/make_metrics.py) for
// infidelity with fixed perturbations, and closed forms on linear models.
#include <cmath>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/attribution/metrics.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;

namespace {

Graph linear_model(int64_t in, int64_t out, uint64_t seed = 1) {
  Graph g(seed);
  const NodeId x = nn::input(g, "x", {in});
  g.set_outputs({nn::linear(g, x, out, "fc")});
  g.finalize();
  return g;
}

/// Attributions [T, N, P] with every example's row t equal to rows[t] ⊙ scale (per element of x or 1).
Attribution rows_attribution(const Tensor& rows, int64_t N, const Tensor* times = nullptr, float shift = 0.0f) {
  const int64_t T = rows.dim(0), P = rows.dim(1);
  Attribution a;
  for (int64_t t = 0; t < T; ++t) a.targets.push_back(t);
  a.attributions = Tensor({T, N, P});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e)
      for (int64_t i = 0; i < P; ++i)
        a.attributions[(t * N + e) * P + i] = rows[t * P + i] * (times ? (*times)[e * P + i] - shift : 1.0f);
  return a;
}

template <class E, class F>
void require_throws(F&& f, const std::string& prefix) {
  REQUIRE_THROWS_AS(f(), E);
  REQUIRE_THROWS_WITH(f(), Catch::StartsWith(prefix));
}

}  // namespace

TEST_CASE("infidelity matches a NumPy computation with fixed perturbations", "[attribution][metrics]") {
  const test::Fixture f("metrics.txt");
  Graph g(1);
  const NodeId x_in = nn::input(g, "x", {5});
  const NodeId h = nn::tanh(g, nn::linear(g, x_in, 4, "fc1"));
  g.set_outputs({nn::linear(g, h, 2, "fc2")});
  g.finalize();
  g.set_parameter("fc1.weight", f["fc1_weight"]);
  g.set_parameter("fc1.bias", f["fc1_bias"]);
  g.set_parameter("fc2.weight", f["fc2_weight"]);
  g.set_parameter("fc2.bias", f["fc2_bias"]);
  Attribution a;
  a.targets = {0, 1};
  a.attributions = f["attr"];
  InfidelityOptions inf;
  inf.perturbations = f["perturbations"];
  require_close(infidelity(g, f["x"], a, inf), f["infidelity"], 1e-4, 1e-6, "plain");
  inf.normalize = true;
  require_close(infidelity(g, f["x"], a, inf), f["infidelity_normalized"], 1e-4, 1e-6, "normalized");
  inf.normalize = false;
  inf.multiply_by_inputs = true;
  inf.baseline = Baseline::constant(0.25f);
  require_close(infidelity(g, f["x"], a, inf), f["infidelity_mbi"], 1e-4, 1e-6, "multiply_by_inputs");
  // The attribution's targets decide: scoring target 1 alone gives row 1.
  Attribution one;
  one.targets = {1};
  one.attributions = Tensor({1, 2, 5});
  std::copy(f["attr"].begin() + 10, f["attr"].end(), one.attributions.begin());
  const Tensor r = infidelity(g, f["x"], one, inf);
  REQUIRE(r.shape() == Shape{1, 2});
  REQUIRE(r[0] == Approx(f["infidelity_mbi"][2]).epsilon(1e-4));
  REQUIRE(r[1] == Approx(f["infidelity_mbi"][3]).epsilon(1e-4));
}

TEST_CASE("infidelity of exact linear attributions is zero, of wrong ones positive", "[attribution][metrics]") {
  Graph g = linear_model(6, 3);
  const Tensor W = g.parameter("fc.weight").value;
  const Tensor x = randn({4, 6}, 30);
  InfidelityOptions inf;
  inf.stdev = 0.1f;
  inf.n_perturb_samples = 20;
  inf.seed = 3;
  // Local attributions: the gradient w, against plain perturbations.
  const Tensor exact = infidelity(g, x, rows_attribution(W, 4), inf);
  REQUIRE(exact.shape() == Shape{3, 4});
  for (float v : exact) REQUIRE(v <= 1e-8f);
  Tensor wrong_rows = W;
  for (int64_t i = 0; i < 6; ++i) wrong_rows[i] *= -1.0f;  // target 0 wrong
  const Tensor wrong = infidelity(g, x, rows_attribution(wrong_rows, 4), inf);
  for (int64_t e = 0; e < 4; ++e) {
    REQUIRE(wrong[e] > 1e-3f);
    REQUIRE(wrong[4 + e] <= 1e-8f);
  }
  // A scaled gradient is wrong, unless normalised (β undoes the scale).
  Tensor scaled = W;
  for (float& v : scaled) v *= 3.0f;
  REQUIRE(infidelity(g, x, rows_attribution(scaled, 4), inf)[0] > 1e-3f);
  InfidelityOptions norm = inf;
  norm.normalize = true;
  for (float v : infidelity(g, x, rows_attribution(scaled, 4), norm)) REQUIRE(v <= 1e-8f);
  // Global attributions w ⊙ (x − b) with multiply_by_inputs.
  InfidelityOptions global = inf;
  global.multiply_by_inputs = true;
  global.baseline = Baseline::constant(0.5f);
  for (float v : infidelity(g, x, rows_attribution(W, 4, &x, 0.5f), global)) REQUIRE(v <= 1e-8f);
  REQUIRE(infidelity(g, x, rows_attribution(W, 4, &x, 0.5f), inf)[0] > 1e-3f);
}

TEST_CASE("infidelity: seeds and max_batch", "[attribution][metrics]") {
  Graph g(2);
  const NodeId x_in = nn::input(g, "x", {6});
  g.set_outputs({nn::linear(g, nn::relu(g, nn::linear(g, x_in, 8, "fc1")), 2, "fc2")});
  g.finalize();
  const Tensor x = randn({3, 6}, 31);
  const Attribution a = rows_attribution(randn({2, 6}, 32), 3);
  InfidelityOptions inf;
  inf.stdev = 0.3f;
  inf.seed = 5;
  AttributionOptions one, many;
  one.max_batch = 1;
  const Tensor r1 = infidelity(g, x, a, inf, one), r2 = infidelity(g, x, a, inf, many);
  require_close(r1, r2, 1e-6, 1e-6);
  REQUIRE(infidelity(g, x, a, inf).to_vector() == r2.to_vector());
  inf.seed = 6;
  REQUIRE(max_abs_diff(infidelity(g, x, a, inf), r2) > 1e-6f);
}

TEST_CASE("infidelity rejects bad arguments", "[attribution][metrics]") {
  Graph g = linear_model(6, 2);
  const Tensor x = randn({2, 6}, 33);
  const Attribution good = rows_attribution(randn({2, 6}, 34), 2);
  Attribution bad = good;
  bad.attributions = Tensor({2, 3, 6});
  require_throws<ShapeError>([&] { infidelity(g, x, bad, {}); }, "infidelity: attributions [2,3,6]");
  InfidelityOptions inf;
  inf.n_perturb_samples = 0;
  require_throws<ValueError>([&] { infidelity(g, x, good, inf); }, "infidelity: n_perturb_samples");
  inf = {};
  inf.perturbations = Tensor({2, 6});
  require_throws<ShapeError>([&] { infidelity(g, x, good, inf); }, "infidelity: perturbations [2,6]");
  Attribution far = good;
  far.targets = {0, 5};
  require_throws<ValueError>([&] { infidelity(g, x, far, {}); }, "targets:");
}

TEST_CASE("sensitivity_max follows captum's definition", "[attribution][metrics]") {
  Graph g = linear_model(4, 1);
  const Tensor x = randn({2, 4}, 35);
  // The explanation x ⊙ x; the method records what it was called with.
  std::vector<Tensor> seen;
  const AttributionMethod squares = [&](const Graph&, const Tensor& in, const AttributionOptions& o) {
    REQUIRE(o.extra_inputs.empty());
    seen.push_back(in);
    Attribution a;
    a.targets = {0};
    a.attributions = Tensor({1, in.dim(0), 4});
    for (int64_t i = 0; i < in.numel(); ++i) a.attributions[i] = in[i] * in[i];
    return a;
  };
  SensitivityOptions sens;
  sens.n_perturb_samples = 7;
  sens.perturb_radius = 0.1f;
  const Tensor s = sensitivity_max(squares, g, x, sens);
  REQUIRE(s.shape() == Shape{1, 2});
  REQUIRE(seen.size() == 2);
  REQUIRE(seen[1].shape() == Shape{14, 4});
  for (int64_t e = 0; e < 2; ++e) {
    double n0 = 0.0, worst = 0.0;
    for (int64_t i = 0; i < 4; ++i) n0 += std::pow(double(x[e * 4 + i]), 4);
    for (int64_t k = 0; k < 7; ++k) {
      double d = 0.0;
      for (int64_t i = 0; i < 4; ++i) {
        const double xi = x[e * 4 + i], pi = seen[1][(e * 7 + k) * 4 + i];
        REQUIRE(std::fabs(pi - xi) <= 0.1 + 1e-6);  // uniform in [−r, r]
        d += std::pow(pi * pi - xi * xi, 2);
      }
      worst = std::max(worst, std::sqrt(d / n0));
    }
    REQUIRE(s[e] == Approx(worst).epsilon(1e-5));
  }
  // A zero explanation at x divides by 1.
  const AttributionMethod jump = [&](const Graph&, const Tensor& in, const AttributionOptions&) {
    Attribution a;
    a.targets = {0};
    a.attributions = Tensor({1, in.dim(0), 4}, in.dim(0) == 2 ? 0.0f : 1.0f);
    return a;
  };
  const Tensor j = sensitivity_max(jump, g, x, sens);
  REQUIRE(j[0] == Approx(2.0));
  REQUIRE(j[1] == Approx(2.0));
}

TEST_CASE("sensitivity_max of gradients: zero for a linear model, positive for a ReLU net", "[attribution][metrics]") {
  const Tensor x = randn({3, 6}, 36, 0.2f);
  SensitivityOptions sens;
  sens.perturb_radius = 0.5f;
  sens.seed = 9;
  Graph lin = linear_model(6, 2);
  const Tensor s0 = sensitivity_max(gradient, lin, x, sens);
  REQUIRE(s0.shape() == Shape{2, 3});
  for (float v : s0) REQUIRE(v == 0.0f);
  Graph relu_net(4);
  const NodeId in = nn::input(relu_net, "x", {6});
  relu_net.set_outputs({nn::linear(relu_net, nn::relu(relu_net, nn::linear(relu_net, in, 16, "fc1")), 2, "fc2")});
  relu_net.finalize();
  const Tensor s1 = sensitivity_max(gradient, relu_net, x, sens);
  for (float v : s1) REQUIRE(v > 1e-3f);
  // Same seed, same result; extra inputs are repeated for the perturbed copies.
  REQUIRE(sensitivity_max(gradient, relu_net, x, sens).to_vector() == s1.to_vector());
  Graph two(5);
  const NodeId a_in = nn::input(two, "x", {6});
  const NodeId r_in = nn::input(two, "r", {6});
  two.set_outputs({nn::linear(two, nn::relu(two, nn::add(two, a_in, r_in)), 1, "fc")});
  two.finalize();
  AttributionOptions opt;
  opt.extra_inputs = {randn({3, 6}, 37)};
  const Tensor s2 = sensitivity_max(gradient, two, x, sens, opt);
  REQUIRE(s2.shape() == Shape{1, 3});
  SensitivityOptions bad;
  bad.perturb_radius = -1.0f;
  require_throws<ValueError>([&] { sensitivity_max(gradient, two, x, bad, opt); }, "sensitivity_max: perturb_radius");
}
