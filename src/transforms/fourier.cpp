#include "fourier.hpp"

#include <algorithm>

#include "families.hpp"
#include "trim/core/error.hpp"

namespace trim::detail {

namespace {

using kernels::Norm;

/// The norm whose *forward* scaling equals the *inverse* scaling of `n`:
/// the adjoint of an inverse transform is an unscaled forward transform times
/// the inverse's scale.
Norm swapped(Norm n) {
  switch (n) {
    case Norm::Backward: return Norm::Forward;
    case Norm::Forward: return Norm::Backward;
    case Norm::Ortho: return Norm::Ortho;
  }
  return n;
}

const char* norm_suffix(Norm n) {
  switch (n) {
    case Norm::Backward: return "";
    case Norm::Ortho: return ":ortho";
    case Norm::Forward: return ":forward";
  }
  return "";
}

/// Multiplies, along axis `axis` of `t` (row-major; `inner` elements per
/// index of that axis), each slice k by w(k).
template <class W>
void scale_axis(Tensor& t, int64_t axis_len, int64_t inner, W w) {
  const int64_t outer = t.numel() / (axis_len * inner);
  float* p = t.data();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < axis_len; ++k) {
      const float f = w(k);
      if (f == 1.0f) {
        p += inner;
        continue;
      }
      for (int64_t i = 0; i < inner; ++i) *p++ *= f;
    }
}

class FourierTransform final : public Transform {
 public:
  explicit FourierTransform(FourierSpec s)
      : Transform(s.input_shape, s.coefficient_shape), spec_(std::move(s)) {}
  std::string spec() const override { return spec_.spec(); }
  std::string family() const override { return spec_.family_name(); }
  CoefficientLayout coefficient_layout() const override {
    switch (spec_.family) {
      case FourierFamily::Fft: return CoefficientLayout::Spectrum;
      case FourierFamily::Rfft: return CoefficientLayout::HalfSpectrum;
      case FourierFamily::Dct: return CoefficientLayout::Cosine;
    }
    return CoefficientLayout::Other;
  }
  int axes() const override { return spec_.d; }
  bool polar() const override { return spec_.polar; }
  Tensor forward(const Tensor& x) const override {
    check_batched(x.shape(), input_shape(), "transform '" + spec() + "' forward");
    return spec_.forward(x);
  }
  Tensor inverse(const Tensor& s) const override {
    check_batched(s.shape(), coefficient_shape(), "transform '" + spec() + "' inverse");
    return spec_.inverse(s);
  }
  std::shared_ptr<const Op> inverse_op() const override {
    if (spec_.polar) return std::make_shared<PolarFourierInverse>(spec_);
    return std::make_shared<FourierInverse>(spec_);
  }

 private:
  FourierSpec spec_;
};

}  // namespace

std::string FourierSpec::family_name() const {
  const char* name = family == FourierFamily::Fft ? "fft" : family == FourierFamily::Rfft ? "rfft" : "dct";
  return name + std::to_string(d);
}

std::string FourierSpec::spec() const { return family_name() + norm_suffix(norm) + (polar ? ":polar" : ""); }

Tensor FourierSpec::forward(const Tensor& x) const {
  Tensor s;
  switch (family) {
    case FourierFamily::Fft: s = kernels::fft_real(x, d, norm); break;
    case FourierFamily::Rfft: s = kernels::rfftn(x, d, norm); break;
    case FourierFamily::Dct: return kernels::dct(x, d, 2, norm);
  }
  if (polar) to_polar(s);
  return s;
}

Tensor FourierSpec::inverse(const Tensor& s) const {
  Tensor x;
  if (polar) {
    Tensor c = s;
    to_cartesian(c);
    inverse_into(c, x);
  } else {
    inverse_into(s, x);
  }
  return x;
}

void FourierSpec::inverse_into(const Tensor& s, Tensor& x) const {
  switch (family) {
    case FourierFamily::Fft: kernels::real_ifftn_into(s, d, x, norm); return;
    case FourierFamily::Rfft: kernels::irfftn_into(s, d, input_shape[input_shape.rank() - 1], x, norm); return;
    case FourierFamily::Dct: {
      // Copied, not moved, into x: callers plan x's allocation (graph passes
      // share buffers between nodes).
      const Tensor r = kernels::idct(s, d, 2, norm);
      x.resize(r.shape());
      std::copy(r.begin(), r.end(), x.begin());
      return;
    }
  }
}

Tensor FourierSpec::adjoint(const Tensor& g) const {
  switch (family) {
    case FourierFamily::Fft:
      // <Re(c W s), g> = <s, c conj(W) g> with W_jk = e^{+2πi jk/n}: an
      // unnormalised DFT of g times the inverse's scale c.
      return kernels::fft_real(g, d, swapped(norm));
    case FourierFamily::Rfft: {
      // c2r = Re-part-taking 1-D c2r over the last axis after a complex
      // inverse over the others; the 1-D c2r weighs interior bins by 2.
      Tensor s = kernels::rfftn(g, d, swapped(norm));
      const int64_t n = input_shape[input_shape.rank() - 1];
      const int64_t h = n / 2 + 1;
      scale_axis(s, h, 2, [n](int64_t k) { return (k != 0 && 2 * k != n) ? 2.0f : 1.0f; });
      return s;
    }
    case FourierFamily::Dct: {
      if (norm == Norm::Ortho) return kernels::dct(g, d, 2, Norm::Ortho);
      // DCT-III matrix (REDFT01) = DCT-II matrix (REDFT10) transposed with
      // column 0 halved, per axis; the scale c matches dct with swapped norm.
      Tensor s = kernels::dct(g, d, 2, swapped(norm));
      int64_t inner = 1;
      for (int a = 0; a < d; ++a) {
        const int64_t len = input_shape[input_shape.rank() - 1 - a];
        scale_axis(s, len, inner, [](int64_t k) { return k == 0 ? 0.5f : 1.0f; });
        inner *= len;
      }
      return s;
    }
  }
  return {};
}

std::shared_ptr<const Transform> make_fourier(FourierFamily family, int d, kernels::Norm norm,
                                              const Shape& input_shape, bool polar) {
  FourierSpec s;
  s.family = family;
  s.d = d;
  s.norm = norm;
  s.input_shape = input_shape;
  const std::string where = "transform '" + s.spec() + "'";
  if (polar && family == FourierFamily::Dct)
    throw ValueError(where + ": ':polar' needs complex coefficients (fft or rfft); the DCT's are real");
  s.polar = polar;
  if (input_shape.rank() < d)
    throw ShapeError(where + ": input shape " + input_shape.str() + " has " + std::to_string(input_shape.rank()) +
                     " axes, expected at least " + std::to_string(d));
  for (int64_t v : input_shape)
    if (v < 1) throw ShapeError(where + ": input shape " + input_shape.str() + " must have positive sizes");
  if (input_shape.rank() + 1 > Shape::max_rank)
    throw ShapeError(where + ": input shape " + input_shape.str() + " has too many axes");
  Shape c = input_shape;
  if (family == FourierFamily::Rfft) c[c.rank() - 1] = c[c.rank() - 1] / 2 + 1;
  if (family != FourierFamily::Dct) c.push_back(2);
  s.coefficient_shape = c;
  return std::make_shared<FourierTransform>(std::move(s));
}

namespace {

/// Parses the `[:NORM][:polar]` part of a Fourier spec (in either order) and
/// makes the transform.
std::shared_ptr<const Transform> make_from_spec(FourierFamily family, int d, const std::string& spec,
                                                const Shape& input_shape) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t colon = spec.find(':', start);
    parts.push_back(spec.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  kernels::Norm norm = kernels::Norm::Backward;
  bool polar = false, have_norm = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p == "polar" && !polar) {
      polar = true;
      continue;
    }
    if (p == "polar")
      throw ValueError("'polar' given twice in '" + spec + "'");
    if (have_norm)
      throw ValueError("unexpected part '" + p + "' in '" + spec + "' (expected [:NORM][:polar])");
    if (p == "backward") norm = kernels::Norm::Backward;
    else if (p == "ortho") norm = kernels::Norm::Ortho;
    else if (p == "forward") norm = kernels::Norm::Forward;
    else
      throw ValueError("unknown normalisation '" + p + "' in '" + spec + "' (expected backward, ortho or forward" +
                       (family == FourierFamily::Dct ? "" : ", or polar") + ")");
    have_norm = true;
  }
  return make_fourier(family, d, norm, input_shape, polar);
}

}  // namespace

void add_fourier_families(std::vector<TransformFamily>& table) {
  for (FourierFamily family : {FourierFamily::Fft, FourierFamily::Rfft, FourierFamily::Dct})
    for (int d : {1, 2, 3}) {
      FourierSpec probe;
      probe.family = family;
      probe.d = d;
      TransformFamily f;
      f.name = probe.family_name();
      f.syntax = family == FourierFamily::Dct ? "[:NORM]" : "[:NORM][:polar]";
      f.layout = family == FourierFamily::Fft    ? CoefficientLayout::Spectrum
                 : family == FourierFamily::Rfft ? CoefficientLayout::HalfSpectrum
                                                 : CoefficientLayout::Cosine;
      f.make = [family, d](const std::string& spec, const Shape& input_shape) {
        return make_from_spec(family, d, spec, input_shape);
      };
      f.signal_shape = [family](const std::string& spec, const Shape& coef) -> std::optional<Shape> {
        if (family == FourierFamily::Dct) return coef;
        require_coefficient_rank(coef, 2, spec);
        const int r = coef.rank();
        Shape s;
        for (int a = 0; a + 1 < r; ++a) s.push_back(coef[a]);
        // NumPy's irfft default: an even signal length 2·(m − 1).
        if (family == FourierFamily::Rfft) s[r - 2] = 2 * (coef[r - 2] - 1);
        return s;
      };
      table.push_back(std::move(f));
    }
}

// ---- FourierInverse ----------------------------------------------------------

std::string FourierInverse::type() const { return "inverse_" + spec_.family_name(); }

void FourierInverse::forward(const OpArgs& a, Tensor& y) const {
  // y already has the output shape, so the kernels write into it in place.
  spec_.inverse_into(a.input(), y);
}

void FourierInverse::add_adjoint(const Tensor& dy, Tensor& ds) const {
  const Tensor adj = spec_.adjoint(dy);
  ds.as_vector() += adj.as_vector();
}

}  // namespace trim::detail
