#include "trim/attribution/cd.hpp"

#include <algorithm>
#include <cmath>

#include "runner.hpp"
#include "trim/core/buffer_plan.hpp"
#include "trim/core/error.hpp"
#include "trim/core/text.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/lifetimes.hpp"

namespace trim {


namespace {

/// Rows of a relevant batch: row r belongs to example `example[r]` (an index
/// into the current chunk of examples).
struct Rows {
  std::vector<int64_t> example;
  int64_t count() const { return static_cast<int64_t>(example.size()); }
};

/// Linear rule: rel = A(rel) + b ⊙ |A rel| / (|A rel| + |A irrel|), with
/// A(irrel) = (total − b) − A(rel).
void linear_rule(const Op& op, const OpArgs& rel_args, const OpArgs& total_args, const Tensor& total_out,
                 const Rows& rows, Tensor& y) {
  op.forward_unbiased(rel_args, y);
  if (!op.has_bias(rel_args)) return;
  // The bias broadcast to one example's output.
  Shape one = y.shape();
  one[0] = 1;
  Tensor bias(one);
  op.add_bias(total_args, bias, 1.0f);
  const int64_t per = bias.numel();
  for (int64_t r = 0; r < rows.count(); ++r) {
    float* yr = y.data() + r * per;
    const float* tr = total_out.data() + rows.example[static_cast<size_t>(r)] * per;
    for (int64_t j = 0; j < per; ++j) {
      const float b = bias[j];
      const float a_rel = yr[j];
      const float a_irrel = (tr[j] - b) - a_rel;
      const float p_rel = std::fabs(a_rel) + 1e-20f, p_irrel = std::fabs(a_irrel) + 1e-20f;
      yr[j] = a_rel + b * (p_rel / (p_rel + p_irrel));
    }
  }
}

/// Elementwise rule: φ(rel) for ReLU-like φ, else the two-term Shapley value
/// ½[(φ(rel) − φ(0)) + (φ(total) − φ(total − rel))].
void elementwise_rule(const Op& op, const Tensor& rel, const Tensor& total_in, const Tensor& total_out,
                      const Rows& rows, Tensor& y) {
  op.phi(rel.data(), y.data(), rel.numel());
  if (op.relu_like()) return;
  float zero = 0.0f, phi0 = 0.0f;
  op.phi(&zero, &phi0, 1);
  const int64_t per = rel.numel() / rows.count();
  std::vector<float> rest(static_cast<size_t>(per)), phi_rest(static_cast<size_t>(per));
  for (int64_t r = 0; r < rows.count(); ++r) {
    const int64_t e = rows.example[static_cast<size_t>(r)];
    const float* re = rel.data() + r * per;
    const float* ti = total_in.data() + e * per;
    const float* to = total_out.data() + e * per;
    for (int64_t j = 0; j < per; ++j) rest[static_cast<size_t>(j)] = ti[j] - re[j];
    op.phi(rest.data(), phi_rest.data(), per);
    float* yr = y.data() + r * per;
    for (int64_t j = 0; j < per; ++j) {
      yr[j] = 0.5f * ((yr[j] - phi0) + (to[j] - phi_rest[static_cast<size_t>(j)]));
      if (!std::isfinite(yr[j])) {
        // φ undefined at 0 or at a part (√, log, 1/x of a part that leaves
        // the domain): the linearised share rel · φ'(total).
        float slope = 0.0f;
        op.dphi(ti + j, &slope, 1);
        yr[j] = re[j] * slope;
        if (!std::isfinite(yr[j])) yr[j] = 0.0f;
      }
    }
  }
}

/// Rows of the total `t` for the relevant rows (t unchanged when its batch
/// axis is 1 or already the rows').
Tensor total_rows(const Tensor& t, const Rows& rows, int64_t examples) {
  if (t.rank() == 0 || t.dim(0) != examples) return t;
  bool identity = rows.count() == examples;
  for (int64_t r = 0; identity && r < rows.count(); ++r) identity = rows.example[static_cast<size_t>(r)] == r;
  if (identity) return t;
  Shape s = t.shape();
  s[0] = rows.count();
  Tensor out(s);
  const int64_t per = examples ? t.numel() / examples : 0;
  for (int64_t r = 0; r < rows.count(); ++r) {
    const int64_t e = rows.example[static_cast<size_t>(r)];
    std::copy(t.data() + e * per, t.data() + (e + 1) * per, out.data() + r * per);
  }
  return out;
}

/// Product rule for a bilinear B with inputs a = a_rel + a_irrel and
/// b = b_rel + b_irrel: rel = B(a_rel, b_rel) + ½[B(a_rel, b_irrel) +
/// B(a_irrel, b_rel)] = ½[B(a_rel, b) + B(a, b_rel)], the Shapley value of
/// the relevant part in the two-player game (the cross terms split evenly).
/// An operand that does not depend on the input is all irrelevant and
/// fixed: rel = B(a_rel, b) (B linear in the other operand).
void product_rule(const Graph& g, const Node& n, const OpArgs& rel_args, const Workspace& ws, const Rows& rows,
                  int64_t examples, Tensor& y) {
  const bool da = g.depends_on_input(n.inputs[0]), db = g.depends_on_input(n.inputs[1]);
  const Tensor ta = total_rows(ws.value(n.inputs[0]), rows, examples);
  const Tensor tb = total_rows(ws.value(n.inputs[1]), rows, examples);
  OpArgs args = rel_args;
  if (!db) {
    args.inputs[1] = &tb;
    n.op->forward(args, y);
    return;
  }
  if (!da) {
    args.inputs[0] = &ta;
    n.op->forward(args, y);
    return;
  }
  args.inputs[1] = &tb;
  n.op->forward(args, y);
  Tensor other(y.shape());
  args.inputs[0] = &ta;
  args.inputs[1] = rel_args.inputs[1];
  n.op->forward(args, other);
  y.as_vector() = 0.5f * (y.as_vector() + other.as_vector());
}

/// Cell rule (an LSTM step): the op's own rule, given the totals of the
/// relevant rows.
void cell_rule(const Node& n, const OpArgs& rel_args, const Workspace& ws, const Rows& rows,
               int64_t examples, Tensor& y) {
  std::vector<Tensor> totals;
  totals.reserve(n.inputs.size());
  for (NodeId i : n.inputs) totals.push_back(total_rows(ws.value(i), rows, examples));
  OpArgs total_args = rel_args;
  for (size_t k = 0; k < totals.size(); ++k) total_args.inputs[k] = &totals[k];
  n.op->cd_forward(rel_args, total_args, y);
}

/// Selection rule: the relevant part follows the argmax of the total.
void selection_rule(const Op& op, const OpArgs& total_args, const Tensor& rel, const Rows& rows, int64_t examples,
                    Tensor& y) {
  std::vector<int64_t> index;
  op.select_indices(total_args, index);
  const int64_t out_per = y.numel() / rows.count();
  const int64_t in_per = total_args.input().numel() / examples;
  for (int64_t r = 0; r < rows.count(); ++r) {
    const int64_t e = rows.example[static_cast<size_t>(r)];
    const int64_t* idx = index.data() + e * out_per;  // flat indices into the total's rows
    const float* src = rel.data() + r * in_per;
    const int64_t first = e * in_per;
    float* yr = y.data() + r * out_per;
    for (int64_t j = 0; j < out_per; ++j) yr[j] = src[idx[j] - first];
  }
}

/// The relevant parts of the nodes during one propagation. A node's part
/// lives from its own rule to its last consumer's, so parts whose lifetimes do
/// not overlap share an allocation (planned per propagation from the static
/// graph): the memory held is that of the parts alive at once, not of every
/// node's (a deep CNN propagates `max_batch` rows of every layer). The
/// allocations are kept from one chunk to the next.
class RelevantBuffers {
 public:
  /// Plans a propagation of `rows` rows whose first input is `rel_in`.
  void start(const Graph& g, int64_t rows, const Tensor& rel_in) {
    const size_t n = static_cast<size_t>(g.num_nodes());
    std::vector<char> planned(n, 1);
    planned[static_cast<size_t>(g.inputs()[0])] = 0;  // the caller's tensor
    BufferPlan plan;
    slot_ = plan_node_order(g, rows, planned, plan);
    buffers_.reserve(plan);
    part_.assign(n, nullptr);
    part_[static_cast<size_t>(g.inputs()[0])] = &rel_in;
  }

  /// The relevant part of node `id`, shaped `shape`, to be written.
  Tensor& make(NodeId id, const Shape& shape) {
    Tensor& y = buffers_.use(slot_[static_cast<size_t>(id)], shape);
    part_[static_cast<size_t>(id)] = &y;
    return y;
  }

  /// OpArgs with the relevant parts of n's inputs.
  OpArgs args(const Graph& g, const Node& n) const {
    return node_args(g, n, [&](NodeId i) { return part_[static_cast<size_t>(i)]; });
  }

  const Tensor& part(NodeId id) const { return *part_[static_cast<size_t>(id)]; }

 private:
  std::vector<int> slot_;
  std::vector<const Tensor*> part_;
  SlotBuffers buffers_;
};

/// Relevant output of every row after one propagation. `rel_in` is the
/// relevant part of the first input [rows, ...]; ws holds the total forward
/// of the chunk's examples.
const Tensor& propagate(const Graph& g, const Workspace& ws, int64_t examples, const Tensor& rel_in,
                        const Rows& rows, RelevantBuffers& buffers) {
  const int64_t R = rows.count();
  buffers.start(g, R, rel_in);
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    if (id == g.inputs()[0]) continue;
    Tensor& y = buffers.make(id, n.shape.with_batch(R));
    if (!g.depends_on_input(id) || n.is_input) {  // constants and extra inputs: all irrelevant
      y.set_zero();
      continue;
    }
    const OpArgs ra = buffers.args(g, n);
    const Tensor& total_out = ws.value(id);
    switch (n.op->kind()) {
      case Kind::Linear:
        linear_rule(*n.op, ra, workspace_args(g, n, ws), total_out, rows, y);
        break;
      case Kind::Elementwise:
        elementwise_rule(*n.op, ra.input(), ws.value(n.inputs[0]), total_out, rows, y);
        break;
      case Kind::Selection:
        selection_rule(*n.op, workspace_args(g, n, ws), ra.input(), rows, examples, y);
        break;
      case Kind::Structural:
      case Kind::Sum:
        n.op->forward(ra, y);
        break;
      case Kind::Product:
        product_rule(g, n, ra, ws, rows, examples, y);
        break;
      case Kind::Cell:
        cell_rule(n, ra, ws, rows, examples, y);
        break;
      case Kind::Opaque:
        throw ValueError("contextual_decomposition: node " + g.describe(id) + " is of kind " +
                         kind_name(n.op->kind()) +
                         ", which has no CD rule (explain the logits before a softmax, or give the op a rule)");
    }
  }
  return buffers.part(g.outputs()[0]);
}

}  // namespace

namespace {

/// Bytes of a chunk of `ne` examples × `ng` groups: the forward of the
/// examples (every activation kept), the relevant parts planned over the
/// ne·ng rows, the rows' relevant inputs and the examples' inputs.
int64_t cd_chunk_bytes(const Graph& g, int64_t ne, int64_t ng, int64_t P, int64_t extras_per_example) {
  const int64_t R = ne * ng;
  std::vector<char> planned(static_cast<size_t>(g.num_nodes()), 1);
  planned[static_cast<size_t>(g.inputs()[0])] = 0;
  BufferPlan parts;
  plan_node_order(g, R, planned, parts);
  return 4 * (planned_floats(g, ne, Keep::all, false) + parts.total() + R * P + ne * (P + extras_per_example));
}

/// Examples and groups per chunk for at most `max_rows` rows.
std::pair<int64_t, int64_t> cd_chunk(int64_t max_rows, int64_t N, int64_t G) {
  const int64_t E = std::max<int64_t>(1, std::min(N, max_rows / G));
  return {E, std::min(G, std::max<int64_t>(1, max_rows / E))};
}

/// The most rows per chunk whose buffers fit `budget` bytes.
int64_t cd_rows_within(const Graph& g, int64_t budget, int64_t N, int64_t G, int64_t P, int64_t extras) {
  const auto bytes = [&](int64_t rows) {
    const auto [E, Gc] = cd_chunk(rows, N, G);
    return cd_chunk_bytes(g, E, Gc, P, extras);
  };
  if (bytes(1) > budget)
    throw ValueError("contextual_decomposition: max_memory " + bytes_text(budget) +
                     " is too small for one row through the model: a chunk of one group of one example needs " +
                     bytes_text(bytes(1)) + " (activations, relevant parts and the row itself; the model's weights "
                     "come on top)");
  const int64_t cap = N * G;  // every row in one chunk
  int64_t lo = 1, hi = 2;
  while (hi <= cap && bytes(hi) <= budget) {
    lo = hi;
    hi *= 2;
  }
  hi = std::min(hi, cap + 1);
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (bytes(mid) <= budget ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace

CdResult contextual_decomposition(const Graph& model, const Tensor& x, const std::vector<Tensor>& masks,
                                  const CdOptions& options) {
  AttributionOptions common;
  common.targets = options.targets;
  common.max_batch = options.max_batch;
  common.extra_inputs = options.extra_inputs;
  common.progress = options.progress;
  detail::ModelRunner run(model, x, common, "contextual_decomposition");
  if (masks.empty()) throw ValueError("contextual_decomposition: no groups given");
  for (size_t k = 0; k < masks.size(); ++k)
    if (masks[k].numel() != run.example_numel())
      throw ShapeError("contextual_decomposition: mask " + std::to_string(k) + " has shape " +
                       masks[k].shape().str() + ", expected one example's shape " + run.example_shape().str());
  // Fail early on opaque nodes, before any work.
  for (NodeId id = 0; id < model.num_nodes(); ++id) {
    const Node& n = model.node(id);
    if (!n.is_input && model.depends_on_input(id) && n.op->kind() == Kind::Opaque)
      throw ValueError("contextual_decomposition: node " + model.describe(id) +
                       " is of kind opaque, which has no CD rule (explain the logits before a softmax)");
  }
  const int64_t N = run.batch(), P = run.example_numel(), G = static_cast<int64_t>(masks.size());
  const int64_t T = run.n_targets(), K = run.n_outputs();
  CdResult result;
  result.targets = run.targets();
  result.rel = Tensor({T, N, G});
  result.irrel = Tensor({T, N, G});

  // Chunks of E examples × Gc groups, at most max_batch rows (or the most
  // that fit max_memory).
  if (options.max_memory < 0)
    throw ValueError("contextual_decomposition: max_memory must be >= 0 bytes (0: no budget), got " +
                     std::to_string(options.max_memory));
  int64_t extras = 0;
  for (const Tensor& e : options.extra_inputs) extras += e.numel() / std::max<int64_t>(1, e.dim(0));
  const int64_t max_rows =
      options.max_memory > 0 ? cd_rows_within(model, options.max_memory, N, G, P, extras) : options.max_batch;
  const auto [E, Gc] = cd_chunk(max_rows, N, G);
  Workspace ws;
  RelevantBuffers rel;
  run.plan(N * G);
  for (int64_t e0 = 0; e0 < N; e0 += E) {
    const int64_t ne = std::min(E, N - e0);
    std::vector<int64_t> ex(static_cast<size_t>(ne));
    for (int64_t e = 0; e < ne; ++e) ex[static_cast<size_t>(e)] = e0 + e;
    std::vector<Tensor> in{Tensor(prepend({ne}, run.example_shape()))};
    std::copy(x.begin() + e0 * P, x.begin() + (e0 + ne) * P, in[0].begin());
    for (Tensor& t : run.gather_extras(ex)) in.push_back(std::move(t));
    forward(model, ws, in);
    const Tensor& total = ws.value(model.outputs()[0]);
    for (int64_t g0 = 0; g0 < G; g0 += Gc) {
      const int64_t ng = std::min(Gc, G - g0);
      // Rows group-major: r = gi·ne + e.
      Rows rows;
      Tensor rel_in(prepend({ng * ne}, run.example_shape()));
      for (int64_t gi = 0; gi < ng; ++gi)
        for (int64_t e = 0; e < ne; ++e) {
          rows.example.push_back(e);
          const float* xe = in[0].data() + e * P;
          const float* m = masks[static_cast<size_t>(g0 + gi)].data();
          float* dst = rel_in.data() + (gi * ne + e) * P;
          for (int64_t i = 0; i < P; ++i) dst[i] = m[i] * xe[i];
        }
      const Tensor& out = propagate(model, ws, ne, rel_in, rows, rel);
      for (int64_t t = 0; t < T; ++t) {
        const int64_t k = run.targets()[static_cast<size_t>(t)];
        for (int64_t gi = 0; gi < ng; ++gi)
          for (int64_t e = 0; e < ne; ++e) {
            const float r = out[(gi * ne + e) * K + k];
            const int64_t at = (t * N + e0 + e) * G + g0 + gi;
            result.rel[at] = r;
            result.irrel[at] = total[e * K + k] - r;
          }
      }
      run.advance(ng * ne);
    }
  }
  return result;
}

CdResult contextual_decomposition(const Graph& model, const Tensor& x, const Grouping& grouping,
                                  const CdOptions& options) {
  std::vector<Tensor> masks;
  for (int g = 0; g < grouping.size(); ++g) masks.push_back(grouping.mask(g));
  return contextual_decomposition(model, x, masks, options);
}

CdResult cd_band_sweep(const Graph& model, const Tensor& coefficients, const Transform& t,
                       const std::vector<double>& centers, double width, const CdOptions& options) {
  if (centers.empty()) throw ValueError("cd_band_sweep: no band centres given");
  std::vector<Tensor> masks;
  for (double c : centers) {
    const Grouping band = radial_band(t, c, width);
    Tensor m = band.mask(0);
    if (band.size() == 2) m.as_vector() += band.mask(1).as_vector();  // polar: the band's amplitudes and phases
    masks.push_back(std::move(m));
  }
  return contextual_decomposition(model, coefficients, masks, options);
}

}  // namespace trim
