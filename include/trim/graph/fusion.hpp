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

}  // namespace trim
