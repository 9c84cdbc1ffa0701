#pragma once
/// \file
/// What an ONNX file says about itself, as written by its exporter, read
/// without building a graph: the names its outputs go by, the opset, the
/// producer, and how many nodes of each operator it has. `trim info` shows
/// it, so a user sees the names they gave in the exporter (not trim's node
/// names) and whether BatchNorm was folded into the convolutions.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace trim::io {

struct OnnxModelInfo {
  std::string producer;          ///< producer_name and producer_version, e.g. "pytorch 1.13.1"
  std::string graph_name;
  int64_t ir_version = 0;
  int64_t opset = 0;             ///< of the default (ai.onnx) domain; 0 when absent
  std::vector<std::string> inputs;   ///< graph inputs that are not initializers
  std::vector<std::string> outputs;  ///< graph output names
  std::map<std::string, int> op_counts;  ///< operator type -> number of nodes
};

/// Reads the model's header and node list; IoError naming the file when it
/// cannot be read or is not an ONNX protobuf.
OnnxModelInfo read_onnx_info(const std::string& path);

/// The same from the serialized bytes of a ModelProto; `name` stands for the
/// file in error messages.
OnnxModelInfo read_onnx_info_bytes(const std::string& bytes, const std::string& name);

}  // namespace trim::io
