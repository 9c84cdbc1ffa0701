// Convolution family: conv1d, conv2d (Kind::Linear).
#include <cmath>
#include <string>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/conv.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_ok;

namespace {

const char* const conv2d_cases[] = {"basic",     "stride2",      "asympad",    "dilation2", "groups2",  "depthwise",
                                    "pointwise", "pointwise_s2", "odd_nobias", "wide_same", "dilated_same"};
const char* const conv1d_cases[] = {"basic", "mixed", "pointwise", "groups2_pad"};

int64_t cfg(const Tensor& c, int i) { return static_cast<int64_t>(std::lround(c[i])); }

nn::Conv2dOptions options2d(const test::Fixture& f) {
  const Tensor& c = f["config"];
  nn::Conv2dOptions o;
  o.stride = {cfg(c, 0), cfg(c, 1)};
  o.pads = {cfg(c, 2), cfg(c, 3), cfg(c, 4), cfg(c, 5)};
  o.dilation = {cfg(c, 6), cfg(c, 7)};
  o.groups = cfg(c, 8);
  o.bias = cfg(c, 9) != 0;
  return o;
}

nn::Conv1dOptions options1d(const test::Fixture& f) {
  const Tensor& c = f["config"];
  nn::Conv1dOptions o;
  o.stride = cfg(c, 0);
  o.pad_left = cfg(c, 1);
  o.pad_right = cfg(c, 2);
  o.dilation = cfg(c, 3);
  o.groups = cfg(c, 4);
  o.bias = cfg(c, 5) != 0;
  return o;
}

/// Relative error against a floor of a tenth of the reference's largest value.
void close(const Tensor& a, const Tensor& ref, double rtol, const std::string& what) {
  double m = 0.0;
  for (float v : ref) m = std::max(m, double(std::fabs(v)));
  test::require_close(a, ref, rtol, std::max(1e-3, 0.1 * m), what);
}


/// Builds x -> conv -> output for fixture `f`, runs forward and backward and
/// compares with PyTorch, then runs the gradient and kind checks.
template <class Build>
void check_fixture(const test::Fixture& f, bool bias, Build build) {
  Graph g(5);
  const NodeId x = nn::input(g, "x", test::per_example(f["x"].shape()));
  const NodeId y = build(g, x);
  g.set_outputs({y});
  g.finalize();
  REQUIRE(g.node(y).op->kind() == Kind::Linear);
  g.set_parameter("conv.weight", f["weight"]);
  if (bias) g.set_parameter("conv.bias", f["bias"]);

  Workspace ws;
  forward(g, ws, {f["x"]});
  close(ws.value(y), f["y"], 1e-5, "y");
  const Gradients grads = backward(g, ws, {f["u"]}, true);
  close(grads.inputs[0], f["dx"], 1e-4, "dx");
  close(grads.params[0], f["dweight"], 1e-4, "dweight");
  if (bias) close(grads.params[1], f["dbias"], 1e-4, "dbias");

  require_ok(check_gradients(g, {f["x"]}));
  require_ok(check_kind(g, y, {f["x"]}));
}

}  // namespace

TEST_CASE("conv2d matches torch.nn.functional.conv2d and passes the checks", "[ops][conv]") {
  for (const char* name : conv2d_cases) {
    SECTION(name) {
      const test::Fixture f(std::string("conv2d_") + name + ".txt");
      const nn::Conv2dOptions o = options2d(f);
      const Shape w = f["weight"].shape();
      check_fixture(f, o.bias, [&](Graph& g, NodeId x) { return nn::conv2d(g, x, w[0], {w[2], w[3]}, "conv", o); });
    }
  }
}

TEST_CASE("conv1d matches torch.nn.functional.conv1d and passes the checks", "[ops][conv]") {
  for (const char* name : conv1d_cases) {
    SECTION(name) {
      const test::Fixture f(std::string("conv1d_") + name + ".txt");
      const nn::Conv1dOptions o = options1d(f);
      const Shape w = f["weight"].shape();
      check_fixture(f, o.bias, [&](Graph& g, NodeId x) { return nn::conv1d(g, x, w[0], w[2], "conv", o); });
    }
  }
}

TEST_CASE("conv builders create PyTorch-named, PyTorch-initialised parameters", "[ops][conv]") {
  Graph g(7);
  const NodeId x = nn::input(g, "x", {4, 9, 9});
  nn::Conv2dOptions o;
  o.groups = 2;
  o.stride = {2, 1};
  o.pads = {1, 0, 2, 1};
  o.dilation = {1, 2};
  const NodeId c = nn::conv2d(g, x, 6, {3, 2}, "conv1", o);
  CHECK(g.shape(c) == Shape{Shape::free, 6, 5, 8});  // H: (9+3-2-1)/2+1, W: 9+1-2-1+1
  const Parameter& w = g.parameter("conv1.weight");
  const Parameter& b = g.parameter("conv1.bias");
  CHECK(w.value.shape() == Shape{6, 2, 3, 2});
  CHECK(b.value.shape() == Shape{6});
  const float bound = 1.0f / std::sqrt(12.0f);  // fan_in = C_in/groups · kh · kw
  float wmax = 0.0f;
  for (float v : w.value) wmax = std::max(wmax, std::fabs(v));
  for (float v : b.value) CHECK(std::fabs(v) <= bound);
  CHECK(wmax <= bound);
  CHECK(wmax > 0.5f * bound);

  const auto* op = dynamic_cast<const ops::Conv2d*>(g.node(c).op.get());
  REQUIRE(op != nullptr);
  CHECK(op->type() == "conv2d");
  CHECK(op->stride() == std::array<int64_t, 2>{2, 1});
  CHECK(op->pads() == std::array<int64_t, 4>{1, 0, 2, 1});
  CHECK(op->dilation() == std::array<int64_t, 2>{1, 2});
  CHECK(op->groups() == 2);
  CHECK(op->bias());

  const NodeId x1 = nn::input(g, "s", {3, 10});
  nn::Conv1dOptions o1;
  o1.padding(2).bias = false;
  o1.stride = 3;
  const NodeId c1 = nn::conv1d(g, x1, 5, 4, "conv2", o1);
  CHECK(g.shape(c1) == Shape{Shape::free, 5, 4});
  CHECK(g.parameter("conv2.weight").value.shape() == Shape{5, 3, 4});
  REQUIRE_THROWS_AS(g.parameter("conv2.bias"), ValueError);
  const auto* op1 = dynamic_cast<const ops::Conv1d*>(g.node(c1).op.get());
  REQUIRE(op1 != nullptr);
  CHECK((op1->stride() == 3 && op1->pad_left() == 2 && op1->pad_right() == 2 && op1->dilation() == 1 &&
         op1->groups() == 1 && !op1->bias()));
}

TEST_CASE("conv reports the layer and the shapes on bad arguments", "[ops][conv]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {4, 8, 8});
  // Wrong channel count: a weight made for 3 input channels.
  const int w = g.add_parameter("conv1.weight", Tensor({6, 3, 5, 5}));
  REQUIRE_THROWS_WITH(g.add(std::make_shared<ops::Conv2d>(kernels::Conv2dConfig{}, false), {x}, {w}, "conv1"),
                      Catch::StartsWith("conv2d 'conv1': input [*,4,8,8], expected [*,3,H,W]") &&
                          Catch::Contains("weight [6,3,5,5]"));
  const int b = g.add_parameter("conv1b.weight", Tensor({6, 4, 3, 3}));
  const int bb = g.add_parameter("conv1b.bias", Tensor({5}));
  REQUIRE_THROWS_WITH(g.add(std::make_shared<ops::Conv2d>(kernels::Conv2dConfig{}, true), {x}, {b, bb}, "conv1b"),
                      Catch::StartsWith("conv2d 'conv1b': bias [5], expected [6]"));
  // Kernel larger than the padded input.
  REQUIRE_THROWS_WITH(nn::conv2d(g, x, 2, {11, 3}, "big", nn::Conv2dOptions().padding(1)),
                      Catch::StartsWith("conv2d 'big': kernel 11x3") &&
                          Catch::Contains("larger than the padded input 10x10") && Catch::Contains("[*,4,8,8]"));
  nn::Conv2dOptions dil;
  dil.dilation = {4, 1};
  REQUIRE_THROWS_WITH(nn::conv2d(g, x, 2, {3, 3}, "dil", dil), Catch::Contains("(dilated 9x3)"));
  // Groups must divide the channel counts.
  nn::Conv2dOptions grp;
  grp.groups = 3;
  REQUIRE_THROWS_WITH(nn::conv2d(g, x, 6, {3, 3}, "grp", grp),
                      Catch::StartsWith("conv2d 'grp': groups 3 does not divide the 4 input channels"));
  grp.groups = 4;
  REQUIRE_THROWS_AS(nn::conv2d(g, x, 6, {3, 3}, "grp", grp), ValueError);
  // Negative stride, negative padding, wrong rank.
  REQUIRE_THROWS_WITH(nn::conv2d(g, x, 2, {3, 3}, "neg", nn::Conv2dOptions().strides(-1)),
                      Catch::StartsWith("conv2d 'neg': stride -1x-1, expected >= 1"));
  REQUIRE_THROWS_AS(nn::conv2d(g, x, 2, {3, 3}, "pad", nn::Conv2dOptions().padding(-1)), ValueError);
  REQUIRE_THROWS_WITH(nn::conv1d(g, x, 2, 3, "c1d"), Catch::StartsWith("conv1d 'c1d': input [*,4,8,8], expected rank 3"));
  Graph g1;
  const NodeId s = nn::input(g1, "s", {2, 5});
  REQUIRE_THROWS_WITH(nn::conv1d(g1, s, 2, 7, "long"),
                      Catch::StartsWith("conv1d 'long': kernel 7 (dilated 7) is larger than the padded input 5"));
  // Failed builders left no parameters behind.
  REQUIRE_THROWS_AS(g.parameter("big.weight"), ValueError);
  // A wrong input at run time names the graph input.
  const NodeId ok = nn::conv2d(g, x, 2, {3, 3}, "ok");
  g.set_outputs({ok});
  g.finalize();
  REQUIRE_THROWS_AS(g.evaluate(Tensor({2, 3, 8, 8})), ShapeError);
  const Tensor out = g.evaluate(randn({3, 4, 8, 8}, 1));
  CHECK(out.shape() == Shape{3, 2, 6, 6});
  for (float v : out) REQUIRE(std::isfinite(v));
}
