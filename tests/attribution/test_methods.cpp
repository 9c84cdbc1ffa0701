// The method table and explain_examples (trim/attribution/methods.hpp): the
// one loop the CLI and the Python module explain batches with. Its parts
// must be exactly the library calls it stands for.
#include <cstring>
#include <set>

#include "models.hpp"
#include "testing.hpp"
#include "trim/attribution/methods.hpp"

using namespace trim;
using trim::test::randn;

namespace {

Tensor rows_of(const Tensor& t, int64_t begin, int64_t end) {
  Shape s = t.shape();
  const int64_t per = t.numel() / t.dim(0);
  s[0] = end - begin;
  Tensor out(s);
  std::copy(t.begin() + begin * per, t.begin() + end * per, out.begin());
  return out;
}

/// Examples [e0, e1) of axis 1 of [T, N, ...].
Tensor examples_of(const Tensor& t, int64_t e0, int64_t e1) {
  const int64_t T = t.dim(0), N = t.dim(1), per = t.numel() / (T * N);
  Shape s = t.shape();
  s[1] = e1 - e0;
  Tensor out(s);
  for (int64_t k = 0; k < T; ++k)
    std::copy(t.begin() + (k * N + e0) * per, t.begin() + (k * N + e1) * per, out.begin() + k * (e1 - e0) * per);
  return out;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  return std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())) == 0;
}

}  // namespace

TEST_CASE("the method table names every method once, with its parameters", "[methods]") {
  std::set<std::string> names;
  for (const NamedMethod& m : attribution_methods()) {
    CHECK(names.insert(m.name).second);
    CHECK(m.run);
    CHECK(!m.help.empty());
    CHECK(m.random == m.reads("seed"));
  }
  CHECK(names == std::set<std::string>{"gradient", "saliency", "input_x_gradient", "smoothgrad",
                                       "integrated_gradients", "deeplift", "deeplift_shap", "gradient_shap",
                                       "feature_ablation", "occlusion", "shapley", "cd"});
  const NamedMethod* ig = find_attribution_method("integrated_gradients");
  REQUIRE(ig);
  CHECK(ig->reads("baseline"));
  CHECK(ig->reads("steps"));
  CHECK(!ig->reads("samples"));
  CHECK(find_attribution_method("cd")->needs_groups);
  CHECK(find_attribution_method("occlusion")->needs_window);
  CHECK(find_attribution_method("gradient_shap")->baseline_set);
  CHECK(find_attribution_method("smoothgrad")->default_samples == 10);
  CHECK(find_attribution_method("integrated gradients") == nullptr);
  CHECK(attribution_method_names().find("gradient, saliency") == 0);
}

TEST_CASE("explain_examples joins calls of 8 examples, each exactly the library call", "[methods]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({11, 5}, 3);
  const NamedMethod& ig = *find_attribution_method("integrated_gradients");
  MethodSettings ms;
  ms.steps = 4;
  ms.baseline = randn({11, 5}, 4);  // one baseline per example: split with the examples
  std::vector<std::pair<int64_t, int64_t>> reports;
  AttributionOptions o;
  o.targets = Targets(std::vector<int64_t>{1, 0});
  o.progress = [&](int64_t done, int64_t total) {
    reports.emplace_back(done, total);
    return true;
  };
  const Attribution all = explain_examples(ig, g, x, ms, o);
  CHECK(all.targets == std::vector<int64_t>{1, 0});
  REQUIRE(all.attributions.shape() == Shape{2, 11, 5});
  REQUIRE(all.delta.shape() == Shape{2, 11});
  for (auto [e0, e1] : {std::pair<int64_t, int64_t>{0, 8}, {8, 11}}) {
    MethodSettings part = ms;
    part.baseline = rows_of(ms.baseline, e0, e1);
    AttributionOptions po;
    po.targets = o.targets;
    const Attribution a = ig.run(g, rows_of(x, e0, e1), po, part);
    CHECK(bit_equal(examples_of(all.attributions, e0, e1), a.attributions));
    CHECK(bit_equal(examples_of(all.delta, e0, e1), a.delta));
  }
  // Units of the whole batch: 4 integration points x 11 examples, rising to the total.
  REQUIRE(!reports.empty());
  int64_t last = 0;
  for (const auto& [done, total] : reports) {
    CHECK(total == 44);
    CHECK(done > last);
    last = done;
  }
  CHECK(last == 44);
}

TEST_CASE("explain_examples: a random method's example does not depend on the batch", "[methods]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({5, 5}, 5);
  const NamedMethod& sg = *find_attribution_method("smoothgrad");
  MethodSettings ms;
  ms.samples = 3;
  ms.stdev = 0.5f;
  ms.seed = 7;
  const Attribution all = explain_examples(sg, g, x, ms);
  REQUIRE(all.attributions.shape() == Shape{2, 5, 5});
  // Example 3 alone with seed 7 + 3, as explain_examples of x[3:] with seed 10 gives it.
  MethodSettings one = ms;
  one.seed = 10;
  const Attribution direct = sg.run(g, rows_of(x, 3, 4), {}, one);
  CHECK(bit_equal(examples_of(all.attributions, 3, 4), direct.attributions));
  const Attribution tail = explain_examples(sg, g, rows_of(x, 3, 5), one);
  CHECK(bit_equal(examples_of(tail.attributions, 0, 2), examples_of(all.attributions, 3, 5)));
  // A different seed gives different noise.
  MethodSettings other = ms;
  other.seed = 8;
  CHECK(!bit_equal(explain_examples(sg, g, x, other).attributions, all.attributions));
}

TEST_CASE("explain_examples refuses what the methods cannot run on", "[methods]") {
  const Graph g = test::smooth_model();
  const Tensor x = randn({3, 5}, 6);
  CHECK_THROWS_AS(explain_examples(*find_attribution_method("cd"), g, x, {}), ValueError);
  CHECK_THROWS_AS(explain_examples(*find_attribution_method("occlusion"), g, x, {}), ValueError);
  MethodSettings two;
  two.baseline = randn({2, 5}, 7);
  CHECK_THROWS_AS(explain_examples(*find_attribution_method("deeplift"), g, x, two), ShapeError);
  AttributionOptions o;
  o.extra_inputs = {randn({2, 5}, 8)};
  CHECK_THROWS_AS(explain_examples(*find_attribution_method("gradient"), g, x, {}, o), ShapeError);
}

TEST_CASE("the method table passes gradient SHAP's convergence_delta, which only gradient_shap reads", "[methods]") {
  for (const NamedMethod& m : attribution_methods()) CHECK(m.reads("convergence_delta") == (m.name == "gradient_shap"));
  const Graph g = test::smooth_model();
  const Tensor x = randn({3, 5}, 9);
  const NamedMethod& gs = *find_attribution_method("gradient_shap");
  MethodSettings ms = gs.defaults();
  CHECK(ms.convergence_delta);
  ms.samples = 4;
  ms.stdev = 0.2f;
  ms.seed = 5;
  ms.baseline = randn({2, 5}, 10);
  const Attribution on = explain_examples(gs, g, x, ms);
  ms.convergence_delta = false;
  const Attribution off = explain_examples(gs, g, x, ms);
  // The same samples either way; off, no delta at all (not zeros).
  CHECK(bit_equal(off.attributions, on.attributions));
  CHECK(off.delta.numel() == 0);
  REQUIRE(on.delta.shape() == Shape{2, 3});
  // On: each example's delta is the library's, called with seed + e.
  for (int64_t e = 0; e < 3; ++e) {
    GradientShapOptions o;
    o.n_samples = 4;
    o.stdev = 0.2f;
    o.seed = 5 + static_cast<uint64_t>(e);
    const Attribution direct = gradient_shap(g, rows_of(x, e, e + 1), ms.baseline, o);
    CHECK(bit_equal(examples_of(on.delta, e, e + 1), direct.delta));
    CHECK(bit_equal(examples_of(on.attributions, e, e + 1), direct.attributions));
  }
}
