#include "trim/graph/graph.hpp"

#include <algorithm>
#include <cmath>

#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"

namespace trim {

namespace {
/// Placeholder op of graph inputs: never evaluated.
class InputOp final : public Op {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // dy and parameters suffice
  bool backward_reads_output() const override { return false; }
  Kind kind() const override { return Kind::Structural; }
  std::string type() const override { return "input"; }
  int arity() const override { return 0; }
  Shape infer_shape(const std::vector<Shape>&, const std::vector<Shape>&,
                    const std::string& where) const override {
    throw Error(where + ": inputs have no inferred shape");
  }
  void forward(const OpArgs&, Tensor&) const override {}
  void backward(const OpArgs&, const Tensor&, const Tensor&, const OpGrads&) const override {}
};
}  // namespace

Graph::Graph(uint64_t seed) : rng_(seed) {}

void Graph::require_building(const char* what) const {
  if (finalized_) throw Error(std::string("graph: cannot ") + what + " after finalize()");
}

NodeId Graph::input(const std::string& name, const Shape& shape) {
  require_building("add an input");
  for (int i = 1; i < shape.rank(); ++i)
    if (shape[i] == Shape::free)
      throw ShapeError("input '" + name + "': shape " + shape.str() +
                       " has a free dimension other than the first (batch) one");
  if (name.empty()) throw ValueError("graph: an input needs a name");
  if (node_names_.count(name)) throw ValueError("graph: node name '" + name + "' is used twice");
  Node n;
  n.name = name;
  n.op = std::make_shared<InputOp>();
  n.shape = shape;
  n.is_input = true;
  const NodeId id = num_nodes();
  nodes_.push_back(std::move(n));
  node_names_[name] = id;
  inputs_.push_back(id);
  return id;
}

void Graph::init_parameter(Parameter& p, Rng& rng) {
  switch (p.init.type) {
    case Init::Zeros: p.value.fill(0.0f); break;
    case Init::Ones: p.value.fill(1.0f); break;
    case Init::FanInUniform: {
      const float bound = 1.0f / std::sqrt(static_cast<float>(std::max<int64_t>(p.init.fan_in, 1)));
      rng.fill_uniform(p.value, -bound, bound);
      break;
    }
    case Init::Keep: break;
  }
}

int Graph::add_parameter(const std::string& name, Tensor value, Init init, bool trainable) {
  require_building("add a parameter");
  if (name.empty()) throw ValueError("graph: a parameter needs a name");
  if (param_names_.count(name))
    throw ValueError("graph: parameter name '" + name + "' is used twice");
  Parameter p{name, std::move(value), trainable, init};
  init_parameter(p, rng_);
  const int id = static_cast<int>(params_.size());
  params_.push_back(std::move(p));
  param_names_[name] = id;
  return id;
}

NodeId Graph::add(std::shared_ptr<const Op> op, std::vector<NodeId> inputs,
                  std::vector<int> params, const std::string& name_in) {
  require_building("add a node");
  if (!op) throw ValueError("graph: null op");
  const NodeId id = num_nodes();
  const std::string name = name_in.empty() ? op->type() + "_" + std::to_string(id) : name_in;
  const std::string where = op->type() + " '" + name + "'";
  if (node_names_.count(name)) throw ValueError(where + ": node name is used twice");
  const int arity = op->arity();
  if ((arity >= 0 && static_cast<int>(inputs.size()) != arity) || (arity < 0 && inputs.empty()))
    throw ValueError(where + ": takes " + (arity < 0 ? std::string("one or more") : std::to_string(arity)) +
                     " inputs, got " + std::to_string(inputs.size()));
  std::vector<Shape> in_shapes;
  for (NodeId i : inputs) {
    if (i < 0 || i >= id) throw ValueError(where + ": input node " + std::to_string(i) + " does not exist");
    in_shapes.push_back(nodes_[static_cast<size_t>(i)].shape);
  }
  std::vector<Shape> param_shapes;
  for (int p : params) {
    if (p < 0 || p >= static_cast<int>(params_.size()))
      throw ValueError(where + ": parameter " + std::to_string(p) + " does not exist");
    param_shapes.push_back(params_[static_cast<size_t>(p)].value.shape());
  }
  Shape shape = op->infer_shape(in_shapes, param_shapes, where);
  for (int i = 1; i < shape.rank(); ++i)
    if (shape[i] == Shape::free)
      throw ShapeError(where + ": output shape " + shape.str() + " moves the batch dimension");
  Node n;
  n.name = name;
  n.op = std::move(op);
  n.inputs = std::move(inputs);
  n.params = std::move(params);
  n.shape = shape;
  nodes_.push_back(std::move(n));
  node_names_[name] = id;
  return id;
}

void Graph::set_outputs(std::vector<NodeId> outputs) {
  require_building("set outputs");
  for (NodeId o : outputs)
    if (o < 0 || o >= num_nodes())
      throw ValueError("graph: output node " + std::to_string(o) + " does not exist");
  outputs_ = std::move(outputs);
}

void Graph::finalize() {
  require_building("finalize twice");
  if (inputs_.empty()) throw Error("graph: finalize() on a graph without inputs");
  if (outputs_.empty()) throw Error("graph: finalize() before set_outputs()");
  depends_on_input_.assign(nodes_.size(), false);
  depends_on_param_.assign(nodes_.size(), false);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    bool in = n.is_input, par = false;
    for (int p : n.params) par = par || params_[static_cast<size_t>(p)].trainable;
    for (NodeId j : n.inputs) {
      in = in || depends_on_input_[static_cast<size_t>(j)];
      par = par || depends_on_param_[static_cast<size_t>(j)];
    }
    depends_on_input_[i] = in;
    depends_on_param_[i] = par;
  }
  finalized_ = true;
}

const Node& Graph::node(NodeId id) const {
  if (id < 0 || id >= num_nodes())
    throw ValueError("graph: node " + std::to_string(id) + " does not exist");
  return nodes_[static_cast<size_t>(id)];
}

NodeId Graph::find_node(const std::string& name) const {
  auto it = node_names_.find(name);
  if (it == node_names_.end()) throw ValueError("graph: no node named '" + name + "'");
  return it->second;
}

std::string Graph::describe(NodeId id) const {
  const Node& n = node(id);
  return n.op->type() + " '" + n.name + "'";
}

bool Graph::depends_on_input(NodeId id) const {
  if (!finalized_) throw Error("graph: depends_on_input() before finalize()");
  return depends_on_input_.at(static_cast<size_t>(id));
}

bool Graph::depends_on_parameter(NodeId id) const {
  if (!finalized_) throw Error("graph: depends_on_parameter() before finalize()");
  return depends_on_param_.at(static_cast<size_t>(id));
}

int Graph::parameter_index(const std::string& name) const {
  auto it = param_names_.find(name);
  if (it != param_names_.end()) return it->second;
  std::string msg = "graph: no parameter named '" + name + "'";
  // Suggest names sharing the layer prefix, the usual cause of a miss.
  const std::string prefix = name.substr(0, name.find('.'));
  std::string similar;
  for (const auto& kv : param_names_)
    if (kv.first.compare(0, prefix.size(), prefix) == 0) similar += " " + kv.first;
  if (!similar.empty()) msg += "; similar:" + similar;
  throw ValueError(msg);
}

void Graph::set_parameter(const std::string& name, const Tensor& value) {
  Parameter& p = parameter(name);
  if (value.shape() != p.value.shape())
    throw ShapeError("parameter '" + name + "': value of shape " + value.shape().str() +
                     ", expected " + p.value.shape().str());
  p.value = value;
}

void Graph::initialize(uint64_t seed) {
  Rng rng(seed);
  for (Parameter& p : params_) init_parameter(p, rng);
}

int64_t Graph::num_trainable() const {
  int64_t n = 0;
  for (const Parameter& p : params_)
    if (p.trainable) n += p.value.numel();
  return n;
}

std::vector<Tensor> Graph::evaluate(const std::vector<Tensor>& inputs) const {
  Workspace ws;
  forward(*this, ws, inputs);
  return trim::outputs(*this, ws);
}

Tensor Graph::evaluate(const Tensor& input) const {
  if (!finalized_) throw Error("graph: evaluate before finalize()");
  if (inputs_.size() != 1 || outputs_.size() != 1)
    throw Error("graph: evaluate(Tensor) needs one input and one output, the graph has " +
                std::to_string(inputs_.size()) + " and " + std::to_string(outputs_.size()));
  return std::move(evaluate(std::vector<Tensor>{input})[0]);
}

}  // namespace trim
