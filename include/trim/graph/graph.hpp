#pragma once
/// \file
/// `Graph`: a static DAG of ops, built once and evaluated many times.
///
/// Build a graph with the helpers in `trim/graph/nn.hpp` (or `Graph::add`),
/// mark its outputs, call `finalize()`. Node shapes are inferred and checked
/// as nodes are added (so an error names the node that does not fit); the
/// batch dimension (dimension 0 of the inputs) stays free and is fixed by the
/// tensors passed at run time. After `finalize()` the structure is immutable;
/// parameter *values* may still change (training, loading weights).
///
/// Evaluation (`forward` / `backward` in `trim/graph/executor.hpp`) keeps all
/// its state in a `Workspace`, so one finalized graph can be evaluated from
/// several threads at once, each with its own workspace, as long as nobody
/// writes parameters meanwhile.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "trim/core/rng.hpp"
#include "trim/core/tensor.hpp"
#include "trim/graph/op.hpp"

namespace trim {

/// Index of a node in its graph; nodes are stored in creation order, which is
/// a topological order.
using NodeId = int;

/// How a parameter is (re)initialised by `Graph::initialize`.
struct Init {
  enum Type {
    Zeros,
    Ones,
    /// Uniform on [-1/√fan_in, 1/√fan_in]: PyTorch's default for the weight
    /// (Kaiming-uniform with a = √5) and the bias of Linear and Conv layers.
    FanInUniform,
    /// Keep the value it was given (constants, loaded tensors).
    Keep,
  };
  Type type = Keep;
  int64_t fan_in = 1;

  static Init zeros() { return {Zeros, 1}; }
  static Init ones() { return {Ones, 1}; }
  static Init fan_in_uniform(int64_t fan_in) { return {FanInUniform, fan_in}; }
  static Init keep() { return {Keep, 1}; }
};

struct Parameter {
  std::string name;  ///< unique, e.g. "conv1.weight"
  Tensor value;
  /// False for buffers (batch-norm running statistics) and constants:
  /// optimisers skip them and no gradient is computed for them.
  bool trainable = true;
  Init init;
};

struct Node {
  std::string name;  ///< unique, e.g. "conv1"
  std::shared_ptr<const Op> op;
  std::vector<NodeId> inputs;
  std::vector<int> params;  ///< indices into Graph::parameters()
  Shape shape;              ///< output shape; dimension 0 may be free
  bool is_input = false;    ///< a graph input (op is a placeholder)
};

class Graph {
 public:
  /// `seed` drives the initial parameter values (see `initialize`).
  explicit Graph(uint64_t seed = 0);

  // ---- building ----------------------------------------------------------
  /// A graph input. Use `Shape::free` for the batch dimension, e.g.
  /// `{Shape::free, 1, 28, 28}`.
  NodeId input(const std::string& name, const Shape& shape);
  /// Adds a parameter, initialised now according to `init` from the graph's
  /// generator (the value's shape is kept). Returns its index.
  int add_parameter(const std::string& name, Tensor value, Init init = Init::keep(),
                    bool trainable = true);
  /// Adds a node; infers its shape immediately (throws ShapeError naming
  /// `name` when the inputs do not fit). An empty name gets `type_<id>`.
  NodeId add(std::shared_ptr<const Op> op, std::vector<NodeId> inputs, std::vector<int> params,
             const std::string& name = "");
  /// Marks the graph's outputs (in order).
  void set_outputs(std::vector<NodeId> outputs);
  /// Checks the graph and freezes its structure.
  void finalize();
  bool finalized() const { return finalized_; }

  // ---- structure ---------------------------------------------------------
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  const Node& node(NodeId id) const;
  NodeId find_node(const std::string& name) const;  ///< throws ValueError when missing
  const std::vector<NodeId>& inputs() const { return inputs_; }
  const std::vector<NodeId>& outputs() const { return outputs_; }
  const Shape& shape(NodeId id) const { return node(id).shape; }
  /// `conv2d 'conv1'`: how messages name a node.
  std::string describe(NodeId id) const;

  /// True when the node's value depends on a graph input (else it is a
  /// constant of the graph). Available after finalize().
  bool depends_on_input(NodeId id) const;
  /// True when the node's value depends on a trainable parameter.
  bool depends_on_parameter(NodeId id) const;

  // ---- parameters --------------------------------------------------------
  std::vector<Parameter>& parameters() { return params_; }
  const std::vector<Parameter>& parameters() const { return params_; }
  /// Index of a parameter by name; throws ValueError listing close names.
  int parameter_index(const std::string& name) const;
  Parameter& parameter(const std::string& name) { return params_[static_cast<size_t>(parameter_index(name))]; }
  const Parameter& parameter(const std::string& name) const { return params_[static_cast<size_t>(parameter_index(name))]; }
  /// Replaces a parameter's value; the shape must match (ShapeError).
  void set_parameter(const std::string& name, const Tensor& value);
  /// Re-draws every parameter from its `Init` with a fresh generator seeded
  /// by `seed`, in creation order (same seed, same weights).
  void initialize(uint64_t seed);
  /// Total number of trainable scalars.
  int64_t num_trainable() const;

  // ---- convenience evaluation --------------------------------------------
  /// Forward pass with a temporary workspace; returns the outputs.
  std::vector<Tensor> evaluate(const std::vector<Tensor>& inputs) const;
  /// Single input, single output.
  Tensor evaluate(const Tensor& input) const;

 private:
  void require_building(const char* what) const;
  void init_parameter(Parameter& p, Rng& rng);

  std::vector<Node> nodes_;
  std::vector<Parameter> params_;
  std::map<std::string, NodeId> node_names_;
  std::map<std::string, int> param_names_;
  std::vector<NodeId> inputs_;
  std::vector<NodeId> outputs_;
  std::vector<bool> depends_on_input_;
  std::vector<bool> depends_on_param_;
  Rng rng_;
  bool finalized_ = false;
};

/// The arguments of node `n`: its data inputs looked up by
/// `input_of(NodeId) -> const Tensor*` (in the node's input order), its
/// parameters from the graph. Every pass that evaluates ops (the executor,
/// DeepLIFT, CD, the kind checks) builds its OpArgs here.
template <class InputOf>
OpArgs node_args(const Graph& g, const Node& n, InputOf&& input_of) {
  OpArgs a;
  a.inputs.reserve(n.inputs.size());
  for (NodeId i : n.inputs) a.inputs.push_back(input_of(i));
  a.params.reserve(n.params.size());
  for (int p : n.params) a.params.push_back(&g.parameters()[static_cast<size_t>(p)].value);
  return a;
}

}  // namespace trim
