#pragma once
/// \file
/// Clip (clamp) to [lo, hi] (Kind::Elementwise): ONNX Clip, torch.clamp,
/// torch.nn.Hardtanh and ReLU6.

#include <limits>
#include <string>

#include "trim/graph/graph.hpp"
#include "trim/graph/ops/activation.hpp"

namespace trim::ops {

/// y = min(max(x, lo), hi). φ' is 1 strictly inside (lo, hi) and 0 elsewhere;
/// torch's clamp gradient also passes 1 exactly on a bound, a difference
/// confined to a set of measure zero. NaN propagates. Either bound may be
/// infinite (one-sided clip); lo ≤ hi and neither may be NaN (ValueError
/// when the node is added).
class Clip final : public Activation {
 public:
  Clip(float lo, float hi) : lo_(lo), hi_(hi) {}
  std::string type() const override { return "clip"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void phi(const float* x, float* y, int64_t n) const override;
  void dphi(const float* x, float* d, int64_t n) const override;
  /// Activation's backward in one pass, read off the output as the ReLU's
  /// is (lo < x < hi exactly where lo < y < hi): a forward for input
  /// gradients keeps the clip's output only, and a convolution before a
  /// Clip(0, hi) (ReLU6) may write that output directly (the executor's
  /// fused ReLU, graph/fusion.hpp).
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy, const OpGrads& grads) const override;
  bool backward_reads_inputs(bool) const override { return false; }
  bool backward_reads_output() const override { return true; }
  bool backward_in_place() const override { return true; }
  float lo() const { return lo_; }
  float hi() const { return hi_; }

 private:
  float lo_, hi_;
};

}  // namespace trim::ops

namespace trim::nn {

/// Clamps every element to [lo, hi] (torch.clamp(x, lo, hi)); pass ±infinity
/// for a one-sided clip. Declared here rather than in nn.hpp.
NodeId clip(Graph& g, NodeId x, float lo, float hi, const std::string& name = "");

}  // namespace trim::nn
