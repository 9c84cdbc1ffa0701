#pragma once
/// \file
/// DeepLIFT with the rescale rule, written once per node kind: Elementwise
/// nodes get the multiplier Δy/Δx (the gradient where |Δx| < eps), Selection
/// nodes (max-pool) captum's max-pool rule, and Linear, Structural, Sum and
/// Opaque nodes pass multipliers back with their plain vector-Jacobian
/// product (for Opaque nodes, e.g. softmax, that is the gradient at x:
/// completeness is then approximate). For piecewise-linear networks the
/// attributions sum exactly to F(x) − F(b).

#include "trim/attribution/common.hpp"

namespace trim {

struct DeepLiftOptions {
  Baseline baseline;              ///< default zero
  float eps = 1e-10f;             ///< |Δx| below this falls back to the gradient
  bool multiply_by_inputs = true; ///< (x − b) ⊙ multipliers, else the raw multipliers
};

/// DeepLIFT attributions; delta = Σ attributions − (F(x) − F(b)) (meaningful
/// with multiply_by_inputs).
Attribution deeplift(const Graph& model, const Tensor& x, const DeepLiftOptions& dl = {},
                     const AttributionOptions& options = {});

/// DeepLIFT-SHAP: DeepLIFT of every example against every baseline of
/// `baselines` [B, input_shape...], averaged over the baselines;
/// delta = Σ attributions − (F(x) − mean_b F(b)).
Attribution deeplift_shap(const Graph& model, const Tensor& x, const Tensor& baselines, const DeepLiftOptions& dl = {},
                          const AttributionOptions& options = {});

}  // namespace trim
