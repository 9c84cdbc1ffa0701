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

}  // namespace trim
