// The model summary `trim info` prints and `trim.Model.info()` returns.
#include "trim/io/model_summary.hpp"

#include <cstdio>
#include <map>

#include "trim/core/error.hpp"

namespace trim::io {

namespace {

Shape drop_batch(const Shape& s) {
  Shape out;
  for (int a = 1; a < s.rank(); ++a) out.push_back(s[a]);
  return out;
}

/// "[N,4,5]" for the example shape [4,5].
std::string batch_text(const Shape& example) {
  return example.rank() == 0 ? "[N]" : "[N," + example.str().substr(1);
}

int op_count(const OnnxModelInfo& info, const char* op) {
  const auto it = info.op_counts.find(op);
  return it == info.op_counts.end() ? 0 : it->second;
}

/// Whether the file has BatchNormalization nodes, or probably had them
/// folded into its convolutions by the exporter: CD splits a BatchNorm's
/// shift on its own, a folded one as part of the conv bias.
std::string batchnorm_text(const ModelSummary& s) {
  const int bn = s.batchnorm_nodes;
  if (bn > 0)
    return std::to_string(bn) + " BatchNormalization node" + (bn > 1 ? "s" : "") +
           " (CD splits each one's shift on its own)";
  if (s.conv_nodes > 0)
    return "none (BatchNorm layers, if any, were folded into the convolutions by the exporter;\n"
           "            CD then splits their shift as part of the conv bias)";
  return "none";
}

template <typename... A>
std::string format(const char* f, A... a) {
  const int n = std::snprintf(nullptr, 0, f, a...);
  std::string s(static_cast<size_t>(n) + 1, '\0');
  std::snprintf(&s[0], s.size(), f, a...);
  s.resize(static_cast<size_t>(n));
  return s;
}

}  // namespace

ModelSummary summarize_model(const std::string& model, const Graph& g, const OnnxModelInfo& file,
                             const std::vector<OnnxTokenInput>& tokens) {
  if (g.inputs().size() != 1 || g.outputs().size() != 1)
    throw ValueError("model '" + model + "' has " + std::to_string(g.inputs().size()) + " inputs and " +
                     std::to_string(g.outputs().size()) + " outputs; trim explains models with one of each");
  ModelSummary s;
  s.model = model;
  s.file = file;
  s.input_name = file.inputs.size() == 1 ? file.inputs[0] : g.node(g.inputs()[0]).name;
  s.output_name = file.outputs.size() == 1 ? file.outputs[0] : g.node(g.outputs()[0]).name;
  s.example_shape = drop_batch(g.shape(g.inputs()[0]));
  s.output_shape = drop_batch(g.shape(g.outputs()[0]));
  s.n_outputs = s.output_shape.numel();
  for (const OnnxTokenInput& t : tokens) s.tokens.push_back({t.ids, t.embedding, t.table.shape()});
  std::map<Kind, int> kinds;
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    if (n.is_input) continue;
    ++s.nodes;
    ++kinds[n.op->kind()];
    if (n.op->kind() == Kind::Opaque && s.cd_blocker.empty()) s.cd_blocker = g.describe(id);
  }
  for (Kind k : {Kind::Linear, Kind::Elementwise, Kind::Selection, Kind::Structural, Kind::Sum, Kind::Product,
                 Kind::Cell, Kind::Opaque})
    if (k != Kind::Cell || kinds[k] > 0)  // recurrent cells only where there are some
      s.kinds.emplace_back(k, kinds[k]);
  s.parameter_tensors = static_cast<int64_t>(g.parameters().size());
  for (const Parameter& p : g.parameters())
    if (p.trainable) s.trainable_values += p.value.numel();
  s.batchnorm_nodes = op_count(file, "BatchNormalization");
  s.conv_nodes = op_count(file, "Conv");
  return s;
}

std::string model_summary_text(const ModelSummary& s) {
  const OnnxModelInfo& file = s.file;
  std::string o;
  o += format("model       %s\n", s.model.c_str());
  o += format("format      ONNX opset %lld, IR version %lld, produced by %s%s\n", static_cast<long long>(file.opset),
              static_cast<long long>(file.ir_version), file.producer.empty() ? "(not recorded)" : file.producer.c_str(),
              file.graph_name.empty() ? "" : (", graph '" + file.graph_name + "'").c_str());
  o += format("input       '%s' %s: one example is %s\n", s.input_name.c_str(), batch_text(s.example_shape).c_str(),
              s.example_shape.str().c_str());
  for (const ModelSummary::Tokens& t : s.tokens)
    o += format("tokens      '%s' (token ids) is explained in the space of its embedding '%s' %s: the input above "
                "is the embedded sequence (group by time steps or spans)\n",
                t.ids.c_str(), t.embedding.c_str(), t.table_shape.str().c_str());
  o += format("output      '%s' %s: %lld values per example (targets 0 to %lld)\n", s.output_name.c_str(),
              batch_text(s.output_shape).c_str(), static_cast<long long>(s.n_outputs),
              static_cast<long long>(s.n_outputs - 1));
  o += format("nodes       %d:", s.nodes);
  for (size_t k = 0; k < s.kinds.size(); ++k)
    o += format(" %s %d%s", kind_name(s.kinds[k].first), s.kinds[k].second, k + 1 == s.kinds.size() ? "\n" : ",");
  o += format("parameters  %lld tensors, %lld trainable values\n", static_cast<long long>(s.parameter_tensors),
              static_cast<long long>(s.trainable_values));
  o += format("batchnorm   %s\n", batchnorm_text(s).c_str());
  if (s.cd_blocker.empty())
    o += "methods     all (no opaque node)\n";
  else
    o += format("methods     all but cd, which cannot pass opaque %s (DeepLIFT uses its gradient there)\n",
                s.cd_blocker.c_str());
  return o;
}

}  // namespace trim::io
