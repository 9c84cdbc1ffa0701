#pragma once
/// \file
/// Figures: heatmaps of coefficient attributions, line and bar charts of
/// group scores, grids of small images. Drawn with PLplot (Debian's
/// `libplplot-dev` + `plplot-driver-cairo`). The file name's extension picks
/// the format: `.png` (device pngcairo), `.svg` (svgcairo) or `.pdf`
/// (pdfcairo; vector formats take the figure size in points); any other
/// extension is a ValueError before anything is drawn.
///
/// Every function validates its input first (sizes agree, values finite,
/// path writable) and throws ValueError / IoError naming the figure and the
/// problem; PLplot itself never gets to abort the process. The PNG is drawn
/// into a temporary file next to `path` and renamed into place, so a failed
/// call leaves no partial figure. Calls are serialised by a mutex (PLplot
/// keeps global state); they are safe to make from any thread.
///
/// This file knows no transform: the layouts of transform coefficients
/// (`fourier_heatmap`, `wavelet_mosaic`) are in `trim/figures/coefficients.hpp`.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "trim/core/tensor.hpp"

namespace trim::io {

/// True when trim was built with PLplot and its PNG driver loads. When false,
/// every plot_* function throws IoError saying how to get plots.
bool plotting_available();

/// "png", "svg" or "pdf" from the extension of `path` (case-insensitive);
/// ValueError naming the path and the formats otherwise.
std::string figure_format(const std::string& path);

/// One axis. `min == max` (the default) means: fit the data.
struct Axis {
  std::string label;
  double min = 0;
  double max = 0;
  bool log = false;  ///< logarithmic axis (values must be > 0)
};

/// Common figure settings.
struct Figure {
  std::string title;
  int width = 800;   ///< pixels
  int height = 600;  ///< pixels
};

/// A matrix drawn as coloured cells with a colour bar.
struct HeatmapPlot {
  Figure figure;
  std::vector<double> values;  ///< row-major, rows × cols; row 0 is drawn at the top
  int64_t rows = 0;
  int64_t cols = 0;
  /// Coordinates of the outer cell edges: x from the left edge of column 0 to
  /// the right edge of the last column, y from the bottom edge of the last
  /// row to the top edge of row 0. Default (min == max): cell indices.
  Axis x, y;
  std::string colorbar_label;
  /// true: a diverging colour map symmetric about 0 (attributions: blue
  /// negative, white 0, red positive); false: a sequential map from min to max.
  bool symmetric = true;
  /// Straight lines drawn over the cells, in axis coordinates
  /// ({x0, y0, x1, y1}), e.g. the sub-band boundaries of a wavelet mosaic.
  std::vector<std::array<double, 4>> lines;
};
void plot_heatmap(const std::string& path, const HeatmapPlot& plot);

/// One curve (or one set of bars).
struct Series {
  std::string label;       ///< legend entry (empty: no legend entry)
  std::vector<double> x;   ///< ignored by bar charts
  std::vector<double> y;
  std::vector<double> err; ///< optional ± band / error bar, same size as y
};

/// Curves with a legend; optional vertical marker lines (e.g. the true k₀).
struct LinePlot {
  Figure figure;
  Axis x, y;
  std::vector<Series> series;
  std::vector<double> markers;  ///< x positions of dashed vertical lines
  std::string markers_label;    ///< legend entry for the markers
};
void plot_lines(const std::string& path, const LinePlot& plot);

/// Grouped bar chart: one bar per category and series (series side by side).
struct BarPlot {
  Figure figure;
  std::vector<std::string> categories;  ///< tick labels along x
  std::string x_label;
  Axis y;
  std::vector<Series> series;           ///< each y has categories.size() values
};
void plot_bars(const std::string& path, const BarPlot& plot);

/// Small images side by side (e.g. NMF components), each with a caption.
struct ImageGridPlot {
  Figure figure;
  std::vector<std::vector<double>> images;  ///< each rows × cols, row-major
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<std::string> captions;        ///< empty or one per image
  int columns = 0;                          ///< images per row; 0: about square
  bool symmetric = false;                   ///< as HeatmapPlot::symmetric
  std::string colorbar_label;
};
void plot_image_grid(const std::string& path, const ImageGridPlot& plot);

}  // namespace trim::io
