#include "figures.hpp"

#include <algorithm>

#include "inputs.hpp"
#include "trim/figures/coefficients.hpp"
#include "trim/io/plot.hpp"
#include "trim/transforms/wavelet.hpp"

namespace trim::cli {

namespace {

constexpr size_t kMaxSeries = 10;  // one colour each; more would not read

/// Mean over the batch of row `row` of t [rows, N, rest...]: rest.numel() values.
std::vector<double> batch_mean(const Tensor& t, int64_t row) {
  const int64_t n = t.dim(1), per = t.numel() / (t.dim(0) * n);
  std::vector<double> v(static_cast<size_t>(per), 0.0);
  for (int64_t e = 0; e < n; ++e) {
    const float* src = t.data() + (row * n + e) * per;
    for (int64_t i = 0; i < per; ++i) v[static_cast<size_t>(i)] += src[i] / static_cast<double>(n);
  }
  return v;
}

/// Sums `v` (row-major over `shape`) over all but the last `keep` axes.
std::vector<double> keep_trailing(const std::vector<double>& v, const Shape& shape, int keep) {
  const int64_t inner = shape.numel(shape.rank() - keep, shape.rank());
  std::vector<double> out(static_cast<size_t>(inner), 0.0);
  for (size_t i = 0; i < v.size(); ++i) out[i % static_cast<size_t>(inner)] += v[i];
  return out;
}

/// Sums each (re, im) pair: a complex coefficient's attribution.
std::vector<double> sum_pairs(const std::vector<double>& v) {
  std::vector<double> out(v.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = v[2 * i] + v[2 * i + 1];
  return out;
}

/// Row r of the matrix drawn at height [r, r + 1), so axis numbers are indices.
io::HeatmapPlot index_heatmap(const std::vector<double>& v, int64_t rows, int64_t cols) {
  io::HeatmapPlot h;
  h.rows = rows;
  h.cols = cols;
  h.values.resize(v.size());
  for (int64_t r = 0; r < rows; ++r)
    std::copy(v.begin() + (rows - 1 - r) * cols, v.begin() + (rows - r) * cols, h.values.begin() + r * cols);
  h.x.label = "column index (last axis)";
  h.y.label = "row index";
  return h;
}

/// More points than a figure has columns of pixels draw as a jagged band:
/// sum every `bin` neighbours (attributions add up, so a bin's value is the
/// attribution of its range), at the mean of their x.
constexpr size_t kMaxCurvePoints = 400;

void curve(const std::string& path, std::vector<double> x, std::vector<double> y, std::string x_label,
           const std::string& title, std::string value_label) {
  if (y.size() > kMaxCurvePoints) {
    const size_t bin = (y.size() + kMaxCurvePoints - 1) / kMaxCurvePoints;
    std::vector<double> bx, by;
    for (size_t i = 0; i < y.size(); i += bin) {
      const size_t end = std::min(y.size(), i + bin);
      double sx = 0, sy = 0;
      for (size_t j = i; j < end; ++j) sx += x[j], sy += y[j];
      bx.push_back(sx / static_cast<double>(end - i));
      by.push_back(sy);
    }
    x = std::move(bx), y = std::move(by);
    value_label += ", sum of " + std::to_string(bin) + " neighbours";
  }
  io::LinePlot p;
  p.figure.title = title;
  p.x.label = std::move(x_label);
  p.y.label = std::move(value_label);
  p.series.push_back({"", std::move(x), std::move(y), {}});
  io::plot_lines(path, p);
}

/// fft1 / rfft1 attributions (one per frequency bin) against frequency in
/// cycles/sample. The input is real, so the full spectrum's bins k and -k
/// describe one frequency: they are summed and drawn over [0, 0.5] like the
/// half spectrum.
void fourier_curve(const std::string& path, const std::vector<double>& bins, int64_t n_signal, bool half,
                   const std::string& title, const std::string& value_label) {
  const int64_t m = static_cast<int64_t>(bins.size());
  std::vector<double> x, y;
  if (half) {
    for (int64_t k = 0; k < m; ++k) x.push_back(double(k) / n_signal), y.push_back(bins[static_cast<size_t>(k)]);
    return curve(path, x, y, "frequency (cycles/sample)", title, value_label);
  }
  for (int64_t k = 0; k <= m / 2; ++k) {
    double v = bins[static_cast<size_t>(k)];
    if (k > 0 && m - k != k) v += bins[static_cast<size_t>(m - k)];
    x.push_back(double(k) / m), y.push_back(v);
  }
  curve(path, x, y, "frequency |f| (cycles/sample; bins +f and -f summed)", title, value_label);
}

void stationary_wavelet(const std::string& path, const WaveletTransform& w, const std::vector<double>& v,
                        const Shape& coef, const std::string& title, const std::string& value_label) {
  const kernels::WaveletLayout& L = w.layout();
  const int64_t bands = static_cast<int64_t>(L.bands.size());
  const std::vector<double> per_band = keep_trailing(v, coef, L.dims + 1);  // [bands, spatial...]
  const int64_t cells = static_cast<int64_t>(per_band.size()) / bands;
  if (L.dims == 1) {
    io::HeatmapPlot h = index_heatmap(per_band, bands, cells);
    h.figure.title = title;
    h.colorbar_label = value_label;
    h.x.label = "position";
    h.y.label = "band (0 = " + L.bands.front().name + ", then " + L.bands[1].name + " ... " + L.bands.back().name + ")";
    io::plot_heatmap(path, h);
    return;
  }
  io::ImageGridPlot g;
  g.figure.title = title;
  g.rows = coef.dim(-2);
  g.cols = coef.dim(-1);
  g.symmetric = true;
  g.colorbar_label = value_label;
  for (int64_t b = 0; b < bands; ++b) {
    g.images.emplace_back(per_band.begin() + b * cells, per_band.begin() + (b + 1) * cells);
    g.captions.push_back(L.bands[static_cast<size_t>(b)].name);
  }
  io::plot_image_grid(path, g);
}

}  // namespace

void plot_coefficients(const std::string& path, const Transform& t, const Tensor& attributions, int64_t row,
                       const std::string& title, const std::string& value_label) {
  Shape coef = t.coefficient_shape();
  std::vector<double> v = batch_mean(attributions, row);
  const FigureKind kind = t.figure_kind();
  const auto* w = dynamic_cast<const WaveletTransform*>(&t);  // the band layout of Mosaic and Bands
  if (kind == FigureKind::Bands && w) return stationary_wavelet(path, *w, v, coef, title, value_label);
  if (kind == FigureKind::Mosaic && w) {
    io::HeatmapPlot h = io::wavelet_mosaic(*w, keep_trailing(v, coef, 1));
    h.figure.title = title;
    h.colorbar_label = value_label;
    return io::plot_heatmap(path, h);
  }
  if (kind == FigureKind::Spectrum && t.complex_pairs()) {
    v = sum_pairs(v);
    Shape spatial;
    for (int a = 0; a + 1 < coef.rank(); ++a) spatial.push_back(coef[a]);
    coef = spatial;
    const bool half = t.coefficient_layout() == CoefficientLayout::HalfSpectrum;
    if (t.axes() == 1)
      return fourier_curve(path, keep_trailing(v, coef, 1), t.input_shape().dim(-1), half, title, value_label);
    io::HeatmapPlot h = io::fourier_heatmap(keep_trailing(v, coef, 2), coef.dim(-2), coef.dim(-1), half);
    h.figure.title = title;
    h.colorbar_label = value_label;
    return io::plot_heatmap(path, h);
  }
  if (kind == FigureKind::Spectrogram && t.complex_pairs()) {
    // stft: [channels..., bins, frames, 2] -> one bins x frames map, low frequencies at the bottom.
    v = sum_pairs(v);
    const int64_t bins = coef.dim(-3), frames = coef.dim(-2);
    Shape spatial;  // without the (re, im) axis; channels are summed
    for (int a = 0; a + 1 < coef.rank(); ++a) spatial.push_back(coef[a]);
    io::HeatmapPlot h = index_heatmap(keep_trailing(v, spatial, 2), bins, frames);
    h.x.label = "frame (time)";
    h.y.label = "frequency bin";
    h.figure.title = title;
    h.colorbar_label = value_label;
    return io::plot_heatmap(path, h);
  }
  if (kind == FigureKind::Bars) {
    io::BarPlot b;
    b.figure.title = title;
    b.x_label = "component";
    b.y.label = value_label;
    const std::vector<double> per_component = keep_trailing(v, coef, 1);
    for (size_t j = 0; j < per_component.size(); ++j) b.categories.push_back(std::to_string(j));
    b.series.push_back({"", {}, per_component, {}});
    return io::plot_bars(path, b);
  }
  // identity, dct1, dct2: the last one or two axes of the example.
  const bool cosine = t.coefficient_layout() == CoefficientLayout::Cosine;
  if (coef.rank() == 1 || t.axes() == 1) {
    const std::vector<double> y = keep_trailing(v, coef, 1);
    std::vector<double> x(y.size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
    return curve(path, x, y, cosine ? "DCT index" : "index (last axis)", title, value_label);
  }
  io::HeatmapPlot h = index_heatmap(keep_trailing(v, coef, 2), coef.dim(-2), coef.dim(-1));
  if (cosine) h.x.label = "horizontal DCT index", h.y.label = "vertical DCT index";
  h.figure.title = title;
  h.colorbar_label = value_label;
  io::plot_heatmap(path, h);
}

void plot_groups(const std::string& path, const Grouping& g, const Tensor& scores, const std::vector<int64_t>& targets,
                 const std::string& title, const std::string& x_label, const std::string& value_label) {
  const size_t n_series = std::min(targets.size(), kMaxSeries);
  const std::string shown = targets.size() > kMaxSeries ? " (first 10 targets)" : "";
  if (g.units != "group" && g.units != "level" && g.units != "component" && g.units != "tile" &&
      g.size() > 1) {  // frequency bands, time segments
    io::LinePlot p;
    p.figure.title = title + shown;
    p.x.label = x_label;
    p.y.label = value_label;
    // Polar transforms: the amplitude bands, then the phase bands of the same
    // centres (radial_bands), drawn as two curves.
    const size_t half = static_cast<size_t>(g.size()) / 2;
    const bool polar = g.size() % 2 == 0 && g.names.front().rfind("amplitude ", 0) == 0 &&
                       g.names[half].rfind("phase ", 0) == 0;
    const std::vector<double> centers(g.centers.begin(), g.centers.begin() + (polar ? half : g.centers.size()));
    // One target needs no legend (the value label names the output).
    for (size_t k = 0; k < n_series; ++k) {
      const std::string target = targets.size() > 1 ? "target " + std::to_string(targets[k]) : "";
      const std::vector<double> v = batch_mean(scores, int64_t(k));
      if (!polar) {
        p.series.push_back({target, centers, v, {}});
        continue;
      }
      const std::string sep = target.empty() ? "" : ", ";
      p.series.push_back({target + sep + "amplitude", centers, std::vector<double>(v.begin(), v.begin() + half), {}});
      p.series.push_back({target + sep + "phase", centers, std::vector<double>(v.begin() + half, v.end()), {}});
    }
    return io::plot_lines(path, p);
  }
  io::BarPlot b;
  b.figure.title = title + shown;
  b.x_label = x_label;
  b.y.label = value_label;
  b.categories = g.names;
  for (size_t k = 0; k < n_series; ++k)
    b.series.push_back({targets.size() > 1 ? "target " + std::to_string(targets[k]) : "", {},
                        batch_mean(scores, int64_t(k)), {}});
  io::plot_bars(path, b);
}

void plot_sweep(const std::string& path, const std::vector<double>& centers, double width, const Tensor& rel,
                const std::vector<int64_t>& targets, const std::string& title) {
  io::LinePlot p;
  p.figure.title = targets.size() > kMaxSeries ? title + " (first 10 targets)" : title;
  char x_label[96];
  std::snprintf(x_label, sizeof x_label, "band centre (normalised radius), band width %g", width);
  p.x.label = x_label;
  p.y.label = targets.size() == 1 ? "CD: relevant part of output " + std::to_string(targets[0])
                                  : "CD: relevant part of the output";
  for (size_t k = 0; k < std::min(targets.size(), kMaxSeries); ++k)
    p.series.push_back({targets.size() > 1 ? "target " + std::to_string(targets[k]) : "", centers,
                        batch_mean(rel, int64_t(k)), {}});
  io::plot_lines(path, p);
}

}  // namespace trim::cli
