#pragma once
/// \file
/// Figures that know a transform's coefficient layout: the frequency-centred
/// heatmap of a 2-D spectrum and the sub-band mosaic of a wavelet
/// decomposition. They sit above both `io/plot.hpp` (which draws any
/// `HeatmapPlot` and knows no transform) and `transforms/`, and stay in
/// namespace `trim::io` with the other figure builders, so callers only
/// include this header (the umbrella `trim/trim.hpp` does).

#include <cstdint>
#include <vector>

#include "trim/io/plot.hpp"
#include "trim/transforms/wavelet.hpp"

namespace trim::io {

/// Heatmap of one example's fft2 / rfft2 coefficient scores (shape [H, W] or
/// [H, W', 2] reduced by the caller to [H, W']) with the zero frequency moved
/// to the centre (fftshift along the full axes; for `half_spectrum` only the
/// rows) and axes in cycles per sample. Heatmap rows run from the highest
/// vertical frequency (top, row 0) down to the most negative one, so that
/// coefficient (k, l) lands in heatmap row H − 1 − ((k + H/2) mod H) and
/// column (l + W/2) mod W (column l for half spectra).
HeatmapPlot fourier_heatmap(const std::vector<double>& values, int64_t rows, int64_t cols, bool half_spectrum);

/// PyWavelets' `coeffs_to_array` layout of one channel's dwt2 coefficient
/// scores (`values` in the flattened wavedec2 order, `layout().size` of
/// them): cA_n top left, then per level (coarsest first) cV ('ad') top
/// right, cH ('da') bottom left, cD bottom right, with the sub-band
/// boundaries as lines; cells no band covers are 0 (padding=0). A dwt1
/// gives one strip (the concatenation, which is coeffs_to_array in 1-D).
/// ValueError for swt transforms or a size mismatch.
HeatmapPlot wavelet_mosaic(const WaveletTransform& transform, const std::vector<double>& values);

}  // namespace trim::io
