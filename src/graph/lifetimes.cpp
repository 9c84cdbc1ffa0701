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

std::vector<int> plan_reverse_order(const Graph& g, int64_t batch, const std::vector<char>& needed, BufferPlan& plan,
                                    bool in_place) {
  std::vector<int> slot(static_cast<size_t>(g.num_nodes()), -1);
  const auto numel = [&](NodeId id) { return g.node(id).shape.with_batch(batch).numel(); };
  const std::vector<int> reads = read_counts(g);
  for (NodeId o : g.outputs())
    if (needed[static_cast<size_t>(o)] && slot[static_cast<size_t>(o)] < 0) slot[static_cast<size_t>(o)] = plan.open(numel(o));
  for (NodeId id = g.num_nodes() - 1; id >= 0; --id) {
    const Node& n = g.node(id);
    const size_t k = static_cast<size_t>(id);
    if (n.is_input || slot[k] < 0) continue;
    // The input that inherits this node's slot, if any (its only reader is
    // this node, so its cotangent starts here as this node's ends).
    bool inherited = false;
    for (NodeId i : n.inputs) {
      const size_t j = static_cast<size_t>(i);
      if (!needed[j] || slot[j] >= 0) continue;
      if (in_place && !inherited && n.op->backward_in_place() && reads[j] == 1 && g.node(i).shape == n.shape) {
        slot[j] = slot[k];
        inherited = true;
      } else {
        slot[j] = plan.open(numel(i));
      }
    }
    if (!inherited) plan.close(slot[k]);
  }
  return slot;
}

}  // namespace trim
