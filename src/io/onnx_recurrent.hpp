#pragma once
// Internal to the ONNX reader: ONNX `LSTM` and `GRU` unrolled over their
// static time steps into trim nodes (onnx_import_recurrent.cpp). The importer
// reads the node's inputs and attributes into a RecurrentSpec and calls
// build_recurrent; nothing here knows about protobuf.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "trim/core/tensor.hpp"
#include "trim/graph/graph.hpp"

namespace trim::io::detail {

/// One ONNX LSTM / GRU node, in trim's batch-first terms.
struct RecurrentSpec {
  enum class Cell { lstm, gru };
  Cell cell = Cell::lstm;
  int64_t hidden = 0;
  int directions = 1;                // 2 for "bidirectional"
  bool reverse = false;              // "reverse": the one direction runs backwards
  bool linear_before_reset = false;  // GRU (torch writes 1)
  Tensor W, R, B;                    // [dirs, G·H, D], [dirs, G·H, H], [dirs, 2·G·H] (zeros when absent)
  bool need_y = true, need_h = true, need_c = true;  // which outputs the graph reads
  NodeId x = -1;                     // [N, T, D]
  NodeId h0 = -1, c0 = -1;           // [N, dirs, H], or -1 for a zero initial state
};

/// Outputs, batch-first: y [N, T, dirs, H] (ONNX: [T, dirs, N, H]),
/// y_h and y_c [N, dirs, H] (ONNX: [dirs, N, H]); y_c is -1 for a GRU.
struct RecurrentOutputs {
  NodeId y = -1, y_h = -1, y_c = -1;
};

/// Adds a node named after the ONNX node plus `suffix`.
using AddNode = std::function<NodeId(std::shared_ptr<const Op>, std::vector<NodeId>, std::vector<int>,
                                     const std::string& suffix)>;
/// Adds a parameter named after the ONNX node plus `suffix`.
using AddParam = std::function<int(const std::string& suffix, Tensor value, bool trainable)>;

/// Unrolls the layer. LSTM steps are `lstm_cell` / `lstm_hidden` nodes (Kind
/// Cell: acd's CD rule); GRU steps are built of Linear, Sum, Elementwise and
/// Product nodes. Throws ShapeError / ValueError naming what does not fit.
RecurrentOutputs build_recurrent(const Graph& g, const RecurrentSpec& spec, const AddNode& add,
                                 const AddParam& param);

/// Reshape of a moved value [.., N, tail...] (ONNX layout `onnx_shape`, the
/// batch as Shape::free) to `target` (0 and -1 resolved, the batch as
/// Shape::free): possible when the axes up to the batch are kept and the
/// axes after it are stored in order. Sets the batch-first node shape and the
/// moved map of the result; false when not representable.
bool moved_reshape(const Shape& onnx_shape, const std::vector<int>& moved, const std::vector<int64_t>& target,
                   Shape& node_shape, std::vector<int>& moved_out);

}  // namespace trim::io::detail
