// Amplitude and phase coefficients of the Fourier transforms (`fft2:polar`,
// `rfft1:polar`): the conversions and the nonlinear inverse op with its
// gradient, DeepLIFT and CD rules (see PolarFourierInverse in fourier.hpp).
#include <cmath>

#include "fourier.hpp"
#include "trim/core/error.hpp"

namespace trim::detail {

void to_polar(Tensor& s) {
  float* p = s.data();
  for (int64_t i = 0; i + 1 < s.numel(); i += 2) {
    const float re = p[i], im = p[i + 1];
    p[i] = std::hypot(re, im);
    p[i + 1] = std::atan2(im, re);
  }
}

void to_cartesian(Tensor& s) {
  float* p = s.data();
  for (int64_t i = 0; i + 1 < s.numel(); i += 2) {
    const float r = p[i], th = p[i + 1];
    p[i] = r * std::cos(th);
    p[i + 1] = r * std::sin(th);
  }
}

namespace {

/// Checks that a tensor has the coefficient shape of `like` (same numel).
void require_same(const Tensor& a, const Tensor& like, const char* what) {
  if (a.shape() != like.shape())
    throw ShapeError(std::string("inverse polar transform: ") + what + " " + a.shape().str() + ", expected " +
                     like.shape().str());
}

}  // namespace

std::string PolarFourierInverse::type() const { return "inverse_" + linear_.family_name() + "_polar"; }

Shape PolarFourierInverse::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                                       const std::string& where) const {
  const Shape& s = in.at(0);
  check_batched(s, linear_.coefficient_shape, where);
  return prepend({s[0]}, linear_.input_shape);
}

void PolarFourierInverse::forward(const OpArgs& a, Tensor& y) const {
  Tensor c = a.input();
  to_cartesian(c);
  linear_.inverse_into(c, y);
}

void PolarFourierInverse::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& grads) const {
  Tensor* ds = grads.input(0);
  if (!ds) return;
  // g = (F⁻¹)ᵀ dy on the (re, im) pairs; then through c = r·(cos θ, sin θ).
  const Tensor g = linear_.adjoint(dy);
  const Tensor& s = a.input();
  const float* ps = s.data();
  const float* pg = g.data();
  float* pd = ds->data();
  for (int64_t i = 0; i + 1 < s.numel(); i += 2) {
    const float r = ps[i], c = std::cos(ps[i + 1]), sn = std::sin(ps[i + 1]);
    pd[i] += pg[i] * c + pg[i + 1] * sn;
    pd[i + 1] += r * (pg[i + 1] * c - pg[i] * sn);
  }
}

void PolarFourierInverse::deeplift_backward(const OpArgs& x, const OpArgs& baseline, const Tensor& dy,
                                            const OpGrads& grads, float eps) const {
  Tensor* ds = grads.input(0);
  if (!ds) return;
  const Tensor& s = x.input();
  const Tensor& b = baseline.input();
  require_same(b, s, "baseline");
  // The multipliers of the (re, im) pairs: F⁻¹ is linear, its rule is its VJP.
  const Tensor g = linear_.adjoint(dy);
  const float* ps = s.data();
  const float* pb = b.data();
  const float* pg = g.data();
  float* pd = ds->data();
  for (int64_t i = 0; i + 1 < s.numel(); i += 2) {
    const double r = ps[i], th = ps[i + 1], r0 = pb[i], th0 = pb[i + 1];
    const double gr = pg[i], gi = pg[i + 1];
    const double c = std::cos(th), sn = std::sin(th), c0 = std::cos(th0), s0 = std::sin(th0);
    // Product rule: Δ(r·u) = ½(u + u0)·Δr + ½(r + r0)·Δu, u = (cos θ, sin θ).
    pd[i] += static_cast<float>(0.5 * (gr * (c + c0) + gi * (sn + s0)));
    const double rbar = 0.5 * (r + r0), dth = th - th0;
    double m;
    if (std::fabs(dth) > eps) {
      // Rescale rule: Δu / Δθ.
      m = rbar * (gr * (c - c0) + gi * (sn - s0)) / dth;
    } else {
      // Δθ → 0: the derivative at the midpoint.
      const double mid = 0.5 * (th + th0);
      m = rbar * (gi * std::cos(mid) - gr * std::sin(mid));
    }
    pd[i + 1] += static_cast<float>(m);
  }
}

void PolarFourierInverse::cd_forward(const OpArgs& rel, const OpArgs& total, Tensor& y) const {
  // The two-term Shapley value of h(r, θ) = r·e^{iθ} between the relevant and
  // the irrelevant part (an absent part is 0, and h(0, 0) = 0):
  // ½[h(rel) + (h(total) − h(total − rel))], then F⁻¹ (linear, no bias).
  const Tensor& sr = rel.input();
  const Tensor& st = total.input();
  require_same(sr, st, "relevant part");
  Tensor c(sr.shape());
  const float* pr = sr.data();
  const float* pt = st.data();
  float* pc = c.data();
  for (int64_t i = 0; i + 1 < sr.numel(); i += 2) {
    const double r = pr[i], th = pr[i + 1], R = pt[i], TH = pt[i + 1];
    const double ri = R - r, thi = TH - th;
    pc[i] = static_cast<float>(0.5 * (r * std::cos(th) + R * std::cos(TH) - ri * std::cos(thi)));
    pc[i + 1] = static_cast<float>(0.5 * (r * std::sin(th) + R * std::sin(TH) - ri * std::sin(thi)));
  }
  linear_.inverse_into(c, y);
}

}  // namespace trim::detail
