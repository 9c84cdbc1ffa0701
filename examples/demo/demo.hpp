#pragma once
// The main demo's pieces: simulated maps (maps.cpp), the CNN (cnn.cpp), the
// TRIM analysis (explain.cpp) and the figure (figure.cpp). main.cpp runs them.
#include <trim/trim.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace demo {

/// The simulated sky: Gaussian random fields with power spectrum
/// P(k) = A · k^(−n) · (1 + B · exp(−(k − k0)² / (2 σ²))), k the normalised
/// frequency radius (NumPy's fftfreq divided by its maximum, as trim's
/// radial bands use, so k = 1 is the Nyquist frequency along an axis).
/// A and B are drawn per map; n, k0 and σ are fixed, so everything the maps
/// say about B is in the power near k0.
struct Sky {
  int64_t size = 64;           ///< maps are size × size pixels
  double n = 1.0;              ///< spectral index
  double k0 = 0.65;            ///< bump centre (normalised radius)
  double sigma = 0.08;         ///< bump width (normalised radius)
  double a_min = 0.5, a_max = 2.0;  ///< A is log-uniform in [a_min, a_max]
  double b_min = 0.0, b_max = 4.0;  ///< B is uniform in [b_min, b_max]
  double pixel_arcmin = 2.0;   ///< pixel size, for multipoles ℓ

  /// Multipole ℓ = 2π f of normalised radius r, f in cycles per radian.
  double multipole(double radius) const;
};

/// Maps [N, 1, size, size] with their parameters.
struct MapSet {
  trim::Tensor maps;
  std::vector<double> a, b;
  int64_t count() const { return static_cast<int64_t>(a.size()); }
};

/// `count` maps drawn with `seed` (parameters and noise). With A = 1 and
/// B = 0 the pixel variance is 1, so the maps need no further normalisation.
MapSet simulate_maps(const Sky& sky, int64_t count, uint64_t seed);

/// Standardised regression targets [N, 2]: (log A, B), each shifted and
/// scaled to zero mean and unit variance over the training set. The CNN
/// regresses log A rather than A: A is drawn log-uniformly and multiplies
/// the whole spectrum, so a map tells A to a given *relative* precision, and
/// the squared error on log A weighs every A alike.
struct TargetScaler {
  double mean[2] = {0, 0}, scale[2] = {1, 1};
  static TargetScaler fit(const MapSet& train);
  trim::Tensor transform(const MapSet& set) const;
  /// Standardised predictions [N, 2] back to the parameters (A, B).
  trim::Tensor parameters(const trim::Tensor& standardised) const;
};

/// The true parameters (A, B) of a set, [N, 2].
trim::Tensor true_parameters(const MapSet& set);

/// The CNN: a bank of 5×5 filters (stride 2), ReLU, global average pooling
/// (so each channel measures the power its filter passes), then a small MLP
/// that turns band powers into (log A, B).
trim::Graph build_cnn(uint64_t seed, int64_t size);

struct TrainSettings {
  int epochs = 24;
  int64_t batch_size = 32;
  double lr = 3e-3;
  uint64_t seed = 3;
};

/// Trains `cnn` on `train` with Adam and MSE, printing per epoch the loss and
/// the held-out R² of both outputs; returns the final held-out R² per output.
std::vector<double> train_cnn(trim::Graph& cnn, const trim::Tensor& train_maps, const trim::Tensor& train_y,
                              const trim::Tensor& test_maps, const trim::Tensor& test_y,
                              const TrainSettings& settings);

/// Coefficient of determination per column of [N, K] predictions.
std::vector<double> r_squared(const trim::Tensor& prediction, const trim::Tensor& target);

/// Mean over maps of one method's scores, per band, for each output.
struct BandCurve {
  std::string method;
  std::vector<double> centres;           ///< band centres (normalised radius)
  double width = 0;                      ///< full band width
  std::vector<std::vector<double>> mean; ///< [output][band]
  double hit_rate_b = 0;                 ///< how often the top band (B output) contains k0
  double delta_relative = 0;             ///< IG: max |completeness delta| / rms output change
  /// Whether band j, [centre − width/2, centre + width/2), holds `radius`.
  bool holds(size_t j, double radius) const {
    return centres[j] - width / 2 <= radius && radius < centres[j] + width / 2;
  }
};

/// TRIM in fft2 space on `maps`: CD over `sweep_bands` narrow bands (the
/// sweep), integrated gradients and Shapley values over `n_bands` radial
/// bands, for both outputs in one call each. Prints progress and timings.
std::vector<BandCurve> explain(const trim::Graph& cnn, const trim::Tensor& maps, const Sky& sky, int sweep_bands,
                               int n_bands);

/// Scores gradient, input × gradient, integrated gradients, Shapley values
/// and CD of `n_bands` radial bands for the B output by deletion / insertion
/// of bands and µ-fidelity (trim/attribution/evaluate.hpp); prints the table
/// and returns the most faithful method's name.
std::string faithfulness(const trim::Graph& cnn, const trim::Tensor& maps, const Sky& sky, int n_bands);

/// Writes the "TRIM (CD) score vs scale" figure; returns false (after a
/// note) when trim has no PLplot, throws when the figure cannot be written.
bool write_figure(const std::string& path, const BandCurve& cd, const Sky& sky);

}  // namespace demo
