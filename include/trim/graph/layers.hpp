#pragma once
/// \file
/// Builders for products of data, reductions and the composite layers that
/// decompose into kinds (LayerNorm, softmax by kinds, SiLU, Mish, GELU's
/// tanh form). Each composite is a small subgraph of Linear, Elementwise,
/// Selection, Structural, Sum and Product nodes, so gradients, DeepLIFT and
/// contextual decomposition pass through it with their guarantees instead
/// of falling back to the gradient at an Opaque node.
///
/// Names: a composite named `ln` creates nodes `ln/mean`, `ln/centred`, ...;
/// an empty name lets the graph number them.

#include <string>
#include <vector>

#include "trim/graph/graph.hpp"
#include "trim/graph/ops/math.hpp"

namespace trim::nn {

// ---- products of two data tensors (Kind::Product) ----------------------------------
/// a ⊙ b, NumPy broadcasting between equal ranks (SiLU, gating, squeeze-excitation).
NodeId multiply(Graph& g, NodeId a, NodeId b, const std::string& name = "");
/// a @ b over the last two axes, leading axes equal, rank ≥ 3 (attention).
NodeId matmul(Graph& g, NodeId a, NodeId b, const std::string& name = "");
/// a / b = a ⊙ reciprocal(b).
NodeId divide(Graph& g, NodeId a, NodeId b, const std::string& name = "");

// ---- reductions and broadcast --------------------------------------------------------
/// Σ over non-batch `axes` (Kind::Linear).
NodeId reduce_sum(Graph& g, NodeId x, const std::vector<int>& axes, bool keepdims = true,
                  const std::string& name = "");
/// Mean over non-batch `axes` (Kind::Linear).
NodeId reduce_mean(Graph& g, NodeId x, const std::vector<int>& axes, bool keepdims = true,
                   const std::string& name = "");
/// Max over non-batch `axes` (Kind::Selection).
NodeId reduce_max(Graph& g, NodeId x, const std::vector<int>& axes, bool keepdims = true,
                  const std::string& name = "");
/// Repeats size-1 axes up to the per-example shape (Kind::Structural).
NodeId broadcast(Graph& g, NodeId x, const Shape& per_example, const std::string& name = "");
/// a + b or a − b of data tensors of equal rank whose shapes broadcast: each
/// side is broadcast explicitly, then summed (Kind::Sum).
NodeId add_broadcast(Graph& g, NodeId a, NodeId b, bool subtract = false, const std::string& name = "");

// ---- scalar functions (Kind::Elementwise) --------------------------------------------
NodeId math(Graph& g, NodeId x, ops::Math::Fn fn, float a = 0.0f, float b = 0.0f, const std::string& name = "");

// ---- composite layers ------------------------------------------------------------------
/// LayerNorm over the axes from `axis` to the last (torch.nn.LayerNorm):
/// (x − mean) ⊙ (var + eps)^(−½) ⊙ weight + bias, with parameters
/// `<name>.weight` and `<name>.bias` (shaped like the normalised axes; ones
/// and zeros, as PyTorch initialises them).
NodeId layer_norm(Graph& g, NodeId x, int axis, const std::string& name, float eps = 1e-5f);
/// exp(x − max) ⊙ 1/Σ exp(x − max) along `axis`: softmax from kinds, so CD
/// and DeepLIFT pass through it (inside attention).
NodeId softmax_by_kinds(Graph& g, NodeId x, int axis = -1, const std::string& name = "");
/// x ⊙ sigmoid(x) (torch.nn.SiLU).
NodeId silu(Graph& g, NodeId x, const std::string& name = "");
/// x ⊙ tanh(softplus(x)) (torch.nn.Mish).
NodeId mish(Graph& g, NodeId x, const std::string& name = "");

}  // namespace trim::nn
