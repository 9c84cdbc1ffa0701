// The transform-aware figure layouts (see trim/figures/coefficients.hpp).
#include "trim/figures/coefficients.hpp"

#include <string>

#include "trim/core/error.hpp"

namespace trim::io {

HeatmapPlot fourier_heatmap(const std::vector<double>& values, int64_t rows, int64_t cols, bool half_spectrum) {
  if (rows <= 0 || cols <= 0 || static_cast<int64_t>(values.size()) != rows * cols)
    throw ValueError("fourier_heatmap: " + std::to_string(values.size()) + " values for " + std::to_string(rows) + "x" +
                     std::to_string(cols) + " coefficients");
  // fftshift moves frequency index k to position (k + n/2) mod n, so that
  // the most negative frequency comes first and 0 sits at index n/2.
  // Rows are then drawn in reverse so the vertical frequency grows upwards.
  HeatmapPlot h;
  h.rows = rows;
  h.cols = cols;
  h.values.resize(values.size());
  const int64_t row_shift = rows / 2, col_shift = half_spectrum ? 0 : cols / 2;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t shifted_row = (r + row_shift) % rows;  // position after fftshift, bottom = 0
    const int64_t drawn_row = rows - 1 - shifted_row;    // row 0 of the heatmap is the top
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t drawn_col = (c + col_shift) % cols;
      h.values[static_cast<size_t>(drawn_row * cols + drawn_col)] = values[static_cast<size_t>(r * cols + c)];
    }
  }
  // Cell centres are fftfreq values k / n; edges lie half a step outside.
  const double fr = 1.0 / static_cast<double>(rows);
  h.y.min = -static_cast<double>(rows / 2) * fr - fr / 2;
  h.y.max = static_cast<double>((rows - 1) / 2) * fr + fr / 2;
  h.y.label = "vertical frequency (cycles/sample)";
  if (half_spectrum) {
    // rfft: columns 0..cols-1 are frequencies k / n with n = 2·(cols − 1)
    // (or 2·cols − 1); the exact n does not change the first cols bins' spacing
    // enough to matter for a figure, so use n = 2·(cols − 1) (NumPy's default).
    const double n = cols > 1 ? 2.0 * static_cast<double>(cols - 1) : 1.0;
    h.x.min = -0.5 / n;
    h.x.max = (static_cast<double>(cols) - 0.5) / n;
  } else {
    const double fc = 1.0 / static_cast<double>(cols);
    h.x.min = -static_cast<double>(cols / 2) * fc - fc / 2;
    h.x.max = static_cast<double>((cols - 1) / 2) * fc + fc / 2;
  }
  h.x.label = "horizontal frequency (cycles/sample)";
  h.colorbar_label = "attribution";
  return h;
}

HeatmapPlot wavelet_mosaic(const WaveletTransform& transform, const std::vector<double>& values) {
  const kernels::WaveletLayout& layout = transform.layout();
  if (layout.stationary)
    throw ValueError("wavelet_mosaic: '" + transform.spec() + "' is stationary (swt); the mosaic needs a dwt");
  if (static_cast<int64_t>(values.size()) != layout.size)
    throw ValueError("wavelet_mosaic: " + std::to_string(values.size()) + " values, but one channel of '" +
                     transform.spec() + "' has " + std::to_string(layout.size) + " coefficients");
  HeatmapPlot h;
  h.colorbar_label = "attribution";
  if (layout.dims == 1) {
    // 1-D: coeffs_to_array is the concatenation itself; one strip with a
    // boundary line between bands.
    h.rows = 1;
    h.cols = layout.size;
    h.values = values;
    for (const auto& b : layout.bands)
      if (b.offset > 0) h.lines.push_back({static_cast<double>(b.offset), 0.0, static_cast<double>(b.offset), 1.0});
    h.x.label = "coefficient (cA_n, cD_n, ..., cD_1)";
    return h;
  }
  // 2-D: PyWavelets' coeffs_to_array. Start with cA_n at the top left; per
  // level (coarsest first) with (a0, a1) the size placed so far:
  // cV ('ad') at rows [0, d0), cols [a1, a1 + d1) (top right),
  // cH ('da') at rows [a0, a0 + d0), cols [0, d1) (bottom left),
  // cD ('dd') at rows [a0, a0 + d0), cols [a1, a1 + d1) (bottom right);
  // then (a0, a1) += shape of cD. Uncovered cells stay 0 (padding=0).
  const kernels::WaveletBand& approx = layout.bands.front();
  int64_t total0 = approx.shape[0], total1 = approx.shape[1];
  for (const auto& b : layout.bands)
    if (b.orientation == 'd') total0 += b.shape[0], total1 += b.shape[1];
  h.rows = total0;
  h.cols = total1;
  h.values.assign(static_cast<size_t>(total0 * total1), 0.0);
  auto place = [&](const kernels::WaveletBand& b, int64_t r0, int64_t c0) {
    for (int64_t r = 0; r < b.shape[0]; ++r)
      for (int64_t c = 0; c < b.shape[1]; ++c)
        h.values[static_cast<size_t>((r0 + r) * total1 + c0 + c)] =
            values[static_cast<size_t>(b.offset + r * b.shape[1] + c)];
  };
  place(approx, 0, 0);
  int64_t a0 = approx.shape[0], a1 = approx.shape[1];
  // Drawn y runs upwards from the bottom edge (0) to the top (rows): a row
  // boundary at array row k is the line y = rows − k.
  const double top = static_cast<double>(total0);
  for (const auto& b : layout.bands) {
    if (b.orientation == 'a') continue;
    if (b.orientation == 'v') place(b, 0, a1);
    if (b.orientation == 'h') place(b, a0, 0);
    if (b.orientation == 'd') {
      place(b, a0, a1);
      const double d0 = static_cast<double>(b.shape[0]), d1 = static_cast<double>(b.shape[1]);
      // Lines around this level's three sub-bands.
      h.lines.push_back({0.0, top - static_cast<double>(a0), static_cast<double>(a1) + d1, top - static_cast<double>(a0)});
      h.lines.push_back({static_cast<double>(a1), top, static_cast<double>(a1), top - static_cast<double>(a0) - d0});
      a0 += b.shape[0];
      a1 += b.shape[1];
    }
  }
  // Name the blocks: the mosaic has no other key to which sub-band is where.
  h.x.label = approx.name + " top left; each level: cV top right, cH bottom left, cD bottom right";
  h.y.label = "mosaic row (from the bottom)";
  return h;
}

}  // namespace trim::io
