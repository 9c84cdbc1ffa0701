#include "trim/graph/lifetimes.hpp"

#include <algorithm>

namespace trim {

std::vector<NodeId> last_readers(const Graph& g) {
  std::vector<NodeId> last(static_cast<size_t>(g.num_nodes()));
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    last[static_cast<size_t>(id)] = id;
    for (NodeId i : g.node(id).inputs) last[static_cast<size_t>(i)] = std::max(last[static_cast<size_t>(i)], id);
  }
  for (NodeId o : g.outputs()) last[static_cast<size_t>(o)] = g.num_nodes();
  return last;
}

std::vector<int> read_counts(const Graph& g) {
  std::vector<int> reads(static_cast<size_t>(g.num_nodes()), 0);
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    for (NodeId i : g.node(id).inputs) ++reads[static_cast<size_t>(i)];
  for (NodeId o : g.outputs()) ++reads[static_cast<size_t>(o)];
  return reads;
}

std::vector<int> plan_node_order(const Graph& g, int64_t batch, const std::vector<char>& planned, BufferPlan& plan) {
  const size_t n = static_cast<size_t>(g.num_nodes());
  const std::vector<NodeId> last = last_readers(g);
  std::vector<int> slot(n, -1);
  std::vector<char> closed(n, 0);
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const size_t k = static_cast<size_t>(id);
    if (planned[k]) slot[k] = plan.open(g.node(id).shape.with_batch(batch).numel());
    // Close what dies here (an input read twice is closed once).
    auto close = [&](NodeId i) {
      const size_t j = static_cast<size_t>(i);
      if (slot[j] < 0 || closed[j] || last[j] != id) return;
      plan.close(slot[j]);
      closed[j] = 1;
    };
    for (NodeId i : g.node(id).inputs) close(i);
    close(id);
  }
  return slot;
}

namespace {

/// The inputs of node `id` that take over its cotangent buffer in a reverse
/// pass (see plan_reverse_order): none, the first one it alone reads, or for
/// an identity backward (an add) every input it alone reads plus at most one
/// read elsewhere too, provided those other readers run their backward after
/// every other sharer has read dy (they add into the shared buffer).
std::vector<NodeId> heirs(const Graph& g, NodeId id, const std::vector<char>& needed, const std::vector<int>& slot,
                          const std::vector<int>& reads, const std::vector<std::vector<NodeId>>& readers) {
  const Node& n = g.node(id);
  std::vector<NodeId> sole, shared;
  if (!n.op->backward_in_place()) return sole;
  for (NodeId i : n.inputs) {
    const size_t j = static_cast<size_t>(i);
    if (!needed[j] || slot[j] >= 0 || g.node(i).shape != n.shape ||
        std::count(n.inputs.begin(), n.inputs.end(), i) != 1)
      continue;
    (reads[j] == 1 ? sole : shared).push_back(i);
  }
  if (!n.op->backward_is_identity()) {
    if (sole.size() > 1) sole.resize(1);
    return sole;
  }
  // The shared input's other readers (all before `id`: a later one would
  // have given it a slot already) must come before every sole heir, whose
  // backward reads dy at its own step of the reverse pass.
  NodeId first_sole = g.num_nodes();
  for (NodeId i : sole) first_sole = std::min(first_sole, i);
  for (NodeId i : shared) {
    NodeId last_other = -1;
    for (NodeId r : readers[static_cast<size_t>(i)])
      if (r != id) last_other = std::max(last_other, r);
    if (last_other < first_sole) {
      sole.push_back(i);
      break;
    }
  }
  return sole;
}

}  // namespace

std::vector<int> plan_reverse_order(const Graph& g, int64_t batch, const std::vector<char>& needed, BufferPlan& plan,
                                    bool in_place, const std::vector<NodeId>& writes) {
  const size_t nodes = static_cast<size_t>(g.num_nodes());
  std::vector<int> slot(nodes, -1);
  const auto numel = [&](NodeId id) { return g.node(id).shape.with_batch(batch).numel(); };
  const std::vector<int> reads = read_counts(g);
  std::vector<std::vector<NodeId>> readers(nodes);
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    for (NodeId i : g.node(id).inputs) readers[static_cast<size_t>(i)].push_back(id);
  // Nodes whose backward has yet to read each slot's cotangent: one, or the
  // sharers of an identity backward's dy.
  std::vector<int> holders;
  const auto open = [&](NodeId id) {
    const int s = plan.open(numel(id));
    if (holders.size() <= static_cast<size_t>(s)) holders.resize(static_cast<size_t>(s) + 1, 0);
    holders[static_cast<size_t>(s)] = 1;
    return s;
  };
  for (NodeId o : g.outputs())
    if (needed[static_cast<size_t>(o)] && slot[static_cast<size_t>(o)] < 0) slot[static_cast<size_t>(o)] = open(o);
  for (NodeId id = g.num_nodes() - 1; id >= 0; --id) {
    const Node& n = g.node(id);
    const size_t k = static_cast<size_t>(id);
    if (n.is_input || slot[k] < 0) continue;
    const int s = slot[k];
    // Only the last holder of a buffer may pass it on: a ReLU masks it in
    // place, and a shared input's other readers add into it.
    std::vector<NodeId> pass;
    if (in_place && holders[static_cast<size_t>(s)] == 1) pass = heirs(g, id, needed, slot, reads, readers);
    for (NodeId i : pass) slot[static_cast<size_t>(i)] = s;
    const NodeId through = writes.empty() ? -1 : writes[k];
    if (through >= 0 && needed[static_cast<size_t>(through)] && slot[static_cast<size_t>(through)] < 0) {
      slot[static_cast<size_t>(through)] = open(through);
    } else {
      for (NodeId i : n.inputs) {
        const size_t j = static_cast<size_t>(i);
        if (needed[j] && slot[j] < 0) slot[j] = open(i);
      }
    }
    holders[static_cast<size_t>(s)] += static_cast<int>(pass.size()) - 1;
    if (holders[static_cast<size_t>(s)] == 0) plan.close(s);
  }
  return slot;
}

}  // namespace trim
