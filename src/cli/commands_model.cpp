// `trim info` and `trim predict`: what a model takes and gives, and its outputs.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>

#include "commands.hpp"
#include "inputs.hpp"
#include "outputs.hpp"
#include "stream.hpp"
#include "trim/core/error.hpp"
#include "trim/io/onnx.hpp"
#include "trim/io/model_summary.hpp"
#include "trim/io/onnx_info.hpp"

namespace trim::cli {

namespace {

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
  std::fputs(io::model_summary_text(io::summarize_model(m.path, m.graph, file, m.tokens)).c_str(), stdout);
}

/// Examples per graph evaluation: a fixed grid of calls, so a streamed run
/// (chunks are multiples of it) gives the in-memory run's outputs bit for bit
/// (a row's result can depend on where it sits in the batch).
constexpr int64_t kPredictRows = 64;

/// The model's outputs for the batch x, kPredictRows examples per evaluation.
Tensor evaluate_in_calls(const Graph& g, const Tensor& x) {
  if (x.dim(0) <= kPredictRows) return g.evaluate(x);
  Tensor y;
  for (int64_t e0 = 0; e0 < x.dim(0); e0 += kPredictRows) {
    const int64_t e1 = std::min(x.dim(0), e0 + kPredictRows);
    const Tensor part = g.evaluate(rows(x, e0, e1));
    if (y.numel() == 0) {
      Shape s = part.shape();
      s[0] = x.dim(0);
      y = Tensor(s);
    }
    std::copy(part.begin(), part.end(), y.begin() + e0 * (part.numel() / (e1 - e0)));
  }
  return y;
}

/// Prints outputs [N, outputs...] one example per line.
void print_outputs(const Tensor& y, int64_t per) {
  for (int64_t e = 0; e < y.dim(0); ++e) {
    std::printf("%lld:", static_cast<long long>(e));
    for (int64_t k = 0; k < per; ++k) std::printf(" %.7g", static_cast<double>(y[e * per + k]));
    std::printf("\n");
  }
}

/// A streamed predict (stream.hpp): the same [N, outputs...], a chunk at a time.
void run_predict_streamed(const Args& args) {
  Model m;
  agreed([&] { m = load_model(args.positional(0)); });
  StreamJob job;
  job.command = "predict";
  job.model = &m;
  job.input = args.positional(1);
  job.output = args.get("output");
  job.row_shape = m.output_shape.to_vector();
  job.call = kPredictRows;
  job.settings = run_settings(args);
  job.label = "predict";
  job.compute = [&](int64_t, const Tensor& x, const std::function<void(int64_t, int64_t)>&) {
    return evaluate_in_calls(m.graph, x);
  };
  const StreamReport rep = run_streamed(args, job);
  if (job.output.empty() && rep.lead) print_outputs(rep.printed, m.n_outputs);
}

void run_predict(const Args& args) {
  const std::string& model_path = args.positional(0);
  const std::string& input_path = args.positional(1);
  const std::string out = args.get("output");
  if (is_streamed(args, input_path, out)) return run_predict_streamed(args);
  Outputs outputs;
  outputs.declare(out, "-o");
  const Model m = load_model(model_path);
  const Tensor x = model_input(m, read_finite_npy(input_path, "input"), input_path);
  const Tensor y = evaluate_in_calls(m.graph, x);
  require_finite(y, "the outputs of model '" + model_path + "'", "the model overflows for this input");
  if (out.empty()) return print_outputs(y, m.n_outputs);
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
  s.options = {output_option("the outputs [batch, output...] (float32 .npy, or FILE.h5:/path streamed); default: "
                            "print them"),
               quiet_option()};
  for (const OptionSpec& o : stream_options()) s.options.push_back(o);
  s.examples = "  trim predict lenet.onnx digits.npy -o logits.npy\n";
  return {s, run_predict};
}

}  // namespace trim::cli
