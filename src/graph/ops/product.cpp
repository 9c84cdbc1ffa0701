#include "trim/graph/ops/product.hpp"

#include <Eigen/Core>
#include <algorithm>

#include "broadcast_index.hpp"
#include "over_elements.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"

namespace trim::ops {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapC = Eigen::Map<const RowMatrix>;
using Map = Eigen::Map<RowMatrix>;

using detail::over_elements;

/// Runs fn over the runs of `runs`, split over threads when they are many
/// elements and `split` (no two runs write the same element).
template <class F>
void over_runs(const detail::BroadcastRuns& runs, bool split, F&& fn) {
  const int64_t per_task = std::max<int64_t>(1, detail::kElementTask / runs.n);
  if (!split || runs.count * runs.n < 4 * detail::kElementTask) {
    runs.each(0, runs.count, fn);
    return;
  }
  parallel_for((runs.count + per_task - 1) / per_task, [&](int64_t b, int64_t e) {
    runs.each(b * per_task, std::min(runs.count, e * per_task), fn);
  });
}

/// Σ x[i]·y[i] for i < n (vectorised).
inline float dot(const float* x, const float* y, int64_t n) {
  return Eigen::Map<const Eigen::VectorXf>(x, n).dot(Eigen::Map<const Eigen::VectorXf>(y, n));
}

/// r[i] = d[i]·s[i] when `set` (as if added into zeros), else r[i] += d[i]·s[i].
/// r does not overlap d or s (a gradient buffer against dy and an input).
inline void product_into(float* __restrict r, const float* __restrict d, const float* __restrict s, int64_t n,
                         bool set) {
  if (set)
    for (int64_t i = 0; i < n; ++i) r[i] = 0.0f + d[i] * s[i];
  else
    for (int64_t i = 0; i < n; ++i) r[i] += d[i] * s[i];
}

}  // namespace

// ---- Multiply ---------------------------------------------------------------------

Shape Multiply::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string& where) const {
  const Shape& a = in.at(0);
  const Shape& b = in.at(1);
  if (a.rank() != b.rank() || a.rank() < 1)
    throw ShapeError(where + ": inputs " + a.str() + " and " + b.str() +
                     " must have the same rank (insert size-1 axes to broadcast)");
  Shape y;
  for (int k = 0; k < a.rank(); ++k) {
    if (a[k] == b[k] || b[k] == 1) y.push_back(a[k]);
    else if (a[k] == 1) y.push_back(b[k]);
    else
      throw ShapeError(where + ": inputs " + a.str() + " and " + b.str() + " do not broadcast (axis " +
                       std::to_string(k) + ")");
  }
  return y;
}

void Multiply::forward(const OpArgs& args, Tensor& y) const {
  const Tensor& a = args.input(0);
  const Tensor& b = args.input(1);
  const float* pa = a.data();
  const float* pb = b.data();
  float* py = y.data();
  if (a.shape() == b.shape()) {
    over_elements(y.numel(), [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) py[i] = pa[i] * pb[i];
    });
    return;
  }
  const detail::BroadcastRuns runs(y.shape(), a.shape(), b.shape());
  over_runs(runs, true, [&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
    float* __restrict out = py + o;
    const float* __restrict ra = pa + ia;
    const float* __restrict rb = pb + ib;
    if (sa == 1 && sb == 0) {  // a gated by a scalar (squeeze-excitation)
      const float s = *rb;
      for (int64_t i = 0; i < n; ++i) out[i] = ra[i] * s;
    } else if (sa == 0 && sb == 1) {
      const float s = *ra;
      for (int64_t i = 0; i < n; ++i) out[i] = s * rb[i];
    } else if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < n; ++i) out[i] = ra[i] * rb[i];
    } else {
      for (int64_t i = 0; i < n; ++i) out[i] = ra[i * sa] * rb[i * sb];
    }
  });
}

void Multiply::backward(const OpArgs& args, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  const Tensor& a = args.input(0);
  const Tensor& b = args.input(1);
  Tensor* da = g.input(0);
  Tensor* db = g.input(1);
  const float* pa = a.data();
  const float* pb = b.data();
  const float* pd = dy.data();
  float* ga = da ? da->data() : nullptr;
  float* gb = db ? db->data() : nullptr;
  if (!ga && !gb) return;
  // An assigned gradient of an operand as large as dy is written once per
  // element (=); one that is broadcast sums over its runs, from zero.
  const bool full_a = a.shape() == dy.shape(), full_b = b.shape() == dy.shape();
  const bool assign_a = ga && g.assigns(0), assign_b = gb && g.assigns(1);
  if (assign_a && !full_a) da->set_zero();
  if (assign_b && !full_b) db->set_zero();
  const bool set_a = assign_a && full_a, set_b = assign_b && full_b;
  if (full_a && full_b) {
    // Both gradients chunk by chunk, while the chunk of dy is in cache.
    over_elements(dy.numel(), [&](int64_t i0, int64_t i1) {
      if (ga) product_into(ga + i0, pd + i0, pb + i0, i1 - i0, set_a);
      if (gb) product_into(gb + i0, pd + i0, pa + i0, i1 - i0, set_b);
    });
    return;
  }
  const detail::BroadcastRuns runs(dy.shape(), a.shape(), b.shape());
  // The gradient of a broadcast operand sums over its run; runs reading the
  // same element of an operand stay on one thread, in order.
  over_runs(runs, runs.runs_disjoint(),
            [&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
              const float* __restrict d = pd + o;
              if (sa == 1 && sb == 0) {
                if (ga) {
                  const float s = pb[ib];
                  float* __restrict r = ga + ia;
                  if (set_a)
                    for (int64_t i = 0; i < n; ++i) r[i] = 0.0f + d[i] * s;
                  else
                    for (int64_t i = 0; i < n; ++i) r[i] += d[i] * s;
                }
                if (gb) gb[ib] += dot(d, pa + ia, n);
              } else if (sa == 0 && sb == 1) {
                if (gb) {
                  const float s = pa[ia];
                  float* __restrict r = gb + ib;
                  if (set_b)
                    for (int64_t i = 0; i < n; ++i) r[i] = 0.0f + d[i] * s;
                  else
                    for (int64_t i = 0; i < n; ++i) r[i] += d[i] * s;
                }
                if (ga) ga[ia] += dot(d, pb + ib, n);
              } else {
                for (int64_t i = 0; i < n; ++i) {
                  if (ga) ga[ia + i * sa] = (set_a ? 0.0f : ga[ia + i * sa]) + d[i] * pb[ib + i * sb];
                  if (gb) gb[ib + i * sb] = (set_b ? 0.0f : gb[ib + i * sb]) + d[i] * pa[ia + i * sa];
                }
              }
            });
}

// ---- MatMul -----------------------------------------------------------------------

Shape MatMul::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string& where) const {
  const Shape& a = in.at(0);
  const Shape& b = in.at(1);
  const int r = a.rank();
  bool ok = r >= 3 && b.rank() == r && a[r - 1] == b[r - 2];
  for (int k = 0; ok && k < r - 2; ++k) ok = a[k] == b[k];
  if (!ok)
    throw ShapeError(where + ": inputs " + a.str() + " and " + b.str() +
                     " do not multiply: expected [N,...,M,K] @ [N,...,K,P] with equal leading axes (rank >= 3)");
  Shape y = a;
  y[r - 1] = b[r - 1];
  return y;
}

void MatMul::forward(const OpArgs& args, Tensor& y) const {
  const Tensor& a = args.input(0);
  const Tensor& b = args.input(1);
  const int r = a.rank();
  const int64_t M = a.dim(r - 2), K = a.dim(r - 1), P = b.dim(r - 1);
  const int64_t count = M * K == 0 ? 0 : a.numel() / (M * K);
  for (int64_t s = 0; s < count; ++s)
    Map(y.data() + s * M * P, M, P).noalias() =
        MapC(a.data() + s * M * K, M, K) * MapC(b.data() + s * K * P, K, P);
}

void MatMul::backward(const OpArgs& args, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  const Tensor& a = args.input(0);
  const Tensor& b = args.input(1);
  const int r = a.rank();
  const int64_t M = a.dim(r - 2), K = a.dim(r - 1), P = b.dim(r - 1);
  const int64_t count = M * K == 0 ? 0 : a.numel() / (M * K);
  Tensor* da = g.input(0);
  Tensor* db = g.input(1);
  for (int64_t s = 0; s < count; ++s) {
    const MapC d(dy.data() + s * M * P, M, P);
    if (da) Map(da->data() + s * M * K, M, K).noalias() += d * MapC(b.data() + s * K * P, K, P).transpose();
    if (db) Map(db->data() + s * K * P, K, P).noalias() += MapC(a.data() + s * M * K, M, K).transpose() * d;
  }
}

}  // namespace trim::ops
