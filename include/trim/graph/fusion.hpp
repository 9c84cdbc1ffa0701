#pragma once
/// \file
/// The executor's fused ReLUs: ReLUs a forward for input gradients computes
/// inside the node before them (conv → ReLU, a residual block's conv → add
/// → ReLU, (concat →) batch norm → ReLU, and conv → ReLU6), so that the
/// producer's stores write the ReLU's output and neither its output nor the
/// add's (nor the concatenation) is written or read again. Only where
/// nothing else reads those values: the backward pass then runs node by node
/// as usual (the ReLU's and the clip's backward read their output; the
/// add's, the convolution's, the batch norm's and the concat's read none).

#include <vector>

#include "trim/graph/graph.hpp"

namespace trim {

/// One fused ReLU: at `producer`'s turn, the convolution or batch norm
/// writes max(0, producer + residual) into `relu`'s value; `add` (when ≥ 0,
/// only after a convolution) and `relu` are skipped. The "ReLU" may also be
/// a Clip(0, hi) with hi > 0 (ReLU6, how ONNX exports nn.ReLU6) after a
/// convolution: clip_max is then hi and the producer writes
/// min(max(·, 0), hi).
///
/// A batch norm whose input is a concatenation along the channel axis that
/// nothing else reads (DenseNet's layers) is computed earlier still: at the
/// concat's turn, from the concatenation's inputs where they lie (`concat`
/// is that node); neither the concatenation nor the batch norm's output is
/// formed. The gradient pass still runs the concat's backward.
struct FusedRelu {
  NodeId producer = -1, add = -1, residual = -1, relu = -1;
  float clip_max = 0.0f;  ///< > 0: the fused node is Clip(0, clip_max)
  NodeId concat = -1;     ///< ≥ 0: the producer is a batch norm of this concatenation
};

/// The fused ReLUs of g for a forward that keeps the nodes marked in `kept`
/// (the ReLU's output must be kept: its buffer is its own, so the
/// producer may write it early), by the node that computes them: entry k
/// has producer == k, or concat == k, or producer == -1.
std::vector<FusedRelu> fused_relus(const Graph& g, const std::vector<char>& kept);

/// The batch norms whose input gradient the gradient pass computes at the
/// turn of the ReLU after them, from the ReLU's output and output gradient
/// (one pass instead of the ReLU's masking pass and the batch norm's
/// scaling pass): entry k, for a ReLU k, is that batch norm, or -1. Only
/// where the ReLU alone reads the batch norm and comes right after it in
/// node order (no other backward runs between their turns, so the batch
/// norm's input cotangent may start at the ReLU's turn), and only for
/// input gradients (a parameter gradient needs the batch norm's own
/// backward).
std::vector<NodeId> relu_batch_norms(const Graph& g);

/// A ReLU whose backward (with the batch norm's before it, when
/// relu_batch_norms pairs them) can run in the input gradient's stores of
/// the 2-D convolution after it (kernels::ConvGradientEpilogue), which then
/// writes x's cotangent (the ReLU's input's, or the batch norm's).
struct ConvRelu {
  NodeId relu = -1, batch_norm = -1, x = -1;
};

/// Entry k, for a convolution k, is its ConvRelu (relu −1: none). Only
/// where the convolution alone reads the ReLU and comes right after it in
/// node order, for input gradients alone (as relu_batch_norms). The
/// backward pass fuses them where x's cotangent starts there (no later node
/// reads x): plan_reverse_order's `writes` then gives the convolution x as
/// its one input.
std::vector<ConvRelu> conv_relus(const Graph& g);

/// A SiLU x·σ(x) built as Mul(x, Sigmoid(x)) (how ONNX exports nn.SiLU),
/// whose sigmoid nothing else reads. The forward computes both values in
/// one pass at the product's turn (the sigmoid's turn is skipped: only the
/// product reads it). The gradient pass differentiates it
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
