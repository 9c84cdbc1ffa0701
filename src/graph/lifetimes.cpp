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

std::vector<int> plan_reverse_order(const Graph& g, int64_t batch, const std::vector<char>& needed, BufferPlan& plan) {
  std::vector<int> slot(static_cast<size_t>(g.num_nodes()), -1);
  const auto numel = [&](NodeId id) { return g.node(id).shape.with_batch(batch).numel(); };
  for (NodeId o : g.outputs())
    if (needed[static_cast<size_t>(o)] && slot[static_cast<size_t>(o)] < 0) slot[static_cast<size_t>(o)] = plan.open(numel(o));
  for (NodeId id = g.num_nodes() - 1; id >= 0; --id) {
    const Node& n = g.node(id);
    if (n.is_input || slot[static_cast<size_t>(id)] < 0) continue;
    for (NodeId i : n.inputs)
      if (needed[static_cast<size_t>(i)] && slot[static_cast<size_t>(i)] < 0) slot[static_cast<size_t>(i)] = plan.open(numel(i));
    plan.close(slot[static_cast<size_t>(id)]);
  }
  return slot;
}

}  // namespace trim
