#pragma once
/// \file
/// Softmax and log-softmax along one axis (Kind::Opaque: attribution
/// methods fall back to the plain gradient through them).
///
/// The axis may be negative (−1 is the last) but never the batch axis 0:
/// normalising across examples would make one example's output depend on
/// the others in its batch, and every method that batches (integrated
/// gradients, SHAP samples, CD groups) would silently change the answer.

#include "trim/graph/op.hpp"

namespace trim::ops {

/// y = exp(x) / Σ_axis exp(x), computed max-subtracted (torch.softmax).
class Softmax final : public Op {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // reads its output only
  explicit Softmax(int axis = -1) : axis_(axis) {}
  Kind kind() const override { return Kind::Opaque; }
  std::string type() const override { return "softmax"; }
  /// ShapeError for an axis outside the input's rank, ValueError for the batch axis.
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  /// The axis as given (possibly negative).
  int axis() const { return axis_; }

 private:
  int axis_;
};

/// y = x − log Σ_axis exp(x), computed max-subtracted (torch.log_softmax).
class LogSoftmax final : public Op {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // reads its output only
  explicit LogSoftmax(int axis = -1) : axis_(axis) {}
  Kind kind() const override { return Kind::Opaque; }
  std::string type() const override { return "log_softmax"; }
  /// ShapeError for an axis outside the input's rank, ValueError for the batch axis.
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  /// The axis as given (possibly negative).
  int axis() const { return axis_; }

 private:
  int axis_;
};

}  // namespace trim::ops
