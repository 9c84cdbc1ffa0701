#pragma once
/// \file
/// Affine ops (Kind::Linear) and the residual sum (Kind::Sum).

#include "trim/graph/op.hpp"

namespace trim::ops {

/// y = x Wᵀ (+ b) over the last axis. Params: weight [out,in], optional bias [out].
class Dense final : public Op {
 public:
  /// Input gradients need only dy and the weights; parameter gradients read the input.
  bool backward_reads_inputs(bool param_grads) const override { return param_grads; }
  bool backward_reads_output() const override { return false; }
  explicit Dense(bool bias) : bias_(bias) {}
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "linear"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  void forward_unbiased(const OpArgs& args, Tensor& y) const override;
  bool has_bias(const OpArgs&) const override { return bias_; }
  void add_bias(const OpArgs& args, Tensor& y, float scale) const override;
  bool bias() const { return bias_; }

 private:
  bool bias_;
};

/// y = x + c or y = x ⊙ c with a constant c (param 0) broadcast NumPy-style
/// against the whole shape of x (trailing-aligned, batch axis included).
class ConstantBinary final : public Op {
 public:
  /// dy and the constant suffice for the input gradient; the constant's own
  /// gradient (when trainable, as LayerNorm's scale) reads the input.
  bool backward_reads_inputs(bool param_grads) const override { return param_grads && mode_ == Mul; }
  bool backward_reads_output() const override { return false; }
  enum Mode { Add, Mul };
  explicit ConstantBinary(Mode mode) : mode_(mode) {}
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return mode_ == Add ? "add_constant" : "mul_constant"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  void forward_unbiased(const OpArgs& args, Tensor& y) const override;
  bool has_bias(const OpArgs&) const override { return mode_ == Add; }
  void add_bias(const OpArgs& args, Tensor& y, float scale) const override;
  Mode mode() const { return mode_; }

 private:
  Mode mode_;
};

/// A constant tensor (param 0); no inputs. Kind::Linear with A = 0, b = value.
class Constant final : public Op {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // dy and parameters suffice
  bool backward_reads_output() const override { return false; }
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "constant"; }
  int arity() const override { return 0; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs&, const Tensor&, const Tensor&, const OpGrads&) const override {}
  void forward_unbiased(const OpArgs&, Tensor& y) const override { y.set_zero(); }
  bool has_bias(const OpArgs&) const override { return true; }
  void add_bias(const OpArgs& args, Tensor& y, float scale) const override;
};

/// Elementwise sum of equal-shape inputs.
class Add final : public Op {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // dy and parameters suffice
  bool backward_reads_output() const override { return false; }
  bool backward_assigns() const override { return true; }
  bool backward_in_place() const override { return true; }  // the input handed dy is left as it is
  bool backward_is_identity() const override { return true; }
  Kind kind() const override { return Kind::Sum; }
  std::string type() const override { return "add"; }
  int arity() const override { return -1; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
};

}  // namespace trim::ops
