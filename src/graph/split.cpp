#include "trim/graph/split.hpp"

#include <algorithm>

#include "trim/core/error.hpp"
#include "trim/graph/lifetimes.hpp"

namespace trim {

bool is_affine_node(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  switch (n.op->kind()) {
    case Kind::Linear:
    case Kind::Structural:
    case Kind::Sum:
      return true;
    case Kind::Product:  // bilinear: linear in one input when the other is a constant
      return std::count_if(n.inputs.begin(), n.inputs.end(), [&](NodeId i) { return g.depends_on_input(i); }) <= 1;
    case Kind::Elementwise:
    case Kind::Selection:
    case Kind::Cell:
    case Kind::Opaque:
      return false;
  }
  return false;
}

namespace {

/// Copies marked nodes of `src` into `dst` in node order, borrowing the
/// parameter values; `map` holds the dst node of every node copied or
/// already given (the inputs).
void copy_nodes(const Graph& src, Graph& dst, const std::vector<char>& marked, std::vector<NodeId>& map) {
  std::vector<int> pmap(src.parameters().size(), -1);
  for (NodeId id = 0; id < src.num_nodes(); ++id) {
    const size_t k = static_cast<size_t>(id);
    if (!marked[k] || map[k] >= 0) continue;
    const Node& n = src.node(id);
    if (n.is_input) throw Error("split_affine_prefix: internal error, input '" + n.name + "' not mapped");
    std::vector<NodeId> in;
    for (NodeId i : n.inputs) {
      if (map[static_cast<size_t>(i)] < 0)
        throw Error("split_affine_prefix: internal error, " + src.describe(id) + " reads an unmapped node");
      in.push_back(map[static_cast<size_t>(i)]);
    }
    std::vector<int> params;
    for (int p : n.params) {
      int& q = pmap[static_cast<size_t>(p)];
      if (q < 0) {
        const Parameter& par = src.parameters()[static_cast<size_t>(p)];
        Tensor value = par.value.numel() > 0 ? Tensor::borrow(par.value.data(), par.value.shape()) : par.value;
        q = dst.add_parameter(par.name, std::move(value), Init::keep(), par.trainable);
      }
      params.push_back(q);
    }
    map[k] = dst.add(n.op, std::move(in), std::move(params), n.name);
  }
}

}  // namespace

std::optional<GraphSplit> split_affine_prefix(const Graph& g) {
  if (!g.finalized()) throw Error("split_affine_prefix: the graph is not finalized");
  const size_t N = static_cast<size_t>(g.num_nodes());
  const NodeId s = g.inputs()[0];
  // What depends on the first input, what on the others.
  std::vector<char> d1(N, 0), dx(N, 0);
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    const size_t k = static_cast<size_t>(id);
    if (n.is_input) {
      (id == s ? d1 : dx)[k] = 1;
      continue;
    }
    for (NodeId i : n.inputs) {
      d1[k] = d1[k] || d1[static_cast<size_t>(i)];
      dx[k] = dx[k] || dx[static_cast<size_t>(i)];
    }
  }
  // Walk in node order counting the values that depend on s and are still
  // to be read; a node after which it alone is left is a cut.
  const std::vector<NodeId> last = last_readers(g);
  NodeId cut = -1;
  int64_t live = last[static_cast<size_t>(s)] > s ? 1 : 0;
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    const size_t k = static_cast<size_t>(id);
    if (!d1[k] || n.is_input) continue;
    if (!is_affine_node(g, id) || dx[k]) break;
    if (last[k] > id) ++live;
    for (size_t j = 0; j < n.inputs.size(); ++j) {
      const NodeId i = n.inputs[j];
      if (!d1[static_cast<size_t>(i)] || last[static_cast<size_t>(i)] != id) continue;
      if (std::find(n.inputs.begin(), n.inputs.begin() + static_cast<std::ptrdiff_t>(j), i) !=
          n.inputs.begin() + static_cast<std::ptrdiff_t>(j))
        continue;  // an input read twice dies once
      --live;
    }
    if (live == 1 && last[k] > id && last[k] < g.num_nodes() && n.shape.rank() > 0 && n.shape[0] == Shape::free)
      cut = id;
  }
  if (cut < 0) return std::nullopt;

  std::optional<GraphSplit> split(std::in_place);
  split->cut = cut;
  // The prefix: the cut and what it reads.
  std::vector<char> marked(N, 0);
  marked[static_cast<size_t>(cut)] = 1;
  for (NodeId id = cut; id >= 0; --id)
    if (marked[static_cast<size_t>(id)])
      for (NodeId i : g.node(id).inputs) marked[static_cast<size_t>(i)] = 1;
  {
    Graph& p = split->prefix;
    std::vector<NodeId> map(N, -1);
    map[static_cast<size_t>(s)] = p.input(g.node(s).name, g.shape(s));
    copy_nodes(g, p, marked, map);
    p.set_outputs({map[static_cast<size_t>(cut)]});
    p.finalize();
  }
  // The suffix: what the outputs read, up to the cut, which becomes its first input.
  std::fill(marked.begin(), marked.end(), 0);
  for (NodeId o : g.outputs()) marked[static_cast<size_t>(o)] = 1;
  for (NodeId id = g.num_nodes() - 1; id >= 0; --id)
    if (marked[static_cast<size_t>(id)] && id != cut)
      for (NodeId i : g.node(id).inputs) marked[static_cast<size_t>(i)] = 1;
  {
    Graph& q = split->suffix;
    std::vector<NodeId> map(N, -1);
    map[static_cast<size_t>(cut)] = q.input(g.node(cut).name, g.shape(cut));
    for (size_t k = 1; k < g.inputs().size(); ++k) {
      const NodeId in = g.inputs()[k];
      map[static_cast<size_t>(in)] = q.input(g.node(in).name, g.shape(in));
    }
    for (NodeId id = 0; id < cut; ++id)
      if (marked[static_cast<size_t>(id)] && d1[static_cast<size_t>(id)])
        throw Error("split_affine_prefix: internal error, " + g.describe(id) + " is read past the cut " +
                    g.describe(cut));
    copy_nodes(g, q, marked, map);
    std::vector<NodeId> outs;
    for (NodeId o : g.outputs()) outs.push_back(map[static_cast<size_t>(o)]);
    q.set_outputs(std::move(outs));
    q.finalize();
  }
  return split;
}

}  // namespace trim
