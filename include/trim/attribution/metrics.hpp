#pragma once
/// \file
/// Quality metrics of attributions, as captum's `infidelity` and
/// `sensitivity_max`.

#include <cstdint>

#include "trim/attribution/gradients.hpp"

namespace trim {

struct InfidelityOptions {
  int n_perturb_samples = 10;
  float stdev = 0.01f;     ///< perturbations I ~ N(0, stdev²), subtracted: F(x − I)
  bool normalize = false;  ///< captum's normalize: attributions scaled by the optimal β
  uint64_t seed = 0;
};

/// E_I[(Iᵀ·attr − (F(x) − F(x − I)))²] per target and example: [targets, N].
/// `attributions` [targets, N, input_shape...] as returned by a method with
/// the same targets.
Tensor infidelity(const Graph& model, const Tensor& x, const Attribution& attributions,
                  const InfidelityOptions& inf = {}, const AttributionOptions& options = {});

struct SensitivityOptions {
  int n_perturb_samples = 10;
  float perturb_radius = 0.02f;  ///< perturbations uniform in [−r, r] per element
  uint64_t seed = 0;
};

/// max over perturbations δ of ‖expl(x + δ) − expl(x)‖ / ‖expl(x)‖
/// (Frobenius norms per target and example): [targets, N].
Tensor sensitivity_max(const AttributionMethod& method, const Graph& model, const Tensor& x,
                       const SensitivityOptions& sens = {}, const AttributionOptions& options = {});

}  // namespace trim
