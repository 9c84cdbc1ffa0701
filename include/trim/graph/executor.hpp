#pragma once
/// \file
/// Running a finalized graph: forward evaluation and reverse-mode gradients.
///
/// All state of a call lives in the `Workspace`; the graph is only read. A
/// workspace may be reused for many calls (its buffers are kept), but must
/// not be shared between threads at the same time.

#include <vector>

#include "trim/core/buffer_plan.hpp"
#include "trim/graph/graph.hpp"

namespace trim {

struct Gradients {
  /// One per graph input, shaped like it (empty when not requested).
  std::vector<Tensor> inputs;
  /// One per parameter, shaped like it, summed over the batch; empty tensors
  /// for non-trainable parameters or when parameter gradients were not
  /// requested.
  std::vector<Tensor> params;
};

/// What `forward` keeps of the activations.
enum class Keep {
  all,  ///< every node's activation: for reading them, DeepLIFT, CD, training
  /// the graph's inputs and outputs and what a backward pass to the inputs
  /// reads (`Op::backward_reads_inputs` / `backward_reads_output`); the
  /// other activations share buffers once the forward is past them (of a
  /// conv → batch norm → ReLU chain only the ReLU's input is kept).
  /// Parameter gradients are then refused.
  input_gradients,
  /// input_gradients, and also the inputs and outputs of the nodes whose
  /// DeepLIFT rule reads them (Elementwise, Selection, Product, Cell).
  deeplift,
};

class Workspace;
void forward(const Graph& graph, Workspace& ws, const std::vector<Tensor>& inputs, Keep keep);
Gradients backward(const Graph& graph, Workspace& ws, const std::vector<Tensor>& output_cotangents,
                   bool with_params, bool with_inputs);

class Workspace {
 public:
  /// Activation of a node after `forward` (inputs included; empty for the
  /// nodes a `Keep::input_gradients` forward did not keep).
  const Tensor& value(NodeId id) const { return values_.at(static_cast<size_t>(id)); }
  /// Cotangent of a graph input after `backward` (empty when it was not
  /// requested, and for other nodes: their buffers are reused during the
  /// pass).
  const Tensor& grad(NodeId id) const;
  /// Batch size of the last forward.
  int64_t batch() const { return batch_; }

 private:
  friend void forward(const Graph&, Workspace&, const std::vector<Tensor>&, Keep);
  friend Gradients backward(const Graph&, Workspace&, const std::vector<Tensor>&, bool, bool);
  friend OpArgs workspace_args(const Graph&, const Node&, const Workspace&);
  std::vector<Tensor> values_;
  Keep keep_ = Keep::all;
  std::vector<int> value_slot_;  ///< node → slot of value_buffers_ (−1: the node keeps its own buffer)
  SlotBuffers value_buffers_;
  std::vector<int> grad_slot_;  ///< node → slot of grad_buffers_ in the last backward (−1: none)
  SlotBuffers grad_buffers_;
  int64_t batch_ = 0;
  const Graph* graph_ = nullptr;
};

/// Runs every node; keeps the activations `keep` says in `ws` for a later
/// backward. Inputs must match the graph's input shapes (the free batch
/// dimension takes any size, the same for all inputs). Throws ShapeError
/// naming the input otherwise.
void forward(const Graph& graph, Workspace& ws, const std::vector<Tensor>& inputs, Keep keep = Keep::all);

/// The arguments of node `n` read from the activations `forward` kept in
/// `ws` (the attribution passes evaluate rules on them).
OpArgs workspace_args(const Graph& graph, const Node& n, const Workspace& ws);

/// Floats the workspace of one `forward` with `keep` over `batch` rows holds
/// (kept activations and shared slots), plus, when `with_backward`, the
/// cotangent slots of one `backward` to the inputs: what a batch costs, for
/// sizing batches to a memory budget (AttributionOptions::max_memory).
int64_t planned_floats(const Graph& graph, int64_t batch, Keep keep, bool with_backward);

/// Floats of temporary memory the ops hold besides the planned buffers in a
/// forward or backward over `batch` rows: the largest `Op::scratch_floats`
/// of any node (each node's temporaries are gone when the next runs; the
/// convolutions' per-thread buffers stay, at the largest size any
/// convolution asked for).
int64_t planned_scratch_floats(const Graph& graph, int64_t batch);

/// Floats of the graph's parameters (weights and buffers): the model's part
/// of a memory budget.
int64_t parameter_floats(const Graph& graph);

/// The graph's outputs after `forward` (copies).
std::vector<Tensor> outputs(const Graph& graph, const Workspace& ws);

/// Reverse mode after `forward` on the same workspace: `output_cotangents`
/// holds one tensor per graph output, shaped like it (the vector u in uᵀJ).
/// Returns uᵀ∂outputs/∂inputs and, when `with_params`, uᵀ∂outputs/∂params.
/// Training needs no input gradient: `with_inputs = false` skips the work
/// that only leads to the inputs (e.g. the first layer's input VJP) and
/// leaves `Gradients::inputs` empty.
Gradients backward(const Graph& graph, Workspace& ws, const std::vector<Tensor>& output_cotangents,
                   bool with_params = false, bool with_inputs = true);

}  // namespace trim
