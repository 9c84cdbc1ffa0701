// One finalized graph evaluated from several threads at once, each thread
// with its own workspace, gives exactly the sequential results.
#include <thread>

#include "testing.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"

using namespace trim;

namespace {

Graph mlp() {
  Graph g(11);
  const NodeId x = nn::input(g, "x", {16});
  NodeId h = nn::linear(g, x, 32, "fc1");
  h = nn::add(g, h, nn::linear(g, h, 32, "fc2"), "res");
  g.set_outputs({nn::linear(g, h, 3, "out")});
  g.finalize();
  return g;
}

/// Conv, batch norm, pooling, a residual add: kernels that use parallel_for
/// themselves, now called from several threads at once.
Graph cnn() {
  Graph g(12);
  const NodeId x = nn::input(g, "x", {2, 12, 12});
  NodeId h = nn::relu(g, nn::batch_norm(g, nn::conv2d(g, x, 6, {3, 3}, "conv1", nn::Conv2dOptions().padding(1)), "bn1"));
  h = nn::add(g, h, nn::conv2d(g, h, 6, {3, 3}, "conv2", nn::Conv2dOptions().padding(1)), "res");
  h = nn::max_pool2d(g, h, {2, 2});
  g.set_outputs({nn::linear(g, nn::flatten(g, h), 3, "fc")});
  g.finalize();
  return g;
}

void check_concurrent(const Graph& g, const Shape& per_example) {
  const NodeId y = g.outputs()[0];
  const int jobs = 8;
  std::vector<Tensor> inputs, expected_out, expected_grad;
  for (int j = 0; j < jobs; ++j) {
    Shape s{5 + j};
    for (int64_t d : per_example) s.push_back(d);
    inputs.push_back(test::randn(s, 100 + j));
    Workspace ws;
    forward(g, ws, {inputs.back()});
    expected_out.push_back(ws.value(y));
    expected_grad.push_back(backward(g, ws, {Tensor({5 + j, 3}, 1.0f)}, true).inputs[0]);
  }

  std::vector<Tensor> out(jobs), grad(jobs);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      Workspace ws;  // one per thread, reused for its jobs
      for (int rep = 0; rep < 5; ++rep)
        for (int j = t; j < jobs; j += 4) {
          forward(g, ws, {inputs[j]});
          out[j] = ws.value(y);
          grad[j] = backward(g, ws, {Tensor({5 + j, 3}, 1.0f)}, true).inputs[0];
        }
    });
  for (auto& th : threads) th.join();
  for (int j = 0; j < jobs; ++j) {
    REQUIRE(out[j].to_vector() == expected_out[j].to_vector());
    REQUIRE(grad[j].to_vector() == expected_grad[j].to_vector());
  }
}

}  // namespace

TEST_CASE("concurrent evaluation of one graph is safe and exact", "[graph][threads]") {
  check_concurrent(mlp(), {16});
  check_concurrent(cnn(), {2, 12, 12});
}
