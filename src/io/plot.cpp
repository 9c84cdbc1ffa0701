// Figures with PLplot's cairo devices: pngcairo, svgcairo, pdfcairo.
//
// PLplot keeps one global drawing state and calls exit() from plexit() on
// errors it considers fatal. So: every input is validated before the first
// PLplot call; the output path is proven writable by creating the temporary
// file ourselves; all calls hold one mutex; and an exit handler turns a
// plexit() that slips through into an IoError (after which PLplot's state is
// unknown, so later calls refuse to draw rather than risk a crash).
#include "trim/io/plot.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cctype>
#include <cstring>
#include <mutex>

#include "plot_support.hpp"
#include "trim/core/error.hpp"

#include <plplot/plplot.h>

namespace trim::io {

using namespace detail;  // validation, scaling, legend placement, temporary files (plot_support.hpp)

namespace {

/// Thrown by the exit handler instead of letting PLplot call exit().
struct PlplotAbort {
  std::string message;
};

/// Set once a PLplot error interrupted a drawing: its global state is then
/// unknown, so no further figure is attempted in this process.
std::string g_broken;

int on_plplot_exit(const char* message) {
  throw PlplotAbort{message ? message : "unknown error"};
}

// Colours of cmap0 used by the figures (index: purpose).
constexpr int kBlack = 1, kGrey = 2, kFirstSeries = 3, kSeriesColours = 10, kBand = 15;
// Matplotlib's "tab10" colours, which print and read well.
constexpr int kTab10[kSeriesColours][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                           {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                           {188, 189, 34},  {23, 190, 207}};

int series_colour(size_t i) { return kFirstSeries + static_cast<int>(i % kSeriesColours); }

/// One PLplot drawing into `file`; ends the stream on destruction.
class Drawing {
 public:
  Drawing(const std::string& file, const Figure& f, const std::string& format) {
    plsexit(on_plplot_exit);
    plsdev((format + "cairo").c_str());
    plsfnam(file.c_str());
    plspage(0, 0, f.width, f.height, 0, 0);
    plscolbg(255, 255, 255);
    plinit();
    active_ = true;
    plscol0(kBlack, 0, 0, 0);
    plscol0(kGrey, 110, 110, 110);
    for (int i = 0; i < kSeriesColours; ++i) plscol0(kFirstSeries + i, kTab10[i][0], kTab10[i][1], kTab10[i][2]);
    pladv(0);
    plcol0(kBlack);
    plschr(0, 1.0);
  }
  ~Drawing() {
    // After a PLplot abort its state is unknown: do not call into it again.
    if (active_ && g_broken.empty()) plend();
  }
  Drawing(const Drawing&) = delete;
  Drawing& operator=(const Drawing&) = delete;

  /// Ends the stream, which writes the file.
  void finish() {
    active_ = false;
    plend();
  }

 private:
  bool active_ = false;
};

/// Runs `draw` into a temporary file and renames it to `path`.
template <class Draw>
void render(const std::string& what, const std::string& path, const Figure& figure, Draw draw) {
  std::lock_guard<std::mutex> lock(plot_mutex());
  if (!g_broken.empty())
    throw IoError(what + " '" + path + "': plotting is disabled after an earlier PLplot error (" + g_broken + ")");
  if (!plotting_available())
    throw IoError(what + " '" + path + "': PLplot's cairo driver is not available (install plplot-driver-cairo)");
  TempFile tmp(path, what);
  try {
    Drawing d(tmp.name(), figure, figure_format(path));
    draw();
    d.finish();
  } catch (const PlplotAbort& e) {
    g_broken = e.message;
    throw IoError(what + " '" + path + "': PLplot error: " + e.message);
  }
  tmp.commit();
}

void set_diverging_map() {
  // Blue (negative) - white (0) - red (positive), as matplotlib's "RdBu_r".
  const PLFLT pos[] = {0.0, 0.25, 0.5, 0.75, 1.0};
  const PLFLT r[] = {0.02, 0.40, 1.0, 0.96, 0.40};
  const PLFLT g[] = {0.19, 0.65, 1.0, 0.52, 0.00};
  const PLFLT b[] = {0.38, 0.82, 1.0, 0.38, 0.12};
  plscmap1n(256);
  plscmap1l(1, 5, pos, r, g, b, nullptr);
}

void set_sequential_map() {
  // Viridis at five stops (dark purple - blue - green - yellow).
  const PLFLT pos[] = {0.0, 0.25, 0.5, 0.75, 1.0};
  const PLFLT r[] = {0.267, 0.231, 0.129, 0.369, 0.993};
  const PLFLT g[] = {0.005, 0.322, 0.566, 0.789, 0.906};
  const PLFLT b[] = {0.329, 0.546, 0.551, 0.383, 0.144};
  plscmap1n(256);
  plscmap1l(1, 5, pos, r, g, b, nullptr);
}

/// Draws a rows × cols matrix (row 0 at the top) over [x0, x1] × [y0, y1]
/// with the colour range [lo, hi]; the window must already be set.
void draw_cells(const std::vector<double>& values, int64_t rows, int64_t cols, double x0, double x1, double y0,
                double y1, double lo, double hi) {
  // plimagefr takes idata[ix][iy] with iy = 0 at the bottom, as samples at
  // the corners of a grid over [x0, x1] × [y0, y1]: nx × ny values make
  // (nx − 1) × (ny − 1) cells, cell (i, j) coloured by idata[i][j]. One more
  // column and row (copies of the last) give exactly one cell per value; a
  // single row or column (a colour bar) would otherwise draw nothing.
  const int64_t nx = cols + 1, ny = rows + 1;
  std::vector<PLFLT> storage(static_cast<size_t>(nx * ny));
  std::vector<const PLFLT*> columns(static_cast<size_t>(nx));
  for (int64_t ix = 0; ix < nx; ++ix) {
    PLFLT* column = storage.data() + ix * ny;
    const int64_t c = std::min(ix, cols - 1);
    for (int64_t iy = 0; iy < ny; ++iy)
      column[iy] = values[static_cast<size_t>((rows - 1 - std::min(iy, rows - 1)) * cols + c)];
    columns[static_cast<size_t>(ix)] = column;
  }
  // Values exactly at the ends of the colour range must not be clipped.
  const double pad = (hi - lo) * 1e-9;
  plimagefr(columns.data(), static_cast<PLINT>(nx), static_cast<PLINT>(ny), x0, x1, y0, y1, lo - pad, hi + pad,
            lo, hi, nullptr, nullptr);
}

/// A vertical colour bar in viewport [vx0, vx1] × [vy0, vy1] (page fractions).
void draw_colorbar(double vx0, double vx1, double vy0, double vy1, double lo, double hi, const std::string& label) {
  plvpor(vx0, vx1, vy0, vy1);
  plwind(0, 1, lo, hi);
  constexpr int kSteps = 256;
  std::vector<double> ramp(kSteps);
  for (int i = 0; i < kSteps; ++i) ramp[static_cast<size_t>(i)] = hi - (hi - lo) * (i + 0.5) / kSteps;
  draw_cells(ramp, kSteps, 1, 0, 1, lo, hi, lo, hi);
  const int e = label_exponent(std::max(std::fabs(lo), std::fabs(hi)));
  plwind(0, 1, lo / std::pow(10.0, e), hi / std::pow(10.0, e));  // tick labels in units of 10^e
  plcol0(kBlack);
  plschr(0, 0.8);
  plbox("bc", 0, 0, "bcmstv", 0, 0);
  if (!label.empty() || e != 0) plmtex("r", 5.5, 0.5, 0.5, scaled_label(label, e).c_str());
  plschr(0, 1.0);
}

void draw_title(const std::string& title) {
  if (title.empty()) return;
  plvpor(0, 1, 0, 1);
  plwind(0, 1, 0, 1);
  plcol0(kBlack);
  plschr(0, 1.15);
  plmtex("t", -1.6, 0.5, 0.5, escape_text(title).c_str());
  plschr(0, 1.0);
}

/// Box option string of an axis ("l" for logarithmic).
std::string box_options(const char* base, bool log) { return std::string(base) + (log ? "l" : ""); }

double to_axis(double v, bool log) { return log ? std::log10(v) : v; }

/// Legend in a corner of the current viewport.
void draw_legend(const std::vector<std::string>& text, const std::vector<PLINT>& colours,
                 const std::vector<PLINT>& styles, const std::vector<PLINT>& kinds, const LegendPlace& place) {
  if (text.empty()) return;
  const size_t n = text.size();
  std::vector<std::string> escaped(n);
  std::vector<const char*> ctext(n), symbols(n, "");
  for (size_t i = 0; i < n; ++i) {
    escaped[i] = escape_text(text[i]);
    ctext[i] = escaped[i].c_str();
  }
  std::vector<PLINT> zero(n, 0), one(n, 1);
  std::vector<PLFLT> widths(n, 2.0), scales(n, 1.0);
  PLFLT w = 0, h = 0;
  plschr(0, 0.85);
  const PLINT position = (place.top ? PL_POSITION_TOP : PL_POSITION_BOTTOM) |
                         (place.right ? PL_POSITION_RIGHT : PL_POSITION_LEFT) | PL_POSITION_INSIDE;
  pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, position,
           0.02, 0.02, 0.08, 0, kBlack, 1, 0, 0, static_cast<PLINT>(n), kinds.data(), 1.0, 1.0, 1.8, 0.0,
           colours.data(), ctext.data(), colours.data(), zero.data(), scales.data(), widths.data(), colours.data(),
           styles.data(), widths.data(), colours.data(), scales.data(), one.data(), symbols.data());
  plschr(0, 1.0);
}

}  // namespace

bool plotting_available() {
  static const bool available = [] {
    // plgDevs fills caller-owned arrays of *n entries (the last one is set
    // to null) and stores the device count back into n.
    constexpr int capacity = 256;
    std::vector<const char*> menu(capacity, nullptr), names(capacity, nullptr);
    const char** menu_ptr = menu.data();
    const char** names_ptr = names.data();
    int n = capacity;
    plgDevs(&menu_ptr, &names_ptr, &n);
    for (int i = 0; i < n && i < capacity; ++i)
      if (names[i] && std::strcmp(names[i], "pngcairo") == 0) return true;
    return false;
  }();
  return available;
}


// ---- heatmap ---------------------------------------------------------------------

void plot_heatmap(const std::string& path, const HeatmapPlot& p) {
  const std::string what = "heatmap";
  validate_heatmap(what, path, p);
  const auto [x0, x1] = axis_range(p.x, 0, static_cast<double>(p.cols));
  const auto [y0, y1] = axis_range(p.y, 0, static_cast<double>(p.rows));
  const auto [lo, hi] = value_range(p.values, p.symmetric);
  render(what, path, p.figure, [&, x0 = x0, x1 = x1, y0 = y0, y1 = y1, lo = lo, hi = hi] {
    draw_title(p.figure.title);
    p.symmetric ? set_diverging_map() : set_sequential_map();
    plvpor(0.11, 0.80, 0.11, 0.90);
    plwind(x0, x1, y0, y1);
    draw_cells(p.values, p.rows, p.cols, x0, x1, y0, y1, lo, hi);
    plcol0(kBlack);
    plwidth(1.5);
    for (const auto& l : p.lines) pljoin(l[0], l[1], l[2], l[3]);
    plwidth(1.0);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    plmtex("b", 3.0, 0.5, 0.5, escape_text(p.x.label).c_str());
    plmtex("l", 4.5, 0.5, 0.5, escape_text(p.y.label).c_str());
    draw_colorbar(0.85, 0.88, 0.11, 0.90, lo, hi, p.colorbar_label);
  });
}

// ---- lines -----------------------------------------------------------------------

void plot_lines(const std::string& path, const LinePlot& p) {
  const std::string what = "line plot";
  const auto [xlo, xhi, ylo, yhi] = validate_lines(what, path, p);
  auto [x0, x1] = axis_range(p.x, xlo, xhi);
  auto [y0, y1] = axis_range(p.y, ylo, yhi);
  if (p.y.min == p.y.max) {  // a little head room above and below the data
    const double pad = p.y.log ? 0 : 0.05 * (y1 - y0);
    y0 -= pad, y1 += pad;
  }
  if (p.x.min == p.x.max && !p.x.log) {  // and beside it, so end points and their markers show whole
    const double pad = 0.02 * (x1 - x0);
    x0 -= pad, x1 += pad;
  }
  if (p.x.log) x0 = std::log10(x0), x1 = std::log10(x1);
  if (p.y.log) y0 = std::log10(y0), y1 = std::log10(y1);
  if (x0 == x1 || y0 == y1) bad(what, path, "empty axis range");
  // y values in units of 10^e (linear axes), so tick labels need no exponent.
  const int e = p.y.log ? 0 : label_exponent(std::max(std::fabs(y0), std::fabs(y1)));
  const double scale = std::pow(10.0, -e);
  auto ypos = [&](double v) { return p.y.log ? std::log10(v) : v * scale; };
  y0 *= p.y.log ? 1 : scale, y1 *= p.y.log ? 1 : scale;
  // The legend goes where no curve runs, or above the data.
  Occupancy data;
  std::vector<std::string> entries;
  for (const Series& d : p.series) {
    if (!d.label.empty()) entries.push_back(d.label);
    for (size_t i = 0; i < d.y.size(); ++i) {
      const double u = (to_axis(d.x[i], p.x.log) - x0) / (x1 - x0), v = (ypos(d.y[i]) - y0) / (y1 - y0);
      const size_t j = i + 1 < d.y.size() ? i + 1 : i;
      data.segment(u, v, (to_axis(d.x[j], p.x.log) - x0) / (x1 - x0), (ypos(d.y[j]) - y0) / (y1 - y0));
    }
  }
  if (!p.markers.empty() && !p.markers_label.empty()) entries.push_back(p.markers_label);
  for (double m : p.markers) data.segment((to_axis(m, p.x.log) - x0) / (x1 - x0), 0, (to_axis(m, p.x.log) - x0) / (x1 - x0), 1);
  const LegendPlace place = place_legend(data, entries, p.figure, 0.84);
  if (place.headroom > 0 && p.y.min == p.y.max) y1 += (y1 - y0) * place.headroom;
  render(what, path, p.figure, [&, x0 = x0, x1 = x1, y0 = y0, y1 = y1] {
    draw_title(p.figure.title);
    plvpor(0.11, 0.95, 0.11, 0.90);
    plwind(x0, x1, y0, y1);
    std::vector<std::string> legend;
    std::vector<PLINT> colours, styles, kinds;
    for (size_t s = 0; s < p.series.size(); ++s) {
      const Series& d = p.series[s];
      const size_t n = d.y.size();
      std::vector<PLFLT> xs(n), ys(n);
      for (size_t i = 0; i < n; ++i) xs[i] = to_axis(d.x[i], p.x.log), ys[i] = ypos(d.y[i]);
      if (!d.err.empty()) {  // translucent band y ± err
        std::vector<PLFLT> bx, by;
        for (size_t i = 0; i < n; ++i) bx.push_back(xs[i]), by.push_back(ypos(d.y[i] + std::fabs(d.err[i])));
        for (size_t i = n; i-- > 0;) bx.push_back(xs[i]), by.push_back(ypos(d.y[i] - std::fabs(d.err[i])));
        const auto& c = kTab10[s % kSeriesColours];
        plscol0a(kBand, c[0], c[1], c[2], 0.25);
        plcol0(kBand);
        plfill(static_cast<PLINT>(bx.size()), bx.data(), by.data());
      }
      plcol0(series_colour(s));
      plwidth(2.0);
      pllsty(1);
      plline(static_cast<PLINT>(n), xs.data(), ys.data());
      // Few points (e.g. 8 bands): mark each, so a reader sees where the values are.
      if (n <= 30) {
        plssym(0, 1.4);
        plpoin(static_cast<PLINT>(n), xs.data(), ys.data(), 17);
        plssym(0, 1.0);
      }
      if (!d.label.empty()) {
        legend.push_back(d.label);
        colours.push_back(series_colour(s));
        styles.push_back(1);
        kinds.push_back(PL_LEGEND_LINE);
      }
    }
    plcol0(kGrey);
    pllsty(2);
    for (double m : p.markers) pljoin(to_axis(m, p.x.log), y0, to_axis(m, p.x.log), y1);
    pllsty(1);
    plwidth(1.0);
    if (!p.markers.empty() && !p.markers_label.empty()) {
      legend.push_back(p.markers_label);
      colours.push_back(kGrey);
      styles.push_back(2);
      kinds.push_back(PL_LEGEND_LINE);
    }
    plcol0(kBlack);
    plbox(box_options("bcnstg", p.x.log).c_str(), 0, 0, box_options("bcnstvg", p.y.log).c_str(), 0, 0);
    plmtex("b", 3.0, 0.5, 0.5, escape_text(p.x.label).c_str());
    plmtex("l", 4.5, 0.5, 0.5, scaled_label(p.y.label, e).c_str());
    draw_legend(legend, colours, styles, kinds, place);
  });
}

// ---- bars --------------------------------------------------------------------------

void plot_bars(const std::string& path, const BarPlot& p) {
  const std::string what = "bar chart";
  const size_t n = p.categories.size();
  const auto [lo, hi] = validate_bars(what, path, p);  // bars start at 0: lo <= 0 <= hi
  auto [y0, y1] = axis_range(p.y, lo, hi);
  if (p.y.min == p.y.max) {
    const double pad = 0.05 * (y1 - y0);
    y0 = lo < 0 ? y0 - pad : y0, y1 = hi > 0 ? y1 + pad : y1;
  }
  size_t longest = 0;
  for (const auto& c : p.categories) longest = std::max(longest, c.size());
  // Long or many labels are written vertically below the axis.
  const bool vertical = longest > 6 || n > 12;
  const double bottom = vertical ? 0.11 + 0.012 * static_cast<double>(std::min<size_t>(longest, 24)) : 0.11;
  // Values in units of 10^e, so tick labels need no exponent.
  const int e = label_exponent(std::max(std::fabs(y0), std::fabs(y1)));
  const double scale = std::pow(10.0, -e);
  y0 *= scale, y1 *= scale;
  // The legend goes where no bar stands, or above the bars.
  const double group = 0.8, bar = group / static_cast<double>(p.series.size());
  Occupancy data;
  std::vector<std::string> entries;
  for (size_t s = 0; s < p.series.size(); ++s) {
    if (!p.series[s].label.empty()) entries.push_back(p.series[s].label);
    for (size_t i = 0; i < n; ++i) {
      const double left = static_cast<double>(i) - group / 2 + bar * static_cast<double>(s) + 0.5;
      const double v0 = (0 - y0) / (y1 - y0), v1 = (p.series[s].y[i] * scale - y0) / (y1 - y0);
      data.rect(left / static_cast<double>(n), (left + bar) / static_cast<double>(n), v0, v1);
    }
  }
  const LegendPlace place = place_legend(data, entries, p.figure, 0.84);
  if (place.headroom > 0 && p.y.min == p.y.max) y1 += (y1 - y0) * place.headroom;
  render(what, path, p.figure, [&, y0 = y0, y1 = y1] {
    draw_title(p.figure.title);
    plvpor(0.11, 0.95, bottom, 0.90);
    plwind(-0.5, static_cast<double>(n) - 0.5, y0, y1);
    std::vector<std::string> legend;
    std::vector<PLINT> colours, styles, kinds;
    for (size_t s = 0; s < p.series.size(); ++s) {
      const Series& d = p.series[s];
      for (size_t i = 0; i < n; ++i) {
        const double left = static_cast<double>(i) - group / 2 + bar * static_cast<double>(s);
        PLFLT bx[] = {left, left + bar, left + bar, left};
        PLFLT by[] = {0, 0, d.y[i] * scale, d.y[i] * scale};
        plcol0(series_colour(s));
        plfill(4, bx, by);
        if (!d.err.empty()) {
          PLFLT ex = left + bar / 2, emin = (d.y[i] - std::fabs(d.err[i])) * scale,
                emax = (d.y[i] + std::fabs(d.err[i])) * scale;
          plcol0(kBlack);
          plerry(1, &ex, &emin, &emax);
        }
      }
      if (!d.label.empty()) {
        legend.push_back(d.label);
        colours.push_back(series_colour(s));
        styles.push_back(1);
        kinds.push_back(PL_LEGEND_COLOR_BOX);
      }
    }
    plcol0(kBlack);
    pljoin(-0.5, 0, static_cast<double>(n) - 0.5, 0);
    plbox("bc", 0, 0, "bcnstvg", 0, 0);
    // Category labels; thinned out when there are too many to read.
    const size_t step = n > 40 ? (n + 39) / 40 : 1;
    plschr(0, n > 20 ? 0.7 : 0.85);
    for (size_t i = 0; i < n; i += step) {
      const double at = (static_cast<double>(i) + 0.5) / static_cast<double>(n);
      if (vertical)
        plmtex("bv", 0.7, at, 1.0, escape_text(p.categories[i]).c_str());
      else
        plmtex("b", 1.4, at, 0.5, escape_text(p.categories[i]).c_str());
    }
    plschr(0, 1.0);
    const double label_at = vertical ? 1.5 + 0.62 * static_cast<double>(std::min<size_t>(longest, 24)) : 3.0;
    plmtex("b", label_at, 0.5, 0.5, escape_text(p.x_label).c_str());
    plmtex("l", 4.5, 0.5, 0.5, scaled_label(p.y.label, e).c_str());
    draw_legend(legend, colours, styles, kinds, place);
  });
}

// ---- image grid ------------------------------------------------------------------

void plot_image_grid(const std::string& path, const ImageGridPlot& p) {
  const std::string what = "image grid";
  validate_image_grid(what, path, p);
  std::vector<double> all;
  for (const auto& image : p.images) all.insert(all.end(), image.begin(), image.end());
  const auto [lo, hi] = value_range(all, p.symmetric);
  const int count = static_cast<int>(p.images.size());
  const int columns =
      p.columns > 0 ? std::min(p.columns, count) : static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count))));
  const int grid_rows = (count + columns - 1) / columns;
  render(what, path, p.figure, [&, lo = lo, hi = hi] {
    draw_title(p.figure.title);
    p.symmetric ? set_diverging_map() : set_sequential_map();
    const double left = 0.03, right = 0.84, bottom = 0.03, top = p.figure.title.empty() ? 0.97 : 0.91;
    const double cw = (right - left) / columns, ch = (top - bottom) / grid_rows;
    const double aspect = static_cast<double>(p.rows) / static_cast<double>(p.cols);
    plschr(0, std::max(0.45, std::min(0.9, 4.0 / std::max(columns, grid_rows))));
    for (int i = 0; i < count; ++i) {
      const int gr = i / columns, gc = i % columns;
      const double vx0 = left + gc * cw, vy1 = top - gr * ch;
      // Leave a tenth of the cell for the gap and a fifth on top for the caption.
      plvpas(vx0 + 0.05 * cw, vx0 + 0.95 * cw, vy1 - ch + 0.03 * ch, vy1 - 0.2 * ch, aspect);
      plwind(0, static_cast<double>(p.cols), 0, static_cast<double>(p.rows));
      draw_cells(p.images[static_cast<size_t>(i)], p.rows, p.cols, 0, static_cast<double>(p.cols), 0,
                 static_cast<double>(p.rows), lo, hi);
      plcol0(kBlack);
      plbox("bc", 0, 0, "bc", 0, 0);
      if (!p.captions.empty()) plmtex("t", 0.9, 0.5, 0.5, escape_text(p.captions[static_cast<size_t>(i)]).c_str());
    }
    plschr(0, 1.0);
    draw_colorbar(0.88, 0.91, 0.1, top - 0.05, lo, hi, p.colorbar_label);
  });
}

}  // namespace trim::io
