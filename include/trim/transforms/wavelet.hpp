#pragma once
/// \file
/// Wavelet transforms as TRIM transforms: attribution to scales (levels) and
/// orientations (sub-bands) of a discrete wavelet decomposition, with
/// PyWavelets' conventions (see `trim/kernels/dwt.hpp` and docs/wavelets.md).
///
/// Spec strings (`make_transform`):
/// - `dwt1:<wavelet>[:<level>[:<mode>]]`: `pywt.wavedec` over the last axis;
/// - `dwt2:<wavelet>[:<level>[:<mode>]]`: `pywt.wavedec2` over the last two;
/// - `dwt3:<wavelet>[:<level>[:<mode>]]`: `pywt.wavedecn` over the last three;
/// - `swt1:<wavelet>[:<level>]`, `swt2:<wavelet>[:<level>]`: the stationary
///   (undecimated, always periodic) `pywt.swt` / `pywt.swt2` with
///   `trim_approx=True`.
/// The level defaults to the maximum (`dwt_max_level` / `swt_max_level`,
/// the smaller over both axes; an empty level means the same), the mode to
/// `symmetric`. Leading axes (channels) are transformed independently.
///
/// Coefficient layout of one example:
/// - dwt: [leading..., size], the raveled (row-major) arrays concatenated in
///   `wavedec` / `wavedec2` order: cA_n, cH_n, cV_n, cD_n, ..., cH_1, cV_1,
///   cD_1 (1-D: cA_n, cD_n, ..., cD_1). `pywt.coeffs_to_array` is *not* used.
///   dwt3: cA_n, then per level from the coarsest the seven `wavedecn`
///   details in key order aad, ada, add, daa, dad, dda, ddd ("aad_k", ...).
/// - swt1: [leading..., level + 1, n] (cA_n, cD_n, ..., cD_1 stacked);
///   swt2: [leading..., 3·level + 1, h, w] (cA_n, cH_n, cV_n, cD_n, ...).
///
/// The inverse op (`inverse_dwt2`, ...) is Kind::Linear without bias; its
/// backward is the exact transpose of the inverse (not the forward
/// transform, which differs for biorthogonal wavelets and every mode but
/// periodization). `exact()` is false only for `dmey`, whose filters
/// reconstruct to ~1e-2 (as in PyWavelets).

#include <memory>
#include <string>

#include "trim/kernels/dwt.hpp"
#include "trim/transforms/grouping.hpp"
#include "trim/transforms/transform.hpp"

namespace trim {

namespace detail {
struct WaveletPlan;
}

class WaveletTransform final : public Transform {
 public:
  explicit WaveletTransform(std::shared_ptr<const detail::WaveletPlan> plan);

  /// Canonical spec with the level made explicit: "dwt2:db4:3:symmetric",
  /// "swt1:haar:2".
  std::string spec() const override;
  int axes() const override;
  std::string family() const override;
  CoefficientLayout coefficient_layout() const override;
  /// Mosaic for dwt1 / dwt2, Grid (the flat coefficients) for dwt3.
  FigureKind figure_kind() const override;
  Tensor forward(const Tensor& x) const override;
  Tensor inverse(const Tensor& s) const override;
  std::shared_ptr<const Op> inverse_op() const override;
  bool exact() const override;

  const kernels::Wavelet& wavelet() const;
  /// Where each band lives in the coefficients of one channel.
  const kernels::WaveletLayout& layout() const;
  int level() const;
  kernels::DwtMode mode() const;
  bool stationary() const;
  /// Number of leading (channel) positions of one example: each holds one
  /// copy of `layout()`.
  int64_t channels() const;

 private:
  std::shared_ptr<const detail::WaveletPlan> plan_;
};

/// Builds a wavelet transform directly. `family` is dwt1, dwt2, swt1 or
/// swt2; `level` -1 means the maximum; `mode` is ignored for swt. Throws as
/// `make_transform`.
std::shared_ptr<const WaveletTransform> make_wavelet(const std::string& family, const std::string& wavelet, int level,
                                                     kernels::DwtMode mode, const Shape& input_shape);

/// One group per sub-band, in layout order: cA_n, cH_n, cV_n, cD_n, ...,
/// cD_1 (1-D: cA_n, cD_n, ..., cD_1), shared by all channels. centers =
/// level (cA_n: n + 1, one step coarser than the coarsest details), units
/// "level". ValueError when `t` is not a wavelet transform.
Grouping wavelet_subbands(const Transform& t);
/// One group per scale: "cA_n" (center n + 1), then "level_n", ...,
/// "level_1" holding all details of that level (center = level).
Grouping wavelet_levels(const Transform& t);
/// One group per coefficient element of one example, in memory order. Names
/// are the band and the position inside it, "cH_2[3,4]", prefixed with the
/// channel ("ch1:cH_2[3,4]") when an example has several; centers = level.
Grouping wavelet_coefficients(const Transform& t);

}  // namespace trim
