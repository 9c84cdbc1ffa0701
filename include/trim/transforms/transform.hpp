#pragma once
/// \file
/// `Transform`: the T of TRIM. A transform is bound to the shape of one
/// example (without the batch axis) and acts on its trailing axes, keeping
/// the leading ones (channels): `fft2` on [1,64,64] gives coefficients
/// [1,64,64,2]. Complex coefficients are a trailing axis of 2 (re, im).
///
/// A TRIM model is `model ∘ inverse`: `inverse_op()` is a graph op of kind
/// Linear (no bias) with an exact adjoint as its backward, so gradients,
/// DeepLIFT and contextual decomposition flow through it with no special
/// case.
///
/// Spec strings (used by the CLI): `identity`, `fft1`, `fft2`, `rfft1`,
/// `rfft2`, `dct1`, `dct2`, optionally followed by `:backward` (default),
/// `:ortho` or `:forward` with NumPy's meaning of `norm`.

#include <memory>
#include <string>

#include "trim/core/tensor.hpp"
#include "trim/graph/graph.hpp"

namespace trim {

class Transform {
 public:
  virtual ~Transform() = default;

  /// The spec string that recreates this transform, e.g. "rfft2:ortho".
  virtual std::string spec() const = 0;
  /// Shape of one example (no batch axis) the transform was made for.
  const Shape& input_shape() const { return input_shape_; }
  /// Shape of one example's coefficients (no batch axis).
  const Shape& coefficient_shape() const { return coefficient_shape_; }
  /// Number of trailing axes of the input the transform acts on.
  virtual int axes() const = 0;

  /// s = T(x) for a batch x [N, input_shape...] -> [N, coefficient_shape...].
  virtual Tensor forward(const Tensor& x) const = 0;
  /// x = T⁻¹(s) for a batch [N, coefficient_shape...] -> [N, input_shape...].
  /// For `fft1`/`fft2` (full spectrum of a real signal) this is the real part
  /// of the complex inverse.
  virtual Tensor inverse(const Tensor& s) const = 0;
  /// The inverse as a graph op: Kind::Linear without bias, input
  /// [*, coefficient_shape...], output [*, input_shape...], backward = exact
  /// adjoint. The op does not refer to this object (it may outlive it).
  virtual std::shared_ptr<const Op> inverse_op() const = 0;
  /// True when inverse(forward(x)) == x for every x (up to rounding).
  virtual bool exact() const { return true; }

 protected:
  Transform(Shape input_shape, Shape coefficient_shape)
      : input_shape_(std::move(input_shape)), coefficient_shape_(std::move(coefficient_shape)) {}

 private:
  Shape input_shape_;
  Shape coefficient_shape_;
};

/// Parses a spec string for examples of shape `input_shape` (no batch axis).
/// Throws ValueError naming the bad part of the spec ("unknown transform
/// 'fft3' in 'fft3:ortho'", "unknown normalisation 'orth'") and ShapeError
/// when the input has too few axes.
std::shared_ptr<const Transform> make_transform(const std::string& spec, const Shape& input_shape);

/// Adds the inverse of `t` to a graph after node `coefficients` (which must
/// have shape [*, t.coefficient_shape()...]).
NodeId add_inverse(Graph& g, NodeId coefficients, const Transform& t, const std::string& name = "inverse");

}  // namespace trim
