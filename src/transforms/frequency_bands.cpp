#include "trim/transforms/frequency_bands.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "trim/core/error.hpp"
#include "trim/transforms/stft.hpp"

namespace trim {

namespace {

constexpr double kSlaneyHzPerMel = 200.0 / 3;  // linear part: 0 to 1000 Hz
constexpr double kSlaneyLogHz = 1000.0;        // where the log part starts
constexpr double kSlaneyLogMel = kSlaneyLogHz / kSlaneyHzPerMel;  // 15
const double kSlaneyLogStep = std::log(6.4) / 27.0;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void require_rate(double rate, const std::string& where) {
  if (!(rate > 0) || !std::isfinite(rate))
    throw ValueError(where + ": sample rate " + num(rate) + ", expected a positive number of samples per second");
}

void require_edges(const std::vector<double>& edges, const std::string& where) {
  if (edges.size() < 2) throw ValueError(where + ": " + std::to_string(edges.size()) + " edges, expected at least 2");
  for (size_t i = 0; i < edges.size(); ++i) {
    if (!std::isfinite(edges[i])) throw ValueError(where + ": edge " + std::to_string(i) + " is not finite");
    if (i > 0 && !(edges[i] > edges[i - 1]))
      throw ValueError(where + ": edges must be strictly ascending (" + num(edges[i]) + " after " +
                       num(edges[i - 1]) + ")");
  }
}

/// Band of v for ascending edges (lo ≤ v < hi, the top edge closing the last
/// band); -1 outside.
int32_t band_index(double v, const std::vector<double>& edges) {
  if (!(v >= edges.front()) || !(v <= edges.back())) return -1;
  if (v == edges.back()) return static_cast<int32_t>(edges.size()) - 2;
  return static_cast<int32_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin()) - 1;
}

/// The index of the first group no label names, or -1.
int first_empty(const Grouping& g) {
  std::vector<char> used(static_cast<size_t>(g.size()), 0);
  for (int32_t l : g.labels)
    if (l >= 0) used[static_cast<size_t>(l)] = 1;
  for (int b = 0; b < g.size(); ++b)
    if (!used[static_cast<size_t>(b)]) return b;
  return -1;
}

/// What the coefficients of a 1-D frequency transform reach: "bins every
/// 125 Hz from 0 to 4000 Hz" for messages.
std::string reach_hz(const Transform& t, double rate) {
  const std::vector<double> f = coefficient_frequencies_hz(t, rate);
  double step = 0;
  for (double v : f)
    if (v > 0 && (step == 0 || v < step)) step = v;
  return "'" + t.spec() + "' on " + std::to_string(t.input_shape().dim(-1)) + " samples at " + num(rate) +
         " Hz has frequencies every " + num(step) + " Hz from 0 to the largest, " +
         num(*std::max_element(f.begin(), f.end())) + " Hz";
}

Grouping hz_grouping(const Transform& t, const std::vector<double>& freqs, const std::vector<double>& edges) {
  Grouping g;
  g.coefficient_shape = t.coefficient_shape();
  g.labels.resize(freqs.size());
  for (size_t i = 0; i < freqs.size(); ++i) g.labels[i] = band_index(freqs[i], edges);
  return g;
}

}  // namespace

double hz_to_mel(double hz, MelScale scale) {
  if (scale == MelScale::Htk) return 2595.0 * std::log10(1.0 + hz / 700.0);
  if (hz >= kSlaneyLogHz) return kSlaneyLogMel + std::log(hz / kSlaneyLogHz) / kSlaneyLogStep;
  return hz / kSlaneyHzPerMel;
}

double mel_to_hz(double mel, MelScale scale) {
  if (scale == MelScale::Htk) return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
  if (mel >= kSlaneyLogMel) return kSlaneyLogHz * std::exp(kSlaneyLogStep * (mel - kSlaneyLogMel));
  return kSlaneyHzPerMel * mel;
}

std::vector<double> mel_frequencies(int n, double fmin, double fmax, MelScale scale) {
  if (n < 1) throw ValueError("mel_frequencies: n " + std::to_string(n) + ", expected >= 1");
  const double lo = hz_to_mel(fmin, scale), hi = hz_to_mel(fmax, scale);
  std::vector<double> f(static_cast<size_t>(n));
  // numpy.linspace(lo, hi, n): i·step + lo, the last point exactly hi.
  const double step = n > 1 ? (hi - lo) / (n - 1) : 0.0;
  for (int i = 0; i < n; ++i) f[static_cast<size_t>(i)] = mel_to_hz(n > 1 && i == n - 1 ? hi : i * step + lo, scale);
  return f;
}

std::vector<double> coefficient_frequencies_hz(const Transform& t, double rate) {
  const std::string where = "frequencies of '" + t.spec() + "'";
  require_rate(rate, where);
  const CoefficientLayout layout = t.coefficient_layout();
  const Shape& coef = t.coefficient_shape();
  std::vector<double> f;
  f.reserve(static_cast<size_t>(coef.numel()));
  if (layout == CoefficientLayout::TimeFrequency) {
    const StftTransform& s = as_stft(t, where);
    const double df = rate / static_cast<double>(s.options().n_fft);
    for (int64_t c = 0; c < s.channels(); ++c)
      for (int64_t k = 0; k < s.bins(); ++k)
        for (int64_t m = 0; m < 2 * s.frames(); ++m) f.push_back(static_cast<double>(k) * df);
    return f;
  }
  const bool spectrum = layout == CoefficientLayout::Spectrum || layout == CoefficientLayout::HalfSpectrum;
  if (t.axes() != 1 || (!spectrum && layout != CoefficientLayout::Cosine))
    throw ValueError(where + ": no 1-D frequency axis (Hz and mel bands fit fft1, rfft1, dct1 and stft)");
  const int64_t n = t.input_shape().dim(-1);
  const int64_t bins = spectrum ? coef.dim(-2) : coef.dim(-1);
  const int64_t reps = spectrum ? 2 : 1;  // (re, im) share the frequency
  const int64_t channels = coef.numel() / (bins * reps);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t k = 0; k < bins; ++k) {
      double v;
      if (layout == CoefficientLayout::Cosine)
        v = static_cast<double>(k) * rate / static_cast<double>(2 * n);
      else {
        const int64_t signed_k = (layout == CoefficientLayout::HalfSpectrum || k <= (n - 1) / 2) ? k : k - n;
        v = static_cast<double>(std::abs(signed_k)) * rate / static_cast<double>(n);
      }
      for (int64_t r = 0; r < reps; ++r) f.push_back(v);
    }
  return f;
}

double largest_frequency_hz(const Transform& t, double rate) {
  const std::vector<double> f = coefficient_frequencies_hz(t, rate);
  return f.empty() ? 0.0 : *std::max_element(f.begin(), f.end());
}

Grouping hz_bands(const Transform& t, const std::vector<double>& edges, double rate) {
  const std::string where = "hz_bands";
  require_edges(edges, where);
  Grouping g = hz_grouping(t, coefficient_frequencies_hz(t, rate), edges);
  for (size_t b = 0; b + 1 < edges.size(); ++b) {
    g.names.push_back(num(edges[b]) + "-" + num(edges[b + 1]) + " Hz");
    g.centers.push_back(0.5 * (edges[b] + edges[b + 1]));
  }
  g.units = "Hz";
  if (const int b = first_empty(g); b >= 0)
    throw ValueError(where + ": band " + g.names[static_cast<size_t>(b)] + " holds no coefficient: " +
                     reach_hz(t, rate));
  return g;
}

Grouping mel_bands(const Transform& t, int n, double rate, MelScale scale) {
  const std::string where = "mel_bands";
  if (n < 1 || n > 100000) throw ValueError(where + ": " + std::to_string(n) + " bands, expected 1 to 100000");
  require_rate(rate, where);
  std::vector<double> edges = mel_frequencies(n + 1, 0.0, rate / 2, scale);
  edges.front() = 0.0;        // exact, so DC and Nyquist fall inside
  edges.back() = rate / 2;
  Grouping g = hz_grouping(t, coefficient_frequencies_hz(t, rate), edges);
  for (int b = 0; b < n; ++b) {
    const double lo = edges[static_cast<size_t>(b)], hi = edges[static_cast<size_t>(b) + 1];
    char buf[96];
    std::snprintf(buf, sizeof buf, "mel %d: %.4g-%.4g Hz", b, lo, hi);
    g.names.push_back(buf);
    g.centers.push_back(0.5 * (hz_to_mel(lo, scale) + hz_to_mel(hi, scale)));
  }
  g.units = scale == MelScale::Htk ? "mel (HTK)" : "mel (Slaney)";
  if (const int b = first_empty(g); b >= 0)
    throw ValueError(where + ": band " + g.names[static_cast<size_t>(b)] + " holds no coefficient: " +
                     reach_hz(t, rate) + " (use fewer bands or a longer transform)");
  return g;
}

Grouping ell_bands(const Transform& t, const std::vector<double>& edges, double arcmin_per_pixel) {
  const std::string where = "ell_bands";
  const CoefficientLayout layout = t.coefficient_layout();
  if (t.axes() != 2 || (layout != CoefficientLayout::Spectrum && layout != CoefficientLayout::HalfSpectrum))
    throw ValueError(where + ": transform '" + t.spec() + "' is not a 2-D Fourier transform of a map (expected fft2 "
                     "or rfft2)");
  if (!(arcmin_per_pixel > 0) || !std::isfinite(arcmin_per_pixel))
    throw ValueError(where + ": pixel size " + num(arcmin_per_pixel) + " arcmin, expected > 0");
  Grouping g = physical_bands(t, edges, arcmin_per_pixel, "multipole l");
  if (!t.polar())  // polar: physical_bands' own amplitude / phase names
    for (size_t b = 0; b + 1 < edges.size(); ++b) g.names[b] = "l " + num(edges[b]) + "-" + num(edges[b + 1]);
  if (const int b = first_empty(g); b >= 0) {
    // ℓ = 2π·k / (n·pixel in radians) = 21600·k / (n·arcmin) along an axis.
    const int64_t ny = t.input_shape().dim(-2), nx = t.input_shape().dim(-1);
    const double dy = 21600.0 / (static_cast<double>(ny) * arcmin_per_pixel);
    const double dx = 21600.0 / (static_cast<double>(nx) * arcmin_per_pixel);
    const double top = std::hypot(static_cast<double>(ny / 2) * dy, static_cast<double>(nx / 2) * dx);
    throw ValueError(where + ": bin " + g.names[static_cast<size_t>(b)] + " holds no coefficient: '" + t.spec() +
                     "' on " + std::to_string(ny) + "x" + std::to_string(nx) + " pixels of " + num(arcmin_per_pixel) +
                     " arcmin reaches multipoles from 0 to the largest, l = " + num(top) + " (the corner), every " +
                     num(std::min(dx, dy)) + " along an axis");
  }
  return g;
}

}  // namespace trim
