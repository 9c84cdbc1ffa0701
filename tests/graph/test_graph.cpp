// Graph construction: naming, parameters, initialisation, finalize rules.
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/dense.hpp"

using namespace trim;

namespace {
Graph mlp(uint64_t seed) {
  Graph g(seed);
  const NodeId x = nn::input(g, "x", {5});
  const NodeId h = nn::linear(g, x, 8, "fc1");
  const NodeId y = nn::linear(g, h, 2, "fc2");
  g.set_outputs({y});
  g.finalize();
  return g;
}
}  // namespace

TEST_CASE("parameters are named, enumerable and settable", "[graph]") {
  Graph g = mlp(1);
  std::vector<std::string> names;
  for (const Parameter& p : g.parameters()) names.push_back(p.name);
  REQUIRE(names == std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"});
  REQUIRE(g.parameter("fc1.weight").value.shape() == Shape{8, 5});
  REQUIRE(g.num_trainable() == 8 * 5 + 8 + 2 * 8 + 2);
  Tensor w({2, 8}, 0.5f);
  g.set_parameter("fc2.weight", w);
  REQUIRE(g.parameter("fc2.weight").value.to_vector() == w.to_vector());
  REQUIRE_THROWS_WITH(g.set_parameter("fc2.weight", Tensor({8, 2})),
                      "parameter 'fc2.weight': value of shape [8,2], expected [2,8]");
  REQUIRE_THROWS_WITH(g.parameter("fc1.weights"), Catch::Contains("no parameter named 'fc1.weights'") &&
                                                      Catch::Contains("fc1.weight"));
}

TEST_CASE("initialisation follows PyTorch's bound and the seed", "[graph]") {
  const Graph a = mlp(3), b = mlp(3), c = mlp(4);
  const Tensor& wa = a.parameter("fc1.weight").value;
  REQUIRE(wa.to_vector() == b.parameter("fc1.weight").value.to_vector());
  REQUIRE(wa.to_vector() != c.parameter("fc1.weight").value.to_vector());
  // fan_in = 5: every value within 1/sqrt(5), and the spread fills the range.
  float lo = 1, hi = -1;
  for (float v : wa) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  REQUIRE(hi <= 1 / std::sqrt(5.0f));
  REQUIRE(lo >= -1 / std::sqrt(5.0f));
  REQUIRE(hi - lo > 0.5f);
  Graph d = mlp(3);
  d.initialize(4);
  REQUIRE(d.parameter("fc1.weight").value.to_vector() == c.parameter("fc1.weight").value.to_vector());
}

TEST_CASE("graph structure errors are reported", "[graph]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {3});
  REQUIRE_THROWS_WITH(nn::input(g, "x", {3}), Catch::Contains("'x' is used twice"));
  REQUIRE_THROWS_WITH(g.input("bad", {2, Shape::free}), Catch::Contains("free dimension other than"));
  nn::linear(g, x, 2, "fc");
  REQUIRE_THROWS_WITH(nn::linear(g, x, 2, "fc"), Catch::Contains("used twice"));
  REQUIRE_THROWS_WITH(g.add(std::make_shared<ops::Add>(), {}, {}, "empty"), Catch::Contains("one or more"));
  REQUIRE_THROWS_WITH(g.finalize(), Catch::Contains("before set_outputs()"));
  REQUIRE_THROWS_WITH(g.evaluate(Tensor({1, 3})), Catch::Contains("before finalize()"));
  g.set_outputs({x});
  g.finalize();
  REQUIRE_THROWS_WITH(nn::linear(g, x, 2, "late"), Catch::Contains("after finalize()"));
  REQUIRE(g.describe(g.find_node("fc")) == "linear 'fc'");
  REQUIRE_THROWS_WITH(g.find_node("nope"), Catch::Contains("no node named 'nope'"));
}

TEST_CASE("dependency flags separate data from constants", "[graph]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {2});
  const NodeId c = nn::constant(g, Tensor({2}, 1.0f), "c");
  const NodeId y = nn::linear(g, x, 2, "fc");
  g.set_outputs({y, c});
  g.finalize();
  REQUIRE(g.depends_on_input(y));
  REQUIRE_FALSE(g.depends_on_input(c));
  REQUIRE(g.depends_on_parameter(y));
  REQUIRE_FALSE(g.depends_on_parameter(c));  // constants are not trainable
}
