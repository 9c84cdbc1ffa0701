#include "trim/graph/compose.hpp"

#include "trim/core/error.hpp"

namespace trim {

namespace {

/// append_graph; the parameter values are moved out of `take_from` (src
/// itself) when it is given.
std::vector<NodeId> append(Graph& dst, const Graph& src, Graph* take_from, const std::vector<NodeId>& inputs,
                           const std::string& prefix) {
  if (!src.finalized()) throw Error("append_graph: the appended graph must be finalized");
  if (inputs.size() != src.inputs().size())
    throw ValueError("append_graph: " + std::to_string(inputs.size()) + " input nodes given, the appended graph has " +
                     std::to_string(src.inputs().size()) + " inputs");
  std::vector<NodeId> map(static_cast<size_t>(src.num_nodes()), -1);
  for (size_t k = 0; k < inputs.size(); ++k) {
    const NodeId s = src.inputs()[k];
    const Shape& want = src.shape(s);
    const Shape& got = dst.shape(inputs[k]);
    bool ok = want.rank() == got.rank();
    for (int a = 0; ok && a < want.rank(); ++a) ok = want[a] == got[a];
    if (!ok)
      throw ShapeError("append_graph: input '" + src.node(s).name + "' expects " + want.str() + ", node " +
                       dst.describe(inputs[k]) + " has " + got.str());
    map[static_cast<size_t>(s)] = inputs[k];
  }
  std::vector<int> param_map(src.parameters().size());
  for (size_t p = 0; p < src.parameters().size(); ++p) {
    const Parameter& q = src.parameters()[p];
    Tensor value;
    if (take_from)
      value = std::move(take_from->parameters()[p].value);
    else
      value = q.value;
    param_map[p] = dst.add_parameter(prefix + q.name, std::move(value), Init::keep(), q.trainable);
  }
  for (NodeId id = 0; id < src.num_nodes(); ++id) {
    const Node& n = src.node(id);
    if (n.is_input) continue;
    std::vector<NodeId> in;
    for (NodeId i : n.inputs) in.push_back(map[static_cast<size_t>(i)]);
    std::vector<int> params;
    for (int p : n.params) params.push_back(param_map[static_cast<size_t>(p)]);
    map[static_cast<size_t>(id)] = dst.add(n.op, std::move(in), std::move(params), prefix + n.name);
  }
  std::vector<NodeId> out;
  for (NodeId o : src.outputs()) out.push_back(map[static_cast<size_t>(o)]);
  return out;
}

}  // namespace

std::vector<NodeId> append_graph(Graph& dst, const Graph& src, const std::vector<NodeId>& inputs,
                                 const std::string& prefix) {
  return append(dst, src, nullptr, inputs, prefix);
}

std::vector<NodeId> append_graph_taking_weights(Graph& dst, Graph& src, const std::vector<NodeId>& inputs,
                                                const std::string& prefix) {
  return append(dst, src, &src, inputs, prefix);
}

}  // namespace trim
