#pragma once
/// \file
/// Perturbation methods: what happens to the output when parts of the input
/// are replaced by a baseline. Groups come from a `Grouping` (integer label
/// per input element of one example, −1 = never perturbed), as captum's
/// feature_mask; every element of a group gets the group's score in the
/// per-element attributions, and `group_scores` holds one score per group.

#include <cstdint>
#include <vector>

#include "trim/attribution/common.hpp"

namespace trim {

struct FeatureAblationOptions {
  Baseline baseline;  ///< value the ablated elements take (default zero)
};

/// Per group: F(x) − F(x with the group set to the baseline). Requires
/// `options.grouping`. All ablated copies go through the model in batches;
/// groups without elements score 0 at no cost. No delta (ablation is not
/// additive).
Attribution feature_ablation(const Graph& model, const Tensor& x, const FeatureAblationOptions& fa = {},
                             const AttributionOptions& options = {});

struct OcclusionOptions {
  /// Window over the trailing axes of one example (1-D or 2-D windows; the
  /// leading axes, e.g. channels, are occluded entirely), e.g. {4, 4}. A
  /// window over every axis is accepted too.
  std::vector<int64_t> window;
  /// Step between windows, same length as `window` (default: the window).
  std::vector<int64_t> strides;
  Baseline baseline;
};

/// captum's Occlusion: every window position is replaced by the baseline;
/// each element's attribution is the mean of F(x) − F(occluded) over the
/// windows covering it (elements no window covers get 0). Positions per axis
/// are ceil((D − k)/s) + 1, the last window clipped at the edge, as captum.
/// With a grouping, group_scores are sums of these attributions. No delta.
Attribution occlusion(const Graph& model, const Tensor& x, const OcclusionOptions& occ,
                      const AttributionOptions& options = {});

struct ShapleyOptions {
  Baseline baseline;
  /// Exact over all 2^K coalitions when K (non-empty groups) ≤ this; above
  /// it, permutation sampling. Must be in [0, 16] (ValueError otherwise).
  int exact_max_groups = 12;
  int n_permutations = 50;  ///< for sampling
  uint64_t seed = 0;
};

/// Shapley values of the groups of `options.grouping`: efficiency
/// Σ φ_g = F(x) − F(baseline) holds exactly (both exact and sampled, per
/// permutation); delta = Σ φ − (F(x) − F(b)), where F(b) has every group at
/// the baseline (elements labelled −1 keep x). Exact: N·2^K model
/// evaluations, batched; sampling: N·(2 + n_permutations·(K − 1)), with the
/// same permutations for every example.
Attribution shapley(const Graph& model, const Tensor& x, const ShapleyOptions& sh = {},
                    const AttributionOptions& options = {});

}  // namespace trim
