// What every figure shares without PLplot (see plot_support.hpp).
#include "plot_support.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "trim/core/error.hpp"

namespace trim::io {

namespace detail {

// ---- validation (shared by all figures, independent of PLplot) ---------------

[[noreturn]] void bad(const std::string& what, const std::string& path, const std::string& problem) {
  throw ValueError(what + " '" + path + "': " + problem);
}

void check_figure(const std::string& what, const std::string& path, const Figure& f) {
  if (path.empty()) throw ValueError(what + ": empty output path");
  figure_format(path);
  if (f.width < 64 || f.width > 10000 || f.height < 64 || f.height > 10000)
    bad(what, path, "figure size " + std::to_string(f.width) + "x" + std::to_string(f.height) +
                        " pixels is outside 64..10000");
}

void check_finite(const std::string& what, const std::string& path, const std::vector<double>& v,
                  const std::string& name) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      bad(what, path, name + " element " + std::to_string(i) + " is " + (std::isnan(v[i]) ? "NaN" : "infinite"));
}

void check_axis(const std::string& what, const std::string& path, const Axis& a, const std::string& name) {
  if (!std::isfinite(a.min) || !std::isfinite(a.max)) bad(what, path, name + " axis range is not finite");
  if (a.min > a.max) bad(what, path, name + " axis range has min > max");
  if (a.log && a.min != a.max && a.min <= 0) bad(what, path, name + " axis is logarithmic but its min is <= 0");
}

/// [lo, hi] of the values, or of `a` when it is set; never empty.
std::pair<double, double> axis_range(const Axis& a, double lo, double hi) {
  if (a.min != a.max) return {a.min, a.max};
  if (!(lo <= hi)) lo = 0, hi = 1;
  if (lo == hi) {
    const double pad = lo == 0 ? 1.0 : 0.5 * std::fabs(lo);
    return {lo - pad, hi + pad};
  }
  return {lo, hi};
}

/// Colour range of a heatmap: symmetric about 0 or min..max.
std::pair<double, double> value_range(const std::vector<double>& v, bool symmetric) {
  double lo = 0, hi = 0, m = 0;
  if (!v.empty()) lo = hi = v[0];
  for (double x : v) lo = std::min(lo, x), hi = std::max(hi, x), m = std::max(m, std::fabs(x));
  if (symmetric) return m > 0 ? std::make_pair(-m, m) : std::make_pair(-1.0, 1.0);
  if (lo == hi) {
    const double pad = lo == 0 ? 1.0 : 0.5 * std::fabs(lo);
    return {lo - pad, hi + pad};
  }
  return {lo, hi};
}

/// PLplot reads '#' as the start of an escape sequence ("#u" superscript):
/// double it so labels appear as written.
std::string escape_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '#') out += '#';
  }
  return out;
}

}  // namespace detail

std::string figure_format(const std::string& path) {
  const size_t slash = path.find_last_of('/'), dot = path.find_last_of('.');
  std::string ext = dot == std::string::npos || (slash != std::string::npos && dot < slash) ? "" : path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "png" || ext == "svg" || ext == "pdf") return ext;
  throw ValueError("figure '" + path + "': " + (ext.empty() ? "no file extension" : "unknown extension '." + ext + "'") +
                   "; trim writes .png, .svg and .pdf figures");
}

namespace detail {

// ---- value scaling and legend placement (independent of PLplot) -------------------

/// The power of ten that brings values up to `m` = max |value| into [1, 10)
/// when they would otherwise need many digits (below 0.1 or from 10⁴ on);
/// 0 when they read well as they are. The axis label then says "(×10ⁿ)",
/// instead of PLplot's exponent in a corner, where it is easily clipped.
int label_exponent(double m) {
  if (!(m > 0) || !std::isfinite(m)) return 0;
  const int e = static_cast<int>(std::floor(std::log10(m)));
  return e < -1 || e > 3 ? e : 0;
}

/// `label` escaped for PLplot, with "(×10ⁿ)" when `exponent` is not 0.
std::string scaled_label(const std::string& label, int exponent) {
  std::string s = escape_text(label);
  if (exponent != 0) s += (s.empty() ? "" : " ") + std::string("(\u00d710#u") + std::to_string(exponent) + "#d)";
  return s;
}

LegendPlace place_legend(const Occupancy& data, const std::vector<std::string>& entries, const Figure& f,
                         double plot_width) {
  LegendPlace place;
  if (entries.empty()) return place;
  size_t longest = 0;
  for (const std::string& e : entries) longest = std::max(longest, e.size());
  // Size of the legend box as a fraction of the plot area, from its font
  // (0.85 of the default height) and PLplot's entry spacing, with a margin.
  const double char_w = 8.5 / (plot_width * f.width), line_h = 26.0 / (0.79 * f.height);
  const double w = 0.04 + (6.0 + static_cast<double>(longest)) * char_w, h = 0.04 + line_h * entries.size();
  int best = -1, best_count = 0;
  const bool corners[4][2] = {{true, true}, {true, false}, {false, true}, {false, false}};
  for (int c = 0; c < 4; ++c) {
    const bool top = corners[c][0], right = corners[c][1];
    const int n = data.count(right ? 1 - w : 0, right ? 1 : w, top ? 1 - h : 0, top ? 1 : h);
    if (best < 0 || n < best_count) best = c, best_count = n;
  }
  place.top = corners[best][0];
  place.right = corners[best][1];
  if (best_count > 0) place = {true, true, std::min(0.6, h / std::max(0.2, 1 - h))};
  return place;
}

// ---- each figure's input checks -----------------------------------------------------

void validate_heatmap(const std::string& what, const std::string& path, const HeatmapPlot& p) {
  check_figure(what, path, p.figure);
  if (p.rows <= 0 || p.cols <= 0 || p.rows > 100000 || p.cols > 100000)
    bad(what, path, "bad size " + std::to_string(p.rows) + "x" + std::to_string(p.cols));
  if (static_cast<int64_t>(p.values.size()) != p.rows * p.cols)
    bad(what, path, std::to_string(p.values.size()) + " values for " + std::to_string(p.rows) + "x" +
                        std::to_string(p.cols) + " cells");
  check_finite(what, path, p.values, "value");
  check_axis(what, path, p.x, "x");
  check_axis(what, path, p.y, "y");
  if (p.x.log || p.y.log) bad(what, path, "logarithmic axes are not supported for heatmaps");
  for (const auto& l : p.lines)
    for (double v : l)
      if (!std::isfinite(v)) bad(what, path, "an overlay line has a non-finite coordinate");

}

DataRange validate_lines(const std::string& what, const std::string& path, const LinePlot& p) {
  check_figure(what, path, p.figure);
  check_axis(what, path, p.x, "x");
  check_axis(what, path, p.y, "y");
  if (p.series.empty()) bad(what, path, "no series to draw");
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (size_t s = 0; s < p.series.size(); ++s) {
    const Series& d = p.series[s];
    const std::string name = "series " + std::to_string(s) + (d.label.empty() ? "" : " ('" + d.label + "')");
    if (d.y.empty()) bad(what, path, name + " has no points");
    if (d.x.size() != d.y.size())
      bad(what, path, name + " has " + std::to_string(d.x.size()) + " x and " + std::to_string(d.y.size()) + " y values");
    if (!d.err.empty() && d.err.size() != d.y.size())
      bad(what, path, name + " has " + std::to_string(d.err.size()) + " error values for " + std::to_string(d.y.size()) +
                          " points");
    check_finite(what, path, d.x, name + " x");
    check_finite(what, path, d.y, name + " y");
    check_finite(what, path, d.err, name + " error");
    for (size_t i = 0; i < d.y.size(); ++i) {
      const double e = d.err.empty() ? 0 : std::fabs(d.err[i]);
      if (p.x.log && d.x[i] <= 0) bad(what, path, name + " x element " + std::to_string(i) + " is <= 0 on a log axis");
      if (p.y.log && d.y[i] - e <= 0)
        bad(what, path, name + " y element " + std::to_string(i) + " (minus its error) is <= 0 on a log axis");
      xlo = std::min(xlo, d.x[i]), xhi = std::max(xhi, d.x[i]);
      ylo = std::min(ylo, d.y[i] - e), yhi = std::max(yhi, d.y[i] + e);
    }
  }
  check_finite(what, path, p.markers, "marker");
  for (double m : p.markers)
    if (p.x.log && m <= 0) bad(what, path, "a marker is <= 0 on a log x axis");
  return {xlo, xhi, ylo, yhi};
}

std::pair<double, double> validate_bars(const std::string& what, const std::string& path, const BarPlot& p) {
  check_figure(what, path, p.figure);
  check_axis(what, path, p.y, "y");
  if (p.y.log) bad(what, path, "logarithmic axes are not supported for bar charts");
  const size_t n = p.categories.size();
  if (n == 0) bad(what, path, "no categories");
  if (p.series.empty()) bad(what, path, "no series to draw");
  double lo = 0, hi = 0;  // bars start at 0
  for (size_t s = 0; s < p.series.size(); ++s) {
    const Series& d = p.series[s];
    const std::string name = "series " + std::to_string(s) + (d.label.empty() ? "" : " ('" + d.label + "')");
    if (d.y.size() != n)
      bad(what, path, name + " has " + std::to_string(d.y.size()) + " values for " + std::to_string(n) + " categories");
    if (!d.err.empty() && d.err.size() != n)
      bad(what, path, name + " has " + std::to_string(d.err.size()) + " error values for " + std::to_string(n) +
                          " categories");
    check_finite(what, path, d.y, name + " y");
    check_finite(what, path, d.err, name + " error");
    for (size_t i = 0; i < n; ++i) {
      const double e = d.err.empty() ? 0 : std::fabs(d.err[i]);
      lo = std::min(lo, d.y[i] - e), hi = std::max(hi, d.y[i] + e);
    }
  }
  return {lo, hi};
}

void validate_image_grid(const std::string& what, const std::string& path, const ImageGridPlot& p) {
  check_figure(what, path, p.figure);
  if (p.images.empty()) bad(what, path, "no images");
  if (p.images.size() > 1000) bad(what, path, std::to_string(p.images.size()) + " images are too many for one figure");
  if (p.rows <= 0 || p.cols <= 0 || p.rows > 10000 || p.cols > 10000)
    bad(what, path, "bad image size " + std::to_string(p.rows) + "x" + std::to_string(p.cols));
  if (!p.captions.empty() && p.captions.size() != p.images.size())
    bad(what, path, std::to_string(p.captions.size()) + " captions for " + std::to_string(p.images.size()) + " images");
  if (p.columns < 0) bad(what, path, "negative number of columns");
  for (size_t i = 0; i < p.images.size(); ++i) {
    if (static_cast<int64_t>(p.images[i].size()) != p.rows * p.cols)
      bad(what, path, "image " + std::to_string(i) + " has " + std::to_string(p.images[i].size()) + " values for " +
                          std::to_string(p.rows) + "x" + std::to_string(p.cols) + " pixels");
    check_finite(what, path, p.images[i], "image " + std::to_string(i));
  }
}

std::mutex& plot_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace detail

}  // namespace trim::io
