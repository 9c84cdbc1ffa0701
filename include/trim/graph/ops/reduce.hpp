#pragma once
/// \file
/// Reductions over non-batch axes and the broadcast that undoes their
/// shape: the pieces LayerNorm, softmax and squeeze-excitation decompose
/// into. Sum and mean are Kind::Linear (no bias), max is Kind::Selection,
/// broadcast is Kind::Structural.

#include <vector>

#include "trim/graph/op.hpp"

namespace trim::ops {

/// Sum or mean over `axes` (non-batch; negative counts from the end),
/// keeping them as size 1 when `keepdims` (ONNX ReduceSum / ReduceMean).
class Reduce final : public Op {
 public:
  enum Mode { Sum, Mean };
  Reduce(Mode mode, std::vector<int> axes, bool keepdims) : mode_(mode), axes_(std::move(axes)), keepdims_(keepdims) {}
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return mode_ == Sum ? "reduce_sum" : "reduce_mean"; }
  /// ShapeError for an axis out of range, ValueError for the batch axis or a repeat.
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  bool backward_reads_inputs(bool) const override { return true; }  // its shape
  bool backward_reads_output() const override { return false; }
  void forward_unbiased(const OpArgs& args, Tensor& y) const override { forward(args, y); }
  bool has_bias(const OpArgs&) const override { return false; }
  void add_bias(const OpArgs&, Tensor&, float) const override {}
  Mode mode() const { return mode_; }
  const std::vector<int>& axes() const { return axes_; }
  bool keepdims() const { return keepdims_; }

 private:
  Mode mode_;
  std::vector<int> axes_;
  bool keepdims_;
};

/// Maximum over `axes` (ONNX ReduceMax); ties go to the first element.
class ReduceMax final : public Op {
 public:
  ReduceMax(std::vector<int> axes, bool keepdims) : axes_(std::move(axes)), keepdims_(keepdims) {}
  Kind kind() const override { return Kind::Selection; }
  std::string type() const override { return "reduce_max"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  bool backward_reads_output() const override { return false; }
  void select_indices(const OpArgs& args, std::vector<int64_t>& index) const override;
  const std::vector<int>& axes() const { return axes_; }
  bool keepdims() const { return keepdims_; }

 private:
  std::vector<int> axes_;
  bool keepdims_;
};

/// Repeats size-1 axes of x to the per-example shape `target` (same rank
/// as x without the batch): NumPy broadcasting made explicit, so a sum of
/// data tensors of different shapes is a Sum of equal shapes.
class Broadcast final : public Op {
 public:
  explicit Broadcast(Shape per_example) : target_(std::move(per_example)) {}
  Kind kind() const override { return Kind::Structural; }
  std::string type() const override { return "broadcast"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  bool backward_reads_inputs(bool) const override { return true; }  // its shape
  bool backward_reads_output() const override { return false; }
  const Shape& target() const { return target_; }

 private:
  Shape target_;
};

}  // namespace trim::ops
