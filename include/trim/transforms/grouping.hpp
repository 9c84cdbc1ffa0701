#pragma once
/// \file
/// Groupings of transform coefficients: the features TRIM attributes to
/// (radial frequency bands, wavelet sub-bands, dictionary components).

#include <cstdint>
#include <string>
#include <vector>

#include "trim/core/tensor.hpp"
#include "trim/transforms/transform.hpp"

namespace trim {

/// An integer label per coefficient element of one example
/// (`coefficient_shape`, row-major); the real and imaginary parts of a
/// complex coefficient share their label. Label -1: in no group.
struct Grouping {
  Shape coefficient_shape;
  std::vector<int32_t> labels;
  std::vector<std::string> names;  ///< one per group, for tables and plots
  std::vector<double> centers;     ///< one per group, in the grouping's units (plots)
  std::string units;               ///< e.g. "normalised radius", "Hz", "multipole l"

  int size() const { return static_cast<int>(names.size()); }
  /// 1 where the label is `group`, else 0; shape `coefficient_shape`.
  Tensor mask(int group) const;
};

/// `n_bands` equal-width bands of the normalised frequency radius covering
/// [0, √d] (d = 1, 2, 3 transformed axes: radial shells of |k| in 3-D).
/// Frequencies are NumPy's fftfreq divided by their maximum absolute value
/// per axis; a coefficient is in a band when lo ≤ r < hi (the last band
/// includes its upper edge). For fft1-3 and rfft1-3 transforms; ValueError
/// otherwise.
///
/// Polar transforms (`fft2:polar`, `Transform::polar()`): every band is two
/// groups, "amplitude lo-hi" (labels 0..n−1, the |s| of the band) and
/// "phase lo-hi" (labels n..2n−1, the arg s of the band), so one attribution
/// says how much the model uses the amplitudes and how much the phases at
/// each scale. The same holds for `radial_band` and `physical_bands`.
Grouping radial_bands(const Transform& t, int n_bands);
/// One band [center − width/2, center + width/2) of the normalised radius
/// (label 0; all else −1), as the reference's band sweeps. `width` is the
/// full width of the band everywhere in trim (the reference's "±0.05" is
/// width 0.1).
Grouping radial_band(const Transform& t, double center, double width);
/// Bands with edges in physical units: `spacing` is the sample spacing
/// (seconds, or arcmin per pixel); frequencies are cycles per unit
/// (fftfreq(n, spacing)); for `units == "multipole l"` the radius is
/// converted to ℓ = 2π·f with f in cycles per radian. `edges` ascending.
Grouping physical_bands(const Transform& t, const std::vector<double>& edges, double spacing,
                        const std::string& units);

/// The normalised frequency radius of every coefficient element of a
/// Fourier transform (fft1, fft2, rfft1, rfft2), in coefficient_shape order
/// (the re and im parts share it): the coordinate radial_bands groups by,
/// so a single coefficient can be reported in the same units as its band.
std::vector<double> frequency_radii(const Transform& t);

/// User labels as a grouping: `labels` (row-major over `shape`) are integers
/// >= -1 (-1: in no group) over the coefficients of one example, or, when the
/// coefficients are (re, im) pairs, over all but the pair axis (both parts
/// share the label). Groups are "group 0" ... up to the largest label (at most
/// 99999), units "group". `what` names the labels in messages ("mask
/// 'm.npy'"); ShapeError for another shape, ValueError for a label that is not
/// an integer >= -1 or when every label is -1.
Grouping mask_groups(const Transform& t, const Shape& shape, const std::vector<double>& labels,
                     const std::string& what = "mask");

/// The part of x (a batch [N, input_shape...]) whose coefficients lie in
/// `group`: T⁻¹(mask ⊙ T(x)). The parts of all groups of a partition sum to x
/// (for an exact transform).
Tensor bandpass(const Transform& t, const Tensor& x, const Grouping& grouping, int group);

}  // namespace trim
