#include "trim/attribution/gradients.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "prefix_sharing.hpp"
#include "runner.hpp"
#include "trim/core/check.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/core/rng.hpp"

namespace trim {

using detail::ModelRunner;

namespace {

enum class GradientKind { Plain, Absolute, TimesInput };

/// One noisy copy x + N(0, stdev²) of an example of P values into dst, from
/// the sample's own generator (x itself when stdev is 0).
void noisy_row(const float* x, int64_t P, float stdev, Rng rng, float* dst) {
  if (stdev == 0.0f) {
    std::copy(x, x + P, dst);
    return;
  }
  rng.normals(dst, P, 0.0f, stdev);
  for (int64_t i = 0; i < P; ++i) dst[i] += x[i];
}

Attribution gradient_family(const Graph& model, const Tensor& x, const AttributionOptions& options,
                            GradientKind kind, const char* name) {
  ModelRunner run(model, x, options, name);
  const int64_t N = run.batch(), P = run.example_numel(), T = run.n_targets();
  Tensor attr(prepend({T, N}, run.example_shape()));
  run.run(
      N,
      [&](int64_t m, float* dst) {
        std::copy(x.begin() + m * P, x.begin() + (m + 1) * P, dst);
        return m;
      },
      [&](int64_t first, int64_t count, const Tensor&, const Tensor* g) {
        detail::by_elements(T * count, P, [&](int64_t i0, int64_t i1) {
          for (int64_t t = 0; t < T; ++t)
            for (int64_t r = 0; r < count; ++r) {
              const float* src = g->data() + (t * count + r) * P;
              float* dst = attr.data() + (t * N + first + r) * P;
              const float* xi = x.data() + (first + r) * P;
              for (int64_t i = i0; i < i1; ++i)
                dst[i] = kind == GradientKind::Plain      ? src[i]
                         : kind == GradientKind::Absolute ? std::fabs(src[i])
                                                          : src[i] * xi[i];
            }
        });
      },
      true, ModelRunner::RowMaking::parallel);
  return run.finish(std::move(attr), {});
}

/// Legendre nodes (ascending) and weights on [-1, 1]: Newton's method on
/// P_n from the usual starting guesses, P_n by the three-term recurrence.
void gauss_legendre(int n, std::vector<double>& t, std::vector<double>& w) {
  t.assign(static_cast<size_t>(n), 0.0);
  w.assign(static_cast<size_t>(n), 0.0);
  const double pi = std::acos(-1.0);
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double z = std::cos(pi * (i + 0.75) / (n + 0.5)), dp = 1.0;
    for (int iter = 0; iter < 100; ++iter) {
      double p = 1.0, p_prev = 0.0;  // P_k(z), P_(k-1)(z)
      for (int k = 1; k <= n; ++k) {
        const double next = ((2.0 * k - 1.0) * z * p - (k - 1.0) * p_prev) / k;
        p_prev = p;
        p = next;
      }
      dp = n * (z * p - p_prev) / (z * z - 1.0);
      const double step = p / dp;
      z -= step;
      if (std::fabs(step) < 1e-16) break;
    }
    t[static_cast<size_t>(i)] = -z;
    t[static_cast<size_t>(n - 1 - i)] = z;
    w[static_cast<size_t>(i)] = w[static_cast<size_t>(n - 1 - i)] = 2.0 / ((1.0 - z * z) * dp * dp);
  }
}

}  // namespace

Attribution gradient(const Graph& model, const Tensor& x, const AttributionOptions& options) {
  return gradient_family(model, x, options, GradientKind::Plain, "gradient");
}

Attribution saliency(const Graph& model, const Tensor& x, const AttributionOptions& options) {
  return gradient_family(model, x, options, GradientKind::Absolute, "saliency");
}

Attribution input_x_gradient(const Graph& model, const Tensor& x, const AttributionOptions& options) {
  return gradient_family(model, x, options, GradientKind::TimesInput, "input_x_gradient");
}

void quadrature(Quadrature rule, int n, std::vector<double>& alphas, std::vector<double>& weights) {
  if (n < 1) throw ValueError("integrated_gradients: n_steps must be >= 1, got " + std::to_string(n));
  if (rule == Quadrature::RiemannTrapezoid && n < 2)
    throw ValueError("integrated_gradients: the trapezoid rule needs n_steps >= 2, got " + std::to_string(n));
  alphas.assign(static_cast<size_t>(n), 0.0);
  weights.assign(static_cast<size_t>(n), 1.0 / n);
  switch (rule) {
    case Quadrature::RiemannLeft:
      for (int k = 0; k < n; ++k) alphas[static_cast<size_t>(k)] = double(k) / n;
      return;
    case Quadrature::RiemannRight:
      for (int k = 0; k < n; ++k) alphas[static_cast<size_t>(k)] = double(k + 1) / n;
      return;
    case Quadrature::RiemannMiddle:
      for (int k = 0; k < n; ++k) alphas[static_cast<size_t>(k)] = (k + 0.5) / n;
      return;
    case Quadrature::RiemannTrapezoid:
      for (int k = 0; k < n; ++k) {
        alphas[static_cast<size_t>(k)] = double(k) / (n - 1);
        weights[static_cast<size_t>(k)] = (k == 0 || k == n - 1 ? 0.5 : 1.0) / (n - 1);
      }
      return;
    case Quadrature::GaussLegendre: {
      std::vector<double> t, w;
      gauss_legendre(n, t, w);
      for (int k = 0; k < n; ++k) {
        alphas[static_cast<size_t>(k)] = 0.5 * (1.0 + t[static_cast<size_t>(k)]);
        weights[static_cast<size_t>(k)] = 0.5 * w[static_cast<size_t>(k)];
      }
      return;
    }
  }
}

Attribution integrated_gradients(const Graph& model, const Tensor& x, const IntegratedGradientsOptions& ig,
                                 const AttributionOptions& options) {
  ModelRunner run(model, x, options, "integrated_gradients");
  std::vector<double> alphas, weights;
  quadrature(ig.method, ig.n_steps, alphas, weights);
  const Tensor b = ig.baseline.expand(x, "integrated_gradients");
  if (ig.share_linear_prefix)
    if (std::optional<Attribution> a = detail::integrated_gradients_sharing_prefix(run, b, alphas, weights, options))
      return std::move(*a);
  const int64_t N = run.batch(), P = run.example_numel(), T = run.n_targets();
  // Path sums in double: 50 weighted gradients per element.
  run.hold(2 * T * N * P + 3 * N * P);  // the sums, the baseline and [x; b] for delta
  const std::vector<double> sum = detail::path_gradient_sums(run, x.data(), b.data(), P, alphas, weights);
  Tensor attr(prepend({T, N}, run.example_shape()));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e)
      for (int64_t i = 0; i < P; ++i) {
        const int64_t j = (t * N + e) * P + i;
        attr[j] = static_cast<float>(sum[static_cast<size_t>(j)] * (double(x[e * P + i]) - double(b[e * P + i])));
      }
  // Delta: Σ attr − (F(x) − F(b)), with F evaluated on [x; b] in one batch.
  Tensor both(prepend({2 * N}, run.example_shape()));
  std::copy(x.begin(), x.end(), both.begin());
  std::copy(b.begin(), b.end(), both.begin() + N * P);
  std::vector<int64_t> rows(static_cast<size_t>(2 * N));
  for (int64_t e = 0; e < N; ++e) rows[static_cast<size_t>(e)] = rows[static_cast<size_t>(e + N)] = e;
  Tensor delta = detail::path_delta(run, attr, run.outputs(both, rows));
  return run.finish(std::move(attr), std::move(delta));
}

Attribution smoothgrad(const AttributionMethod& method, const Graph& model, const Tensor& x,
                       const SmoothGradOptions& sg, const AttributionOptions& options) {
  if (!method) throw ValueError("smoothgrad: no attribution method given");
  if (sg.n_samples < 1) throw ValueError("smoothgrad: n_samples must be >= 1, got " + std::to_string(sg.n_samples));
  if (!(sg.stdev >= 0.0f) || !std::isfinite(sg.stdev))
    throw ValueError("smoothgrad: stdev must be finite and >= 0, got " + std::to_string(sg.stdev));
  if (x.rank() < 1 || x.dim(0) < 1) throw ShapeError("smoothgrad: input " + x.shape().str() + " has no examples");
  const int64_t N = x.dim(0), S = sg.n_samples, P = x.numel() / N;
  // All noisy copies as one batch [N·S, ...], example-major, so the inner
  // method batches them through the graph; each sample's noise from its own
  // stream (Rng::stream), drawn on the pool.
  Shape big = x.shape();
  big[0] = N * S;
  Tensor noisy(big);
  parallel_tasks(N * S, [&](int64_t m) {
    noisy_row(x.data() + m / S * P, P, sg.stdev, Rng::stream(sg.seed, m / S, m % S), noisy.data() + m * P);
  });
  // The mean of plain gradients needs the prefix's backward once per example.
  using Plain = Attribution (*)(const Graph&, const Tensor&, const AttributionOptions&);
  const Plain* plain = method.target<Plain>();
  if (sg.share_linear_prefix && sg.type == NoiseTunnel::SmoothGrad && plain && *plain == &gradient) {
    ModelRunner run(model, x, options, "smoothgrad");
    if (std::optional<Attribution> a = detail::smoothgrad_sharing_prefix(run, noisy, S, options)) return std::move(*a);
  }
  AttributionOptions inner = options;
  inner.grouping = nullptr;
  for (Tensor& extra : inner.extra_inputs) extra = detail::repeat_rows(extra, S);
  const Attribution a = method(model, noisy, inner);
  const int64_t T = a.attributions.dim(0);
  if (a.attributions.numel() != T * N * S * P)
    throw ShapeError("smoothgrad: the method returned attributions " + a.attributions.shape().str() +
                     " for inputs " + noisy.shape().str());
  Shape out = x.shape();
  Shape full{T};
  for (int64_t v : out) full.push_back(v);
  Tensor attr(full);
  // Sums over the samples row by row (each sample's row is contiguous), in
  // double, split by element over the pool.
  const bool squares = sg.type != NoiseTunnel::SmoothGrad;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e)
      detail::by_elements(S, P, [&](int64_t i0, int64_t i1) {
        std::vector<double> m1(static_cast<size_t>(i1 - i0)), m2(static_cast<size_t>(squares ? i1 - i0 : 0));
        for (int64_t s = 0; s < S; ++s) {
          const float* row = a.attributions.data() + ((t * N + e) * S + s) * P + i0;
          for (int64_t i = 0; i < i1 - i0; ++i) m1[static_cast<size_t>(i)] += row[i];
          if (squares)
            for (int64_t i = 0; i < i1 - i0; ++i) m2[static_cast<size_t>(i)] += double(row[i]) * row[i];
        }
        float* dst = attr.data() + (t * N + e) * P + i0;
        for (int64_t i = 0; i < i1 - i0; ++i) {
          const double mean = m1[static_cast<size_t>(i)] / S;
          const double square = squares ? m2[static_cast<size_t>(i)] / S : 0.0;
          const double r = sg.type == NoiseTunnel::SmoothGrad          ? mean
                           : sg.type == NoiseTunnel::SmoothGradSquared ? square
                                                                       : std::max(0.0, square - mean * mean);
          dst[i] = static_cast<float>(r);
        }
      });
  Attribution result;
  result.targets = a.targets;
  if (options.grouping) result.group_scores = group_sums(attr, *options.grouping);
  result.attributions = std::move(attr);
  return result;
}

Attribution gradient_shap(const Graph& model, const Tensor& x, const Tensor& baselines, const GradientShapOptions& gs,
                          const AttributionOptions& options) {
  ModelRunner run(model, x, options, "gradient_shap");
  if (gs.n_samples < 1) throw ValueError("gradient_shap: n_samples must be >= 1, got " + std::to_string(gs.n_samples));
  if (!(gs.stdev >= 0.0f) || !std::isfinite(gs.stdev))
    throw ValueError("gradient_shap: stdev must be finite and >= 0, got " + std::to_string(gs.stdev));
  const int64_t N = run.batch(), P = run.example_numel(), T = run.n_targets(), S = gs.n_samples;
  if (baselines.rank() != x.rank() || baselines.dim(0) < 1 || baselines.numel() != baselines.dim(0) * P)
    throw ShapeError("gradient_shap: baselines " + baselines.shape().str() + " must be a batch [B, " +
                     run.example_shape().str() + "...] with B >= 1");
  check_finite(baselines, "gradient_shap", "baselines");
  const int64_t B = baselines.dim(0);
  // Without extra inputs F(b) is the same for every example: the delta needs
  // the B baselines once, not once per example.
  const bool shared_baselines = !run.has_extra_inputs();
  const int64_t fb_rows = !gs.convergence_delta ? 0 : shared_baselines ? B : N * B;
  run.plan(N * S + (fb_rows > 0 ? N + fb_rows : 0));  // the samples, and F(x) and F(b) for the delta
  // Draw every sample's baseline and α up front (in one fixed order) and its
  // noise from its own stream (Rng::stream, on the pool), so the result does
  // not depend on max_batch or the thread count.
  Rng rng(gs.seed);
  std::vector<int64_t> which(static_cast<size_t>(N * S));
  std::vector<float> alpha(static_cast<size_t>(N * S));
  Tensor xt(prepend({N * S}, run.example_shape()));
  for (int64_t m = 0; m < N * S; ++m) {
    which[static_cast<size_t>(m)] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(B)));
    alpha[static_cast<size_t>(m)] = static_cast<float>(rng.uniform());
  }
  parallel_tasks(N * S, [&](int64_t m) {
    noisy_row(x.data() + m / S * P, P, gs.stdev, Rng::stream(gs.seed, m / S, m % S), xt.data() + m * P);
  });
  // Delta against the mean output over all baselines (per example's extras),
  // evaluated before the samples: the workspace then grows once, from this
  // small pass to the sample pass (the other order left glibc trimming and
  // re-faulting the heap on every call: 12 % of LeNet's time).
  // F of the rows [x; baselines] (without extra inputs, the B baselines
  // once) or [x; every example's B baselines], [rows, T] in f.
  std::vector<double> f(static_cast<size_t>(fb_rows > 0 ? (N + fb_rows) * T : 0));
  if (fb_rows > 0)
    run.run(
        N + fb_rows,
        [&](int64_t m, float* dst) {
          if (m < N) {
            std::copy(x.begin() + m * P, x.begin() + (m + 1) * P, dst);
            return m;
          }
          const int64_t j = (m - N) % B;
          std::copy(baselines.begin() + j * P, baselines.begin() + (j + 1) * P, dst);
          return shared_baselines ? int64_t{0} : (m - N) / B;
        },
        run.store_target_outputs(f), false);
  std::vector<double> sum(static_cast<size_t>(T * N * P), 0.0);
  run.run(
      N * S,
      [&](int64_t m, float* dst) {
        const float a = alpha[static_cast<size_t>(m)];
        const float* b = baselines.data() + which[static_cast<size_t>(m)] * P;
        const float* xi = xt.data() + m * P;
        for (int64_t i = 0; i < P; ++i) dst[i] = b[i] + a * (xi[i] - b[i]);
        return m / S;
      },
      [&](int64_t first, int64_t count, const Tensor&, const Tensor* g) {
        detail::by_elements(T * count, P, [&](int64_t i0, int64_t i1) {
          for (int64_t t = 0; t < T; ++t)
            for (int64_t r = 0; r < count; ++r) {
              const int64_t m = first + r, e = m / S;
              const float* b = baselines.data() + which[static_cast<size_t>(m)] * P;
              const float* xi = xt.data() + m * P;
              const float* src = g->data() + (t * count + r) * P;
              double* acc = sum.data() + (t * N + e) * P;
              for (int64_t i = i0; i < i1; ++i) acc[i] += double(src[i]) * (double(xi[i]) - double(b[i]));
            }
        });
      },
      true, ModelRunner::RowMaking::parallel);
  Tensor attr(prepend({T, N}, run.example_shape()));
  for (size_t j = 0; j < sum.size(); ++j) attr[static_cast<int64_t>(j)] = static_cast<float>(sum[j] / S);
  if (fb_rows == 0) return run.finish(std::move(attr), Tensor());
  Tensor delta({T, N});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e) {
      double fb = 0.0;
      for (int64_t j = 0; j < B; ++j) fb += f[static_cast<size_t>((N + (shared_baselines ? j : e * B + j)) * T + t)];
      double s = 0.0;
      for (int64_t i = 0; i < P; ++i) s += attr[(t * N + e) * P + i];
      delta[t * N + e] = static_cast<float>(s - (f[static_cast<size_t>(e * T + t)] - fb / double(B)));
    }
  return run.finish(std::move(attr), std::move(delta));
}

}  // namespace trim
