#pragma once
/// \file
/// Judging attributions in a transform's coefficient space: is the answer
/// a method gives faithful to *this* model? (docs/evaluate.md)
///
/// A *feature* is one coefficient element (scores [T, N, coefficient_shape...])
/// or one group of `AttributionOptions::grouping` (scores [T, N, groups]);
/// elements labelled −1 are never touched. "Removing" a feature edits s and
/// the model sees T⁻¹(s) + r, so every metric runs on a TrimModel's graph (or
/// any graph whose first input is the attributed one). Targets, batching
/// (max_batch) and extra inputs (the residual) come from AttributionOptions
/// as for the methods; every curve point of every example is one row of a
/// batch through the graph.
///
/// - deletion / insertion (Petsiuk et al. 2018): features in order of
///   decreasing score set to the baseline (deletion, from s) or restored
///   from it (insertion, from the baseline), the target output after each
///   step; areas under both curves over the removed fraction in [0, 1];
/// - random-order reference: the same curves for seeded random orders;
/// - ROAD (Rong et al. 2022): removed coefficients replaced by a noisy
///   harmonic (linear) interpolation of their neighbours along the
///   transform's own axes (`coefficient_neighbours`), most relevant first
///   (MoRF) and least relevant first (LeRF);
/// - µ-fidelity (Bhatt et al. 2020): Pearson correlation over random
///   subsets of Σ scores and the output drop when the subset is removed;
/// - model randomisation (Adebayo et al. 2018): cascading re-initialisation
///   of the layers from the top, Spearman rank correlation with the
///   original attributions.

#include <cstdint>
#include <string>
#include <vector>

#include "trim/attribution/gradients.hpp"
#include "trim/attribution/metrics.hpp"
#include "trim/attribution/trim_model.hpp"

namespace trim {

/// Which coefficient elements of one example are neighbours: an undirected
/// graph over the row-major elements of `coefficient_shape`, as adjacency
/// lists (each edge listed at both ends, weight 1).
struct CoefficientNeighbours {
  Shape coefficient_shape;
  std::vector<std::vector<int64_t>> adjacent;
  std::string description;  ///< e.g. "fft2: frequency grid (periodic), re and im separately"
};

/// The transform's own axes as a neighbourhood: Fourier frequencies along
/// each transformed axis (periodic for the full spectrum and for every rfft
/// axis but the last; the (re, im) parts separately); DCT frequencies (not
/// periodic); dwt positions inside each sub-band plus parent/child links
/// between the same orientation of adjacent levels (scale); swt positions
/// inside each band plus the same position in the next band of the same
/// orientation; identity: the pixel grid of the last (up to) two axes. Dictionary
/// components have no order, hence no neighbours (ROAD then imputes the baseline).
CoefficientNeighbours coefficient_neighbours(const Transform& t);

/// Harmonic interpolation of the elements where `unknown` is true from the
/// others: each unknown value is the mean of its neighbours (the linear
/// system solved exactly by conjugate gradients); unknowns in a connected
/// part with no known neighbour take `fallback`. `values`, `fallback` and
/// the result are one example (coefficient_shape.numel() elements).
std::vector<float> impute_from_neighbours(const CoefficientNeighbours& nb, const std::vector<float>& values,
                                          const std::vector<char>& unknown, const std::vector<float>& fallback);

struct FaithfulnessOptions {
  /// The value a removed coefficient takes (deletion) and where insertion
  /// starts, in coefficient space: zero (default), a constant, or T(b).
  Baseline baseline;
  /// Curve points after the start: features are removed in `steps` nearly
  /// equal chunks (0: one point per feature, at most 100).
  int steps = 0;
  /// Order by |score| instead of the signed score.
  bool by_magnitude = false;
  /// Seeded random orders for the reference curves (0: none).
  int n_random = 10;
  /// ROAD: also the MoRF / LeRF curves with imputation (needs `neighbours`).
  bool road = true;
  /// ROAD noise: N(0, (road_noise · RMS of the example's coefficients)²)
  /// added to every imputed coefficient (Rong et al. add noise so that the
  /// imputation itself does not leak the mask).
  float road_noise = 0.01f;
  const CoefficientNeighbours* neighbours = nullptr;
  /// µ-fidelity: random subsets, each of `mu_fraction` of the features.
  int mu_subsets = 50;
  double mu_fraction = 0.25;
  /// Optional fixed subsets [S, features] (1 = removed) used instead.
  Tensor mu_masks;
  uint64_t seed = 0;
};

/// Curves [T, N, points] over the removed fractions `fractions` (points =
/// steps + 1, starting at 0) and their trapezoid areas [T, N].
struct FaithfulnessCurves {
  std::vector<double> fractions;
  Tensor deletion, insertion;
  Tensor deletion_auc, insertion_auc;
  /// Random-order reference: mean and standard deviation over the orders.
  Tensor random_deletion_mean, random_deletion_std, random_insertion_mean, random_insertion_std;
  Tensor random_deletion_auc_mean, random_deletion_auc_std, random_insertion_auc_mean, random_insertion_auc_std;
  /// ROAD, most / least relevant first (empty without `road`).
  Tensor road_morf, road_lerf, road_morf_auc, road_lerf_auc;
};

/// The feature order of decreasing score of each target and example:
/// [T][N][features with a score], ties by index.
std::vector<std::vector<std::vector<int64_t>>> feature_orders(const Tensor& scores, int64_t n_features,
                                                              bool by_magnitude);

/// Deletion / insertion curves, the random reference and ROAD. `scores`
/// are [T, N, coefficient_shape...] or, with options.grouping, [T, N, groups];
/// s is [N, coefficient_shape...] and the graph's first input.
FaithfulnessCurves faithfulness_curves(const Graph& model, const Tensor& s, const Tensor& scores,
                                       const FaithfulnessOptions& fo = {}, const AttributionOptions& options = {});

/// µ-fidelity [T, N]: Pearson correlation over subsets S of Σ_{i∈S} score_i
/// and F(s) − F(s with S at the baseline). 0 when either side is constant.
Tensor mu_fidelity(const Graph& model, const Tensor& s, const Tensor& scores, const FaithfulnessOptions& fo = {},
                   const AttributionOptions& options = {});

/// Spearman rank correlation of two equally long lists (average ranks for
/// ties; 0 when either is constant).
double spearman(const std::vector<double>& a, const std::vector<double>& b);

struct RandomisationOptions {
  /// Compare |attributions| (Adebayo et al.'s main figure) instead of the signed values.
  bool absolute = false;
  uint64_t seed = 0;
};

struct RandomisationResult {
  /// The layers (graph nodes with trainable parameters) from the top, in the
  /// order they were re-initialised: step k has layers[0..k] randomised.
  std::vector<std::string> layers;
  Tensor correlation;  ///< Spearman [layers, T, N] against the original attributions
};

/// Cascading model randomisation: a copy of `model` has its layers
/// re-initialised one more at a time from the output down (each trainable
/// parameter redrawn uniformly with zero mean and its own RMS: the same
/// scale, none of the learnt structure), `method` re-run at every step.
/// Scores are the method's group_scores when options.grouping is set, else
/// its attributions.
RandomisationResult model_randomisation(const Graph& model, const Tensor& s, const AttributionMethod& method,
                                        const RandomisationOptions& ro = {}, const AttributionOptions& options = {});

/// Everything at once, as `trim evaluate` writes it.
struct EvaluationReport {
  std::vector<int64_t> targets;
  FaithfulnessCurves curves;
  Tensor mu_fidelity;                 ///< [T, N]
  Tensor infidelity;                  ///< [T, N], empty without per-coefficient attributions
  Tensor sensitivity;                 ///< [T, N] (sensitivity_max), empty without a method
  RandomisationResult randomisation;  ///< empty without a method
};

struct EvaluationOptions {
  FaithfulnessOptions faithfulness;
  InfidelityOptions infidelity;
  SensitivityOptions sensitivity;
  RandomisationOptions randomisation;
  bool run_randomisation = true;
};

/// Every metric for `attribution` (a method's result for s, or scores read
/// from a file with its targets set). `method` (may be empty) re-computes
/// the attributions for sensitivity_max and the randomisation check. The
/// neighbours for ROAD are the transform's unless given.
EvaluationReport evaluate_attribution(const TrimModel& tm, const Tensor& s, const Attribution& attribution,
                                      const AttributionMethod& method, const EvaluationOptions& eo = {},
                                      const AttributionOptions& options = {});

/// One scalar of the report's summary: the mean over every target and
/// example (NaN when the metric did not run) and which direction is better
/// ("lower", "higher", or "reference" for the random-order areas).
struct EvaluationSummaryRow {
  std::string name;
  double value;
  std::string better;
};

/// The summary `trim evaluate` prints and writes, in its order:
/// deletion_auc, insertion_auc, insertion_minus_deletion,
/// random_deletion_auc, random_insertion_auc, road_morf_auc, road_lerf_auc,
/// road_lerf_minus_morf, mu_fidelity, infidelity, sensitivity_max, and with
/// the randomisation check randomisation_rank_correlation (after every layer).
std::vector<EvaluationSummaryRow> evaluation_summary(const EvaluationReport& report);

/// Mean of every element (NaN for an empty tensor): a metric [T, N] over
/// targets and examples.
double evaluation_mean(const Tensor& t);

/// Curves [T, N, points] averaged over targets and examples: one curve
/// (empty for an empty tensor).
std::vector<double> mean_curve(const Tensor& curves);

/// The randomisation check's Spearman correlations [layers, T, N] averaged
/// per layer.
std::vector<double> mean_rank_correlation(const RandomisationResult& randomisation);

}  // namespace trim
