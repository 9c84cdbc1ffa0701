#pragma once
/// \file
/// ONNX models in and out.
///
/// `load_onnx` turns an ONNX model (opsets 11–17, e.g. from
/// `torch.onnx.export`) into a finalized `Graph` built from trim's own ops,
/// so every imported node carries the right `Kind` and every attribution
/// method works on it. Initializers become parameters named as in the file
/// (PyTorch state-dict names such as `conv1.weight` survive); dimension 0 of
/// every input becomes the free batch dimension. Constant subgraphs, such as
/// the Shape→Gather→Unsqueeze→Concat chain torch emits for
/// `x.view(x.size(0), -1)`, are evaluated at import time with the batch size
/// kept symbolic.
///
/// `save_onnx` writes a graph back out (for models trained in C++, or to
/// hand a model to other tools); loading what it saved reproduces the
/// outputs bit for bit.
///
/// Errors name the file, the node and its operator, e.g.
/// `onnx 'm.onnx': node '/fc/Gemm' (Gemm): ...`: IoError for unreadable,
/// malformed or truncated files, unsupported operators and missing
/// initializers; ValueError for a wrong attribute; ShapeError for a shape
/// trim cannot resolve (one that depends on the batch size, or changes it).
/// See docs/io.md for the operator table.
///
/// No ONNX or protobuf header is included here.

#include <map>
#include <string>
#include <vector>

#include "trim/core/shape.hpp"
#include "trim/graph/graph.hpp"

namespace trim::io {

/// Opsets `load_onnx` accepts and `save_onnx` writes.
constexpr int onnx_min_opset = 11;
constexpr int onnx_max_opset = 17;

/// A token-id input that `load_onnx` cut at its embedding. A model whose
/// ONNX input is int64 (or int32) token ids read by an embedding lookup
/// (Gather(table, ids), torch.nn.Embedding) is explained in the space of the
/// embedded sequence: the lookup's output becomes the graph input
/// [N, ids shape..., width], so attributions are per token and embedding
/// dimension (sum them over the width, or group by time steps / spans).
struct OnnxTokenInput {
  std::string ids;        ///< the ONNX input of token ids
  std::string input;      ///< the trim graph input replacing it (the embedded sequence)
  std::string embedding;  ///< the initializer holding the table
  Tensor table;           ///< the table [vocabulary, width]
};

/// Token ids [N, ...] (integers stored as floats) -> the embedded sequence
/// [N, ..., width]. ValueError naming the id on an id outside the vocabulary.
Tensor embed_tokens(const OnnxTokenInput& token_input, const Tensor& ids);

struct OnnxImportOptions {
  /// Per-example shapes (without the batch) for inputs whose non-batch
  /// dimensions are symbolic or missing in the file, by input name.
  std::map<std::string, Shape> input_shapes;
  /// Accept a default-domain opset outside 11–17 (best effort: operators are
  /// read with the rules of the nearest supported opset).
  bool allow_any_opset = false;
  /// When set, receives one entry per token-id input cut at its embedding.
  std::vector<OnnxTokenInput>* token_inputs = nullptr;
};

/// Reads an ONNX model file into a finalized graph with its parameters.
Graph load_onnx(const std::string& path, const OnnxImportOptions& options = {});

/// The same from the serialized bytes of a ModelProto; `name` stands for the
/// file in error messages.
Graph load_onnx_bytes(const std::string& bytes, const std::string& name,
                      const OnnxImportOptions& options = {});

/// Writes `graph` as an ONNX model at `opset` (11–17), through a temporary
/// file renamed into place. The batch dimension is written as the symbolic
/// dimension "N"; parameters become initializers under their own names.
/// Throws ValueError naming the node when an op has no ONNX equivalent
/// (e.g. gelu before opset 20, transform nodes).
void save_onnx(const Graph& graph, const std::string& path, int opset = onnx_max_opset);

/// The serialized ModelProto that `save_onnx` would write.
std::string save_onnx_bytes(const Graph& graph, int opset = onnx_max_opset);

}  // namespace trim::io
