#pragma once
/// \file
/// Internal: the Fourier-family transforms (fft1/2, rfft1/2, dct1/2) and the
/// graph op of their inverse. Public entry points are in
/// `trim/transforms/transform.hpp`; `make_transform` calls `make_fourier`.

#include <memory>
#include <string>

#include "inverse_op.hpp"
#include "trim/graph/op.hpp"
#include "trim/kernels/fft.hpp"
#include "trim/transforms/transform.hpp"

namespace trim::detail {

enum class FourierFamily { Fft, Rfft, Dct };

/// Everything a Fourier transform needs, shared (by value) by the transform
/// and its inverse op so the op does not refer to the transform.
struct FourierSpec {
  FourierFamily family = FourierFamily::Fft;
  int d = 1;                                   ///< number of transformed trailing axes
  kernels::Norm norm = kernels::Norm::Backward;
  Shape input_shape;                           ///< one example, no batch axis
  Shape coefficient_shape;                     ///< one example, no batch axis

  /// "rfft2": the spec without the normalisation.
  std::string family_name() const;
  std::string spec() const;
  /// s = T(x), x batched [N, input_shape...].
  Tensor forward(const Tensor& x) const;
  /// x = T⁻¹(s), s batched [N, coefficient_shape...].
  Tensor inverse(const Tensor& s) const;
  /// The same into `x` (given the output shape; its allocation is reused).
  void inverse_into(const Tensor& s, Tensor& x) const;
  /// (T⁻¹)ᵀ g: the exact adjoint of `inverse` (a real-linear map), g batched
  /// [N, input_shape...] -> [N, coefficient_shape...].
  ///
  /// Gradients and the imaginary part: coefficients are real (re, im) pairs
  /// and the inverse is a real-linear map of all of them, so every re and
  /// every im gets its own gradient, even when the inverse only uses part of
  /// it. For fft1/fft2 the inverse is Re(F⁻¹ s), whose adjoint is c·DFT(g)
  /// (c the inverse's scale: 1/n, 1/√n or 1): both members of a Hermitian
  /// pair (k and −k) receive the gradient, conjugate to each other, and im
  /// parts are not zero. For rfft1/rfft2 the c2r inverse counts each interior
  /// bin of the last axis twice (its Hermitian mirror is implied), so the
  /// adjoint is c·rfftn(g) with those bins doubled; the DC and Nyquist bins'
  /// im parts are ignored by c2r and get gradient 0. For dct1/dct2 the
  /// adjoint of the (scaled) DCT-III is the (scaled) DCT-II with index 0 of
  /// each axis halved (no halving for ortho, where it is the forward DCT).
  Tensor adjoint(const Tensor& g) const;
};

/// Builds a Fourier transform for examples of shape `input_shape`; throws
/// ShapeError when it has fewer than `d` axes or an axis of size 0.
std::shared_ptr<const Transform> make_fourier(FourierFamily family, int d, kernels::Norm norm,
                                              const Shape& input_shape);

/// The inverse of a Fourier transform as a graph op (Kind::Linear, no bias,
/// backward = FourierSpec::adjoint).
class FourierInverse final : public TransformInverseOp {
 public:
  explicit FourierInverse(FourierSpec spec)
      : TransformInverseOp(spec.coefficient_shape, spec.input_shape), spec_(std::move(spec)) {}
  /// "inverse_rfft2" (no norm suffix: types are identifiers).
  std::string type() const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  const FourierSpec& spec() const { return spec_; }

 private:
  void add_adjoint(const Tensor& dy, Tensor& ds) const override;

  FourierSpec spec_;
};

}  // namespace trim::detail
