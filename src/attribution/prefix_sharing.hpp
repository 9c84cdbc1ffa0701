#pragma once
// Internal: integrated gradients and SmoothGrad with the model's affine
// prefix (trim/graph/split.hpp) evaluated once per example instead of once
// per step or sample.
#include <optional>
#include <vector>

#include "runner.hpp"

namespace trim::detail {

/// Integrated gradients of `run`'s model along b + α(x − b) with the
/// quadrature `alphas` / `weights`: the prefix z = A(s) on x and b only, each
/// step's z = A(b) + α(A(x) − A(b)) through the rest of the model, the
/// weighted z-gradients summed per example and target and taken back
/// through the prefix once (Lᵀ). Same result, delta and progress units (the
/// steps) as the plain path. Empty (the plain path runs) when the model has
/// no affine prefix, under a max_memory budget, or when the sums over the
/// cut's values would hold over 256 MiB more than the plain path's.
std::optional<Attribution> integrated_gradients_sharing_prefix(ModelRunner& run, const Tensor& b,
                                                               const std::vector<double>& alphas,
                                                               const std::vector<double>& weights,
                                                               const AttributionOptions& options);

/// SmoothGrad of the plain gradient: the mean over each example's S noisy
/// copies (`noisy` [N·S, input...], example-major) of ∇F, as Lᵀ of the mean
/// gradient at the cut: every copy still goes through the prefix forward,
/// but only the rest of the model backward. Empty when the model has no
/// affine prefix or under a max_memory budget.
std::optional<Attribution> smoothgrad_sharing_prefix(ModelRunner& run, const Tensor& noisy, int64_t S,
                                                     const AttributionOptions& options);

}  // namespace trim::detail
