#pragma once
/// \file
/// Splitting a graph at the end of its affine prefix.
///
/// A TRIM model starts with the inverse transform and, for most CNNs, a
/// convolution and a batch norm before the first nonlinearity: everything up
/// to there is affine in the first input s, z = A(s) = L s + c. Methods that
/// evaluate the model on many points of one line (integrated gradients) or
/// sum many gradients (SmoothGrad) need that prefix only for the line's ends:
/// A(b + α(x − b)) = A(b) + α(A(x) − A(b)), and Σ_k w_k ∇_s F = Lᵀ Σ_k w_k ∇_z F.
/// `split_affine_prefix` finds the cut z and returns the prefix s ↦ z and the
/// rest (z, extra inputs) ↦ outputs as two graphs sharing the model's weights.

#include <optional>

#include "trim/graph/graph.hpp"

namespace trim {

/// Whether node `id` of the finalized graph `g` is affine in its data inputs
/// jointly, as its kind declares (checked numerically by `check_kind`):
/// Linear, Structural and Sum nodes are; a Product node is when at most one
/// of its inputs depends on a graph input (a product with a constant);
/// Elementwise, Selection, Cell and Opaque nodes are not.
bool is_affine_node(const Graph& g, NodeId id);

/// A graph cut in two at node `cut`: `prefix` maps the graph's first input to
/// the cut's value (one input, one output), `suffix` maps the cut's value
/// (its first input, named like the cut node) and the graph's other inputs
/// (same names and order) to the graph's outputs. Both are finalized and
/// borrow the parameter values of the source graph, which must outlive them
/// and keep its weights unchanged meanwhile.
struct GraphSplit {
  NodeId cut = -1;  ///< the cut node in the source graph
  Graph prefix;
  Graph suffix;
};

/// The split of a finalized graph after the longest affine prefix of its
/// first input: the last node z such that every path from the first input to
/// an output passes through z (in node order: after z, no other value that
/// depends on the first input is still read), z and every node before it
/// that depends on the first input is affine (`is_affine_node`) and reads
/// none of the graph's other inputs, and z is not an output. Empty when
/// there is no such node (the first node after the input is nonlinear, a
/// branch of the input reaches past every affine node, or the whole graph
/// is affine).
std::optional<GraphSplit> split_affine_prefix(const Graph& g);

}  // namespace trim
