#include "trim/attribution/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "runner.hpp"
#include "trim/core/check.hpp"
#include "trim/core/error.hpp"
#include "trim/core/rng.hpp"

namespace trim {

using detail::ModelRunner;

Tensor infidelity(const Graph& model, const Tensor& x, const Attribution& attributions, const InfidelityOptions& inf,
                  const AttributionOptions& options) {
  const std::string where = "infidelity";
  AttributionOptions opts = options;
  if (!attributions.targets.empty()) opts.targets = Targets(attributions.targets);
  ModelRunner run(model, x, opts, where);
  const int64_t N = run.batch(), P = run.example_numel(), T = run.n_targets();
  const Tensor& attr = attributions.attributions;
  if (attr.shape() != prepend({T, N}, run.example_shape()))
    throw ShapeError(where + ": attributions " + attr.shape().str() + ", expected " +
                     prepend({T, N}, run.example_shape()).str() + " ([targets, N, input_shape...] for input " +
                     x.shape().str() + " and " + std::to_string(T) + " targets)");
  const bool fixed = !inf.perturbations.empty();
  int64_t S = inf.n_perturb_samples;
  if (fixed) {
    const Tensor& I = inf.perturbations;
    if (I.rank() != x.rank() + 1 || I.dim(0) != N || I.dim(1) < 1 || I.numel() != N * I.dim(1) * P)
      throw ShapeError(where + ": perturbations " + I.shape().str() + ", expected [" + std::to_string(N) +
                       ", samples, " + run.example_shape().str() + "...]");
    S = I.dim(1);
    check_finite(I, where, "perturbations");
  } else {
    if (S < 1) throw ValueError(where + ": n_perturb_samples must be >= 1, got " + std::to_string(S));
    if (!(inf.stdev >= 0.0f) || !std::isfinite(inf.stdev))
      throw ValueError(where + ": stdev must be finite and >= 0, got " + std::to_string(inf.stdev));
  }
  Tensor b;
  if (inf.multiply_by_inputs) {
    b = inf.baseline.expand(x, where);
  }
  // Per example: x, then its S perturbed copies x − I. Iᵀattr is computed
  // as each row is made, while I is at hand.
  const int64_t R = S + 1;
  std::vector<double> dot(static_cast<size_t>(N * S * T), 0.0), f(static_cast<size_t>(N * R * T));
  std::vector<float> noise(static_cast<size_t>(P));
  run.run(
      N * R,
      [&](int64_t m, float* dst) {
        const int64_t e = m / R, j = m % R;
        const float* xe = x.data() + e * P;
        if (j == 0) {
          std::copy(xe, xe + P, dst);
          return e;
        }
        const int64_t s = j - 1;
        if (fixed) {
          const float* src = inf.perturbations.data() + (e * S + s) * P;
          std::copy(src, src + P, noise.begin());
        } else {
          Rng rng = Rng::stream(inf.seed, e, s);
          for (int64_t i = 0; i < P; ++i) noise[static_cast<size_t>(i)] = rng.normal(0.0f, inf.stdev);
        }
        for (int64_t i = 0; i < P; ++i) dst[i] = xe[i] - noise[static_cast<size_t>(i)];
        if (inf.multiply_by_inputs) {
          const float* be = b.data() + e * P;
          for (int64_t i = 0; i < P; ++i) {
            const float d = xe[i] - be[i];
            if (d != 0.0f) noise[static_cast<size_t>(i)] /= d;
          }
        }
        for (int64_t t = 0; t < T; ++t) {
          const float* a = attr.data() + (t * N + e) * P;
          double acc = 0.0;
          for (int64_t i = 0; i < P; ++i) acc += double(noise[static_cast<size_t>(i)]) * a[i];
          dot[static_cast<size_t>((e * S + s) * T + t)] = acc;
        }
        return e;
      },
      run.store_target_outputs(f), false);
  Tensor result({T, N});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e) {
      const double fx = f[static_cast<size_t>((e * R) * T + t)];
      const auto a = [&](int64_t s) { return dot[static_cast<size_t>((e * S + s) * T + t)]; };
      const auto d = [&](int64_t s) { return fx - f[static_cast<size_t>((e * R + s + 1) * T + t)]; };
      double beta = 1.0;
      if (inf.normalize) {
        double aa = 0.0, ad = 0.0;
        for (int64_t s = 0; s < S; ++s) {
          aa += a(s) * a(s);
          ad += a(s) * d(s);
        }
        beta = aa != 0.0 ? ad / aa : ad;  // captum's safe_div: a zero denominator counts as 1
      }
      // Σ (β·a − d)², equal to captum's expanded β²Σa² − 2βΣad + Σd² without its cancellation.
      double v = 0.0;
      for (int64_t s = 0; s < S; ++s) v += (beta * a(s) - d(s)) * (beta * a(s) - d(s));
      result[t * N + e] = static_cast<float>(v / double(S));
    }
  return result;
}

Tensor sensitivity_max(const AttributionMethod& method, const Graph& model, const Tensor& x,
                       const SensitivityOptions& sens, const AttributionOptions& options) {
  const std::string where = "sensitivity_max";
  if (!method) throw ValueError(where + ": no attribution method given");
  if (sens.n_perturb_samples < 1)
    throw ValueError(where + ": n_perturb_samples must be >= 1, got " + std::to_string(sens.n_perturb_samples));
  if (!(sens.perturb_radius >= 0.0f) || !std::isfinite(sens.perturb_radius))
    throw ValueError(where + ": perturb_radius must be finite and >= 0, got " + std::to_string(sens.perturb_radius));
  if (x.rank() < 1 || x.dim(0) < 1) throw ShapeError(where + ": input " + x.shape().str() + " has no examples");
  const int64_t N = x.dim(0), S = sens.n_perturb_samples, P = x.numel() / N;
  const Attribution base = method(model, x, options);
  const Tensor& a0 = base.attributions;
  if (a0.rank() < 1 || a0.numel() != a0.dim(0) * N * P)
    throw ShapeError(where + ": the method returned attributions " + a0.shape().str() + " for input " +
                     x.shape().str());
  const int64_t T = a0.dim(0);
  // All perturbed copies as one batch [N·S, ...], example-major.
  Shape big = x.shape();
  big[0] = N * S;
  Tensor noisy(big);
  const float r = sens.perturb_radius;
  for (int64_t e = 0; e < N; ++e)
    for (int64_t s = 0; s < S; ++s) {
      Rng rng = Rng::stream(sens.seed, e, s);
      float* dst = noisy.data() + (e * S + s) * P;
      for (int64_t i = 0; i < P; ++i) dst[i] = x[e * P + i] + rng.uniform(-r, r);
    }
  AttributionOptions inner = options;
  for (Tensor& extra : inner.extra_inputs) extra = detail::repeat_rows(extra, S);
  const Attribution pert = method(model, noisy, inner);
  const Tensor& a1 = pert.attributions;
  if (a1.rank() < 1 || a1.dim(0) != T || a1.numel() != T * N * S * P)
    throw ShapeError(where + ": the method returned attributions " + a1.shape().str() + " for the perturbed inputs " +
                     noisy.shape().str() + ", expected " + std::to_string(T) + " targets as for x");
  Tensor result({T, N});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e) {
      const float* ref = a0.data() + (t * N + e) * P;
      double norm = 0.0;
      for (int64_t i = 0; i < P; ++i) norm += double(ref[i]) * ref[i];
      norm = std::sqrt(norm);
      if (norm == 0.0) norm = 1.0;
      double worst = 0.0;
      for (int64_t s = 0; s < S; ++s) {
        const float* p = a1.data() + (t * N * S + e * S + s) * P;
        double d2 = 0.0;
        for (int64_t i = 0; i < P; ++i) {
          const double d = double(p[i]) - ref[i];
          d2 += d * d;
        }
        worst = std::max(worst, std::sqrt(d2) / norm);
      }
      result[t * N + e] = static_cast<float>(worst);
    }
  return result;
}

}  // namespace trim
