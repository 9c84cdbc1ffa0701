#pragma once
// The networks the benchmarks time, built with trim's nn:: helpers, with the
// same layer names and shapes as their PyTorch twins in compare_pytorch.py,
// and a peak-memory reading for the benchmarks' counters.

#include <sys/resource.h>

#include <string>

#include "trim/graph/nn.hpp"

namespace trim::bench {

/// LeNet-5-sized CNN at 28×28: conv 1→20 5×5, max-pool 2, conv 20→50 5×5,
/// max-pool 2, fc 800→500, ReLU, fc 500→10.
inline Graph lenet(uint64_t seed = 0) {
  Graph g(seed);
  NodeId x = nn::input(g, "x", {1, 28, 28});
  x = nn::max_pool2d(g, nn::relu(g, nn::conv2d(g, x, 20, {5, 5}, "conv1")), {2, 2});
  x = nn::max_pool2d(g, nn::relu(g, nn::conv2d(g, x, 50, {5, 5}, "conv2")), {2, 2});
  x = nn::relu(g, nn::linear(g, nn::flatten(g, x), 500, "fc1"));
  g.set_outputs({nn::linear(g, x, 10, "fc2")});
  g.finalize();
  return g;
}

namespace detail {
inline NodeId conv_bn(Graph& g, NodeId x, int64_t out, int64_t k, int64_t stride, const std::string& conv,
                      const std::string& bn) {
  nn::Conv2dOptions o;
  o.strides(stride).padding(k / 2).bias = false;
  return nn::batch_norm(g, nn::conv2d(g, x, out, {k, k}, conv, o), bn);
}

/// torchvision's BasicBlock, with the same parameter names.
inline NodeId basic_block(Graph& g, NodeId x, int64_t out, int64_t stride, const std::string& p) {
  const int64_t in = g.shape(x)[1];
  NodeId y = nn::relu(g, conv_bn(g, x, out, 3, stride, p + ".conv1", p + ".bn1"));
  y = conv_bn(g, y, out, 3, 1, p + ".conv2", p + ".bn2");
  NodeId shortcut = x;
  if (stride != 1 || in != out) shortcut = conv_bn(g, x, out, 1, stride, p + ".downsample.0", p + ".downsample.1");
  return nn::relu(g, nn::add(g, y, shortcut, p + ".add"));
}
}  // namespace detail

/// torchvision's ResNet-18 with a `channels`-channel input and `outputs` outputs.
inline Graph resnet18(int64_t size, int64_t outputs = 3, uint64_t seed = 0, int64_t channels = 1) {
  Graph g(seed);
  NodeId x = nn::input(g, "x", {channels, size, size});
  x = nn::relu(g, detail::conv_bn(g, x, 64, 7, 2, "conv1", "bn1"));
  x = nn::max_pool2d(g, x, {3, 3}, nn::Pool2dOptions().strides(2).padding(1));
  const int64_t widths[4] = {64, 128, 256, 512};
  for (int l = 0; l < 4; ++l)
    for (int b = 0; b < 2; ++b)
      x = detail::basic_block(g, x, widths[l], (l > 0 && b == 0) ? 2 : 1,
                              "layer" + std::to_string(l + 1) + "." + std::to_string(b));
  x = nn::flatten(g, nn::global_avg_pool(g, x));
  g.set_outputs({nn::linear(g, x, outputs, "fc")});
  g.finalize();
  return g;
}

/// The process's peak resident memory so far, in GiB (getrusage). Run one
/// benchmark per process (--benchmark_filter) to read it for that case.
inline double peak_rss_gib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KB on Linux
}

/// Multiply–adds ×2 of the convolutions and dense layers for one example.
inline double flops_per_example(const Graph& g) {
  double flops = 0;
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    const std::string type = n.op->type();
    if (type != "conv2d" && type != "conv1d" && type != "linear") continue;
    const double weights = static_cast<double>(g.parameters()[static_cast<size_t>(n.params[0])].value.numel());
    double positions = 1;  // output positions per example sharing the weights
    if (type != "linear")
      for (int a = 2; a < n.shape.rank(); ++a) positions *= static_cast<double>(n.shape[a]);
    flops += 2 * weights * positions;
  }
  return flops;
}

}  // namespace trim::bench
