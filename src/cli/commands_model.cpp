// `trim info` and `trim predict`: what a model takes and gives, and its outputs.
#include <cstdio>
#include <exception>
#include <map>

#include "commands.hpp"
#include "inputs.hpp"
#include "outputs.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/kind.hpp"
#include "trim/io/onnx.hpp"
#include "trim/io/onnx_info.hpp"

namespace trim::cli {

namespace {

/// Whether the file has BatchNormalization nodes, or probably had them
/// folded into its convolutions by the exporter: CD splits a BatchNorm's
/// shift on its own, a folded one as part of the conv bias.
std::string batchnorm_text(const io::OnnxModelInfo& info) {
  auto count = [&](const char* op) {
    const auto it = info.op_counts.find(op);
    return it == info.op_counts.end() ? 0 : it->second;
  };
  const int bn = count("BatchNormalization");
  if (bn > 0) return std::to_string(bn) + " BatchNormalization node" + (bn > 1 ? "s" : "") +
                     " (CD splits each one's shift on its own)";
  if (count("Conv") > 0)
    return "none (BatchNorm layers, if any, were folded into the convolutions by the exporter;\n"
           "            CD then splits their shift as part of the conv bias)";
  return "none";
}

/// The load error of a model that does not import, extended to every node
/// trim cannot read (not only the first), each with the PyTorch layer it
/// usually comes from: one line, of the first error's type.
[[noreturn]] void rethrow_listing_unsupported(const std::string& path) {
  const std::exception_ptr first = std::current_exception();
  std::vector<io::OnnxIssue> issues;
  try {
    issues = io::check_onnx(path);
  } catch (const std::exception&) {
    std::rethrow_exception(first);  // the file itself is unreadable: the load error says why
  }
  if (issues.empty()) std::rethrow_exception(first);
  std::string msg = "onnx '" + path + "': " + std::to_string(issues.size()) + " node" +
                    (issues.size() == 1 ? "" : "s") + " trim cannot read: ";
  for (size_t k = 0; k < issues.size(); ++k) {
    const io::OnnxIssue& i = issues[k];
    msg += (k ? "; " : "") + ("node '" + i.node + "' (" + i.op_type + "): " + i.message) +
           (i.hint.empty() ? "" : " [usually " + i.hint + "]");
  }
  try {
    std::rethrow_exception(first);
  } catch (const ShapeError&) {
    throw ShapeError(msg);
  } catch (const ValueError&) {
    throw ValueError(msg);
  } catch (const IoError&) {
    throw IoError(msg);
  } catch (...) {
    throw Error(msg);
  }
}

void run_info(const Args& args) {
  const io::OnnxModelInfo file = io::read_onnx_info(args.positional(0));
  const Model m = [&] {
    try {
      return load_model(args.positional(0));
    } catch (const Error&) {
      rethrow_listing_unsupported(args.positional(0));
    }
  }();
  const Graph& g = m.graph;
  std::map<Kind, int> kinds;
  int nodes = 0;
  std::string opaque;  // the first node contextual decomposition cannot pass
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    if (n.is_input) continue;
    ++nodes;
    ++kinds[n.op->kind()];
    if (n.op->kind() == Kind::Opaque && opaque.empty()) opaque = g.describe(id);
  }
  int64_t trainable = 0;
  for (const Parameter& p : g.parameters())
    if (p.trainable) trainable += p.value.numel();
  std::printf("model       %s\n", m.path.c_str());
  std::printf("format      ONNX opset %lld, IR version %lld, produced by %s%s\n", static_cast<long long>(file.opset),
              static_cast<long long>(file.ir_version), file.producer.empty() ? "(not recorded)" : file.producer.c_str(),
              file.graph_name.empty() ? "" : (", graph '" + file.graph_name + "'").c_str());
  const std::string input_name = file.inputs.size() == 1 ? file.inputs[0] : g.node(g.inputs()[0]).name;
  const std::string output_name = file.outputs.size() == 1 ? file.outputs[0] : g.node(g.outputs()[0]).name;
  std::printf("input       '%s' %s: one example is %s\n", input_name.c_str(), batch_text(m.example_shape).c_str(),
              m.example_shape.str().c_str());
  for (const io::OnnxTokenInput& t : m.tokens)
    std::printf("tokens      '%s' (token ids) is explained in the space of its embedding '%s' %s: the input above "
                "is the embedded sequence (group by time steps or spans)\n",
                t.ids.c_str(), t.embedding.c_str(), t.table.shape().str().c_str());
  std::printf("output      '%s' %s: %lld values per example (targets 0 to %lld)\n", output_name.c_str(),
              batch_text(m.output_shape).c_str(), static_cast<long long>(m.n_outputs),
              static_cast<long long>(m.n_outputs - 1));
  std::printf("nodes       %d:", nodes);
  for (Kind k : {Kind::Linear, Kind::Elementwise, Kind::Selection, Kind::Structural, Kind::Sum, Kind::Product,
                 Kind::Cell, Kind::Opaque})
    if (k != Kind::Cell || kinds[k] > 0)  // recurrent cells only where there are some
      std::printf(" %s %d%s", kind_name(k), kinds[k], k == Kind::Opaque ? "\n" : ",");
  std::printf("parameters  %zu tensors, %lld trainable values\n", g.parameters().size(),
              static_cast<long long>(trainable));
  std::printf("batchnorm   %s\n", batchnorm_text(file).c_str());
  if (opaque.empty())
    std::printf("methods     all (no opaque node)\n");
  else
    std::printf("methods     all but cd, which cannot pass opaque %s (DeepLIFT uses its gradient there)\n",
                opaque.c_str());
}

void run_predict(const Args& args) {
  const std::string& model_path = args.positional(0);
  const std::string& input_path = args.positional(1);
  const std::string out = args.get("output");
  Outputs outputs;
  outputs.declare(out, "-o");
  const Model m = load_model(model_path);
  const Tensor x = model_input(m, read_finite_npy(input_path, "input"), input_path);
  const Tensor y = m.graph.evaluate(x);
  require_finite(y, "the outputs of model '" + model_path + "'", "the model overflows for this input");
  if (out.empty()) {
    const int64_t per = m.n_outputs;
    for (int64_t e = 0; e < x.dim(0); ++e) {
      std::printf("%lld:", static_cast<long long>(e));
      for (int64_t k = 0; k < per; ++k) std::printf(" %.7g", static_cast<double>(y[e * per + k]));
      std::printf("\n");
    }
    return;
  }
  outputs.npy(out, y, "the outputs of model '" + model_path + "'");
  outputs.commit();
}

}  // namespace

Command info_command() {
  CommandSpec s;
  s.name = "info";
  s.summary = "show a model's input and output shapes, node kinds and parameters";
  s.description =
      "Reads an ONNX model and prints what trim needs to explain it: the opset and the exporter that wrote it, the "
      "input and output names as the file gives them, the shape of one input example (the shape INPUT.npy files must "
      "have, with or without a leading batch axis), the number of outputs (the indices --target takes), how many "
      "nodes of each kind it has, whether it has BatchNorm nodes or had them folded into its convolutions (CD splits "
      "the bias differently), and whether contextual decomposition can pass every node.";
  s.positionals = {{"MODEL.onnx", "the model (ONNX, opsets 11-17; see docs/io.md for the operators)"}};
  s.examples = "  trim info lenet.onnx\n";
  return {s, run_info};
}

Command predict_command() {
  CommandSpec s;
  s.name = "predict";
  s.summary = "run a model on one example or a batch";
  s.description =
      "Evaluates the model on INPUT.npy and writes its outputs as [batch, output...] (always with the batch axis, "
      "also for a single example). Without -o the outputs are printed, one example per line.";
  s.positionals = model_and_input();
  s.options = {output_option("the outputs [batch, output...] (float32 .npy); default: print them")};
  s.examples = "  trim predict lenet.onnx digits.npy -o logits.npy\n";
  return {s, run_predict};
}

}  // namespace trim::cli
