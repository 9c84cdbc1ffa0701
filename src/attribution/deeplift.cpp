#include "trim/attribution/deeplift.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "runner.hpp"
#include "trim/core/buffer_plan.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/lifetimes.hpp"

namespace trim {

using detail::ModelRunner;

namespace {

/// Rescale rule: gin += dy ⊙ Δy/Δx, the gradient φ'(x) where |Δx| < eps.
/// Elementwise and independent per element: in parallel chunks, each a
/// vectorisable pass for the quotients and a second one for the rare
/// elements whose |Δx| < eps.
void elementwise_rule(const Op& op, const Tensor& x, const Tensor& b, const Tensor& yx, const Tensor& yb,
                      const Tensor& dy, Tensor& gin, float eps) {
  constexpr int64_t chunk = 4096;
  const int64_t n = x.numel();
  parallel_for((n + chunk - 1) / chunk, [&](int64_t c0, int64_t c1) {
    float m[chunk];
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t i0 = c * chunk, len = std::min(chunk, n - i0);
      bool small = false;
      for (int64_t i = 0; i < len; ++i) {
        const float dx = x[i0 + i] - b[i0 + i];
        small |= !(std::fabs(dx) >= eps);
        m[i] = (yx[i0 + i] - yb[i0 + i]) / dx;
      }
      if (small) {
        // φ' of the whole chunk in one call: element by element, a chunk of
        // ties (a zero baseline meeting zero activations: EfficientNet-B0's
        // sigmoids with random weights, half their elements) cost a fifth of
        // DeepLIFT's time in single-element virtual calls.
        float d[chunk];
        op.dphi(x.data() + i0, d, len);
        for (int64_t i = 0; i < len; ++i)
          if (!(std::fabs(x[i0 + i] - b[i0 + i]) >= eps)) m[i] = d[i];
      }
      for (int64_t i = 0; i < len; ++i) gin[i0 + i] += dy[i0 + i] * m[i];
    }
  });
}

/// captum's max-pool rule: with m = max(y, y0), (m − y0) flows through x's
/// argmax and (y − m) through the baseline's; the sum over an input element
/// divided by its Δx is its multiplier (the gradient where |Δx| < eps).
void selection_rule(const Op& op, const OpArgs& ax, const OpArgs& ab, const Tensor& yx, const Tensor& yb,
                    const Tensor& dy, Tensor& gin, float eps) {
  std::vector<int64_t> ix, ib;
  op.select_indices(ax, ix);
  op.select_indices(ab, ib);
  const Tensor& x = ax.input();
  const Tensor& b = ab.input();
  // Kept between calls: allocated afresh, their pages were a fifth of the rule's time.
  thread_local std::vector<double> moved, grad;
  moved.assign(static_cast<size_t>(x.numel()), 0.0);
  grad.assign(static_cast<size_t>(x.numel()), 0.0);
  for (int64_t j = 0; j < yx.numel(); ++j) {
    const double m = std::max(yx[j], yb[j]);
    moved[static_cast<size_t>(ix[static_cast<size_t>(j)])] += dy[j] * (m - yb[j]);
    moved[static_cast<size_t>(ib[static_cast<size_t>(j)])] += dy[j] * (yx[j] - m);
    grad[static_cast<size_t>(ix[static_cast<size_t>(j)])] += dy[j];
  }
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float dx = x[i] - b[i];
    gin[i] += static_cast<float>(std::fabs(dx) >= eps ? moved[static_cast<size_t>(i)] / dx
                                                      : grad[static_cast<size_t>(i)]);
  }
}

/// Product rule for a bilinear B(a, b): with midpoints ā = (a + a₀)/2 and
/// b̄ = (b + b₀)/2, B(a, b) − B(a₀, b₀) = B(Δa, b̄) + B(ā, Δb) exactly, so the
/// multipliers are B's VJPs evaluated at the midpoints (the VJP to a reads
/// only b and vice versa).
void product_rule(const Op& op, const OpArgs& ax, const OpArgs& ab, const Tensor& yx, const Tensor& dy,
                  const OpGrads& og) {
  std::vector<Tensor> mid;
  mid.reserve(ax.inputs.size());
  OpArgs am = ax;
  for (size_t k = 0; k < ax.inputs.size(); ++k) {
    Tensor m = ax.input(k);
    m.as_vector() = 0.5f * (ax.input(k).as_vector() + ab.input(k).as_vector());
    mid.push_back(std::move(m));
  }
  for (size_t k = 0; k < mid.size(); ++k) am.inputs[k] = &mid[k];
  op.backward(am, yx, dy, og);
}

/// The activations of the x rows and of the baseline rows of each node, the
/// two halves of one forward over [x; b] (the batch leads every activation,
/// DESIGN.md): views where a half starts 64-byte aligned, as Tensor::borrow
/// needs, copies otherwise (only small outputs, such as one row's logits).
/// Nodes without a batch axis are the same for both.
class PairedRows {
 public:
  /// Halves of `ws`, whose forward ran 2·rows rows.
  PairedRows(const Graph& g, const Workspace& ws, int64_t rows)
      : g_(g), ws_(ws), rows_(rows), views_(2 * static_cast<size_t>(g.num_nodes())),
        made_(static_cast<size_t>(g.num_nodes()), 0) {}

  int64_t rows() const { return rows_; }
  const Tensor& x(NodeId id) { return half(id, 0); }
  const Tensor& b(NodeId id) { return half(id, 1); }
  OpArgs args_x(const Node& n) { return node_args(g_, n, [&](NodeId i) { return &x(i); }); }
  OpArgs args_b(const Node& n) { return node_args(g_, n, [&](NodeId i) { return &b(i); }); }

 private:
  const Tensor& half(NodeId id, int which) {
    const size_t k = static_cast<size_t>(id);
    if (!made_[k]) {
      made_[k] = 1;
      make(id, views_[2 * k], views_[2 * k + 1]);
    }
    return views_[2 * k + static_cast<size_t>(which)];
  }
  void make(NodeId id, Tensor& vx, Tensor& vb) const {
    const Tensor& all = ws_.value(id);
    const Shape& declared = g_.node(id).shape;
    if (all.numel() == 0 || declared.rank() == 0 || declared[0] != Shape::free) {  // not kept, or no rows
      vx = Tensor::borrow(all.data(), all.shape());
      vb = Tensor::borrow(all.data(), all.shape());
      return;
    }
    const Shape shape = with_rows(all.shape(), rows_);
    vx = Tensor::borrow(all.data(), shape);
    const float* second = all.data() + shape.numel();
    if (reinterpret_cast<std::uintptr_t>(second) % Tensor::alignment == 0) {
      vb = Tensor::borrow(second, shape);
    } else {
      vb = Tensor(shape);
      std::copy(second, second + shape.numel(), vb.data());
    }
  }

  const Graph& g_;
  const Workspace& ws_;
  int64_t rows_;
  std::vector<Tensor> views_;  ///< node k: x rows at 2k, baseline rows at 2k + 1
  std::vector<char> made_;
};

/// The multipliers' buffers, planned as `backward` plans cotangents
/// (plan_reverse_order): multipliers whose lifetimes do not overlap share one
/// allocation, kept for every target and chunk.
struct MultiplierBuffers {
  int64_t batch = -1;
  std::vector<int> slot;  ///< node → slot (−1: no multiplier reaches it)
  SlotBuffers buffers;

  void plan(const Graph& g, int64_t rows) {
    if (rows == batch) return;
    batch = rows;
    std::vector<char> needed(static_cast<size_t>(g.num_nodes()));
    for (NodeId id = 0; id < g.num_nodes(); ++id) needed[static_cast<size_t>(id)] = g.depends_on_input(id);
    BufferPlan p;
    slot = plan_reverse_order(g, rows, needed, p);
    buffers.reserve(p);
  }
};

/// Multipliers of the first input for output element `target` of every row,
/// after the forward passes of the x and baseline rows (valid until the
/// next call with the same buffers).
const Tensor& multipliers(const Graph& g, PairedRows& pr, int64_t target, float eps, MultiplierBuffers& mb) {
  const NodeId out = g.outputs()[0];
  const int64_t rows = pr.rows();
  mb.plan(g, rows);
  std::vector<char> started(static_cast<size_t>(g.num_nodes()), 0);
  const auto grad_of = [&](NodeId i) -> Tensor& {
    const size_t k = static_cast<size_t>(i);
    if (started[k]) return mb.buffers[mb.slot[k]];
    started[k] = 1;
    return mb.buffers.use(mb.slot[k], g.node(i).shape.with_batch(rows), true);
  };
  const NodeId in = g.inputs()[0];
  if (mb.slot[static_cast<size_t>(out)] < 0 || mb.slot[static_cast<size_t>(in)] < 0) {
    static thread_local Tensor none;  // the output does not depend on the input
    none.resize(g.node(in).shape.with_batch(rows), true);
    return none;
  }
  const Tensor& y = pr.x(out);
  Tensor& gout = grad_of(out);
  const int64_t per = y.numel() / rows;
  for (int64_t r = 0; r < rows; ++r) gout[r * per + target] = 1.0f;

  for (NodeId id = g.num_nodes() - 1; id >= 0; --id) {
    const Node& n = g.node(id);
    if (n.is_input || !started[static_cast<size_t>(id)]) continue;
    const Tensor& dy = mb.buffers[mb.slot[static_cast<size_t>(id)]];
    OpGrads og;
    bool any = false;
    for (NodeId i : n.inputs) {
      Tensor* t = nullptr;
      if (g.depends_on_input(i)) {
        t = &grad_of(i);
        any = true;
      }
      og.inputs.push_back(t);
    }
    og.params.assign(n.params.size(), nullptr);
    if (!any) continue;
    const OpArgs ax = pr.args_x(n);
    switch (n.op->kind()) {
      case Kind::Elementwise:
        elementwise_rule(*n.op, ax.input(), pr.b(n.inputs[0]), pr.x(id), pr.b(id), dy, *og.inputs[0], eps);
        break;
      case Kind::Selection:
        selection_rule(*n.op, ax, pr.args_b(n), pr.x(id), pr.b(id), dy, *og.inputs[0], eps);
        break;
      case Kind::Product:
        product_rule(*n.op, ax, pr.args_b(n), pr.x(id), dy, og);
        break;
      case Kind::Cell:  // the op's own rule (composed of the rules above)
        n.op->deeplift_backward(ax, pr.args_b(n), dy, og, eps);
        break;
      case Kind::Linear:
      case Kind::Structural:
      case Kind::Sum:     // the VJP is the rule
      case Kind::Opaque:  // the gradient at x
        n.op->backward(ax, pr.x(id), dy, og);
        break;
    }
  }
  if (!started[static_cast<size_t>(in)]) return grad_of(in);  // zero: no multiplier reached it
  return mb.buffers[mb.slot[static_cast<size_t>(in)]];
}

}  // namespace

Attribution deeplift(const Graph& model, const Tensor& x, const DeepLiftOptions& dl, const AttributionOptions& options) {
  ModelRunner run(model, x, options, "deeplift");
  if (!(dl.eps >= 0.0f)) throw ValueError("deeplift: eps must be >= 0, got " + std::to_string(dl.eps));
  const Tensor b = dl.baseline.expand(x, "deeplift");
  const int64_t N = run.batch(), P = run.example_numel(), T = run.n_targets(), K = run.n_outputs();
  Tensor attr(prepend({T, N}, run.example_shape()));
  Tensor delta({T, N});
  // x and baseline rows in one forward: the weights are read once for both
  // (at batch 2, a fifth of the time).
  Workspace ws;
  MultiplierBuffers mb;
  run.hold(N * P);  // the baseline
  const int64_t chunk = run.max_batch(ModelRunner::Pass::deeplift);  // x and baseline rows both in memory
  run.plan(N);
  for (int64_t first = 0; first < N; first += chunk) {
    const int64_t M = std::min(chunk, N - first);
    std::vector<int64_t> ex(static_cast<size_t>(M));
    for (int64_t r = 0; r < M; ++r) ex[static_cast<size_t>(r)] = first + r;
    const float* xs = x.data() + first * P;
    const float* bs = b.data() + first * P;
    std::vector<Tensor> in{Tensor(prepend({2 * M}, run.example_shape()))};
    std::copy(xs, xs + M * P, in[0].begin());
    std::copy(bs, bs + M * P, in[0].begin() + M * P);
    for (const Tensor& e : run.gather_extras(ex)) {
      Tensor both(with_rows(e.shape(), 2 * M));
      std::copy(e.begin(), e.end(), both.begin());
      std::copy(e.begin(), e.end(), both.begin() + e.numel());
      in.push_back(std::move(both));
    }
    // Only what the rules read is kept; the other activations share buffers.
    forward(model, ws, in, Keep::deeplift);
    PairedRows pr(model, ws, M);
    const Tensor& fx = pr.x(model.outputs()[0]);
    const Tensor& fb = pr.b(model.outputs()[0]);
    for (int64_t t = 0; t < T; ++t) {
      const int64_t k = run.targets()[static_cast<size_t>(t)];
      const Tensor& m = multipliers(model, pr, k, dl.eps, mb);
      for (int64_t r = 0; r < M; ++r) {
        double s = 0.0;
        float* dst = attr.data() + (t * N + first + r) * P;
        for (int64_t i = 0; i < P; ++i) {
          const float d = xs[r * P + i] - bs[r * P + i];
          dst[i] = dl.multiply_by_inputs ? m[r * P + i] * d : m[r * P + i];
          s += double(m[r * P + i]) * d;
        }
        delta[t * N + first + r] = static_cast<float>(s - (double(fx[r * K + k]) - double(fb[r * K + k])));
      }
    }
    run.advance(M);
  }
  return run.finish(std::move(attr), std::move(delta));
}

Attribution deeplift_shap(const Graph& model, const Tensor& x, const Tensor& baselines, const DeepLiftOptions& dl,
                          const AttributionOptions& options) {
  ModelRunner check(model, x, options, "deeplift_shap");
  const int64_t N = check.batch(), P = check.example_numel();
  if (baselines.rank() != x.rank() || baselines.dim(0) < 1 || baselines.numel() != baselines.dim(0) * P)
    throw ShapeError("deeplift_shap: baselines " + baselines.shape().str() + " must be a batch [B, " +
                     check.example_shape().str() + "...] with B >= 1");
  const int64_t B = baselines.dim(0);
  // Every example against every baseline: rows e·B + j.
  const Tensor xr = detail::repeat_rows(x, B);
  Tensor br(xr.shape());
  for (int64_t e = 0; e < N; ++e) std::copy(baselines.begin(), baselines.end(), br.begin() + e * B * P);
  AttributionOptions inner = options;
  inner.grouping = nullptr;
  for (Tensor& extra : inner.extra_inputs) extra = detail::repeat_rows(extra, B);
  DeepLiftOptions pair = dl;
  pair.baseline = Baseline::of(br);
  const Attribution a = deeplift(model, xr, pair, inner);
  const int64_t T = check.n_targets();
  Tensor attr(prepend({T, N}, check.example_shape()));
  Tensor delta({T, N});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e) {
      double d = 0.0;
      for (int64_t j = 0; j < B; ++j) d += a.delta[t * N * B + e * B + j];
      delta[t * N + e] = static_cast<float>(d / B);
      for (int64_t i = 0; i < P; ++i) {
        double s = 0.0;
        for (int64_t j = 0; j < B; ++j) s += a.attributions[((t * N + e) * B + j) * P + i];
        attr[(t * N + e) * P + i] = static_cast<float>(s / B);
      }
    }
  return check.finish(std::move(attr), std::move(delta));
}

}  // namespace trim
