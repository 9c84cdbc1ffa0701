// Pooling family: max_pool1d/2d, avg_pool1d/2d, global_avg_pool.
#include <cmath>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/pool.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

namespace {

/// Builds a one-node graph from a fixture case (config layout in
/// tests/reference/make_pool.py) through the nn:: builders.
struct PoolGraph {
  Graph g;
  NodeId y = -1;

  PoolGraph(bool max, const Tensor& c, const Shape& x_shape) {
    const auto v = [&](int64_t i) { return static_cast<int64_t>(std::lround(c[i])); };
    const NodeId x = nn::input(g, "x", test::per_example(x_shape));
    if (c.numel() == 6) {
      nn::Pool1dOptions o;
      o.stride = v(1);
      o.pad_left = v(2);
      o.pad_right = v(3);
      o.ceil_mode = v(4) != 0;
      o.count_include_pad = v(5) != 0;
      y = max ? nn::max_pool1d(g, x, v(0), o, "pool") : nn::avg_pool1d(g, x, v(0), o, "pool");
    } else {
      nn::Pool2dOptions o;
      o.stride = {v(2), v(3)};
      o.pads = {v(4), v(5), v(6), v(7)};
      o.ceil_mode = v(8) != 0;
      o.count_include_pad = v(9) != 0;
      y = max ? nn::max_pool2d(g, x, {v(0), v(1)}, o, "pool") : nn::avg_pool2d(g, x, {v(0), v(1)}, o, "pool");
    }
    g.set_outputs({y});
    g.finalize();
  }
};

/// Forward and input gradient against torch, then the gradient and kind checks.
void check_case(const test::Fixture& f, const std::string& p, bool max) {
  INFO("case " << p);
  const Tensor& x = f[p + ".x"];
  PoolGraph pg(max, f[p + ".config"], x.shape());
  REQUIRE(pg.g.shape(pg.y)[0] == Shape::free);
  Workspace ws;
  forward(pg.g, ws, {x});
  require_close(ws.value(pg.y), f[p + ".y"], 1e-5, 1e-3, p + " forward");
  const Gradients grads = backward(pg.g, ws, {f[p + ".u"]});
  require_close(grads.inputs[0], f[p + ".dx"], 1e-4, 1e-3, p + " dx");
  if (max && f.has(p + ".idx")) {
    std::vector<int64_t> index;
    OpArgs args;
    args.inputs.push_back(&x);
    pg.g.node(pg.y).op->select_indices(args, index);
    const Tensor& ref = f[p + ".idx"];
    REQUIRE(static_cast<int64_t>(index.size()) == ref.numel());
    for (int64_t j = 0; j < ref.numel(); ++j) REQUIRE(index[static_cast<size_t>(j)] == std::lround(ref[j]));
  }
  // Max-pool inputs are 0.1 apart (no ties), so finite differences are valid.
  require_ok(check_gradients(pg.g, {x}));
  require_ok(check_kind(pg.g, pg.y, {x}));
}

template <class Fn>
int for_cases(const test::Fixture& f, const std::string& family, Fn fn) {
  int n = 0;
  for (; f.has(family + "." + std::to_string(n) + ".config"); ++n) fn(family + "." + std::to_string(n));
  return n;
}

}  // namespace

TEST_CASE("max_pool1d/2d match torch and pass the gradient and kind checks", "[ops][pool]") {
  const test::Fixture f("pool_max.txt");
  int n = for_cases(f, "max2d", [&](const std::string& p) { check_case(f, p, true); });
  n += for_cases(f, "max1d", [&](const std::string& p) { check_case(f, p, true); });
  REQUIRE(n == 9);
}

TEST_CASE("avg_pool1d/2d match torch and pass the gradient and kind checks", "[ops][pool]") {
  const test::Fixture f("pool_avg.txt");
  int n = for_cases(f, "avg2d", [&](const std::string& p) { check_case(f, p, false); });
  n += for_cases(f, "avg1d", [&](const std::string& p) { check_case(f, p, false); });
  REQUIRE(n == 12);
}

TEST_CASE("global_avg_pool matches torch adaptive pooling and is Linear", "[ops][pool]") {
  const test::Fixture f("pool_global.txt");
  for (int i = 0; i < 3; ++i) {
    const std::string p = "global." + std::to_string(i);
    const Tensor& x = f[p + ".x"];
    Graph g;
    const NodeId y = nn::global_avg_pool(g, nn::input(g, "x", test::per_example(x.shape())), "gap");
    g.set_outputs({y});
    g.finalize();
    Shape expected = x.shape();
    expected[0] = Shape::free;
    for (int a = 2; a < x.rank(); ++a) expected[a] = 1;
    REQUIRE(g.shape(y) == expected);
    Workspace ws;
    forward(g, ws, {x});
    require_close(ws.value(y), f[p + ".y"], 1e-5, 1e-3, p + " forward");
    const Gradients grads = backward(g, ws, {f[p + ".u"]});
    require_close(grads.inputs[0], f[p + ".dx"], 1e-4, 1e-3, p + " dx");
    require_ok(check_gradients(g, {x}));
    require_ok(check_kind(g, y, {x}));
  }
}

TEST_CASE("pool ops expose their configuration in ONNX order", "[ops][pool]") {
  Graph g;
  const NodeId x2 = nn::input(g, "x2", {3, 9, 10});
  nn::Pool2dOptions o2;
  o2.stride = {0, 3};
  o2.pads = {1, 0, 0, 1};
  o2.ceil_mode = true;
  o2.count_include_pad = false;
  const NodeId a2 = nn::avg_pool2d(g, x2, {2, 3}, o2, "a2");
  const auto& avg = dynamic_cast<const ops::AvgPool&>(*g.node(a2).op);
  CHECK(avg.type() == "avg_pool2d");
  CHECK(avg.spatial_dims() == 2);
  CHECK(avg.kernel_shape() == std::vector<int64_t>{2, 3});
  CHECK(avg.strides() == std::vector<int64_t>{2, 3});  // stride 0 became the kernel size
  CHECK(avg.pads() == std::vector<int64_t>{1, 0, 0, 1});
  CHECK(avg.ceil_mode());
  CHECK_FALSE(avg.count_include_pad());

  const NodeId x1 = nn::input(g, "x1", {2, 12});
  nn::Pool1dOptions o1;
  o1.padding(1);
  const NodeId m1 = nn::max_pool1d(g, x1, 3, o1);
  const auto& mp = dynamic_cast<const ops::MaxPool&>(*g.node(m1).op);
  CHECK(mp.type() == "max_pool1d");
  CHECK(g.node(m1).name == "max_pool1d_" + std::to_string(m1));
  CHECK(mp.kind() == Kind::Selection);
  CHECK(mp.spatial_dims() == 1);
  CHECK(mp.kernel_shape() == std::vector<int64_t>{3});
  CHECK(mp.strides() == std::vector<int64_t>{3});
  CHECK(mp.pads() == std::vector<int64_t>{1, 1});
  CHECK_FALSE(mp.ceil_mode());
  CHECK(g.shape(m1) == Shape{Shape::free, 2, 4});
}

TEST_CASE("pool ops reject bad arguments naming the layer and the shapes", "[ops][pool]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {3, 8, 8});
  const NodeId s = nn::input(g, "s", {3, 5});

  REQUIRE_THROWS_WITH(nn::max_pool2d(g, s, {2, 2}, {}, "p1"),
                      Catch::StartsWith("max_pool2d 'p1': input [*,3,5], expected [N,C,H,W]"));
  REQUIRE_THROWS_AS(nn::max_pool2d(g, s, {2, 2}, {}, "p1"), ShapeError);
  REQUIRE_THROWS_WITH(nn::avg_pool1d(g, x, 2, {}, "p2"),
                      Catch::StartsWith("avg_pool1d 'p2': input [*,3,8,8], expected [N,C,L]"));

  nn::Pool2dOptions wide;
  wide.padding(2);
  REQUIRE_THROWS_WITH(nn::avg_pool2d(g, x, {3, 3}, wide, "p3"),
                      Catch::StartsWith("avg_pool2d 'p3': padding {top,left,bottom,right} = {2,2,2,2}") &&
                          Catch::Contains("half the kernel size [3,3]"));
  REQUIRE_THROWS_AS(nn::avg_pool2d(g, x, {3, 3}, wide, "p3"), ValueError);

  REQUIRE_THROWS_WITH(nn::max_pool2d(g, x, {9, 4}, {}, "p4"),
                      Catch::StartsWith("max_pool2d 'p4': input [*,3,8,8] padded to [8,8] is smaller than the kernel [9,4]"));
  REQUIRE_THROWS_WITH(nn::max_pool1d(g, s, 6, {}, "p5"),
                      Catch::StartsWith("max_pool1d 'p5': input [*,3,5] padded to 5 is smaller than the kernel 6"));

  nn::Pool2dOptions neg;
  neg.stride = {-1, 1};
  REQUIRE_THROWS_WITH(nn::max_pool2d(g, x, {2, 2}, neg, "p6"),
                      Catch::StartsWith("max_pool2d 'p6': stride [-1,1], expected positive"));
  nn::Pool1dOptions negpad;
  negpad.pad_left = -1;
  REQUIRE_THROWS_WITH(nn::avg_pool1d(g, s, 2, negpad, "p7"),
                      Catch::StartsWith("avg_pool1d 'p7': padding {left,right} = {-1,0}, expected non-negative"));
  REQUIRE_THROWS_WITH(nn::max_pool2d(g, x, {0, 2}, {}, "p8"),
                      Catch::StartsWith("max_pool2d 'p8': kernel size [0,2], expected positive"));

  const NodeId flat = nn::input(g, "flat", {6});
  REQUIRE_THROWS_WITH(nn::global_avg_pool(g, flat, "gap"),
                      Catch::StartsWith("global_avg_pool 'gap': input [*,6], expected rank >= 3"));
}
