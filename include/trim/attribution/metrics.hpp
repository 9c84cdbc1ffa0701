#pragma once
/// \file
/// Quality metrics of attributions, as captum's `infidelity` and
/// `sensitivity_max` (Yeh et al. 2019, "On the (In)fidelity and Sensitivity
/// of Explanations"). Both return one score per target and example [T, N];
/// lower is better for both.

#include <cstdint>

#include "trim/attribution/gradients.hpp"

namespace trim {

struct InfidelityOptions {
  int n_perturb_samples = 10;
  float stdev = 0.01f;     ///< perturbations I ~ N(0, stdev²) per element, subtracted: F(x − I)
  bool normalize = false;  ///< captum's normalize: attributions scaled by the optimal β first
  /// For attributions that already include the input factor (input×gradient,
  /// integrated gradients, DeepLIFT, Shapley): the dot product uses
  /// I / (x − baseline) instead of I (captum's
  /// `infidelity_perturb_func_decorator(multiply_by_inputs=True)`; where
  /// x = baseline the divisor is 1). Then attributions w ⊙ (x − b) of a
  /// linear model score 0.
  bool multiply_by_inputs = false;
  Baseline baseline;  ///< only with multiply_by_inputs
  /// Optional fixed perturbations I [N, S, input_shape...] used instead of
  /// random ones (S samples per example; n_perturb_samples and stdev are
  /// then ignored): captum's custom `perturb_func`, e.g. masks in a
  /// transform's coefficient space.
  Tensor perturbations;
  uint64_t seed = 0;
};

/// E_I[(Iᵀ·attr − (F(x) − F(x − I)))²] per target and example: [targets, N].
/// With normalize, attr is first scaled by β = E[Iᵀattr · ΔF] / E[(Iᵀattr)²]
/// (only the attributions' direction is judged). `attributions` is a
/// method's result for this x: the targets scored are its `targets` (or
/// options.targets when that list is empty) and its attributions must be
/// [targets, N, input_shape...]. All perturbed inputs go through the model
/// in batches of options.max_batch; the noise of example e's sample s
/// depends only on (seed, e, s), so results do not depend on max_batch.
Tensor infidelity(const Graph& model, const Tensor& x, const Attribution& attributions,
                  const InfidelityOptions& inf = {}, const AttributionOptions& options = {});

struct SensitivityOptions {
  int n_perturb_samples = 10;
  float perturb_radius = 0.02f;  ///< perturbations uniform in [−r, r] per element (captum's default)
  uint64_t seed = 0;
};

/// max over perturbations δ of ‖expl(x + δ) − expl(x)‖ / ‖expl(x)‖
/// (Frobenius norms of each target's per-example attributions; a zero
/// ‖expl(x)‖ counts as 1, as captum): [targets, N]. `method` is called
/// twice with `options`: on x, then on all N·n_perturb_samples perturbed
/// copies as one batch (extra inputs repeated to match).
Tensor sensitivity_max(const AttributionMethod& method, const Graph& model, const Tensor& x,
                       const SensitivityOptions& sens = {}, const AttributionOptions& options = {});

}  // namespace trim
