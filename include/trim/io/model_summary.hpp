#pragma once
/// \file
/// What trim needs to know to explain an ONNX model, in one place: the
/// shapes of one example and its outputs, the names the exporter gave them,
/// the nodes per kind, the parameters, BatchNorm (kept or folded into the
/// convolutions) and the first node contextual decomposition cannot pass.
/// `trim info` prints it and the Python module's `Model.info()` returns it,
/// so both always say the same.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "trim/graph/graph.hpp"
#include "trim/graph/kind.hpp"
#include "trim/io/onnx.hpp"
#include "trim/io/onnx_info.hpp"

namespace trim::io {

struct ModelSummary {
  std::string model;  ///< the file, or the name standing for it
  OnnxModelInfo file;
  /// As the file names them (trim's node names when the file lists several).
  std::string input_name, output_name;
  Shape example_shape;  ///< one input example, without the batch axis
  Shape output_shape;   ///< one example's output, without the batch axis
  int64_t n_outputs = 0;
  /// Token-id inputs explained in the space of their embedding: ids input,
  /// embedding initializer, table shape.
  struct Tokens {
    std::string ids, embedding;
    Shape table_shape;
  };
  std::vector<Tokens> tokens;
  int nodes = 0;  ///< graph nodes that are not inputs
  /// Nodes per kind, every kind listed (also with none), in kind order.
  std::vector<std::pair<Kind, int>> kinds;
  int64_t parameter_tensors = 0;
  int64_t trainable_values = 0;
  int batchnorm_nodes = 0;  ///< BatchNormalization nodes in the file
  int conv_nodes = 0;       ///< Conv nodes in the file (BatchNorm may be folded into them)
  /// The first opaque node (trim's description), which CD cannot pass; empty when none.
  std::string cd_blocker;
};

/// The summary of `graph`, imported from the ONNX model `file` describes
/// (with `tokens` as load_onnx reported them). ValueError unless the graph
/// has one input and one output.
ModelSummary summarize_model(const std::string& model, const Graph& graph, const OnnxModelInfo& file,
                             const std::vector<OnnxTokenInput>& tokens = {});

/// The summary as `trim info` prints it: one line per item, each starting
/// with its name in a column of 12 ("model", "format", "input", ...).
std::string model_summary_text(const ModelSummary& summary);

}  // namespace trim::io
