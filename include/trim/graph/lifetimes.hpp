#pragma once
/// \file
/// When a pass over the graph in node order may reuse a node's buffer: from
/// the node's own evaluation to its last reader's (`trim/core/buffer_plan.hpp`
/// turns the lifetimes into shared allocations).

#include <vector>

#include "trim/core/buffer_plan.hpp"
#include "trim/graph/graph.hpp"

namespace trim {

/// For each node, the last node that reads it (the node itself when none
/// does; the graph size for outputs, which live to the end).
std::vector<NodeId> last_readers(const Graph& g);

/// How many times each node's value is read: by nodes (an input listed twice
/// counts twice) and by the graph's outputs.
std::vector<int> read_counts(const Graph& g);

/// Plans the buffers of a node-order pass over `batch` rows: node `id` with
/// `planned[id]` gets a slot of `plan` for its lifetime; the others get −1
/// (they keep buffers of their own).
std::vector<int> plan_node_order(const Graph& g, int64_t batch, const std::vector<char>& planned, BufferPlan& plan);

/// Plans the cotangent buffers of a reverse pass over `batch` rows, from the
/// graph's outputs back through the nodes `needed` marks: a node's cotangent
/// lives from the reverse step of its first consumer to its own, so
/// cotangents whose lifetimes do not overlap share a slot. Returns each
/// node's slot (−1: no cotangent reaches it). `backward` and DeepLIFT's
/// multipliers use it. With `in_place`, a node whose op computes its
/// backward in place (`Op::backward_in_place`) passes its slot on to the
/// first input it alone reads, once, with the node's shape (the input's
/// slot equals the node's: `backward` hands that input dy itself). An
/// identity backward (`Op::backward_is_identity`, an add) passes it to every
/// such input, and to one input that other nodes read too when their
/// backward runs after the others' (they add into dy: a residual block's
/// input and its last convolution share one buffer, and the add copies
/// nothing). A slot is passed on only by the last node still to read it.
///
/// `writes` (when not empty): a node k with writes[k] ≥ 0 writes that node's
/// cotangent instead of its inputs' when it is the first to (no slot yet):
/// the backward pass's convolutions that run the ReLU before them
/// (conv_relus). Its inputs then get no slot.
std::vector<int> plan_reverse_order(const Graph& g, int64_t batch, const std::vector<char>& needed, BufferPlan& plan,
                                    bool in_place = false, const std::vector<NodeId>& writes = {});

}  // namespace trim
