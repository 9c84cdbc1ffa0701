#pragma once
/// \file
/// Gradient-based attribution: plain gradients, integrated gradients,
/// SmoothGrad and gradient SHAP (captum's definitions; see
/// docs/attribution.md for where and why trim differs).

#include <cstdint>
#include <functional>
#include <vector>

#include "trim/attribution/common.hpp"

namespace trim {

/// ∂F_t/∂x for every target t.
Attribution gradient(const Graph& model, const Tensor& x, const AttributionOptions& options = {});
/// |∂F_t/∂x| (captum's Saliency with abs=True).
Attribution saliency(const Graph& model, const Tensor& x, const AttributionOptions& options = {});
/// x ⊙ ∂F_t/∂x.
Attribution input_x_gradient(const Graph& model, const Tensor& x, const AttributionOptions& options = {});

/// Quadrature rules for the path integral of integrated gradients.
enum class Quadrature { RiemannLeft, RiemannRight, RiemannMiddle, RiemannTrapezoid, GaussLegendre };

/// Points α_k in [0, 1] and weights w_k (summing to 1) of `rule` with n
/// points. The trapezoid rule's weights sum to 1 (captum's sum to 1 − 1/n).
void quadrature(Quadrature rule, int n, std::vector<double>& alphas, std::vector<double>& weights);

struct IntegratedGradientsOptions {
  int n_steps = 50;
  Quadrature method = Quadrature::GaussLegendre;
  Baseline baseline;  ///< default zero
  /// Evaluate the model's affine prefix (the inverse transform and, e.g., a
  /// CNN's first convolution and batch norm: every node up to the first
  /// nonlinearity that all paths pass through, `split_affine_prefix`) on x
  /// and the baseline only, and combine each step's values there:
  /// A(b + α(x − b)) = A(b) + α(A(x) − A(b)); the summed gradients at the cut
  /// go back through the prefix once per example and target. The same
  /// result up to float rounding, faster when the prefix is costly (a large
  /// stem convolution, a wavelet or dictionary inverse), at the cost of more
  /// memory (the rows past the cut are larger). Models without such a
  /// prefix, runs with a budget (max_memory), and calls whose sums at the
  /// cut (targets × examples × cut values, in double) would hold over
  /// 256 MiB more than the plain path's take the plain path. False: always
  /// the plain path.
  bool share_linear_prefix = true;
};

/// (x − b) ⊙ Σ_k w_k ∇F(b + α_k (x − b)); delta = Σ attributions − (F(x) − F(b)).
Attribution integrated_gradients(const Graph& model, const Tensor& x, const IntegratedGradientsOptions& ig = {},
                                 const AttributionOptions& options = {});

/// An attribution method usable inside SmoothGrad: (model, x, options) → result.
using AttributionMethod = std::function<Attribution(const Graph&, const Tensor&, const AttributionOptions&)>;

enum class NoiseTunnel { SmoothGrad, SmoothGradSquared, VarGrad };

struct SmoothGradOptions {
  NoiseTunnel type = NoiseTunnel::SmoothGrad;
  int n_samples = 10;
  float stdev = 1.0f;  ///< of the Gaussian noise added to x (absolute, as captum)
  uint64_t seed = 0;
  /// With the plain `gradient` as the method and the SmoothGrad mean: take
  /// the mean gradient at the end of the model's affine prefix back through
  /// the prefix once per example and target, instead of every noisy copy's
  /// gradient (mean_k ∇_s F = Lᵀ mean_k ∇_z F; see
  /// IntegratedGradientsOptions::share_linear_prefix). The same result up to
  /// float rounding. False: the method runs on every copy as given.
  bool share_linear_prefix = true;
};

/// Mean (SmoothGrad), mean of squares (SmoothGrad²) or variance (VarGrad) of
/// `method` over n_samples noisy copies x + N(0, stdev²); all copies go
/// through the method as one batch. No delta.
Attribution smoothgrad(const AttributionMethod& method, const Graph& model, const Tensor& x,
                       const SmoothGradOptions& sg = {}, const AttributionOptions& options = {});

struct GradientShapOptions {
  int n_samples = 20;
  float stdev = 0.0f;  ///< noise added to x before each sample
  uint64_t seed = 0;
  /// Whether to compute delta, which evaluates F at the N examples and the
  /// B baselines (N + B more forward rows; N·B with extra inputs). Off, as
  /// in captum's default, `Attribution::delta` is empty: at batch 2 with 20
  /// samples and 10 baselines that saves about a tenth of the time.
  bool convergence_delta = true;
};

/// Expected gradients: per sample, a random baseline b from `baselines`
/// [B, input_shape...], noise on x, α ~ U(0, 1), (x̃ − b) ⊙ ∇F(b + α(x̃ − b));
/// averaged. delta = Σ attributions − (F(x) − mean_b F(b)) (unless
/// `convergence_delta` is off).
Attribution gradient_shap(const Graph& model, const Tensor& x, const Tensor& baselines,
                          const GradientShapOptions& gs = {}, const AttributionOptions& options = {});

}  // namespace trim
