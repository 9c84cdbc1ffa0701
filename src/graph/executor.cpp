#include "trim/graph/executor.hpp"

#include <algorithm>

#include "trim/core/buffer_plan.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/fusion.hpp"
#include "trim/graph/lifetimes.hpp"
#include "trim/graph/ops/activation.hpp"
#include "trim/graph/ops/batch_norm.hpp"
#include "trim/graph/ops/conv.hpp"

namespace trim {

namespace {

void require_finalized(const Graph& g) {
  if (!g.finalized()) throw Error("graph: evaluate before finalize()");
}

OpArgs op_args(const Graph& g, const Node& n, const std::vector<Tensor>& values) {
  return node_args(g, n, [&](NodeId i) { return &values[static_cast<size_t>(i)]; });
}

/// Batch size implied by the inputs; checks every input against its shape.
int64_t batch_of(const Graph& g, const std::vector<Tensor>& inputs) {
  if (inputs.size() != g.inputs().size())
    throw ValueError("graph: " + std::to_string(inputs.size()) + " inputs given, the graph has " +
                     std::to_string(g.inputs().size()));
  int64_t batch = -1;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Node& n = g.node(g.inputs()[k]);
    const Tensor& t = inputs[k];
    bool ok = t.rank() == n.shape.rank();
    for (int a = 0; ok && a < t.rank(); ++a) {
      if (n.shape[a] == Shape::free) {
        if (batch >= 0 && t.shape()[a] != batch)
          throw ShapeError("input '" + n.name + "': batch " + std::to_string(t.shape()[a]) +
                           " differs from another input's batch " + std::to_string(batch));
        batch = t.shape()[a];
      } else {
        ok = t.shape()[a] == n.shape[a];
      }
    }
    if (!ok)
      throw ShapeError("input '" + n.name + "': shape " + t.shape().str() + ", expected " +
                       n.shape.str());
  }
  return batch < 0 ? 1 : batch;
}

/// The nodes a Keep::input_gradients forward keeps: those a backward pass to
/// the inputs reads, and the graph's inputs and outputs.
std::vector<char> kept_for_input_gradients(const Graph& g) {
  std::vector<char> keep(static_cast<size_t>(g.num_nodes()), 0);
  for (NodeId i : g.inputs()) keep[static_cast<size_t>(i)] = 1;
  for (NodeId o : g.outputs()) keep[static_cast<size_t>(o)] = 1;
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    if (n.is_input || !g.depends_on_input(id)) continue;
    if (n.op->backward_reads_output()) keep[static_cast<size_t>(id)] = 1;
    if (n.op->backward_reads_inputs(false))
      for (NodeId i : n.inputs) keep[static_cast<size_t>(i)] = 1;
  }
  return keep;
}

/// The nodes a forward with `keep` keeps (Keep::all: every one).
std::vector<char> kept_for(const Graph& g, Keep keep) {
  if (keep == Keep::all) return std::vector<char>(static_cast<size_t>(g.num_nodes()), 1);
  std::vector<char> kept = kept_for_input_gradients(g);
  if (keep == Keep::deeplift)
    for (NodeId id = 0; id < g.num_nodes(); ++id) {
      const Node& n = g.node(id);
      if (n.is_input || !g.depends_on_input(id)) continue;
      const Kind k = n.op->kind();
      if (k != Kind::Elementwise && k != Kind::Selection && k != Kind::Product && k != Kind::Cell) continue;
      kept[static_cast<size_t>(id)] = 1;
      for (NodeId i : n.inputs) kept[static_cast<size_t>(i)] = 1;
    }
  return kept;
}

/// The nodes a backward to the inputs reaches.
std::vector<char> needed_for_input_gradients(const Graph& g) {
  std::vector<char> need(static_cast<size_t>(g.num_nodes()));
  for (NodeId id = 0; id < g.num_nodes(); ++id) need[static_cast<size_t>(id)] = g.depends_on_input(id);
  return need;
}

}  // namespace

int64_t planned_floats(const Graph& g, int64_t batch, Keep keep, bool with_backward) {
  require_finalized(g);
  const std::vector<char> kept = kept_for(g, keep);
  std::vector<char> shared(kept.size());
  int64_t total = 0;
  for (size_t k = 0; k < kept.size(); ++k) {
    shared[k] = !kept[k];
    if (kept[k]) total += g.node(static_cast<NodeId>(k)).shape.with_batch(batch).numel();
  }
  BufferPlan values;
  plan_node_order(g, batch, shared, values);
  total += values.total();
  if (with_backward) {
    BufferPlan grads;
    plan_reverse_order(g, batch, needed_for_input_gradients(g), grads, true);
    total += grads.total();
  }
  return total;
}

int64_t planned_scratch_floats(const Graph& g, int64_t batch) {
  require_finalized(g);
  int64_t largest = 0;
  std::vector<Shape> in, params;
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    if (n.is_input) continue;
    in.clear();
    params.clear();
    for (NodeId i : n.inputs) in.push_back(g.node(i).shape.with_batch(batch));
    for (int p : n.params) params.push_back(g.parameters()[static_cast<size_t>(p)].value.shape());
    largest = std::max(largest, n.op->scratch_floats(in, params, n.shape.with_batch(batch)));
  }
  return largest;
}

int64_t parameter_floats(const Graph& g) {
  int64_t total = 0;
  for (const auto& p : g.parameters()) total += p.value.numel();
  return total;
}

void forward(const Graph& g, Workspace& ws, const std::vector<Tensor>& inputs, Keep keep) {
  require_finalized(g);
  const int64_t batch = batch_of(g, inputs);
  const size_t N = static_cast<size_t>(g.num_nodes());
  if (ws.graph_ != &g) ws.value_slot_.clear();  // buffers of another graph's plan
  ws.graph_ = &g;
  ws.batch_ = batch;
  ws.keep_ = keep;
  ws.values_.resize(N);
  ws.grad_slot_.clear();  // gradients of an earlier forward are stale
  // Buffers lent to nodes by the previous plan go back to their slots.
  for (size_t k = 0; k < ws.value_slot_.size(); ++k)
    if (ws.value_slot_[k] >= 0 && ws.values_[k].capacity() > 0)
      ws.value_buffers_[ws.value_slot_[k]] = std::move(ws.values_[k]);

  // With Keep::input_gradients, an activation nobody will read again shares
  // its buffer with later ones (planned as in backward, see there).
  std::vector<int>& slot = ws.value_slot_;
  slot.assign(N, -1);  // Keep::all: every node keeps its own buffer
  std::vector<NodeId> last;
  std::vector<FusedRelu> fused;
  std::vector<char> skipped(N, 0);  // computed at another node's turn (fused ReLUs, SiLUs)
  if (keep != Keep::all) {
    const std::vector<char> kept = kept_for(g, keep);
    std::vector<char> shared(N);
    for (size_t k = 0; k < N; ++k) shared[k] = !kept[k];
    BufferPlan plan;
    slot = plan_node_order(g, batch, shared, plan);
    last = last_readers(g);
    ws.value_buffers_.reserve(plan);
    fused = fused_relus(g, kept);
    for (const FusedRelu& f : fused)
      if (f.producer >= 0) {
        skipped[static_cast<size_t>(f.relu)] = 1;
        if (f.add >= 0) skipped[static_cast<size_t>(f.add)] = 1;
        if (f.concat >= 0) skipped[static_cast<size_t>(f.producer)] = 1;  // run at the concat's turn
      }
  }

  // A SiLU's sigmoid is computed at its product's turn.
  const std::vector<FusedSilu> silu = fused_silus(g);
  for (const FusedSilu& f : silu)
    if (f.sigmoid >= 0) skipped[static_cast<size_t>(f.sigmoid)] = 1;

  for (size_t k = 0; k < inputs.size(); ++k)
    ws.values_[static_cast<size_t>(g.inputs()[k])] = inputs[k];
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    if (n.is_input) continue;
    const size_t k = static_cast<size_t>(id);
    if (!fused.empty() && fused[k].producer >= 0) {
      // Straight into the ReLU's own buffer; this node's and the add's
      // values are never formed.
      const FusedRelu& f = fused[k];
      ws.values_[k] = Tensor();  // not a stale value of an earlier forward
      if (f.add >= 0) ws.values_[static_cast<size_t>(f.add)] = Tensor();
      if (f.concat >= 0) ws.values_[static_cast<size_t>(f.producer)] = Tensor();
      Tensor& y = ws.values_[static_cast<size_t>(f.relu)];
      y.resize(g.node(f.relu).shape.with_batch(batch));
      if (f.concat >= 0) {
        // Node k is the concat: its inputs are read where they lie.
        std::vector<const Tensor*> parts;
        for (NodeId i : n.inputs) parts.push_back(&ws.values_[static_cast<size_t>(i)]);
        const Node& b = g.node(f.producer);
        static_cast<const ops::BatchNorm&>(*b.op).forward_relu_concat(op_args(g, b, ws.values_), parts, y);
      } else if (const auto* bn = dynamic_cast<const ops::BatchNorm*>(n.op.get()))
        bn->forward_relu(op_args(g, n, ws.values_), y);
      else
        static_cast<const ops::Conv2d&>(*n.op).forward_relu(
            op_args(g, n, ws.values_), y, f.residual >= 0 ? &ws.values_[static_cast<size_t>(f.residual)] : nullptr,
            f.clip_max);
    } else if (!skipped[k]) {
      Tensor& y = ws.values_[k];
      if (slot[k] >= 0) y = std::move(ws.value_buffers_[slot[k]]);
      y.resize(n.shape.with_batch(batch));
      if (silu[k].sigmoid >= 0) {
        // The sigmoid's buffer is taken now, not at its own (skipped) turn:
        // the plan holds it from then to this node, its only reader.
        const size_t s = static_cast<size_t>(silu[k].sigmoid);
        Tensor& sig = ws.values_[s];
        if (slot[s] >= 0) sig = std::move(ws.value_buffers_[slot[s]]);
        sig.resize(y.shape());
        ops::silu_forward(ws.values_[static_cast<size_t>(silu[k].x)], sig, y);
      } else {
        n.op->forward(op_args(g, n, ws.values_), y);
      }
    }
    if (keep == Keep::all) continue;
    // Lend back the buffers whose last reader this node was.
    auto release = [&](NodeId i) {
      const size_t j = static_cast<size_t>(i);
      if (slot[j] < 0 || last[j] != id || ws.values_[j].capacity() == 0) return;
      ws.value_buffers_[slot[j]] = std::move(ws.values_[j]);
    };
    for (NodeId i : n.inputs) release(i);
    release(id);
  }
}

const Tensor& Workspace::grad(NodeId id) const {
  static const Tensor none;
  const size_t k = static_cast<size_t>(id);
  if (!graph_ || k >= grad_slot_.size() || grad_slot_[k] < 0 || !graph_->node(id).is_input) return none;
  return grad_buffers_[grad_slot_[k]];
}

std::vector<Tensor> outputs(const Graph& g, const Workspace& ws) {
  std::vector<Tensor> out;
  out.reserve(g.outputs().size());
  for (NodeId o : g.outputs()) out.push_back(ws.value(o));
  return out;
}

Gradients backward(const Graph& g, Workspace& ws, const std::vector<Tensor>& cotangents,
                   bool with_params, bool with_inputs) {
  if (ws.graph_ != &g || ws.values_.size() != static_cast<size_t>(g.num_nodes()))
    throw Error("graph: backward() needs a forward() of the same graph on this workspace");
  if (cotangents.size() != g.outputs().size())
    throw ValueError("graph: " + std::to_string(cotangents.size()) +
                     " output cotangents given, the graph has " +
                     std::to_string(g.outputs().size()) + " outputs");
  if (with_params && ws.keep_ != Keep::all)
    throw Error("graph: parameter gradients need a forward with Keep::all (this one kept only what input gradients read)");
  const auto needed = [&](NodeId id) {
    return (with_inputs && g.depends_on_input(id)) || (with_params && g.depends_on_parameter(id));
  };

  // A node's cotangent lives from the backward of its first consumer (where
  // it starts at zero) to its own backward, so nodes whose lifetimes do not
  // overlap share one allocation: the pass holds the cotangents of a frontier
  // of the graph, not of every node (about half the memory of a deep CNN's
  // gradient). The slots come from replaying the pass below on a plan; the
  // workspace keeps their allocations between calls, since attribution
  // methods call backward many times with the same shapes and fresh
  // multi-MB buffers would cost a page fault per 4 KB every time.
  std::vector<char> need(static_cast<size_t>(g.num_nodes()));
  for (NodeId id = 0; id < g.num_nodes(); ++id) need[static_cast<size_t>(id)] = needed(id);
  BufferPlan plan;
  std::vector<int>& slot = ws.grad_slot_;
  // Convolutions that run the ReLU (and batch norm) before them in their
  // input gradient's stores, writing x's cotangent: where the plan lets them
  // (x's slot first opened there), their ReLUs get no slot.
  const std::vector<ConvRelu> conv_relu = with_params ? std::vector<ConvRelu>() : conv_relus(g);
  std::vector<NodeId> writes;
  for (const ConvRelu& f : conv_relu) writes.push_back(f.x);
  slot = plan_reverse_order(g, ws.batch_, need, plan, true, writes);
  const auto reached = [&](NodeId id) { return slot[static_cast<size_t>(id)] >= 0; };
  // Shapes from the graph: a Keep::input_gradients forward dropped some values.
  const auto shape_of = [&](NodeId id) { return g.node(id).shape.with_batch(ws.batch_); };
  ws.grad_buffers_.reserve(plan);

  // The pass itself, in the order just planned.
  std::vector<char> started(static_cast<size_t>(g.num_nodes()), 0);
  const auto grad_of = [&](NodeId i) -> Tensor& {
    const size_t k = static_cast<size_t>(i);
    if (started[k]) return ws.grad_buffers_[slot[k]];
    started[k] = 1;
    return ws.grad_buffers_.use(slot[k], shape_of(i), true);
  };
  // The first contribution to a buffer may overwrite it instead of adding
  // into zeros, when its op can (an input read twice by one node is added).
  const auto start_for_assign = [&](const Node& n, size_t j) -> Tensor* {
    const NodeId i = n.inputs[j];
    const size_t k = static_cast<size_t>(i);
    if (started[k] || !n.op->backward_assigns() || std::count(n.inputs.begin(), n.inputs.end(), i) != 1)
      return nullptr;
    started[k] = 1;
    return &ws.grad_buffers_.use(slot[k], shape_of(i), false);
  };
  for (size_t k = 0; k < cotangents.size(); ++k) {
    const NodeId o = g.outputs()[k];
    const Tensor& value = ws.values_[static_cast<size_t>(o)];
    if (cotangents[k].shape() != value.shape())
      throw ShapeError("graph: cotangent of output " + g.describe(o) + " has shape " +
                       cotangents[k].shape().str() + ", expected " + value.shape().str());
    if (!needed(o)) continue;
    grad_of(o).as_vector() += cotangents[k].as_vector();
  }

  Gradients result;
  result.params.resize(g.parameters().size());
  if (with_params)
    for (size_t p = 0; p < g.parameters().size(); ++p)
      if (g.parameters()[p].trainable) result.params[p].resize(g.parameters()[p].value.shape(), true);

  // SiLUs differentiated whole at their product's turn; their sigmoids'
  // cotangents are planned but never formed.
  // Likewise batch norms at the turn of the ReLU after them.
  const std::vector<FusedSilu> silu = fused_silus(g);
  const std::vector<NodeId> relu_bn = with_params ? std::vector<NodeId>() : relu_batch_norms(g);
  // And ReLUs (with such batch norms) in the input gradient's stores of the
  // convolution after them, where planned so (conv_relu above).
  std::vector<char> skipped(static_cast<size_t>(g.num_nodes()), 0);
  // x's cotangent, started (overwritten) by its first contribution.
  const auto start_or_add = [&](NodeId x, bool& assign) -> Tensor& {
    const size_t j = static_cast<size_t>(x);
    assign = !started[j];
    started[j] = 1;
    return assign ? ws.grad_buffers_.use(slot[j], shape_of(x), false) : ws.grad_buffers_[slot[j]];
  };
  for (NodeId id = g.num_nodes() - 1; id >= 0; --id) {
    const Node& n = g.node(id);
    // A node no cotangent reached contributes nothing.
    if (n.is_input || !needed(id) || !reached(id) || skipped[static_cast<size_t>(id)]) continue;
    const FusedSilu& f = silu[static_cast<size_t>(id)];
    if (f.sigmoid >= 0 && needed(f.x)) {
      bool assign = false;
      Tensor& dx = start_or_add(f.x, assign);
      ops::silu_backward(ws.values_[static_cast<size_t>(f.x)], ws.values_[static_cast<size_t>(f.sigmoid)],
                         grad_of(id), dx, assign);
      skipped[static_cast<size_t>(f.sigmoid)] = 1;
      continue;
    }
    const NodeId bn = relu_bn.empty() ? -1 : relu_bn[static_cast<size_t>(id)];
    if (bn >= 0 && needed(g.node(bn).inputs[0])) {
      const Node& b = g.node(bn);
      bool assign = false;
      Tensor& dx = start_or_add(b.inputs[0], assign);
      static_cast<const ops::BatchNorm&>(*b.op).backward_relu(op_args(g, b, ws.values_), ws.values_[static_cast<size_t>(id)],
                                                              grad_of(id), dx, assign);
      skipped[static_cast<size_t>(bn)] = 1;
      continue;
    }
    const ConvRelu through = conv_relu.empty() ? ConvRelu{} : conv_relu[static_cast<size_t>(id)];
    if (through.relu >= 0 && !reached(through.relu) && needed(through.x)) {
      if (started[static_cast<size_t>(through.x)])
        throw Error("graph: backward: a fused ReLU's input cotangent started early");
      bool assign = false;
      Tensor& dx = start_or_add(through.x, assign);
      Tensor scale;
      if (through.batch_norm >= 0) {
        const Node& b = g.node(through.batch_norm);
        scale = static_cast<const ops::BatchNorm&>(*b.op).gradient_scale(op_args(g, b, ws.values_));
      }
      static_cast<const ops::Conv2d&>(*n.op).backward_input_fused(
          op_args(g, n, ws.values_), grad_of(id), dx,
          {&ws.values_[static_cast<size_t>(through.relu)], through.batch_norm >= 0 ? &scale : nullptr});
      continue;
    }
    OpGrads grads;
    bool any = false;
    for (size_t j = 0; j < n.inputs.size(); ++j) {
      const NodeId i = n.inputs[j];
      Tensor* t = nullptr;
      if (needed(i) && slot[static_cast<size_t>(i)] == slot[static_cast<size_t>(id)]) {
        // Planned in place (Op::backward_in_place): the input's gradient is dy itself.
        started[static_cast<size_t>(i)] = 1;
        t = &grad_of(id);
        grads.assign.resize(n.inputs.size(), 0), grads.assign[j] = 1;
      } else if (needed(i)) {
        t = start_for_assign(n, j);
        if (t) grads.assign.resize(n.inputs.size(), 0), grads.assign[j] = 1;
        else t = &grad_of(i);
      }
      grads.inputs.push_back(t);
      any = any || t;
    }
    for (int p : n.params) {
      Tensor* t = with_params && g.parameters()[static_cast<size_t>(p)].trainable
                      ? &result.params[static_cast<size_t>(p)]
                      : nullptr;
      grads.params.push_back(t);
      any = any || t;
    }
    if (any) n.op->backward(op_args(g, n, ws.values_), ws.values_[static_cast<size_t>(id)], grad_of(id), grads);
  }

  if (with_inputs)
    for (NodeId i : g.inputs()) result.inputs.push_back(reached(i) ? ws.grad(i) : Tensor(shape_of(i)));
  return result;
}

OpArgs workspace_args(const Graph& g, const Node& n, const Workspace& ws) {
  return op_args(g, n, ws.values_);
}

}  // namespace trim
