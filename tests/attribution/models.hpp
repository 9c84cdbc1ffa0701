#pragma once
// Small models shared by the attribution tests, with fixed random weights.
#include <string>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/graph/nn.hpp"

using trim::nn::Conv2dOptions;

namespace trim::test {

/// y = W x + c, input [*, 6], 3 outputs. Every additive method must give
/// W[t] ⊙ (x − b) exactly.
inline Graph linear_model() {
  Graph g(11);
  NodeId x = nn::input(g, "x", {6});
  g.set_outputs({nn::linear(g, x, 3, "fc")});
  g.finalize();
  g.parameter("fc.bias").value = randn({3}, 12);
  return g;
}

/// Smooth MLP: tanh and softplus, input [*, 5], 2 outputs.
inline Graph smooth_model() {
  Graph g(21);
  NodeId x = nn::input(g, "x", {5});
  x = nn::tanh(g, nn::linear(g, x, 8, "fc1"));
  x = nn::softplus(g, nn::linear(g, x, 6, "fc2"));
  x = nn::sigmoid(g, nn::linear(g, x, 4, "fc3"));
  g.set_outputs({nn::linear(g, x, 2, "out")});
  g.finalize();
  return g;
}

/// Non-trivial statistics and shift for the `channels`-channel batch norm
/// `name` of a finalized graph, so that its bias matters: mean N(0, 0.3²),
/// variance 0.5 + N(0, 0.3²)², shift N(0, 0.2²), drawn from seeds `seed`,
/// seed + 1 and seed + 2.
inline void randomize_batch_norm(Graph& g, const std::string& name, int64_t channels, uint64_t seed) {
  g.parameter(name + ".running_mean").value = randn({channels}, seed, 0.3f);
  Tensor var = randn({channels}, seed + 1, 0.3f);
  for (float& v : var) v = 0.5f + v * v;
  g.parameter(name + ".running_var").value = var;
  g.parameter(name + ".bias").value = randn({channels}, seed + 2, 0.2f);
}

/// Piecewise-linear CNN: conv, batch-norm, ReLU, max-pool, a residual block,
/// leaky ReLU, dense layers. Input [*, 1, 8, 8], 3 outputs.
inline Graph relu_cnn() {
  Graph g(31);
  NodeId x = nn::input(g, "x", {1, 8, 8});
  x = nn::conv2d(g, x, 4, {3, 3}, "conv1", Conv2dOptions().padding(1));
  x = nn::relu(g, nn::batch_norm(g, x, "bn1"));
  x = nn::max_pool2d(g, x, {2, 2});
  NodeId r = nn::relu(g, nn::conv2d(g, x, 4, {3, 3}, "conv2", Conv2dOptions().padding(1)));
  r = nn::conv2d(g, r, 4, {3, 3}, "conv3", Conv2dOptions().padding(1));
  x = nn::leaky_relu(g, nn::add(g, x, r), 0.1f);
  x = nn::flatten(g, x);
  x = nn::relu(g, nn::linear(g, x, 10, "fc1"));
  g.set_outputs({nn::linear(g, x, 3, "fc2")});
  g.finalize();
  randomize_batch_norm(g, "bn1", 4, 32);
  return g;
}

/// The CNN of tests/reference/make_attribution.py (conv 3x3 -> tanh ->
/// max-pool 2 -> linear 3, input [*, 1, 8, 8]) with the fixture's weights.
inline Graph fixture_cnn(const Fixture& f) {
  Graph g(0);
  NodeId x = nn::input(g, "x", {1, 8, 8});
  x = nn::tanh(g, nn::conv2d(g, x, 4, {3, 3}, "conv1", Conv2dOptions().padding(1)));
  x = nn::flatten(g, nn::max_pool2d(g, x, {2, 2}));
  g.set_outputs({nn::linear(g, x, 3, "fc")});
  g.finalize();
  for (const char* p : {"conv1.weight", "conv1.bias", "fc.weight", "fc.bias"}) g.set_parameter(p, f[p]);
  return g;
}

}  // namespace trim::test
