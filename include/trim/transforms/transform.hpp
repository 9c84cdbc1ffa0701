#pragma once
/// \file
/// `Transform`: the T of TRIM. A transform is bound to the shape of one
/// example (without the batch axis) and acts on its trailing axes, keeping
/// the leading ones (channels): `fft2` on [1,64,64] gives coefficients
/// [1,64,64,2]. Complex coefficients are a trailing axis of 2 (re, im).
///
/// A TRIM model is `model ∘ inverse`: `inverse_op()` is a graph op of kind
/// Linear (no bias) with an exact adjoint as its backward, so gradients,
/// DeepLIFT and contextual decomposition flow through it with no special
/// case.
///
/// Spec strings (used by the CLI): `identity`, `fft1`, `fft2`, `fft3`,
/// `rfft1`, `rfft2`, `rfft3`, `dct1`, `dct2`, `dct3`, optionally followed by
/// `:backward` (default), `:ortho` or `:forward` with NumPy's meaning of
/// `norm`, and for fft / rfft by `:polar` (amplitude and phase pairs); the wavelet,
/// dictionary and learned-decoder (`decoder:D.onnx[:E.onnx]`) families are in
/// their own headers. `transform_families()` is the one table of them all.
///
/// Code that groups, draws or walks coefficients asks the transform what they
/// are (`coefficient_layout()`, `complex_pairs()`, `figure_kind()`,
/// `groupings()`) instead of parsing `spec()`, which is for display and for
/// recreating the transform.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trim/core/tensor.hpp"
#include "trim/graph/graph.hpp"

namespace trim {

/// How the coefficients of one example are laid out.
enum class CoefficientLayout {
  Samples,          ///< identity: the example itself
  Spectrum,         ///< fft1, fft2: the full spectrum [..., n1, (n2,) 2], (re, im) pairs
  HalfSpectrum,     ///< rfft1, rfft2: the last transformed axis holds n/2 + 1 bins; (re, im) pairs
  Cosine,           ///< dct1, dct2: real coefficients on the example's grid
  Subbands,         ///< dwt1, dwt2: [channels..., size], the flattened sub-bands (WaveletTransform::layout)
  StationaryBands,  ///< swt1, swt2: [channels..., bands, n] or [channels..., bands, h, w]
  Components,       ///< nmf, pca, dict: [channels..., k]
  TimeFrequency,    ///< stft: [channels..., n_fft/2 + 1 bins, frames, 2], (re, im) pairs
  Other,            ///< a transform outside the library that names no built-in family
};

/// The figure that shows the attributions of one example's coefficients
/// (`trim attribute --plot`).
enum class FigureKind {
  Grid,      ///< a curve over the last axis, or a heatmap over the last two (identity, dct)
  Spectrum,  ///< a curve over |frequency| (1-D) or a frequency-centred heatmap (2-D)
  Mosaic,    ///< the sub-band mosaic of a decimated wavelet transform
  Bands,     ///< stationary wavelets: band x position heatmap (1-D), one image per band (2-D)
  Bars,      ///< one bar per dictionary component
  Spectrogram,  ///< stft: a frequency x time heatmap
};

class Transform {
 public:
  virtual ~Transform() = default;

  /// The spec string that recreates this transform, e.g. "rfft2:ortho".
  virtual std::string spec() const = 0;
  /// Shape of one example (no batch axis) the transform was made for.
  const Shape& input_shape() const { return input_shape_; }
  /// Shape of one example's coefficients (no batch axis).
  const Shape& coefficient_shape() const { return coefficient_shape_; }
  /// Number of trailing axes of the input the transform acts on.
  virtual int axes() const = 0;

  /// s = T(x) for a batch x [N, input_shape...] -> [N, coefficient_shape...].
  virtual Tensor forward(const Tensor& x) const = 0;
  /// x = T⁻¹(s) for a batch [N, coefficient_shape...] -> [N, input_shape...].
  /// For `fft1`/`fft2` (full spectrum of a real signal) this is the real part
  /// of the complex inverse.
  virtual Tensor inverse(const Tensor& s) const = 0;
  /// The inverse as a graph op: Kind::Linear without bias, input
  /// [*, coefficient_shape...], output [*, input_shape...], backward = exact
  /// adjoint (for `polar()` transforms a nonlinear op of Kind::Cell with its
  /// own DeepLIFT and CD rules). The op does not refer to this object (it may
  /// outlive it).
  virtual std::shared_ptr<const Op> inverse_op() const = 0;
  /// True when inverse(forward(x)) == x for every x (up to rounding).
  virtual bool exact() const { return true; }
  /// Adds the inverse to graph `g` after node `coefficients` and returns the
  /// node of the signal (`add_inverse` calls this). Default: one node running
  /// `inverse_op()`. A learned decoder appends its own graph's nodes instead,
  /// so the methods walk through its layers with their kinds.
  virtual NodeId add_inverse_nodes(Graph& g, NodeId coefficients, const std::string& name) const;

  /// The family: the first part of the spec ("rfft2" of "rfft2:ortho").
  /// The default reads it off `spec()`, so a transform written outside the
  /// library that names a built-in family behaves as that family.
  virtual std::string family() const;
  /// How the coefficients are laid out. Default: the layout of `family()` in
  /// `transform_families()`, `Other` for an unknown family.
  virtual CoefficientLayout coefficient_layout() const;
  /// True when the last coefficient axis is a (re, im) pair (fft*, rfft*, stft):
  /// per-coefficient labels, windows and figures treat the pair as one.
  bool complex_pairs() const;
  /// True when those pairs are (|s|, arg s) instead of (re, im) (`fft2:polar`):
  /// the inverse is then nonlinear (an op of Kind::Cell) and the frequency
  /// groupings give each band an amplitude group and a phase group.
  virtual bool polar() const { return false; }
  /// The natural groupings of the coefficients, by their `--groups` name
  /// without parameters ("radial", "band", "bands"; "subbands", "levels";
  /// "components"); empty when only user masks fit.
  virtual std::vector<std::string> groupings() const;
  /// How `trim attribute --plot` draws the coefficients (default: from the
  /// layout).
  virtual FigureKind figure_kind() const;

 protected:
  Transform(Shape input_shape, Shape coefficient_shape)
      : input_shape_(std::move(input_shape)), coefficient_shape_(std::move(coefficient_shape)) {}

 private:
  Shape input_shape_;
  Shape coefficient_shape_;
};

/// One family of spec strings: the single place that knows its name, its
/// syntax, how to make it and what its coefficients are.
struct TransformFamily {
  std::string name;                ///< "rfft2": the spec's first part
  std::string syntax;              ///< what follows the name ("[:NORM]", ":DICT.npy"), for help texts
  CoefficientLayout layout = CoefficientLayout::Other;
  bool reads_file = false;         ///< the spec names a file (nmf, pca, dict)
  /// Makes the transform from the whole spec; throws as `make_transform`.
  std::function<std::shared_ptr<const Transform>(const std::string& spec, const Shape& input_shape)> make;
  /// The example shape whose coefficients have shape `coefficients` (which
  /// holds one example, leading axes included); nullopt when the
  /// coefficients do not determine it (dwt). ShapeError for too few axes.
  std::function<std::optional<Shape>(const std::string& spec, const Shape& coefficients)> signal_shape;
};

/// Every family `make_transform` knows, in help order.
const std::vector<TransformFamily>& transform_families();
/// The family named by the first part of `spec`, or nullptr.
const TransformFamily* find_transform_family(const std::string& spec);

/// The example shape whose coefficients are `coefficients` under `spec`, where
/// the spec determines it: fft drops the (re, im) axis, rfft gives an even last
/// axis 2·(m − 1) (NumPy's irfft default), swt drops the band axis, nmf / pca /
/// dict read the dictionary's feature count; nullopt for dwt. ValueError for an
/// unknown family, ShapeError for coefficients with too few axes.
std::optional<Shape> signal_shape_for(const std::string& spec, const Shape& coefficients);

/// Parses a spec string for examples of shape `input_shape` (no batch axis).
/// Throws ValueError naming the bad part of the spec ("unknown transform
/// 'fft3' in 'fft3:ortho'", "unknown normalisation 'orth'") and ShapeError
/// when the input has too few axes.
std::shared_ptr<const Transform> make_transform(const std::string& spec, const Shape& input_shape);

/// Adds the inverse of `t` to a graph after node `coefficients` (which must
/// have shape [*, t.coefficient_shape()...]).
NodeId add_inverse(Graph& g, NodeId coefficients, const Transform& t, const std::string& name = "inverse");

}  // namespace trim
