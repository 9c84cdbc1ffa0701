// Batch normalisation (inference form) against torch eval mode.
#include <string>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/batch_norm.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

TEST_CASE("batch_norm creates PyTorch-named parameters and buffers", "[ops][batch_norm]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {3, 4, 4});
  const NodeId y = nn::batch_norm(g, x, "bn1");
  REQUIRE(g.shape(y) == Shape{Shape::free, 3, 4, 4});
  const auto& op = dynamic_cast<const ops::BatchNorm&>(*g.node(y).op);
  CHECK(op.kind() == Kind::Linear);
  CHECK(op.eps() == 1e-5f);
  for (const char* n : {"weight", "bias", "running_mean", "running_var"})
    REQUIRE(g.parameter(std::string("bn1.") + n).value.shape() == Shape{3});
  CHECK(g.parameter("bn1.weight").value.to_vector() == std::vector<float>(3, 1.0f));
  CHECK(g.parameter("bn1.bias").value.to_vector() == std::vector<float>(3, 0.0f));
  CHECK(g.parameter("bn1.running_mean").value.to_vector() == std::vector<float>(3, 0.0f));
  CHECK(g.parameter("bn1.running_var").value.to_vector() == std::vector<float>(3, 1.0f));
  CHECK(g.parameter("bn1.weight").trainable);
  CHECK(g.parameter("bn1.bias").trainable);
  CHECK_FALSE(g.parameter("bn1.running_mean").trainable);
  CHECK_FALSE(g.parameter("bn1.running_var").trainable);
  CHECK(g.num_trainable() == 6);
  // Re-initialising restores the same starting values.
  g.parameter("bn1.running_var").value.fill(7.0f);
  g.initialize(5);
  CHECK(g.parameter("bn1.running_var").value.to_vector() == std::vector<float>(3, 1.0f));
}

TEST_CASE("batch_norm matches torch BatchNorm1d/2d/3d eval mode and passes the checks", "[ops][batch_norm]") {
  const test::Fixture f("batch_norm.txt");
  int cases = 0;
  for (; f.has("bn." + std::to_string(cases) + ".x"); ++cases) {
    const std::string p = "bn." + std::to_string(cases) + ".";
    INFO("case " << p);
    const Tensor& xv = f[p + "x"];
    Graph g;
    const NodeId y = nn::batch_norm(g, nn::input(g, "x", test::per_example(xv.shape())), "bn", f[p + "eps"][0]);
    g.set_outputs({y});
    g.finalize();
    for (const char* n : {"weight", "bias", "running_mean", "running_var"})
      g.set_parameter(std::string("bn.") + n, f[p + n]);

    Workspace ws;
    forward(g, ws, {xv});
    require_close(ws.value(y), f[p + "y"], 1e-5, 1e-3, p + "y");
    const Gradients grads = backward(g, ws, {f[p + "u"]}, true);
    require_close(grads.inputs[0], f[p + "dx"], 1e-4, 1e-3, p + "dx");
    require_close(grads.params[static_cast<size_t>(g.parameter_index("bn.weight"))], f[p + "dweight"], 1e-4,
                  1e-3, p + "dweight");
    require_close(grads.params[static_cast<size_t>(g.parameter_index("bn.bias"))], f[p + "dbias"], 1e-4, 1e-3,
                  p + "dbias");
    // Running statistics are buffers: no gradient.
    REQUIRE(grads.params[static_cast<size_t>(g.parameter_index("bn.running_mean"))].empty());
    REQUIRE(grads.params[static_cast<size_t>(g.parameter_index("bn.running_var"))].empty());

    require_ok(check_gradients(g, {xv}));
    require_ok(check_kind(g, y, {xv}));
  }
  REQUIRE(cases == 4);
}

TEST_CASE("batch_norm rejects bad inputs naming the layer and the shapes", "[ops][batch_norm]") {
  Graph g;
  const NodeId flat = g.input("flat", {Shape::free});
  REQUIRE_THROWS_WITH(nn::batch_norm(g, flat, "bn0"),
                      Catch::StartsWith("batch_norm 'bn0': input [*], expected rank >= 2"));
  const NodeId x = nn::input(g, "x", {4, 5});
  const int w = g.add_parameter("w", Tensor({4}));
  const int b = g.add_parameter("b", Tensor({4}));
  const int m = g.add_parameter("m", Tensor({3}), Init::keep(), false);
  const int v = g.add_parameter("v", Tensor({4}), Init::ones(), false);
  REQUIRE_THROWS_WITH(g.add(std::make_shared<ops::BatchNorm>(), {x}, {w, b, m, v}, "bn1"),
                      Catch::StartsWith("batch_norm 'bn1': running_mean [3], expected [4] for input [*,4,5]"));
  REQUIRE_THROWS_AS(g.add(std::make_shared<ops::BatchNorm>(), {x}, {w, b, m, v}, "bn1"), ShapeError);
  REQUIRE_THROWS_WITH(g.add(std::make_shared<ops::BatchNorm>(), {x}, {w, b}, "bn2"),
                      Catch::StartsWith("batch_norm 'bn2': 2 parameters, expected 4"));
  REQUIRE_THROWS_WITH(nn::batch_norm(g, x, "bn3", -1.0f), Catch::StartsWith("batch_norm 'bn3': eps"));
}
