// Progress reports and cancellation (AttributionOptions::progress,
// CdOptions::progress): every method counts its own units of work (rows
// through the model), ends at its total, and stops when asked to.
#include <vector>

#include "models.hpp"
#include "testing.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/perturbation.hpp"

using namespace trim;
using trim::test::randn;

namespace {

struct Recorder {
  std::vector<std::pair<int64_t, int64_t>> calls;
  int64_t stop_after = -1;  ///< return false on this call (0-based); -1: never
  ProgressCallback callback() {
    return [this](int64_t done, int64_t total) {
      calls.emplace_back(done, total);
      return stop_after < 0 || static_cast<int64_t>(calls.size()) <= stop_after;
    };
  }
  /// Reports increase, stay within one fixed total and end at it.
  void require_complete(int64_t total) const {
    REQUIRE(!calls.empty());
    int64_t last = 0;
    for (const auto& [done, t] : calls) {
      CHECK(t == total);
      CHECK(done > last);
      last = done;
    }
    CHECK(calls.back().first == total);
  }
};

Grouping halves(const Shape& shape) {
  Grouping g;
  g.coefficient_shape = shape;
  for (int64_t i = 0; i < shape.numel(); ++i) g.labels.push_back(i < shape.numel() / 2 ? 0 : 1);
  g.names = {"first", "second"};
  return g;
}

}  // namespace

TEST_CASE("progress: each method reports its units of work up to its total", "[attribution][progress]") {
  const Graph g = test::smooth_model();  // [*, 5] -> 2
  const Tensor x = randn({3, 5}, 5);
  Recorder r;
  AttributionOptions o;
  o.max_batch = 7;  // several batches
  o.progress = r.callback();
  SECTION("integrated gradients: steps x examples") {
    IntegratedGradientsOptions ig;
    ig.n_steps = 20;
    integrated_gradients(g, x, ig, o);
    r.require_complete(3 * 20);
    CHECK(r.calls.size() == (60 + 6) / 7);
  }
  SECTION("smoothgrad: samples x examples") {
    SmoothGradOptions sg;
    sg.n_samples = 5;
    smoothgrad(gradient, g, x, sg, o);
    r.require_complete(15);
  }
  SECTION("gradient SHAP: samples x examples, then the baselines for the delta") {
    GradientShapOptions gs;
    gs.n_samples = 4;
    gradient_shap(g, x, randn({2, 5}, 6), gs, o);
    r.require_complete(3 * 4 + 3 + 2);  // F(x), and F(b) once: the model has no extra inputs
    r.calls.clear();
    gs.convergence_delta = false;  // the samples only
    gradient_shap(g, x, randn({2, 5}, 6), gs, o);
    r.require_complete(3 * 4);
  }
  SECTION("DeepLIFT: examples; DeepLIFT-SHAP: example x baseline pairs") {
    o.max_batch = 2;
    deeplift(g, x, {}, o);
    r.require_complete(3);
    r.calls.clear();
    deeplift_shap(g, x, randn({4, 5}, 7), {}, o);
    r.require_complete(12);
  }
  SECTION("feature ablation: one copy per group and the input, per example") {
    const Grouping groups = halves({5});
    o.grouping = &groups;
    feature_ablation(g, x, {}, o);
    r.require_complete(3 * 3);
  }
  SECTION("Shapley values: every coalition of every example") {
    const Grouping groups = halves({5});
    o.grouping = &groups;
    shapley(g, x, {}, o);
    r.require_complete(3 * 4);
  }
  SECTION("CD: groups x examples") {
    const Grouping groups = halves({5});
    CdOptions cd;
    cd.max_batch = 2;
    cd.progress = r.callback();
    contextual_decomposition(g, x, groups, cd);
    r.require_complete(3 * 2);
  }
}

TEST_CASE("progress: a callback returning false stops the method with Cancelled", "[attribution][progress]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({3, 5}, 5);
  Recorder r;
  r.stop_after = 1;  // the second report asks to stop
  AttributionOptions o;
  o.max_batch = 4;
  o.progress = r.callback();
  IntegratedGradientsOptions ig;
  ig.n_steps = 10;
  REQUIRE_THROWS_AS(integrated_gradients(g, x, ig, o), Cancelled);
  CHECK(r.calls.size() == 2);  // no batch ran after the stop
  r.calls.clear();
  CdOptions cd;
  cd.max_batch = 1;
  cd.progress = r.callback();
  const Grouping groups = halves({5});
  REQUIRE_THROWS_AS(contextual_decomposition(g, x, groups, cd), Cancelled);
  CHECK(r.calls.size() == 2);
}
