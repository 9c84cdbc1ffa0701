#pragma once
// The PNG figures of `trim attribute --plot` and `trim sweep --plot`, built on
// trim/io/plot.hpp. Every figure shows the mean over the examples of the
// batch (a single example is its own mean).
#include <cstdint>
#include <string>
#include <vector>

#include "trim/core/tensor.hpp"
#include "trim/transforms/grouping.hpp"
#include "trim/transforms/transform.hpp"

namespace trim::cli {

/// Attributions [targets, N, coefficient_shape...] of target row `row`, laid
/// out for the transform: a frequency-centred heatmap (fft2, rfft2), a
/// sub-band mosaic (dwt1, dwt2), one image per band (swt2) or a band × position
/// heatmap (swt1), a curve over frequency (fft1, rfft1), bars per component
/// (nmf, pca, dict), or a heatmap / curve over the last axes (identity, dct).
/// Leading (channel) axes and the (re, im) pair are summed.
void plot_coefficients(const std::string& path, const Transform& t, const Tensor& attributions, int64_t row,
                       const std::string& title, const std::string& value_label);

/// Group scores [targets, N, groups], one series per target (at most 10): a
/// curve over the band centres for radial bands, else bars named by group.
void plot_groups(const std::string& path, const Grouping& g, const Tensor& scores, const std::vector<int64_t>& targets,
                 const std::string& title, const std::string& x_label, const std::string& value_label);

/// A band sweep rel [targets, N, centres]: one curve per target (at most 10).
void plot_sweep(const std::string& path, const std::vector<double>& centers, double width, const Tensor& rel,
                const std::vector<int64_t>& targets, const std::string& title);

}  // namespace trim::cli
