// Deletion / insertion curves with their random-order reference, ROAD and
// µ-fidelity: every curve point is a row of a batch through the graph.
#include "trim/attribution/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "runner.hpp"
#include "trim/core/error.hpp"
#include "trim/core/rng.hpp"

namespace trim {

using detail::ModelRunner;

namespace {

/// A generator keyed by (seed, a, b, c): the same numbers whatever the batching.
Rng keyed_rng(uint64_t seed, int64_t a, int64_t b, int64_t c = 0) {
  uint64_t z = seed;
  for (int64_t k : {a, b, c}) {
    z ^= 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(k) + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
  }
  return Rng(z);
}

/// What the metrics share: the features, their elements, the baseline.
struct Setup {
  int64_t N = 0, P = 0, T = 0, O = 0, K = 0;  // examples, elements, targets, outputs, features
  std::vector<int64_t> feature_of;            // per element, -1: never removed
  Tensor baseline;                            // [N, coefficient_shape...]
};

Setup make_setup(const ModelRunner& run, const Tensor& s, const Tensor& scores, const Baseline& baseline,
                 const AttributionOptions& options, const std::string& where) {
  Setup st;
  st.N = run.batch();
  st.P = run.example_numel();
  st.T = run.n_targets();
  st.O = run.n_outputs();
  if (options.grouping) {
    st.K = options.grouping->size();
    st.feature_of.assign(options.grouping->labels.begin(), options.grouping->labels.end());
  } else {
    st.K = st.P;
    st.feature_of.resize(static_cast<size_t>(st.P));
    std::iota(st.feature_of.begin(), st.feature_of.end(), int64_t{0});
  }
  if (st.K < 1) throw ValueError(where + ": there are no features to remove");
  if (scores.rank() < 2 || scores.dim(0) != st.T || scores.dim(1) != st.N || scores.numel() != st.T * st.N * st.K)
    throw ShapeError(where + ": scores " + scores.shape().str() + ", expected [" + std::to_string(st.T) + ", " +
                     std::to_string(st.N) + ", " +
                     (options.grouping ? std::to_string(st.K) + "] (targets, examples, groups)"
                                       : run.example_shape().str() + "...] (targets, examples, coefficients)"));
  for (float v : scores)
    if (!std::isfinite(v)) throw ValueError(where + ": the scores contain NaN or infinity");
  try {
    st.baseline = baseline.expand(s);
  } catch (const ShapeError& e) {
    throw ShapeError(where + ": " + e.what());
  }
  return st;
}

/// Removed-feature counts at each curve point: 0, ..., K.
std::vector<int64_t> step_counts(int64_t K, int steps, const std::string& where) {
  if (steps < 0) throw ValueError(where + ": steps must be >= 0, got " + std::to_string(steps));
  const int64_t S = steps > 0 ? std::min<int64_t>(steps, K) : std::min<int64_t>(K, 100);
  std::vector<int64_t> c(static_cast<size_t>(S + 1));
  for (int64_t p = 0; p <= S; ++p) c[static_cast<size_t>(p)] = (p * K + S / 2) / S;
  return c;
}

double trapezoid(const std::vector<double>& x, const float* y) {
  double a = 0.0;
  for (size_t i = 1; i < x.size(); ++i) a += 0.5 * (x[i] - x[i - 1]) * (double(y[i]) + y[i - 1]);
  return a;
}

/// rank[f] = position of feature f in `order` (K for features not in it).
std::vector<int64_t> ranks_of(const std::vector<int64_t>& order, int64_t K) {
  std::vector<int64_t> r(static_cast<size_t>(K), K);
  for (size_t i = 0; i < order.size(); ++i) r[static_cast<size_t>(order[i])] = static_cast<int64_t>(i);
  return r;
}

/// One curve family: for each (order o, example e, point p), the row built
/// by `fill(o, e, p, dst)`; outputs of `targets` of order o's target.
/// Returns values [orders, N, points, T] (all targets of every row).
std::vector<float> run_rows(ModelRunner& run, const Setup& st, int64_t orders, int64_t points,
                            const std::function<void(int64_t o, int64_t e, int64_t p, float* dst)>& fill) {
  std::vector<float> y(static_cast<size_t>(orders * st.N * points * st.T));
  run.run(
      orders * st.N * points,
      [&](int64_t m, float* dst) {
        const int64_t p = m % points, e = (m / points) % st.N, o = m / (points * st.N);
        fill(o, e, p, dst);
        return e;
      },
      [&](int64_t first, int64_t count, const Tensor& out, const Tensor*) {
        for (int64_t r = 0; r < count; ++r)
          for (int64_t t = 0; t < st.T; ++t)
            y[static_cast<size_t>((first + r) * st.T + t)] = out[r * st.O + run.targets()[static_cast<size_t>(t)]];
      },
      false);
  return y;
}

}  // namespace

std::vector<std::vector<std::vector<int64_t>>> feature_orders(const Tensor& scores, int64_t n_features,
                                                              bool by_magnitude) {
  if (scores.rank() < 2 || n_features < 1 || scores.numel() != scores.dim(0) * scores.dim(1) * n_features)
    throw ShapeError("feature_orders: scores " + scores.shape().str() + " do not hold " + std::to_string(n_features) +
                     " features per target and example");
  const int64_t T = scores.dim(0), N = scores.dim(1), K = n_features;
  std::vector<std::vector<std::vector<int64_t>>> orders(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    orders[static_cast<size_t>(t)].resize(static_cast<size_t>(N));
    for (int64_t e = 0; e < N; ++e) {
      const float* sc = scores.data() + (t * N + e) * K;
      std::vector<int64_t>& o = orders[static_cast<size_t>(t)][static_cast<size_t>(e)];
      o.resize(static_cast<size_t>(K));
      std::iota(o.begin(), o.end(), int64_t{0});
      auto key = [&](int64_t f) { return by_magnitude ? std::fabs(sc[f]) : sc[f]; };
      std::stable_sort(o.begin(), o.end(), [&](int64_t a, int64_t b) { return key(a) > key(b); });
    }
  }
  return orders;
}

FaithfulnessCurves faithfulness_curves(const Graph& model, const Tensor& s, const Tensor& scores,
                                       const FaithfulnessOptions& fo, const AttributionOptions& options) {
  const std::string where = "faithfulness_curves";
  ModelRunner run(model, s, options, where);
  const Setup st = make_setup(run, s, scores, fo.baseline, options, where);
  if (fo.n_random < 0) throw ValueError(where + ": n_random must be >= 0, got " + std::to_string(fo.n_random));
  if (fo.road && !fo.neighbours)
    throw ValueError(where + ": ROAD needs the coefficient neighbours (coefficient_neighbours(transform))");
  if (fo.road && fo.neighbours->coefficient_shape != run.example_shape())
    throw ShapeError(where + ": the neighbours are for coefficients " + fo.neighbours->coefficient_shape.str() +
                     ", the input's are " + run.example_shape().str());
  if (!(fo.road_noise >= 0.0f) || !std::isfinite(fo.road_noise))
    throw ValueError(where + ": road_noise must be finite and >= 0, got " + std::to_string(fo.road_noise));
  const std::vector<int64_t> counts = step_counts(st.K, fo.steps, where);
  const int64_t Pts = static_cast<int64_t>(counts.size()), N = st.N, T = st.T, P = st.P, K = st.K;
  FaithfulnessCurves c;
  for (int64_t k : counts) c.fractions.push_back(double(k) / double(K));

  const auto orders = feature_orders(scores, K, fo.by_magnitude);
  std::vector<std::vector<int64_t>> rank(static_cast<size_t>(T * N));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e)
      rank[static_cast<size_t>(t * N + e)] = ranks_of(orders[static_cast<size_t>(t)][static_cast<size_t>(e)], K);
  // Row of example e with the features of rank < count from `from`, the rest from `other`.
  auto compose = [&](const std::vector<int64_t>& rk, int64_t count, const float* removed, const float* kept,
                     float* dst) {
    for (int64_t i = 0; i < P; ++i) {
      const int64_t f = st.feature_of[static_cast<size_t>(i)];
      dst[i] = f >= 0 && rk[static_cast<size_t>(f)] < count ? removed[i] : kept[i];
    }
  };
  const float* S = s.data();
  const float* B = st.baseline.data();
  // Curves of the attribution's order: each order has its own target.
  auto own = [&](const std::vector<float>& y, Tensor& curve, Tensor& auc) {
    curve = Tensor({T, N, Pts});
    auc = Tensor({T, N});
    for (int64_t t = 0; t < T; ++t)
      for (int64_t e = 0; e < N; ++e) {
        for (int64_t p = 0; p < Pts; ++p)
          curve[(t * N + e) * Pts + p] = y[static_cast<size_t>(((t * N + e) * Pts + p) * T + t)];
        auc[t * N + e] = static_cast<float>(trapezoid(c.fractions, curve.data() + (t * N + e) * Pts));
      }
  };
  own(run_rows(run, st, T, Pts,
               [&](int64_t t, int64_t e, int64_t p, float* dst) {
                 compose(rank[static_cast<size_t>(t * N + e)], counts[static_cast<size_t>(p)], B + e * P, S + e * P,
                         dst);
               }),
      c.deletion, c.deletion_auc);
  own(run_rows(run, st, T, Pts,
               [&](int64_t t, int64_t e, int64_t p, float* dst) {
                 compose(rank[static_cast<size_t>(t * N + e)], counts[static_cast<size_t>(p)], S + e * P, B + e * P,
                         dst);
               }),
      c.insertion, c.insertion_auc);

  if (fo.n_random > 0) {
    const int64_t R = fo.n_random;
    std::vector<std::vector<int64_t>> rrank(static_cast<size_t>(R * N));
    for (int64_t r = 0; r < R; ++r)
      for (int64_t e = 0; e < N; ++e) {
        std::vector<int64_t> o(static_cast<size_t>(K));
        std::iota(o.begin(), o.end(), int64_t{0});
        Rng rng = keyed_rng(fo.seed, 1, e, r);
        for (int64_t i = K - 1; i > 0; --i)
          std::swap(o[static_cast<size_t>(i)], o[static_cast<size_t>(rng.below(static_cast<uint64_t>(i + 1)))]);
        rrank[static_cast<size_t>(r * N + e)] = ranks_of(o, K);
      }
    // Random orders do not depend on the target: one row serves all targets.
    auto reference = [&](const std::vector<float>& y, Tensor& mean, Tensor& sd, Tensor& auc_mean, Tensor& auc_sd) {
      mean = Tensor({T, N, Pts});
      sd = Tensor({T, N, Pts});
      auc_mean = Tensor({T, N});
      auc_sd = Tensor({T, N});
      std::vector<float> one(static_cast<size_t>(Pts));
      for (int64_t t = 0; t < T; ++t)
        for (int64_t e = 0; e < N; ++e) {
          double a1 = 0.0, a2 = 0.0;
          for (int64_t p = 0; p < Pts; ++p) {
            double m1 = 0.0, m2 = 0.0;
            for (int64_t r = 0; r < R; ++r) {
              const double v = y[static_cast<size_t>(((r * N + e) * Pts + p) * T + t)];
              m1 += v;
              m2 += v * v;
            }
            m1 /= double(R);
            mean[(t * N + e) * Pts + p] = static_cast<float>(m1);
            sd[(t * N + e) * Pts + p] = static_cast<float>(std::sqrt(std::max(0.0, m2 / double(R) - m1 * m1)));
          }
          for (int64_t r = 0; r < R; ++r) {
            for (int64_t p = 0; p < Pts; ++p)
              one[static_cast<size_t>(p)] = y[static_cast<size_t>(((r * N + e) * Pts + p) * T + t)];
            const double a = trapezoid(c.fractions, one.data());
            a1 += a;
            a2 += a * a;
          }
          a1 /= double(R);
          auc_mean[t * N + e] = static_cast<float>(a1);
          auc_sd[t * N + e] = static_cast<float>(std::sqrt(std::max(0.0, a2 / double(R) - a1 * a1)));
        }
    };
    reference(run_rows(run, st, R, Pts,
                       [&](int64_t r, int64_t e, int64_t p, float* dst) {
                         compose(rrank[static_cast<size_t>(r * N + e)], counts[static_cast<size_t>(p)], B + e * P,
                                 S + e * P, dst);
                       }),
              c.random_deletion_mean, c.random_deletion_std, c.random_deletion_auc_mean, c.random_deletion_auc_std);
    reference(run_rows(run, st, R, Pts,
                       [&](int64_t r, int64_t e, int64_t p, float* dst) {
                         compose(rrank[static_cast<size_t>(r * N + e)], counts[static_cast<size_t>(p)], S + e * P,
                                 B + e * P, dst);
                       }),
              c.random_insertion_mean, c.random_insertion_std, c.random_insertion_auc_mean, c.random_insertion_auc_std);
  }

  if (fo.road) {
    std::vector<double> rms(static_cast<size_t>(N), 0.0);
    for (int64_t e = 0; e < N; ++e) {
      double acc = 0.0;
      for (int64_t i = 0; i < P; ++i) acc += double(S[e * P + i]) * S[e * P + i];
      rms[static_cast<size_t>(e)] = std::sqrt(acc / double(P));
    }
    std::vector<float> values(static_cast<size_t>(P)), fallback(static_cast<size_t>(P));
    std::vector<char> unknown(static_cast<size_t>(P));
    // MoRF removes the highest ranks first; LeRF the lowest (rank from the end).
    auto road = [&](bool least_first, int64_t t, int64_t e, int64_t p, float* dst) {
      const std::vector<int64_t>& rk = rank[static_cast<size_t>(t * N + e)];
      const int64_t count = counts[static_cast<size_t>(p)];
      for (int64_t i = 0; i < P; ++i) {
        const int64_t f = st.feature_of[static_cast<size_t>(i)];
        const int64_t r = f < 0 ? K : (least_first ? K - 1 - rk[static_cast<size_t>(f)] : rk[static_cast<size_t>(f)]);
        unknown[static_cast<size_t>(i)] = f >= 0 && r < count;
        values[static_cast<size_t>(i)] = S[e * P + i];
        fallback[static_cast<size_t>(i)] = B[e * P + i];
      }
      const std::vector<float> im = impute_from_neighbours(*fo.neighbours, values, unknown, fallback);
      Rng rng = keyed_rng(fo.seed, least_first ? 3 : 2, t * N + e, p);
      const float sd = static_cast<float>(fo.road_noise * rms[static_cast<size_t>(e)]);
      for (int64_t i = 0; i < P; ++i) {
        dst[i] = im[static_cast<size_t>(i)];
        if (unknown[static_cast<size_t>(i)] && sd > 0.0f) dst[i] += rng.normal(0.0f, sd);
      }
    };
    own(run_rows(run, st, T, Pts, [&](int64_t t, int64_t e, int64_t p, float* dst) { road(false, t, e, p, dst); }),
        c.road_morf, c.road_morf_auc);
    own(run_rows(run, st, T, Pts, [&](int64_t t, int64_t e, int64_t p, float* dst) { road(true, t, e, p, dst); }),
        c.road_lerf, c.road_lerf_auc);
  }
  return c;
}

Tensor mu_fidelity(const Graph& model, const Tensor& s, const Tensor& scores, const FaithfulnessOptions& fo,
                   const AttributionOptions& options) {
  const std::string where = "mu_fidelity";
  ModelRunner run(model, s, options, where);
  const Setup st = make_setup(run, s, scores, fo.baseline, options, where);
  const int64_t N = st.N, T = st.T, P = st.P, K = st.K;
  const bool fixed = !fo.mu_masks.empty();
  int64_t M = fo.mu_subsets;
  if (fixed) {
    if (fo.mu_masks.rank() != 2 || fo.mu_masks.dim(1) != K)
      throw ShapeError(where + ": mu_masks " + fo.mu_masks.shape().str() + ", expected [subsets, " + std::to_string(K) +
                       "]");
    M = fo.mu_masks.dim(0);
  } else {
    if (M < 2) throw ValueError(where + ": mu_subsets must be >= 2, got " + std::to_string(M));
    if (!(fo.mu_fraction > 0.0 && fo.mu_fraction <= 1.0))
      throw ValueError(where + ": mu_fraction must be in (0, 1], got " + std::to_string(fo.mu_fraction));
  }
  // masks[(e * M + m) * K + f]: feature f removed in subset m of example e.
  std::vector<char> masks(static_cast<size_t>(N * M * K), 0);
  const int64_t size = std::max<int64_t>(1, std::llround(fo.mu_fraction * double(K)));
  for (int64_t e = 0; e < N; ++e)
    for (int64_t m = 0; m < M; ++m) {
      char* mk = masks.data() + (e * M + m) * K;
      if (fixed) {
        for (int64_t f = 0; f < K; ++f) mk[f] = fo.mu_masks[m * K + f] != 0.0f;
        continue;
      }
      Rng rng = keyed_rng(fo.seed, 4, e, m);
      std::vector<int64_t> o(static_cast<size_t>(K));
      std::iota(o.begin(), o.end(), int64_t{0});
      for (int64_t i = 0; i < size; ++i)
        std::swap(o[static_cast<size_t>(i)], o[static_cast<size_t>(i + int64_t(rng.below(uint64_t(K - i))))]);
      for (int64_t i = 0; i < size; ++i) mk[o[static_cast<size_t>(i)]] = 1;
    }
  // Row 0 of each example: s itself; rows 1..M: the subsets at the baseline.
  const std::vector<float> y = run_rows(run, st, 1, M + 1, [&](int64_t, int64_t e, int64_t p, float* dst) {
    const char* mk = p > 0 ? masks.data() + (e * M + p - 1) * K : nullptr;
    for (int64_t i = 0; i < P; ++i) {
      const int64_t f = st.feature_of[static_cast<size_t>(i)];
      dst[i] = mk && f >= 0 && mk[f] ? st.baseline[e * P + i] : s[e * P + i];
    }
  });
  Tensor result({T, N});
  std::vector<double> a(static_cast<size_t>(M)), d(static_cast<size_t>(M));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e) {
      const float* sc = scores.data() + (t * N + e) * K;
      const double f0 = y[static_cast<size_t>((e * (M + 1)) * T + t)];
      for (int64_t m = 0; m < M; ++m) {
        const char* mk = masks.data() + (e * M + m) * K;
        double acc = 0.0;
        for (int64_t f = 0; f < K; ++f)
          if (mk[f]) acc += sc[f];
        a[static_cast<size_t>(m)] = acc;
        d[static_cast<size_t>(m)] = f0 - y[static_cast<size_t>((e * (M + 1) + m + 1) * T + t)];
      }
      double ma = 0.0, md = 0.0;
      for (int64_t m = 0; m < M; ++m) ma += a[static_cast<size_t>(m)], md += d[static_cast<size_t>(m)];
      ma /= double(M);
      md /= double(M);
      double sab = 0.0, saa = 0.0, sbb = 0.0;
      for (int64_t m = 0; m < M; ++m) {
        const double u = a[static_cast<size_t>(m)] - ma, v = d[static_cast<size_t>(m)] - md;
        sab += u * v, saa += u * u, sbb += v * v;
      }
      result[t * N + e] = saa > 0.0 && sbb > 0.0 ? static_cast<float>(sab / std::sqrt(saa * sbb)) : 0.0f;
    }
  return result;
}

}  // namespace trim
