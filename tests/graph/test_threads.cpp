// One finalized graph evaluated from several threads at once, each thread
// with its own workspace, gives exactly the sequential results.
#include <thread>

#include "testing.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"

using namespace trim;

TEST_CASE("concurrent evaluation of one graph is safe and exact", "[graph][threads]") {
  Graph g(11);
  const NodeId x = nn::input(g, "x", {16});
  NodeId h = nn::linear(g, x, 32, "fc1");
  h = nn::add(g, h, nn::linear(g, h, 32, "fc2"), "res");
  const NodeId y = nn::linear(g, h, 3, "out");
  g.set_outputs({y});
  g.finalize();

  const int jobs = 8;
  std::vector<Tensor> inputs, expected_out, expected_grad;
  for (int j = 0; j < jobs; ++j) {
    inputs.push_back(test::randn({5 + j, 16}, 100 + j));
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
