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
  /// fft / rfft only: coefficients are (|s|, arg s) pairs instead of (re, im)
  /// (`fft2:polar`); the inverse is then a nonlinear op (PolarFourierInverse).
  bool polar = false;
  Shape input_shape;                           ///< one example, no batch axis
  Shape coefficient_shape;                     ///< one example, no batch axis

  /// "rfft2": the spec without the normalisation.
  std::string family_name() const;
  std::string spec() const;
  /// The same spec with (re, im) coefficients: the linear part of a polar
  /// transform.
  FourierSpec cartesian() const {
    FourierSpec c = *this;
    c.polar = false;
    return c;
  }
  /// s = T(x), x batched [N, input_shape...].
  Tensor forward(const Tensor& x) const;
  /// x = T⁻¹(s), s batched [N, coefficient_shape...].
  Tensor inverse(const Tensor& s) const;
  /// The same into `x` (given the output shape; its allocation is reused).
  /// Linear part only: `s` holds (re, im) pairs even when `polar`.
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
  /// Linear part only (the adjoint of the (re, im) inverse) when `polar`.
  Tensor adjoint(const Tensor& g) const;
};

/// (re, im) pairs -> (|s|, atan2(im, re)) in place (arg 0 of s = 0).
void to_polar(Tensor& s);
/// (r, θ) pairs -> (r cos θ, r sin θ) in place.
void to_cartesian(Tensor& s);

/// Builds a Fourier transform for examples of shape `input_shape`; throws
/// ShapeError when it has fewer than `d` axes or an axis of size 0.
std::shared_ptr<const Transform> make_fourier(FourierFamily family, int d, kernels::Norm norm,
                                              const Shape& input_shape, bool polar = false);

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

/// The inverse of a polar Fourier transform (`fft2:polar`): x = F⁻¹(r·e^{iθ})
/// for coefficient pairs (r, θ). Nonlinear, so of Kind::Cell with its own
/// rules, each composed of the rules of the kinds it is made of (θ → cos θ,
/// sin θ elementwise; r · cos θ, r · sin θ products; F⁻¹ linear):
/// - backward: the exact VJP, (∂/∂r, ∂/∂θ) of <g, c> with g = (F⁻¹)ᵀ dy;
/// - DeepLIFT: g_re·Δ(r cos θ) + g_im·Δ(r sin θ) split as the Product rule
///   splits a product (each factor at the midpoint of the other) and the
///   rescale rule passes Δcos θ, Δsin θ to Δθ, so Σ m·Δ = <dy, Δy> exactly;
/// - CD: the same composition of the Elementwise two-term Shapley rule
///   (cos, sin of the relevant θ part), the Product rule and the linear F⁻¹.
class PolarFourierInverse final : public Op {
 public:
  explicit PolarFourierInverse(FourierSpec spec) : linear_(spec.cartesian()) {}
  Kind kind() const override { return Kind::Cell; }
  std::string type() const override;
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy, const OpGrads& grads) const override;
  bool backward_reads_output() const override { return false; }
  void deeplift_backward(const OpArgs& x, const OpArgs& baseline, const Tensor& dy, const OpGrads& grads,
                         float eps) const override;
  void cd_forward(const OpArgs& rel, const OpArgs& total, Tensor& y) const override;

 private:
  FourierSpec linear_;  ///< the (re, im) transform
};

}  // namespace trim::detail
