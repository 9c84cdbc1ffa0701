#include "trim/io/onnx_info.hpp"

#include <set>

#include "onnx_internal.hpp"
#include "onnx_lean.hpp"
#include "trim/core/error.hpp"

namespace trim::io {

namespace {

OnnxModelInfo info_of(const onnx::ModelProto& m) {
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

}  // namespace

OnnxModelInfo read_onnx_info(const std::string& path) {
  // A lean parse: the weights stay in the file (onnx_lean.hpp).
  return info_of(detail::parse_lean_file(path).model);
}

OnnxModelInfo read_onnx_info_bytes(const std::string& data, const std::string& path) {
  return info_of(detail::parse_lean(std::make_shared<detail::MemorySource>(data.data(), data.size(), path), path).model);
}

}  // namespace trim::io
