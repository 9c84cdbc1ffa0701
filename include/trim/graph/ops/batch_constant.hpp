#pragma once
/// \file
/// A constant repeated for every example of the batch (Kind::Linear with
/// A = 0: the whole output is bias).
///
/// Imported models build such values from the batch size: the class token of
/// a vision transformer (`cls_token.expand(N, -1, -1)`: ONNX Expand to a
/// shape read from the input), a zero initial state (`ConstantOfShape` of
/// [N, ...]). Its input only supplies the batch size; nothing flows back to
/// it, and attribution methods see a bias (CD puts it in the irrelevant part).

#include "trim/graph/op.hpp"

namespace trim::ops {

/// Input: any node [N, ...] (its batch size is used). Param: the value
/// (per-example shape). Output: [N, value shape...].
class BatchConstant final : public Op {
 public:
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "batch_constant"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs&, const Tensor&, const Tensor&, const OpGrads&) const override {}
  bool backward_reads_inputs(bool) const override { return false; }  // nothing flows back
  bool backward_reads_output() const override { return false; }
  void forward_unbiased(const OpArgs&, Tensor& y) const override { y.set_zero(); }
  bool has_bias(const OpArgs&) const override { return true; }
  void add_bias(const OpArgs& args, Tensor& y, float scale) const override;
};

}  // namespace trim::ops
