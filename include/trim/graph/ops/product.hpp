#pragma once
/// \file
/// Products of two data tensors (Kind::Product): gating (SiLU, GELU,
/// squeeze-excitation), normalisation by a data-dependent scale (LayerNorm,
/// softmax) and attention (scores q·kᵀ, weighted values). Each is bilinear in
/// its two inputs, which is all the attribution rules use: the gradient to one
/// operand reads only the other, DeepLIFT's symmetric split and CD's Shapley
/// split of the cross terms are exact (docs/attribution.md).

#include "trim/graph/op.hpp"

namespace trim::ops {

/// y = a ⊙ b with NumPy broadcasting between inputs of equal rank (each
/// axis equal or 1; the batch axis included). A quotient is a product with an
/// elementwise `Reciprocal`.
class Multiply final : public Op {
 public:
  Kind kind() const override { return Kind::Product; }
  std::string type() const override { return "mul"; }
  int arity() const override { return 2; }
  /// ShapeError when the ranks differ or an axis neither matches nor is 1.
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  bool backward_reads_output() const override { return false; }
  bool backward_assigns() const override { return true; }
};

/// y = a @ b over the last two axes: a [N, ..., M, K], b [N, ..., K, P] ->
/// [N, ..., M, P], leading axes equal (rank ≥ 3: the batch never takes part
/// in the matrix product).
class MatMul final : public Op {
 public:
  Kind kind() const override { return Kind::Product; }
  std::string type() const override { return "matmul"; }
  int arity() const override { return 2; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  bool backward_reads_output() const override { return false; }
};

}  // namespace trim::ops
