// Softmax family: softmax and log_softmax along a non-batch axis.
#include <string>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/softmax.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

TEST_CASE("softmax and log_softmax match torch forward and input gradients", "[ops][softmax]") {
  const test::Fixture f("softmax.txt");
  for (bool log : {false, true})
    for (int axis : {1, 2, -1, -2}) {
      const std::string key = std::string(log ? "log_softmax" : "softmax") + std::to_string(axis < 0 ? axis + 3 : axis);
      INFO(key << " (axis given as " << axis << ")");
      Graph g;
      const NodeId x = nn::input(g, "x", {4, 5});
      const NodeId y = log ? nn::log_softmax(g, x, axis, "sm") : nn::softmax(g, x, axis, "sm");
      g.set_outputs({y});
      g.finalize();
      CHECK(g.node(y).op->kind() == Kind::Opaque);
      CHECK(g.shape(y) == Shape{Shape::free, 4, 5});
      Workspace ws;
      forward(g, ws, {f["x"]});
      require_close(ws.value(y), f[key + "_y"], 1e-5, 1e-3, key);
      const Gradients grads = backward(g, ws, {f["u"]});
      require_close(grads.inputs[0], f[key + "_dx"], 1e-4, 1e-3, key);
    }
}

TEST_CASE("softmax and log_softmax pass the gradient and kind checks", "[ops][softmax]") {
  for (bool log : {false, true})
    for (int axis : {1, -1}) {
      INFO((log ? "log_softmax" : "softmax") << " axis " << axis);
      Graph g(4);
      const NodeId x = nn::input(g, "x", {3, 6});
      // No bias: a bias over the last axis is constant along axis 1, where
      // softmax is shift-invariant, so its gradient would be exactly 0 and
      // finite differences would measure only round-off.
      const NodeId h = nn::linear(g, x, 6, "fc", false);
      const NodeId y = log ? nn::log_softmax(g, h, axis) : nn::softmax(g, h, axis);
      g.set_outputs({y});
      g.finalize();
      const Tensor in = randn({5, 3, 6}, 12, 2.0f);
      require_ok(check_gradients(g, {in}));
      require_ok(check_kind(g, y, {in}));
    }
}

TEST_CASE("softmax keeps its axis and rejects the batch axis", "[ops][softmax]") {
  CHECK(ops::Softmax(-2).axis() == -2);
  CHECK(ops::LogSoftmax(2).axis() == 2);
  CHECK(ops::Softmax().axis() == -1);
  CHECK(ops::Softmax().type() == "softmax");
  CHECK(ops::LogSoftmax().type() == "log_softmax");
  Graph g;
  const NodeId x = nn::input(g, "x", {4, 5});
  for (int axis : {0, -3}) {
    REQUIRE_THROWS_AS(nn::softmax(g, x, axis, "sm"), ValueError);
    REQUIRE_THROWS_WITH(nn::log_softmax(g, x, axis, "ls"),
                        Catch::StartsWith("log_softmax 'ls': axis") && Catch::Contains("batch axis") &&
                            Catch::Contains("[*,4,5]"));
  }
  for (int axis : {3, -4}) {
    REQUIRE_THROWS_AS(nn::softmax(g, x, axis, "sm"), ShapeError);
    REQUIRE_THROWS_WITH(nn::softmax(g, x, axis, "sm"),
                        Catch::StartsWith("softmax 'sm': axis " + std::to_string(axis)) &&
                            Catch::Contains("out of range") && Catch::Contains("[*,4,5]"));
  }
  // A [N] input has no axis but the batch.
  Graph flat;
  REQUIRE_THROWS_AS(nn::softmax(flat, nn::input(flat, "v", {}), -1, "sm"), ValueError);
}
