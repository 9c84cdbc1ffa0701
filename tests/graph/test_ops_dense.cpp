// Dense family: linear, add_constant, mul_constant, constant, add.
#include <algorithm>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/parallel.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/dense.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

TEST_CASE("linear matches torch.nn.Linear forward and gradients", "[ops][dense]") {
  const test::Fixture f("dense.txt");
  Graph g;
  const NodeId x = nn::input(g, "x", {4, 7});
  const NodeId y = nn::linear(g, x, 5, "fc");
  g.set_outputs({y});
  g.finalize();
  g.set_parameter("fc.weight", f["weight"]);
  g.set_parameter("fc.bias", f["bias"]);

  Workspace ws;
  forward(g, ws, {f["x"]});
  require_close(ws.value(y), f["y"], 1e-5);
  const Gradients grads = backward(g, ws, {f["u"]}, true);
  require_close(grads.inputs[0], f["dx"], 1e-4);
  require_close(grads.params[0], f["dweight"], 1e-4);
  require_close(grads.params[1], f["dbias"], 1e-4);
}

TEST_CASE("linear passes the gradient and kind checks", "[ops][dense]") {
  for (bool bias : {true, false}) {
    Graph g(3);
    const NodeId x = nn::input(g, "x", {6});
    const NodeId y = nn::linear(g, x, 4, "fc", bias);
    g.set_outputs({y});
    g.finalize();
    const Tensor in = randn({5, 6}, 11);
    require_ok(check_gradients(g, {in}));
    require_ok(check_kind(g, y, {in}));
  }
}

TEST_CASE("linear reports the layer and both shapes on a mismatch", "[ops][dense]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {100});
  Graph g2;
  const NodeId x2 = nn::input(g2, "x", {128});
  const NodeId fc = nn::linear(g2, x2, 10, "fc1");
  g2.set_outputs({fc});
  g2.finalize();
  REQUIRE_THROWS_WITH(g2.evaluate(Tensor({32, 100})),
                      Catch::Contains("input 'x'") && Catch::Contains("[32,100]") &&
                          Catch::Contains("[*,128]"));
  const int w = g.add_parameter("fc1.weight", Tensor({10, 128}));
  REQUIRE_THROWS_WITH(g.add(std::make_shared<ops::Dense>(false), {x}, {w}, "fc1"),
                      Catch::Contains("linear 'fc1': input [*,100], expected [*,128]"));
}

TEST_CASE("constant arithmetic broadcasts and declares its kind", "[ops][dense]") {
  const Tensor c = randn({3, 1, 5}, 4);
  for (bool add : {true, false}) {
    Graph g;
    const NodeId x = nn::input(g, "x", {3, 4, 5});
    const NodeId y = add ? nn::add_constant(g, x, c, "c") : nn::mul_constant(g, x, c, "c");
    g.set_outputs({y});
    g.finalize();
    const Tensor in = randn({2, 3, 4, 5}, 5);
    const Tensor out = g.evaluate(in);
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 4; ++j)
          for (int64_t k = 0; k < 5; ++k) {
            const float xv = in.at({n, i, j, k}), cv = c.at({i, 0, k});
            REQUIRE(out.at({n, i, j, k}) == Approx(add ? xv + cv : xv * cv));
          }
    require_ok(check_gradients(g, {in}));
    require_ok(check_kind(g, y, {in}));
  }
  Graph g;
  const NodeId x = nn::input(g, "x", {3, 4});
  REQUIRE_THROWS_AS(nn::add_constant(g, x, Tensor({5}), "bad"), ShapeError);
}

TEST_CASE("add sums its inputs and is a Sum node", "[ops][dense]") {
  Graph g;
  const NodeId a = nn::input(g, "a", {2, 3});
  const NodeId b = nn::input(g, "b", {2, 3});
  const NodeId s = nn::add(g, a, nn::linear(g, b, 3, "fc"), "sum");
  g.set_outputs({s});
  g.finalize();
  const std::vector<Tensor> in{randn({4, 2, 3}, 1), randn({4, 2, 3}, 2)};
  require_ok(check_gradients(g, in));
  require_ok(check_kind(g, s, in));
  Graph bad;
  const NodeId p = nn::input(bad, "p", {2});
  const NodeId q = nn::input(bad, "q", {3});
  REQUIRE_THROWS_WITH(nn::add(bad, p, q, "res"), Catch::Contains("add 'res'") && Catch::Contains("[*,2]"));
}

TEST_CASE("add of large tensors is split over threads with the same result", "[ops][dense]") {
  // 3 inputs (one of them twice) of 2 × 40 000 floats: above the split
  // threshold, with a ragged last task.
  Graph g;
  const NodeId a = nn::input(g, "a", {40000});
  const NodeId b = nn::input(g, "b", {40000});
  g.set_outputs({g.add(std::make_shared<ops::Add>(), {a, b, a}, {}, "sum")});
  g.finalize();
  const Tensor x = randn({2, 40000}, 1), y = randn({2, 40000}, 2), u = randn({2, 40000}, 3);
  Tensor sum_ref({2, 40000}), da_ref({2, 40000});
  for (int64_t i = 0; i < x.numel(); ++i) {
    sum_ref[i] = x[i] + y[i] + x[i];  // the order add sums in
    da_ref[i] = u[i] + u[i];
  }
  const int saved = num_threads();
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    INFO(threads << " threads");
    Workspace ws;
    forward(g, ws, {x, y});
    const Gradients gr = backward(g, ws, {u});
    const Tensor& sum = ws.value(g.outputs()[0]);
    CHECK(std::equal(sum.begin(), sum.end(), sum_ref.begin()));
    CHECK(std::equal(gr.inputs[0].begin(), gr.inputs[0].end(), da_ref.begin()));
    CHECK(std::equal(gr.inputs[1].begin(), gr.inputs[1].end(), u.begin()));
  }
  set_num_threads(saved);
}
