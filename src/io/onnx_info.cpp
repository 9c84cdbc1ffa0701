#include "trim/io/onnx_info.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include "onnx_internal.hpp"
#include "trim/core/error.hpp"

namespace trim::io {

OnnxModelInfo read_onnx_info(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("onnx '" + path + "': cannot open the file");
  std::stringstream bytes;
  bytes << in.rdbuf();
  return read_onnx_info_bytes(bytes.str(), path);
}

OnnxModelInfo read_onnx_info_bytes(const std::string& data, const std::string& path) {
  onnx::ModelProto m;
  if (data.empty() || data.size() > static_cast<size_t>(INT32_MAX) ||
      !m.ParseFromArray(data.data(), static_cast<int>(data.size())))
    throw IoError("onnx '" + path + "': not a valid ONNX protobuf (malformed or truncated file)");
  OnnxModelInfo info;
  info.producer = m.producer_name();
  if (!m.producer_version().empty()) info.producer += (info.producer.empty() ? "" : " ") + m.producer_version();
  info.ir_version = m.ir_version();
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") info.opset = o.version();
  const onnx::GraphProto& g = m.graph();
  info.graph_name = g.name();
  std::set<std::string> initializers;
  for (const auto& t : g.initializer()) initializers.insert(t.name());
  for (const auto& v : g.input())
    if (!initializers.count(v.name())) info.inputs.push_back(v.name());
  for (const auto& v : g.output()) info.outputs.push_back(v.name());
  for (const auto& n : g.node()) ++info.op_counts[n.op_type()];
  return info;
}

}  // namespace trim::io
