#pragma once
/// \file
/// Building a graph out of another: a TRIM model is `model ∘ inverse`, so the
/// model's nodes are appended after the inverse transform's node.

#include <string>
#include <vector>

#include "trim/graph/graph.hpp"

namespace trim {

/// Appends every node of the finalized graph `src` to `dst` (which is still
/// being built): `src`'s inputs are replaced by the nodes `inputs` of `dst`
/// (one per src input, same per-example shapes), its parameters are copied
/// with their names and values (prefixed by `prefix`), and its nodes keep
/// their names (prefixed). Ops are shared, not copied (they are immutable).
/// Returns the dst nodes corresponding to `src`'s outputs. Throws ValueError
/// when a name collides and ShapeError when an input does not fit.
std::vector<NodeId> append_graph(Graph& dst, const Graph& src, const std::vector<NodeId>& inputs,
                                 const std::string& prefix = "");

/// append_graph, but `src`'s parameter values are moved into `dst` rather
/// than copied (src keeps its nodes and parameter names, with empty values):
/// large weights are then held once, not twice.
std::vector<NodeId> append_graph_taking_weights(Graph& dst, Graph& src, const std::vector<NodeId>& inputs,
                                                const std::string& prefix = "");

}  // namespace trim
