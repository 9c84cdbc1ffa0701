// Structural family: reshape, flatten, transpose, concat, slice, pad.
#include <array>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/structural.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

namespace {


/// Runs `g` (single output) on `inputs`, compares the output with `y` and
/// the input gradients for cotangent `u` with `dx` (exact copies: tight).
void require_matches(const Graph& g, const std::vector<Tensor>& inputs, const Tensor& y, const Tensor& u,
                     const std::vector<Tensor>& dx) {
  Workspace ws;
  forward(g, ws, inputs);
  require_close(ws.value(g.outputs()[0]), y, 1e-6, 1e-3, "forward");
  const Gradients grads = backward(g, ws, {u});
  for (size_t i = 0; i < dx.size(); ++i) require_close(grads.inputs[i], dx[i], 1e-6, 1e-3, "gradient");
}

/// check_gradients and check_kind on the graph's output node.
void require_checks(Graph& g, const std::vector<Tensor>& inputs) {
  require_ok(check_gradients(g, inputs));
  require_ok(check_kind(g, g.outputs()[0], inputs));
}

Graph single(const Shape& in_shape, const std::function<NodeId(Graph&, NodeId)>& build) {
  Graph g;
  const NodeId x = nn::input(g, "x", in_shape);
  g.set_outputs({build(g, x)});
  g.finalize();
  return g;
}

}  // namespace

TEST_CASE("transpose matches torch.permute", "[ops][structural]") {
  const test::Fixture f("structural.txt");
  const Tensor& x = f["t_x"];
  const std::vector<std::pair<std::string, std::vector<int>>> cases{
      {"t0231", {0, 2, 3, 1}}, {"t0312", {0, 3, 1, 2}}, {"t0132", {0, 1, 3, 2}}, {"t0213", {0, 2, 1, 3}}};
  for (const auto& [name, perm] : cases) {
    INFO(name);
    Graph g = single(test::per_example(x.shape()), [&, p = perm](Graph& gr, NodeId in) { return nn::transpose(gr, in, p, "t"); });
    const NodeId y = g.outputs()[0];
    CHECK(g.node(y).op->kind() == Kind::Structural);
    CHECK(g.shape(y)[0] == Shape::free);
    CHECK(dynamic_cast<const ops::Transpose&>(*g.node(y).op).perm() == perm);
    require_matches(g, {x}, f[name + "_y"], f[name + "_u"], {f[name + "_dx0"]});
    require_checks(g, {x});
  }
}

TEST_CASE("concat matches torch.cat", "[ops][structural]") {
  const test::Fixture f("structural.txt");
  {
    Graph g;
    const NodeId a = nn::input(g, "a", {3, 4}), b = nn::input(g, "b", {2, 4}), c = nn::input(g, "c", {1, 4});
    const NodeId y = nn::concat(g, {a, b, c}, 1, "cat");
    g.set_outputs({y});
    g.finalize();
    CHECK(g.shape(y) == Shape{Shape::free, 6, 4});
    CHECK(dynamic_cast<const ops::Concat&>(*g.node(y).op).axis() == 1);
    const std::vector<Tensor> in{f["c_a"], f["c_b"], f["c_c"]};
    require_matches(g, in, f["c1_y"], f["c1_u"], {f["c1_dx0"], f["c1_dx1"], f["c1_dx2"]});
    require_checks(g, in);
  }
  {
    Graph g;
    const NodeId p = nn::input(g, "p", {3, 1}), q = nn::input(g, "q", {3, 2});
    g.set_outputs({nn::concat(g, {p, q}, -1, "cat")});
    g.finalize();
    const std::vector<Tensor> in{f["c_p"], f["c_q"]};
    require_matches(g, in, f["c2_y"], f["c2_u"], {f["c2_dx0"], f["c2_dx1"]});
    require_checks(g, in);
  }
  {
    // The same node fed twice: both gradient contributions add up.
    Graph g;
    const NodeId p = nn::input(g, "p", {3, 2});
    g.set_outputs({nn::concat(g, {p, p}, 2, "twice")});
    g.finalize();
    require_checks(g, {randn({2, 3, 2}, 3)});
  }
}

TEST_CASE("slice matches torch slicing", "[ops][structural]") {
  const test::Fixture f("structural.txt");
  const Tensor& x = f["s_x"];  // [2,5,6]
  struct Case {
    std::string name;
    int axis;
    int64_t start, end, step;
  };
  for (const Case& c : {Case{"s1", 1, 1, 5, 2}, Case{"s2", 2, -4, 100, 3}, Case{"s3", -1, 2, -1, 1},
                        Case{"s4", 1, 4, 5, 1}}) {
    INFO(c.name);
    Graph g = single(test::per_example(x.shape()), [&](Graph& gr, NodeId in) {
      return nn::slice(gr, in, c.axis, c.start, c.end, c.step, "s");
    });
    const auto& op = dynamic_cast<const ops::Slice&>(*g.node(g.outputs()[0]).op);
    CHECK(op.axis() == c.axis);
    CHECK(op.start() == c.start);
    CHECK(op.end() == c.end);
    CHECK(op.step() == c.step);
    require_matches(g, {x}, f[c.name + "_y"], f[c.name + "_u"], {f[c.name + "_dx0"]});
    require_checks(g, {x});
  }
}

TEST_CASE("pad matches torch.nn.functional.pad and declares its kind by value", "[ops][structural]") {
  const test::Fixture f("structural.txt");
  const Tensor& x = f["p_x"];  // [2,3,4]
  const std::vector<std::array<int64_t, 2>> p0{{1, 2}, {0, 3}}, p1{{0, 1}, {2, 1}};
  {
    Graph g = single(test::per_example(x.shape()), [&](Graph& gr, NodeId in) { return nn::pad(gr, in, p0, 0.0f, "p"); });
    const auto& op = dynamic_cast<const ops::Pad&>(*g.node(g.outputs()[0]).op);
    CHECK(op.kind() == Kind::Structural);
    CHECK(op.pads() == p0);
    CHECK(op.value() == 0.0f);
    CHECK(g.shape(g.outputs()[0]) == Shape{Shape::free, 6, 7});
    require_matches(g, {x}, f["p0_y"], f["p0_u"], {f["p0_dx0"]});
    require_checks(g, {x});
  }
  {
    Graph g = single(test::per_example(x.shape()), [&](Graph& gr, NodeId in) { return nn::pad(gr, in, p1, 1.5f, "p"); });
    const auto& op = dynamic_cast<const ops::Pad&>(*g.node(g.outputs()[0]).op);
    CHECK(op.kind() == Kind::Linear);
    CHECK(op.value() == 1.5f);
    require_matches(g, {x}, f["p1_y"], f["p1_u"], {f["p1_dx0"]});
    require_checks(g, {x});
    // Its unbiased part pads with zeros; the bias is 1.5 on the border only.
    OpArgs args;
    args.inputs.push_back(&x);
    Tensor unbiased(f["p1_y"].shape()), bias(f["p1_y"].shape());
    op.forward_unbiased(args, unbiased);
    op.add_bias(args, bias, 2.0f);
    for (int64_t i = 0; i < bias.numel(); ++i) {
      const bool border = f["p1_y"][i] == 1.5f;  // x holds no exact 1.5
      REQUIRE(bias[i] == (border ? 3.0f : 0.0f));
      REQUIRE(unbiased[i] == (border ? 0.0f : f["p1_y"][i]));
    }
  }
}

TEST_CASE("reshape and flatten keep the data and the free batch", "[ops][structural]") {
  const Tensor x = randn({2, 3, 4, 5}, 17), u = randn({2, 60}, 18);
  struct Case {
    std::string what;
    std::function<NodeId(Graph&, NodeId)> build;
    Shape shape;
  };
  const std::vector<Case> cases{
      {"reshape {5,-1,2}", [](Graph& g, NodeId in) { return nn::reshape(g, in, Shape{5, -1, 2}, "r"); },
       Shape{Shape::free, 5, 6, 2}},
      {"reshape {60}", [](Graph& g, NodeId in) { return nn::reshape(g, in, Shape{60}, "r"); }, Shape{Shape::free, 60}},
      {"flatten 1", [](Graph& g, NodeId in) { return nn::flatten(g, in, 1, "f"); }, Shape{Shape::free, 60}},
      {"flatten 2", [](Graph& g, NodeId in) { return nn::flatten(g, in, 2, "f"); }, Shape{Shape::free, 3, 20}},
      {"flatten -1", [](Graph& g, NodeId in) { return nn::flatten(g, in, -1, "f"); }, Shape{Shape::free, 3, 4, 5}},
      {"flatten 4", [](Graph& g, NodeId in) { return nn::flatten(g, in, 4, "f"); }, Shape{Shape::free, 3, 4, 5, 1}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Graph g = single({3, 4, 5}, c.build);
    const NodeId y = g.outputs()[0];
    REQUIRE(g.shape(y) == c.shape);
    CHECK(g.node(y).op->kind() == Kind::Structural);
    // torch.reshape / flatten keep the row-major order: same data, new shape.
    const Tensor want = x.reshaped(c.shape.with_batch(2));
    const Tensor uu = u.reshaped(c.shape.with_batch(2));
    require_matches(g, {x}, want, uu, {uu.reshaped(x.shape())});
    require_checks(g, {x});
    // Any batch size runs through the same graph.
    CHECK(g.evaluate(randn({5, 3, 4, 5}, 1)).shape() == c.shape.with_batch(5));
  }
  CHECK(ops::Reshape(Shape{5, -1}).per_example().str() == Shape{5, -1}.str());
  CHECK(ops::Flatten(2).axis() == 2);
}

TEST_CASE("structural ops compose inside a network", "[ops][structural]") {
  // linear -> reshape -> transpose -> pad -> two slices -> concat -> flatten -> linear
  Graph g(7);
  const NodeId x = nn::input(g, "x", {12});
  const NodeId h = nn::linear(g, x, 24, "fc1");
  const NodeId r = nn::reshape(g, h, {2, 3, 4});                  // [*,2,3,4]
  const NodeId t = nn::transpose(g, r, {0, 3, 1, 2});             // [*,4,2,3]
  const NodeId p = nn::pad(g, t, {{0, 1}, {1, 0}, {2, 2}}, 0.25f);  // [*,5,3,7]
  const NodeId s = nn::slice(g, p, 3, 1, 7, 2);                   // [*,5,3,3]
  const NodeId s2 = nn::slice(g, p, -1, 0, 2);                    // [*,5,3,2]
  const NodeId c = nn::concat(g, {s, s2}, 3);
  const NodeId y = nn::linear(g, nn::flatten(g, c), 3, "fc2");
  g.set_outputs({y});
  g.finalize();
  CHECK(g.shape(c) == Shape{Shape::free, 5, 3, 5});
  require_ok(check_gradients(g, {randn({3, 12}, 8)}));
}

TEST_CASE("structural ops report bad arguments with the node and the shapes", "[ops][structural]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {3, 4});
  // reshape
  REQUIRE_THROWS_AS(nn::reshape(g, x, {5, 2}, "r"), ShapeError);
  REQUIRE_THROWS_WITH(nn::reshape(g, x, {5, 2}, "r"),
                      Catch::StartsWith("reshape 'r': input [*,3,4] has 12 elements per example") &&
                          Catch::Contains("[5,2] has 10"));
  REQUIRE_THROWS_WITH(nn::reshape(g, x, {5, -1}, "r"), Catch::StartsWith("reshape 'r'") && Catch::Contains("[5,-1]"));
  REQUIRE_THROWS_AS(nn::reshape(g, x, {-1, -1}, "r"), ValueError);
  REQUIRE_THROWS_AS(nn::reshape(g, x, {0, 12}, "r"), ValueError);
  // flatten
  REQUIRE_THROWS_AS(nn::flatten(g, x, 0, "f"), ValueError);
  REQUIRE_THROWS_WITH(nn::flatten(g, x, 4, "f"), Catch::StartsWith("flatten 'f': axis 4") && Catch::Contains("[*,3,4]"));
  // transpose
  REQUIRE_THROWS_AS(nn::transpose(g, x, {0, 2, 2}, "t"), ValueError);
  REQUIRE_THROWS_WITH(nn::transpose(g, x, {0, 2, 2}, "t"), Catch::Contains("[0,2,2] is not a permutation"));
  REQUIRE_THROWS_WITH(nn::transpose(g, x, {1, 0, 2}, "t"),
                      Catch::StartsWith("transpose 't'") && Catch::Contains("batch axis"));
  REQUIRE_THROWS_AS(nn::transpose(g, x, {0, 1}, "t"), ShapeError);
  REQUIRE_THROWS_WITH(nn::transpose(g, x, {0, 1}, "t"), Catch::Contains("[*,3,4] has rank 3"));
  // concat
  const NodeId other = nn::input(g, "o", {2, 5});
  REQUIRE_THROWS_AS(nn::concat(g, {x, other}, 1, "c"), ShapeError);
  REQUIRE_THROWS_WITH(nn::concat(g, {x, other}, 1, "c"),
                      Catch::StartsWith("concat 'c': input 1 [*,2,5] does not match input 0 [*,3,4]"));
  REQUIRE_THROWS_AS(nn::concat(g, {x, x}, 0, "c"), ValueError);
  REQUIRE_THROWS_WITH(nn::concat(g, {x, nn::input(g, "v", {12})}, 1, "c"), Catch::Contains("rank"));
  REQUIRE_THROWS_WITH(nn::concat(g, {x, x}, 3, "c"), Catch::Contains("out of range"));
  // slice
  REQUIRE_THROWS_AS(nn::slice(g, x, 1, 3, 10, 1, "s"), ShapeError);
  REQUIRE_THROWS_WITH(nn::slice(g, x, 1, 3, 10, 1, "s"),
                      Catch::StartsWith("slice 's': start 3 is out of range for axis 1") && Catch::Contains("[*,3,4]"));
  REQUIRE_THROWS_WITH(nn::slice(g, x, 2, -5, 2, 1, "s"), Catch::Contains("out of range"));
  REQUIRE_THROWS_WITH(nn::slice(g, x, 2, 2, 1, 1, "s"), Catch::Contains("empty"));
  REQUIRE_THROWS_AS(nn::slice(g, x, 2, 0, 4, 0, "s"), ValueError);
  REQUIRE_THROWS_AS(nn::slice(g, x, 0, 0, 1, 1, "s"), ValueError);
  // pad
  REQUIRE_THROWS_AS(nn::pad(g, x, {{1, 1}}, 0.0f, "p"), ShapeError);
  REQUIRE_THROWS_WITH(nn::pad(g, x, {{1, 1}}, 0.0f, "p"), Catch::StartsWith("pad 'p'") && Catch::Contains("[*,3,4]"));
  REQUIRE_THROWS_AS(nn::pad(g, x, {{1, 1}, {-1, 0}}, 0.0f, "p"), ValueError);
  // Nothing above was added: the graph still finalizes and runs.
  g.set_outputs({x});
  g.finalize();
}
