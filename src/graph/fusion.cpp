#include "trim/graph/fusion.hpp"

#include <algorithm>
#include <cmath>

#include "trim/graph/lifetimes.hpp"
#include "trim/graph/ops/activation.hpp"
#include "trim/graph/ops/batch_norm.hpp"
#include "trim/graph/ops/clip.hpp"
#include "trim/graph/ops/conv.hpp"
#include "trim/graph/ops/dense.hpp"
#include "trim/graph/ops/product.hpp"
#include "trim/graph/ops/structural.hpp"

namespace trim {

namespace {

template <class OpType>
bool is(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  return !n.is_input && dynamic_cast<const OpType*>(n.op.get()) != nullptr;
}

/// hi for a Clip(+0, hi) with 0 < hi (finite or not) at node id, else 0.
/// (A lower bound of −0 would give −0 where the fused clip gives +0.)
float relu6_max(const Graph& g, NodeId id) {
  if (!is<ops::Clip>(g, id)) return 0.0f;
  const auto& c = static_cast<const ops::Clip&>(*g.node(id).op);
  return c.lo() == 0.0f && !std::signbit(c.lo()) && c.hi() > 0.0f ? c.hi() : 0.0f;
}

}  // namespace

std::vector<FusedRelu> fused_relus(const Graph& g, const std::vector<char>& kept) {
  const std::vector<int> reads = read_counts(g);
  // Written only to be read once by the next node of the chain.
  const auto passing = [&](NodeId id) { return reads[static_cast<size_t>(id)] == 1 && !kept[static_cast<size_t>(id)]; };

  std::vector<FusedRelu> fused(static_cast<size_t>(g.num_nodes()));
  for (NodeId r = 0; r < g.num_nodes(); ++r) {
    if (!kept[static_cast<size_t>(r)]) continue;
    FusedRelu f;
    if (const float hi = relu6_max(g, r); hi > 0.0f)
      f.clip_max = hi;
    else if (!is<ops::Relu>(g, r))
      continue;
    f.relu = r;
    const NodeId p = g.node(r).inputs.at(0);
    if (is<ops::Conv2d>(g, p) || (is<ops::BatchNorm>(g, p) && f.clip_max == 0.0f)) {
      f.producer = p;
    } else if (is<ops::Add>(g, p) && g.node(p).inputs.size() == 2) {
      // The later of the add's inputs is computed last: the other (the
      // residual) exists by then and lives until the add's turn.
      const NodeId a = g.node(p).inputs[0], b = g.node(p).inputs[1];
      const NodeId c = std::max(a, b), residual = std::min(a, b);
      if (a == b || !is<ops::Conv2d>(g, c) || !passing(p) || g.node(residual).shape != g.node(p).shape ||
          g.node(c).shape != g.node(p).shape)
        continue;
      f.producer = c;
      f.add = p;
      f.residual = residual;
    } else {
      continue;
    }
    if (!passing(f.producer)) continue;
    if (f.add < 0 && is<ops::BatchNorm>(g, p)) {
      // A batch norm of a channel concatenation (DenseNet's layers) reads
      // the concatenation's inputs where they lie, at the concat's turn.
      const NodeId c = g.node(p).inputs.at(0);
      if (is<ops::Concat>(g, c) && passing(c)) {
        const int rank = g.node(c).shape.rank(), axis = static_cast<const ops::Concat&>(*g.node(c).op).axis();
        if ((axis < 0 ? axis + rank : axis) == 1) f.concat = c;
      }
    }
    fused[static_cast<size_t>(f.concat >= 0 ? f.concat : f.producer)] = f;
  }
  return fused;
}

std::vector<NodeId> relu_batch_norms(const Graph& g) {
  const std::vector<int> reads = read_counts(g);  // outputs count as a read
  std::vector<NodeId> bn(static_cast<size_t>(g.num_nodes()), -1);
  for (NodeId r = 1; r < g.num_nodes(); ++r)
    if (is<ops::Relu>(g, r) && g.node(r).inputs.at(0) == r - 1 && is<ops::BatchNorm>(g, r - 1) &&
        reads[static_cast<size_t>(r - 1)] == 1)
      bn[static_cast<size_t>(r)] = r - 1;
  return bn;
}

std::vector<ConvRelu> conv_relus(const Graph& g) {
  const std::vector<int> reads = read_counts(g);  // outputs count as a read
  const std::vector<NodeId> bn = relu_batch_norms(g);
  std::vector<ConvRelu> fused(static_cast<size_t>(g.num_nodes()));
  for (NodeId c = 1; c < g.num_nodes(); ++c) {
    const NodeId r = c - 1;
    if (!is<ops::Conv2d>(g, c) || g.node(c).inputs.size() != 1 || g.node(c).inputs[0] != r || !is<ops::Relu>(g, r) ||
        reads[static_cast<size_t>(r)] != 1)
      continue;
    ConvRelu& f = fused[static_cast<size_t>(c)];
    f.relu = r;
    f.batch_norm = bn[static_cast<size_t>(r)];
    f.x = g.node(f.batch_norm >= 0 ? f.batch_norm : r).inputs.at(0);
  }
  return fused;
}

std::vector<FusedSilu> fused_silus(const Graph& g) {
  const std::vector<int> reads = read_counts(g);  // outputs count as a read
  std::vector<FusedSilu> fused(static_cast<size_t>(g.num_nodes()));
  for (NodeId m = 0; m < g.num_nodes(); ++m) {
    if (!is<ops::Multiply>(g, m) || g.node(m).inputs.size() != 2) continue;
    for (int j = 0; j < 2; ++j) {
      const NodeId s = g.node(m).inputs[static_cast<size_t>(j)], x = g.node(m).inputs[static_cast<size_t>(1 - j)];
      const size_t k = static_cast<size_t>(s);
      if (!is<ops::Sigmoid>(g, s) || g.node(s).inputs.at(0) != x || reads[k] != 1 ||
          g.node(x).shape != g.node(m).shape || g.node(s).shape != g.node(m).shape)
        continue;
      fused[static_cast<size_t>(m)] = FusedSilu{x, s};
      break;
    }
  }
  return fused;
}

}  // namespace trim
