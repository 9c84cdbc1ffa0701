#pragma once
// Internal: what the transforms and their inverse ops share. The inverse is a
// graph op of Kind::Linear from [*, coefficient_shape...] to
// [*, input_shape...] whose backward adds its exact adjoint and reads only dy.
// The base is bias-free (identity, Fourier, wavelets); a dictionary with a
// mean overrides forward_unbiased / has_bias / add_bias.
#include <string>
#include <vector>

#include "trim/graph/op.hpp"

namespace trim::detail {

/// Checks that `x` is [*, per_example...]; throws ShapeError starting with
/// `where` otherwise.
void check_batched(const Shape& x, const Shape& per_example, const std::string& where);

class TransformInverseOp : public Op {
 public:
  TransformInverseOp(Shape coefficient_shape, Shape input_shape)
      : coefficient_shape_(std::move(coefficient_shape)), input_shape_(std::move(input_shape)) {}

  Kind kind() const override { return Kind::Linear; }
  /// [*, coefficient_shape...] -> [*, input_shape...]; ShapeError otherwise.
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  /// ds += (T⁻¹)ᵀ dy.
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy, const OpGrads& grads) const override;
  bool backward_reads_inputs(bool) const override { return false; }  // dy suffices
  bool backward_reads_output() const override { return false; }
  /// The adjoint computed into a temporary before it is added, and a copy of
  /// the coefficients the inverse kernels may keep per thread (FFTW's c2r
  /// destroys its input).
  int64_t scratch_floats(const std::vector<Shape>& inputs, const std::vector<Shape>&,
                         const Shape& output) const override {
    return 2 * inputs.at(0).numel() + output.numel();
  }
  void forward_unbiased(const OpArgs& args, Tensor& y) const override { forward(args, y); }
  bool has_bias(const OpArgs&) const override { return false; }
  void add_bias(const OpArgs&, Tensor&, float) const override {}

 protected:
  /// Adds (T⁻¹)ᵀ dy (dy [N, input_shape...]) to ds [N, coefficient_shape...].
  virtual void add_adjoint(const Tensor& dy, Tensor& ds) const = 0;

 private:
  Shape coefficient_shape_, input_shape_;
};

}  // namespace trim::detail
