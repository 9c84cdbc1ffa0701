#pragma once
/// \file
/// The executor's fused ReLUs: ReLUs a forward for input gradients computes
/// inside the convolution before them (conv → ReLU, and a residual block's
/// conv → add → ReLU), so that the convolution's stores write the ReLU's
/// output and neither the convolution's nor the add's output is written or
/// read again. Only where nothing else reads those two values: the backward
/// pass then runs node by node as usual (the ReLU's backward reads its
/// output, the add's and the convolution's read neither).

#include <vector>

#include "trim/graph/graph.hpp"

namespace trim {

/// One fused ReLU: at `conv`'s turn, the convolution writes max(0, conv +
/// residual) into `relu`'s value; `add` (when ≥ 0) and `relu` are skipped.
struct FusedRelu {
  NodeId conv = -1, add = -1, residual = -1, relu = -1;
};

/// The fused ReLUs of g for a forward that keeps the nodes marked in `kept`
/// (the ReLU's output must be kept: its buffer is its own, so the
/// convolution may write it early), by the node that computes them: entry
/// k has conv == k, or conv == -1.
std::vector<FusedRelu> fused_relus(const Graph& g, const std::vector<char>& kept);

/// A SiLU x·σ(x) built as Mul(x, Sigmoid(x)) (how ONNX exports nn.SiLU),
/// whose sigmoid nothing else reads. The gradient pass differentiates it
/// whole at the product's turn, from the x and σ(x) the product's backward
/// reads anyway: one pass and no exp, where the product and the sigmoid
/// apart take two passes, a cotangent buffer for σ(x) and an exp and a
/// division per element for σ'. The sigmoid's own backward is skipped.
/// Only the gradient pass fuses: DeepLIFT and CD keep one rule per node.
struct FusedSilu {
  NodeId x = -1, sigmoid = -1;
};

/// The SiLUs of g by their product node: entry k has sigmoid ≥ 0 when node
/// k is such a product.
std::vector<FusedSilu> fused_silus(const Graph& g);

}  // namespace trim
