// Activation family: relu, leaky_relu, elu, tanh, sigmoid, softplus, gelu.
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/activation.hpp"
#include "trim/kernels/activation.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

namespace {

using Builder = std::function<NodeId(Graph&, NodeId)>;

/// Fixture key and builder of every configuration torch values exist for.
const std::vector<std::pair<std::string, Builder>>& builders() {
  static const std::vector<std::pair<std::string, Builder>> b{
      {"relu", [](Graph& g, NodeId x) { return nn::relu(g, x, "act"); }},
      {"leaky_relu", [](Graph& g, NodeId x) { return nn::leaky_relu(g, x, 0.01f, "act"); }},
      {"leaky_relu_0_2", [](Graph& g, NodeId x) { return nn::leaky_relu(g, x, 0.2f, "act"); }},
      {"elu", [](Graph& g, NodeId x) { return nn::elu(g, x, 1.0f, "act"); }},
      {"elu_0_5", [](Graph& g, NodeId x) { return nn::elu(g, x, 0.5f, "act"); }},
      {"tanh", [](Graph& g, NodeId x) { return nn::tanh(g, x, "act"); }},
      {"sigmoid", [](Graph& g, NodeId x) { return nn::sigmoid(g, x, "act"); }},
      {"softplus", [](Graph& g, NodeId x) { return nn::softplus(g, x, 1.0f, 20.0f, "act"); }},
      {"softplus_2_5", [](Graph& g, NodeId x) { return nn::softplus(g, x, 2.0f, 5.0f, "act"); }},
      {"gelu", [](Graph& g, NodeId x) { return nn::gelu(g, x, "act"); }},
  };
  return b;
}

/// Normal samples moved into 0.1 <= |x| <= 2.1: away from the kinks of relu
/// / leaky relu / elu at 0 and from softplus_2_5's switch at x = 2.5, where
/// finite differences would straddle a corner or a jump.
Tensor smooth_inputs(const Shape& s, uint64_t seed) {
  Tensor t = randn(s, seed);
  for (float& v : t) v = std::copysign(0.1f + std::min(std::fabs(v), 2.0f), v);
  return t;
}

}  // namespace

TEST_CASE("activations match torch.nn.functional forward and input gradients", "[ops][activation]") {
  const test::Fixture f("activation.txt");
  for (const auto& [name, build] : builders()) {
    INFO(name);
    Graph g;
    const NodeId x = nn::input(g, "x", {12});
    const NodeId y = build(g, x);
    g.set_outputs({y});
    g.finalize();
    CHECK(g.node(y).op->kind() == Kind::Elementwise);
    CHECK(g.shape(y) == Shape{Shape::free, 12});
    Workspace ws;
    forward(g, ws, {f["x"]});
    require_close(ws.value(y), f[name + "_y"], 1e-5, 1e-3, name);
    const Gradients grads = backward(g, ws, {f["u"]});
    require_close(grads.inputs[0], f[name + "_dx"], 1e-4, 1e-3, name);
  }
}

TEST_CASE("activations pass the gradient and kind checks", "[ops][activation]") {
  const Tensor in = smooth_inputs({4, 3, 5}, 21);
  for (const auto& [name, build] : builders()) {
    INFO(name);
    Graph g;
    const NodeId x = nn::input(g, "x", {3, 5});
    const NodeId y = build(g, x);
    g.set_outputs({y});
    g.finalize();
    require_ok(check_gradients(g, {in}));
    require_ok(check_kind(g, y, {in}));
  }
}

TEST_CASE("activations keep their configuration", "[ops][activation]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {4});
  const auto op = [&](NodeId id) { return g.node(id).op.get(); };
  const NodeId lr = nn::leaky_relu(g, x, 0.25f, "lr");
  const NodeId el = nn::elu(g, x, 0.5f, "el");
  const NodeId sp = nn::softplus(g, x, 3.0f, 7.0f, "sp");
  const NodeId def = nn::softplus(g, x);
  REQUIRE(dynamic_cast<const ops::LeakyRelu*>(op(lr))->negative_slope() == 0.25f);
  REQUIRE(dynamic_cast<const ops::Elu*>(op(el))->alpha() == 0.5f);
  REQUIRE(dynamic_cast<const ops::Softplus*>(op(sp))->beta() == 3.0f);
  REQUIRE(dynamic_cast<const ops::Softplus*>(op(sp))->threshold() == 7.0f);
  REQUIRE(dynamic_cast<const ops::Softplus*>(op(def))->beta() == 1.0f);
  REQUIRE(dynamic_cast<const ops::Softplus*>(op(def))->threshold() == 20.0f);
  CHECK(g.node(def).name == "softplus_" + std::to_string(def));
  CHECK(ops::Relu().type() == "relu");
  CHECK(ops::LeakyRelu().type() == "leaky_relu");
  CHECK(ops::LeakyRelu().negative_slope() == 0.01f);
  CHECK(ops::Elu().type() == "elu");
  CHECK(ops::Tanh().type() == "tanh");
  CHECK(ops::Sigmoid().type() == "sigmoid");
  CHECK(ops::Softplus().type() == "softplus");
  CHECK(ops::Gelu().type() == "gelu");
}

TEST_CASE("activations reject bad parameters naming the node", "[ops][activation]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {4});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  REQUIRE_THROWS_AS(nn::softplus(g, x, 0.0f, 20.0f, "sp"), ValueError);
  REQUIRE_THROWS_WITH(nn::softplus(g, x, 0.0f, 20.0f, "sp"), Catch::StartsWith("softplus 'sp': beta"));
  REQUIRE_THROWS_WITH(nn::softplus(g, x, 1.0f, nan, "sp"), Catch::StartsWith("softplus 'sp': threshold"));
  REQUIRE_THROWS_WITH(nn::leaky_relu(g, x, nan, "lr"), Catch::StartsWith("leaky_relu 'lr': negative_slope"));
  REQUIRE_THROWS_WITH(nn::elu(g, x, inf, "e"), Catch::StartsWith("elu 'e': alpha"));
  // A negative β is a valid (if unusual) softplus, as in torch.
  REQUIRE_NOTHROW(nn::softplus(g, x, -1.0f, 20.0f, "neg"));
}

TEST_CASE("activations split large tensors without changing the result", "[ops][activation]") {
  // 3·25000 elements: above the size where forward and backward go parallel.
  const Tensor in = randn({3, 25000}, 9, 3.0f), u = randn({3, 25000}, 10);
  for (const auto& [name, build] : builders()) {
    INFO(name);
    Graph g;
    const NodeId x = nn::input(g, "x", {25000});
    const NodeId y = build(g, x);
    g.set_outputs({y});
    g.finalize();
    Workspace ws;
    forward(g, ws, {in});
    const Op& op = *g.node(y).op;
    Tensor phi(in.shape()), dphi(in.shape());
    op.phi(in.data(), phi.data(), in.numel());
    op.dphi(in.data(), dphi.data(), in.numel());
    REQUIRE(max_abs_diff(ws.value(y), phi) == 0.0f);
    const Gradients grads = backward(g, ws, {u});
    for (int64_t i = 0; i < in.numel(); ++i) dphi[i] *= u[i];
    REQUIRE(max_abs_diff(grads.inputs[0], dphi) <= 1e-6f);
  }
}

TEST_CASE("activations have the torch value at the extremes inside a graph", "[ops][activation]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {5});
  const NodeId s = nn::sigmoid(g, x, "s");
  const NodeId t = nn::tanh(g, x, "t");
  const NodeId sp = nn::softplus(g, x, 1.0f, 20.0f, "sp");
  const NodeId ge = nn::gelu(g, x, "ge");
  g.set_outputs({s, t, sp, ge});
  g.finalize();
  const Tensor in({1, 5}, {-100.f, -20.f, 0.f, 20.f, 100.f});
  const std::vector<Tensor> out = g.evaluate(std::vector<Tensor>{in});
  // torch: sigmoid(±100) = 3.7e-44 / 1, tanh(±100) = ±1, softplus(100) = 100,
  // gelu(-100) = -0, gelu(100) = 100.
  for (const Tensor& o : out)
    for (float v : o) REQUIRE(std::isfinite(v));
  CHECK(out[0][0] < 1e-37f);
  CHECK(out[0][2] == 0.5f);
  CHECK(out[0][4] == 1.0f);
  CHECK(out[1][0] == -1.0f);
  CHECK(out[1][4] == 1.0f);
  CHECK(out[2][0] < 1e-37f);
  CHECK(out[2][3] == Approx(20.0f + 2.0611537e-9f));
  CHECK(out[2][4] == 100.0f);
  CHECK(out[3][0] == 0.0f);
  CHECK(out[3][4] == 100.0f);
}
