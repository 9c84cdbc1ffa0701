#include "trim/attribution/perturbation.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "runner.hpp"
#include "trim/core/error.hpp"
#include "trim/core/rng.hpp"

namespace trim {

using detail::ModelRunner;

namespace {

/// Largest number of groups the exact Shapley path accepts (2^16 coalitions
/// per example).
constexpr int kExactCap = 16;

/// The grouping seen by a perturbation method: groups with at least one
/// element get a compact index (empty groups score 0 and cost nothing).
struct ActiveGroups {
  std::vector<int32_t> compact;               ///< per element: compact group index, or −1
  std::vector<int> original;                  ///< per compact index: the grouping's label
  std::vector<std::vector<int64_t>> members;  ///< per compact index: its elements
  int total = 0;                              ///< groups of the grouping (empty ones included)
  int size() const { return static_cast<int>(original.size()); }
};

ActiveGroups active_groups(const AttributionOptions& options, int64_t P, const std::string& method) {
  if (!options.grouping)
    throw ValueError(method + ": options.grouping is required (the groups of input elements to perturb together)");
  const Grouping& g = *options.grouping;
  if (static_cast<int64_t>(g.labels.size()) != P)
    throw ShapeError(method + ": the grouping has " + std::to_string(g.labels.size()) + " labels, expected " +
                     std::to_string(P) + " (one per element of " + g.coefficient_shape.str() + ")");
  ActiveGroups a;
  a.total = g.size();
  std::vector<int32_t> to_compact(static_cast<size_t>(a.total), -1);
  a.compact.assign(static_cast<size_t>(P), -1);
  for (int64_t i = 0; i < P; ++i) {
    const int32_t l = g.labels[static_cast<size_t>(i)];
    if (l < -1 || l >= a.total)
      throw ValueError(method + ": grouping label " + std::to_string(l) + " at element " + std::to_string(i) +
                       " is outside [-1, " + std::to_string(a.total) + ") (" + std::to_string(a.total) +
                       " group names)");
    if (l < 0) continue;
    int32_t& c = to_compact[static_cast<size_t>(l)];
    if (c < 0) {
      c = static_cast<int32_t>(a.original.size());
      a.original.push_back(l);
      a.members.emplace_back();
    }
    a.compact[static_cast<size_t>(i)] = c;
    a.members[static_cast<size_t>(c)].push_back(i);
  }
  return a;
}

/// Evaluates R rows per example, for a block of examples at a time (enough
/// to fill max_batch, at least one), so the table of outputs stays
/// O(max(R, max_batch)·T) whatever N. make(e, j, dst) builds row j of
/// example e; done(e, f) gets that example's target outputs f[j·T + t].
void per_example(ModelRunner& run, int64_t R, const std::function<void(int64_t, int64_t, float*)>& make,
                 const std::function<void(int64_t, const double*)>& done) {
  const int64_t N = run.batch(), T = run.n_targets(), O = run.n_outputs();
  const int64_t block = std::max<int64_t>(1, run.max_batch() / std::max<int64_t>(R, 1));
  run.plan(N * R);
  std::vector<double> f;
  for (int64_t e0 = 0; e0 < N; e0 += block) {
    const int64_t nb = std::min(block, N - e0);
    f.assign(static_cast<size_t>(nb * R * T), 0.0);
    run.run(
        nb * R,
        [&](int64_t m, float* dst) {
          const int64_t e = e0 + m / R;
          make(e, m % R, dst);
          return e;
        },
        [&](int64_t first, int64_t count, const Tensor& out, const Tensor*) {
          for (int64_t r = 0; r < count; ++r)
            for (int64_t t = 0; t < T; ++t)
              f[static_cast<size_t>((first + r) * T + t)] = out[r * O + run.targets()[static_cast<size_t>(t)]];
        },
        false);
    for (int64_t k = 0; k < nb; ++k) done(e0 + k, f.data() + k * R * T);
  }
}

/// Per-group scores [T, N, K] (compact groups) into the result: each element
/// gets its group's score, `group_scores` one per group of the grouping.
Attribution group_result(const ModelRunner& run, const ActiveGroups& groups, const std::vector<double>& score,
                         Tensor delta) {
  const int64_t T = run.n_targets(), N = run.batch(), P = run.example_numel(), K = groups.size();
  Attribution a;
  a.targets = run.targets();
  a.attributions = Tensor(prepend({T, N}, run.example_shape()));
  a.group_scores = Tensor({T, N, static_cast<int64_t>(groups.total)});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e) {
      const double* s = score.data() + (t * N + e) * K;
      float* dst = a.attributions.data() + (t * N + e) * P;
      for (int64_t i = 0; i < P; ++i) {
        const int32_t c = groups.compact[static_cast<size_t>(i)];
        dst[i] = c < 0 ? 0.0f : static_cast<float>(s[c]);
      }
      float* gs = a.group_scores.data() + (t * N + e) * groups.total;
      for (int64_t k = 0; k < K; ++k) gs[groups.original[static_cast<size_t>(k)]] = static_cast<float>(s[k]);
    }
  a.delta = std::move(delta);
  return a;
}

// ---- occlusion geometry ---------------------------------------------------------

/// Sliding windows over the trailing `window.size()` axes of one example.
struct Windows {
  int64_t lead = 1;                 ///< elements of the leading (fully occluded) axes
  int64_t inner = 1;                ///< elements of the windowed axes
  std::vector<int64_t> dims;        ///< sizes of the windowed axes
  std::vector<int64_t> window;      ///< window per windowed axis
  std::vector<int64_t> stride;      ///< step per windowed axis
  std::vector<int64_t> counts;      ///< window positions per windowed axis
  std::vector<int64_t> axis_step;   ///< row-major step of each windowed axis inside `inner`
  int64_t total = 1;                ///< window positions

  /// Calls f(flat index within one example) for every element window `w` covers.
  template <class F>
  void for_each(int64_t w, F&& f) const {
    const size_t L = dims.size();
    std::vector<int64_t> lo(L), hi(L), idx(L);
    for (size_t j = L; j-- > 0;) {  // last axis varies fastest in the window index
      const int64_t k = w % counts[j];
      w /= counts[j];
      lo[j] = k * stride[j];
      hi[j] = std::min(dims[j], lo[j] + window[j]);
    }
    for (int64_t l = 0; l < lead; ++l) {
      idx = lo;
      while (true) {
        int64_t off = l * inner;
        for (size_t j = 0; j < L; ++j) off += idx[j] * axis_step[j];
        f(off);
        size_t j = L;
        while (j-- > 0) {
          if (++idx[j] < hi[j]) break;
          idx[j] = lo[j];
        }
        if (j == static_cast<size_t>(-1)) break;
      }
    }
  }
};

Windows make_windows(const Shape& example, const OcclusionOptions& occ) {
  const std::string where = "occlusion";
  const int R = example.rank();
  const size_t L = occ.window.size();
  if (L == 0 || static_cast<int>(L) > R)
    throw ShapeError(where + ": window has " + std::to_string(L) + " axes, expected 1.." + std::to_string(R) +
                     " (trailing axes of the input examples " + example.str() + ")");
  if (!occ.strides.empty() && occ.strides.size() != L)
    throw ValueError(where + ": " + std::to_string(occ.strides.size()) + " strides for a window of " +
                     std::to_string(L) + " axes");
  Windows w;
  const int first = R - static_cast<int>(L);
  for (int a = 0; a < first; ++a) w.lead *= example[a];
  for (size_t j = 0; j < L; ++j) {
    const int64_t D = example[first + static_cast<int>(j)], k = occ.window[j];
    const int64_t s = occ.strides.empty() ? k : occ.strides[j];
    if (k < 1) throw ValueError(where + ": window size " + std::to_string(k) + " on axis " + std::to_string(j) +
                                " must be >= 1");
    if (k > D)
      throw ShapeError(where + ": window " + Shape(occ.window).str() + " does not fit the trailing axes of the input "
                       "examples " + example.str());
    if (s < 1) throw ValueError(where + ": stride " + std::to_string(s) + " on axis " + std::to_string(j) +
                                " must be >= 1");
    w.dims.push_back(D);
    w.window.push_back(k);
    w.stride.push_back(s);
    w.counts.push_back((D - k + s - 1) / s + 1);  // captum: ceil((D − k) / s) + 1, last window clipped
    w.inner *= D;
  }
  w.axis_step.assign(L, 1);
  for (size_t j = L - 1; j-- > 0;) w.axis_step[j] = w.axis_step[j + 1] * w.dims[j + 1];
  for (int64_t c : w.counts) w.total *= c;
  return w;
}

}  // namespace

Attribution feature_ablation(const Graph& model, const Tensor& x, const FeatureAblationOptions& fa,
                             const AttributionOptions& options) {
  const std::string where = "feature_ablation";
  ModelRunner run(model, x, options, where);
  const int64_t N = run.batch(), P = run.example_numel(), T = run.n_targets();
  const ActiveGroups groups = active_groups(options, P, where);
  const int64_t K = groups.size(), R = K + 1;  // per example: x, then one ablated copy per group
  const Tensor b = fa.baseline.expand(x, where);
  std::vector<double> score(static_cast<size_t>(T * N * K));
  per_example(
      run, R,
      [&](int64_t e, int64_t j, float* dst) {
        std::copy(x.begin() + e * P, x.begin() + (e + 1) * P, dst);
        if (j > 0)
          for (int64_t i : groups.members[static_cast<size_t>(j - 1)]) dst[i] = b[e * P + i];
      },
      [&](int64_t e, const double* f) {
        for (int64_t t = 0; t < T; ++t)
          for (int64_t k = 0; k < K; ++k)
            score[static_cast<size_t>((t * N + e) * K + k)] = f[t] - f[(k + 1) * T + t];
      });
  return group_result(run, groups, score, {});
}

Attribution occlusion(const Graph& model, const Tensor& x, const OcclusionOptions& occ,
                      const AttributionOptions& options) {
  const std::string where = "occlusion";
  ModelRunner run(model, x, options, where);
  const int64_t N = run.batch(), P = run.example_numel(), T = run.n_targets();
  const Windows win = make_windows(run.example_shape(), occ);
  const int64_t W = win.total, R = W + 1;
  const Tensor b = occ.baseline.expand(x, where);
  // How many windows cover each element: the denominator of captum's average.
  std::vector<int64_t> cover(static_cast<size_t>(P), 0);
  for (int64_t w = 0; w < W; ++w) win.for_each(w, [&](int64_t i) { ++cover[static_cast<size_t>(i)]; });
  std::vector<double> fx(static_cast<size_t>(N * T)), sum(static_cast<size_t>(T * N * P), 0.0);
  // Rows are example-major with x first, so F(x) is known before the example's windows arrive.
  run.run(
      N * R,
      [&](int64_t m, float* dst) {
        const int64_t e = m / R, j = m % R;
        std::copy(x.begin() + e * P, x.begin() + (e + 1) * P, dst);
        if (j > 0) win.for_each(j - 1, [&](int64_t i) { dst[i] = b[e * P + i]; });
        return e;
      },
      [&](int64_t first, int64_t count, const Tensor& out, const Tensor*) {
        for (int64_t r = 0; r < count; ++r) {
          const int64_t m = first + r, e = m / R, j = m % R;
          if (j == 0) {
            for (int64_t t = 0; t < T; ++t)
              fx[static_cast<size_t>(e * T + t)] = out[r * run.n_outputs() + run.targets()[static_cast<size_t>(t)]];
            continue;
          }
          for (int64_t t = 0; t < T; ++t) {
            const double d = fx[static_cast<size_t>(e * T + t)] -
                             double(out[r * run.n_outputs() + run.targets()[static_cast<size_t>(t)]]);
            double* acc = sum.data() + (t * N + e) * P;
            win.for_each(j - 1, [&](int64_t i) { acc[i] += d; });
          }
        }
      },
      false);
  Tensor attr(prepend({T, N}, run.example_shape()));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e)
      for (int64_t i = 0; i < P; ++i) {
        const int64_t c = cover[static_cast<size_t>(i)];
        const int64_t j = (t * N + e) * P + i;
        attr[j] = c > 0 ? static_cast<float>(sum[static_cast<size_t>(j)] / double(c)) : 0.0f;
      }
  return run.finish(std::move(attr), {});
}

Attribution shapley(const Graph& model, const Tensor& x, const ShapleyOptions& sh, const AttributionOptions& options) {
  const std::string where = "shapley";
  ModelRunner run(model, x, options, where);
  if (sh.exact_max_groups < 0 || sh.exact_max_groups > kExactCap)
    throw ValueError(where + ": exact_max_groups must be in [0, " + std::to_string(kExactCap) + "], got " +
                     std::to_string(sh.exact_max_groups) + " (exact Shapley costs 2^K model evaluations per example;"
                     " use permutation sampling above " + std::to_string(kExactCap) + " groups)");
  if (sh.n_permutations < 1)
    throw ValueError(where + ": n_permutations must be >= 1, got " + std::to_string(sh.n_permutations));
  const int64_t N = run.batch(), P = run.example_numel(), T = run.n_targets();
  const ActiveGroups groups = active_groups(options, P, where);
  const int64_t K = groups.size();
  const Tensor b = sh.baseline.expand(x, where);
  std::vector<double> score(static_cast<size_t>(T * N * K), 0.0);
  Tensor delta({T, N});

  if (K <= sh.exact_max_groups) {
    // Every coalition S (bit k set: group k takes x) evaluated once, batched;
    // φ_k = Σ_{S ∌ k} |S|!(K−|S|−1)!/K! · (F(S ∪ k) − F(S)).
    const int64_t C = int64_t(1) << K;
    // weight[s] = s!(K−1−s)!/K! = 1 / (K · binom(K−1, s)).
    std::vector<double> weight(static_cast<size_t>(std::max<int64_t>(K, 1)));
    for (int64_t s = 0; s < K; ++s) {
      double binom = 1.0;
      for (int64_t i = 1; i <= s; ++i) binom = binom * double(K - 1 - s + i) / double(i);
      weight[static_cast<size_t>(s)] = 1.0 / (double(K) * binom);
    }
    std::vector<int> popcount(static_cast<size_t>(C), 0);
    for (int64_t S = 1; S < C; ++S) popcount[static_cast<size_t>(S)] = popcount[static_cast<size_t>(S >> 1)] + int(S & 1);
    per_example(
        run, C,
        [&](int64_t e, int64_t S, float* dst) {
          const float* xe = x.data() + e * P;
          const float* be = b.data() + e * P;
          for (int64_t i = 0; i < P; ++i) {
            const int32_t c = groups.compact[static_cast<size_t>(i)];
            dst[i] = (c < 0 || ((S >> c) & 1)) ? xe[i] : be[i];
          }
        },
        [&](int64_t e, const double* f) {
          for (int64_t t = 0; t < T; ++t) {
            const auto F = [&](int64_t S) { return f[S * T + t]; };
            double* s = score.data() + (t * N + e) * K;
            double total = 0.0;
            for (int64_t k = 0; k < K; ++k) {
              const int64_t bit = int64_t(1) << k;
              double phi = 0.0;
              for (int64_t S = 0; S < C; ++S)
                if (!(S & bit)) phi += weight[static_cast<size_t>(popcount[static_cast<size_t>(S)])] * (F(S | bit) - F(S));
              s[k] = phi;
              total += phi;
            }
            delta[t * N + e] = static_cast<float>(total - (F(C - 1) - F(0)));
          }
        });
    return group_result(run, groups, score, std::move(delta));
  }

  // Permutation sampling: the same random orders for every example. Per
  // example the rows are the empty coalition, the full one, then for each
  // permutation its K − 1 proper non-empty prefixes; walking a permutation
  // telescopes, so Σ φ = F(x) − F(b) holds for each permutation.
  const int64_t Pm = sh.n_permutations, R = 2 + Pm * (K - 1);
  std::vector<int32_t> order(static_cast<size_t>(Pm * K)), position(static_cast<size_t>(Pm * K));
  Rng rng(sh.seed);
  for (int64_t p = 0; p < Pm; ++p) {
    int32_t* o = order.data() + p * K;
    for (int64_t k = 0; k < K; ++k) o[k] = static_cast<int32_t>(k);
    for (int64_t k = K - 1; k > 0; --k)
      std::swap(o[k], o[static_cast<int64_t>(rng.below(static_cast<uint64_t>(k + 1)))]);
    for (int64_t k = 0; k < K; ++k) position[static_cast<size_t>(p * K + o[k])] = static_cast<int32_t>(k);
  }
  per_example(
      run, R,
      [&](int64_t e, int64_t r, float* dst) {
        const float* xe = x.data() + e * P;
        const float* be = b.data() + e * P;
        // Coalition: the groups at positions < size of permutation p.
        int64_t p = 0, size = r == 0 ? 0 : K;
        if (r >= 2) {
          p = (r - 2) / (K - 1);
          size = (r - 2) % (K - 1) + 1;
        }
        const int32_t* pos = position.data() + p * K;
        for (int64_t i = 0; i < P; ++i) {
          const int32_t c = groups.compact[static_cast<size_t>(i)];
          dst[i] = (c < 0 || pos[c] < size) ? xe[i] : be[i];
        }
      },
      [&](int64_t e, const double* f) {
        for (int64_t t = 0; t < T; ++t) {
          // F of the prefix of permutation p with `size` groups.
          const auto F = [&](int64_t p, int64_t size) {
            const int64_t r = size == 0 ? 0 : size == K ? 1 : 2 + p * (K - 1) + (size - 1);
            return f[r * T + t];
          };
          double* s = score.data() + (t * N + e) * K;
          for (int64_t p = 0; p < Pm; ++p)
            for (int64_t k = 0; k < K; ++k) s[order[static_cast<size_t>(p * K + k)]] += F(p, k + 1) - F(p, k);
          double total = 0.0;
          for (int64_t k = 0; k < K; ++k) {
            s[k] /= double(Pm);
            total += s[k];
          }
          delta[t * N + e] = static_cast<float>(total - (F(0, K) - F(0, 0)));
        }
      });
  return group_result(run, groups, score, std::move(delta));
}

}  // namespace trim
