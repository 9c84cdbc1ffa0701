#include "trim/transforms/grouping.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

#include "trim/core/check.hpp"
#include "trim/core/error.hpp"

namespace trim {

namespace {

constexpr double kPi = 3.14159265358979323846;

/// What the labels need to know about a Fourier transform: the transformed
/// sizes, whether the last axis is a half spectrum, the number of leading
/// (channel) positions sharing the pattern.
struct FourierLayout {
  std::vector<int64_t> sizes;  ///< input sizes n1..nd of the transformed axes
  bool half = false;           ///< rfft: last axis holds n/2+1 bins
  bool polar = false;          ///< (|s|, arg s) pairs: amplitude and phase get separate groups
  int64_t channels = 1;        ///< product of the leading axes of the input
};

FourierLayout fourier_layout(const Transform& t, const std::string& where) {
  const CoefficientLayout layout = t.coefficient_layout();
  const bool spectrum = layout == CoefficientLayout::Spectrum || layout == CoefficientLayout::HalfSpectrum;
  const int d = spectrum ? t.axes() : 0;
  FourierLayout L;
  if (d < 1 || d > 3)
    throw ValueError(where + ": transform '" + t.spec() +
                     "' has no frequency radius (expected fft1, fft2, fft3, rfft1, rfft2 or rfft3)");
  L.half = layout == CoefficientLayout::HalfSpectrum;
  L.polar = t.polar();
  const Shape& in = t.input_shape();
  if (in.rank() < d)
    throw ShapeError(where + ": input shape " + in.str() + " has fewer than " + std::to_string(d) + " axes");
  for (int i = in.rank() - d; i < in.rank(); ++i) L.sizes.push_back(in[i]);
  L.channels = in.numel(0, in.rank() - d);
  // The coefficient layout must be [channels..., n1.., (n_d or n_d/2+1), 2].
  Shape expect;
  for (int i = 0; i < in.rank(); ++i) expect.push_back(in[i]);
  if (L.half) expect[in.rank() - 1] = in[in.rank() - 1] / 2 + 1;
  expect.push_back(2);
  if (t.coefficient_shape() != expect)
    throw ShapeError(where + ": transform '" + t.spec() + "' has coefficients " + t.coefficient_shape().str() +
                     ", expected " + expect.str());
  return L;
}

/// NumPy's fftfreq(n, spacing) (or rfftfreq for `half`), optionally divided by
/// max |fftfreq(n, spacing)|, evaluated with the same floating-point steps as
/// NumPy so labels on band edges agree bit for bit.
std::vector<double> axis_frequencies(int64_t n, bool half, double spacing, bool normalise) {
  const double val = 1.0 / (static_cast<double>(n) * spacing);
  const int64_t bins = half ? n / 2 + 1 : n;
  std::vector<double> f(static_cast<size_t>(bins));
  const int64_t positive = (n - 1) / 2 + 1;  // fftfreq: 0..positive-1, then negatives
  for (int64_t k = 0; k < bins; ++k) {
    const int64_t signed_k = (half || k < positive) ? k : k - n;
    f[static_cast<size_t>(k)] = static_cast<double>(signed_k) * val;
  }
  if (normalise) {
    const double fmax = static_cast<double>(n / 2) * val;  // max |fftfreq(n)|
    for (double& v : f) v = fmax > 0 ? v / fmax : 0.0;     // n == 1: only the mean
  }
  return f;
}

/// Radius of every frequency bin, row-major over the coefficient grid
/// (without channel and re/im axes).
std::vector<double> bin_radii(const FourierLayout& L, double spacing, bool normalise) {
  const int d = static_cast<int>(L.sizes.size());
  const auto f0 = axis_frequencies(L.sizes[0], L.half && d == 1, spacing, normalise);
  if (d == 1) {
    std::vector<double> r(f0.size());
    for (size_t i = 0; i < f0.size(); ++i) r[i] = std::fabs(f0[i]);
    return r;
  }
  if (d == 3) {
    const auto g0 = axis_frequencies(L.sizes[0], false, spacing, normalise);
    const auto g1 = axis_frequencies(L.sizes[1], false, spacing, normalise);
    const auto g2 = axis_frequencies(L.sizes[2], L.half, spacing, normalise);
    std::vector<double> r(g0.size() * g1.size() * g2.size());
    size_t k = 0;
    for (double a0 : g0)
      for (double a1 : g1)
        for (double a2 : g2) {
          // As NumPy's sqrt((f0**2 + f1**2) + f2**2), without fused multiply-adds.
          volatile double a = a0 * a0;
          volatile double b = a1 * a1;
          volatile double c = a2 * a2;
          volatile double ab = a + b;
          r[k++] = std::sqrt(ab + c);
        }
    return r;
  }
  const auto f1 = axis_frequencies(L.sizes[1], L.half, spacing, normalise);
  std::vector<double> r(f0.size() * f1.size());
  for (size_t i = 0; i < f0.size(); ++i)
    for (size_t j = 0; j < f1.size(); ++j) {
      // volatile: keep the squares rounded separately (no fused multiply-add),
      // as NumPy computes sqrt(f0**2 + f1**2).
      volatile double a = f0[i] * f0[i];
      volatile double b = f1[j] * f1[j];
      r[i * f1.size() + j] = std::sqrt(a + b);
    }
  return r;
}

/// Band of v for ascending edges: the last edge <= v, the top edge closing
/// the last band; -1 outside [edges.front(), edges.back()] (and for NaN).
int32_t band_of(double v, const std::vector<double>& edges) {
  const int nb = static_cast<int>(edges.size()) - 1;
  if (!(v >= edges.front()) || !(v <= edges.back())) return -1;
  if (v == edges.back()) return nb - 1;
  int lo = 0, hi = nb;  // invariant: edges[lo] <= v < edges[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (edges[static_cast<size_t>(mid)] <= v)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

/// Expands per-bin labels over the leading channels and the (re, im) axis.
/// Polar pairs: the amplitude keeps the bin's label b, the phase gets
/// b + n_groups (the phase groups follow the amplitude groups).
std::vector<int32_t> expand(const std::vector<int32_t>& bins, const FourierLayout& L, int32_t n_groups) {
  std::vector<int32_t> labels;
  labels.reserve(static_cast<size_t>(L.channels) * bins.size() * 2);
  for (int64_t c = 0; c < L.channels; ++c)
    for (int32_t b : bins) {
      labels.push_back(b);
      labels.push_back(L.polar && b >= 0 ? b + n_groups : b);
    }
  return labels;
}

/// Polar pairs: the names and centers of the amplitude groups, then the same
/// again for the phase groups.
void split_polar(const FourierLayout& L, Grouping& g) {
  if (!L.polar) return;
  const size_t n = g.names.size();
  for (size_t i = 0; i < n; ++i) {
    g.names.push_back("phase " + g.names[i]);
    g.names[i] = "amplitude " + g.names[i];
    g.centers.push_back(g.centers[i]);
  }
}

std::string fmt(const char* format, double a, double b) {
  char buf[96];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

Grouping banded(const Transform& t, const FourierLayout& L, const std::vector<double>& radii,
                const std::vector<double>& edges, const char* name_format, std::string units) {
  std::vector<int32_t> bins(radii.size());
  for (size_t i = 0; i < radii.size(); ++i) bins[i] = band_of(radii[i], edges);
  Grouping g;
  g.coefficient_shape = t.coefficient_shape();
  g.labels = expand(bins, L, static_cast<int32_t>(edges.size() - 1));
  for (size_t b = 0; b + 1 < edges.size(); ++b) {
    g.names.push_back(fmt(name_format, edges[b], edges[b + 1]));
    g.centers.push_back(0.5 * (edges[b] + edges[b + 1]));
  }
  split_polar(L, g);
  g.units = std::move(units);
  return g;
}

}  // namespace

Tensor Grouping::mask(int group) const {
  if (group < 0 || group >= size())
    throw ValueError("Grouping::mask: group " + std::to_string(group) + " out of range [0, " +
                     std::to_string(size()) + ")");
  if (static_cast<int64_t>(labels.size()) != coefficient_shape.numel())
    throw ShapeError("Grouping::mask: " + std::to_string(labels.size()) + " labels for coefficient shape " +
                     coefficient_shape.str());
  Tensor m(coefficient_shape);
  for (size_t i = 0; i < labels.size(); ++i) m[static_cast<int64_t>(i)] = labels[i] == group ? 1.0f : 0.0f;
  return m;
}

Grouping radial_bands(const Transform& t, int n_bands) {
  const std::string where = "radial_bands";
  if (n_bands < 1) throw ValueError(where + ": n_bands " + std::to_string(n_bands) + ", expected >= 1");
  const FourierLayout L = fourier_layout(t, where);
  const double rmax = std::sqrt(static_cast<double>(L.sizes.size()));
  // numpy.linspace(0, rmax, n_bands + 1): i * step, the last edge exactly rmax.
  const double step = rmax / n_bands;
  std::vector<double> edges(static_cast<size_t>(n_bands) + 1);
  for (int i = 0; i <= n_bands; ++i) edges[static_cast<size_t>(i)] = i * step;
  edges.back() = rmax;
  return banded(t, L, bin_radii(L, 1.0, true), edges, "%.2f-%.2f", "normalised radius");
}

std::vector<double> frequency_radii(const Transform& t) {
  const FourierLayout L = fourier_layout(t, "frequency_radii");
  const std::vector<double> radii = bin_radii(L, 1.0, true);
  std::vector<double> out;
  out.reserve(static_cast<size_t>(L.channels) * radii.size() * 2);
  for (int64_t c = 0; c < L.channels; ++c)
    for (double r : radii) out.insert(out.end(), {r, r});
  return out;
}

Grouping radial_band(const Transform& t, double center, double width) {
  const std::string where = "radial_band";
  if (!(width > 0) || !std::isfinite(width))
    throw ValueError(where + ": width " + std::to_string(width) + ", expected > 0");
  if (!std::isfinite(center)) throw ValueError(where + ": center is not finite");
  const FourierLayout L = fourier_layout(t, where);
  const double lo = center - 0.5 * width, hi = center + 0.5 * width;
  const auto radii = bin_radii(L, 1.0, true);
  std::vector<int32_t> bins(radii.size());
  for (size_t i = 0; i < radii.size(); ++i) bins[i] = (radii[i] >= lo && radii[i] < hi) ? 0 : -1;
  Grouping g;
  g.coefficient_shape = t.coefficient_shape();
  g.labels = expand(bins, L, 1);
  g.names.push_back(fmt("%.2f-%.2f", lo, hi));
  g.centers.push_back(center);
  split_polar(L, g);
  g.units = "normalised radius";
  return g;
}

Grouping physical_bands(const Transform& t, const std::vector<double>& edges, double spacing,
                        const std::string& units) {
  const std::string where = "physical_bands";
  if (!(spacing > 0) || !std::isfinite(spacing))
    throw ValueError(where + ": spacing " + std::to_string(spacing) + ", expected > 0");
  if (edges.size() < 2)
    throw ValueError(where + ": " + std::to_string(edges.size()) + " edges, expected at least 2");
  for (size_t i = 0; i < edges.size(); ++i) {
    if (!std::isfinite(edges[i])) throw ValueError(where + ": edge " + std::to_string(i) + " is not finite");
    if (i > 0 && !(edges[i] > edges[i - 1]))
      throw ValueError(where + ": edges must be strictly ascending (edge " + std::to_string(i) + " = " +
                       std::to_string(edges[i]) + " after " + std::to_string(edges[i - 1]) + ")");
  }
  const FourierLayout L = fourier_layout(t, where);
  auto radii = bin_radii(L, spacing, false);
  if (units == "multipole l") {
    // spacing in arcmin: cycles per arcmin -> cycles per radian -> l = 2 pi f.
    for (double& r : radii) r = 2 * kPi * (r * (180 * 60 / kPi));
  }
  return banded(t, L, radii, edges, "%g-%g", units);
}

Grouping mask_groups(const Transform& t, const Shape& shape, const std::vector<double>& labels,
                     const std::string& what) {
  const Shape& coef = t.coefficient_shape();
  const bool pairs = t.complex_pairs();
  Shape without_pair;
  for (int a = 0; a + 1 < coef.rank(); ++a) without_pair.push_back(coef[a]);
  const bool per_coefficient = shape == coef;
  const bool per_complex = pairs && shape == without_pair;
  if (!per_coefficient && !per_complex)
    throw ShapeError(what + " has shape " + shape.str() + ", expected the coefficient shape " + coef.str() + " of '" +
                     t.spec() + "'" + (pairs ? " (or " + without_pair.str() + ", shared by re and im)" : ""));
  if (static_cast<int64_t>(labels.size()) != shape.numel())
    throw ShapeError(what + ": " + std::to_string(labels.size()) + " labels for shape " + shape.str());
  Grouping g;
  g.coefficient_shape = coef;
  g.labels.reserve(static_cast<size_t>(coef.numel()));
  int32_t largest = -1;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double v = labels[i];
    if (!(v == std::floor(v)) || v < -1 || v > std::numeric_limits<int32_t>::max())
      throw ValueError(what + ": element " + index_text(shape, static_cast<int64_t>(i)) + " is " + std::to_string(v) +
                       "; labels are integers >= 0 (-1: in no group)");
    const auto label = static_cast<int32_t>(v);
    largest = std::max(largest, label);
    g.labels.push_back(label);
    if (per_complex) g.labels.push_back(label);
  }
  if (largest < 0) throw ValueError(what + " puts no coefficient in a group (every label is -1)");
  if (largest >= 100000)
    throw ValueError(what + ": label " + std::to_string(largest) + " is too large (at most 99999 groups)");
  for (int32_t k = 0; k <= largest; ++k) {
    g.names.push_back("group " + std::to_string(k));
    g.centers.push_back(k);
  }
  g.units = "group";
  return g;
}

Tensor bandpass(const Transform& t, const Tensor& x, const Grouping& grouping, int group) {
  const std::string where = "bandpass";
  if (grouping.coefficient_shape != t.coefficient_shape())
    throw ShapeError(where + ": grouping for coefficients " + grouping.coefficient_shape.str() +
                     ", transform '" + t.spec() + "' has " + t.coefficient_shape().str());
  const Shape& in = t.input_shape();
  bool ok = x.rank() == in.rank() + 1;
  for (int i = 0; ok && i < in.rank(); ++i) ok = x.shape()[i + 1] == in[i];
  if (!ok) {
    Shape expect{Shape::free};
    for (int64_t d : in) expect.push_back(d);
    throw ShapeError(where + ": input " + x.shape().str() + ", expected " + expect.str());
  }
  if (group < 0 || group >= grouping.size())
    throw ValueError(where + ": group " + std::to_string(group) + " out of range [0, " +
                     std::to_string(grouping.size()) + ")");
  const Tensor m = grouping.mask(group);
  Tensor s = t.forward(x);
  const int64_t per = m.numel(), n = per == 0 ? 0 : s.numel() / per;
  float* ps = s.data();
  const float* pm = m.data();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < per; ++i) ps[b * per + i] *= pm[i];
  return t.inverse(s);
}

}  // namespace trim
