// ONNX -> trim Graph.
//
// Walks the (topologically sorted) ONNX nodes once. Every ONNX value is
// either a graph node (depends on a graph input, shape with a free batch) or
// a host constant (initializers, Constant nodes, and anything computed only
// from constants, evaluated here). Integer constants may hold the symbolic
// batch size (kBatch) so that shape arithmetic such as
// Shape -> Gather -> Unsqueeze -> Concat -> Reshape resolves without fixing
// the batch. Data operators map onto trim's existing ops, which brings their
// Kind along; anything else is reported with the file, node and operator.
//
// The Importer (onnx_importer.hpp) is split by operator family; this file
// holds the handler table, the driver and the public entry points.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <sstream>

#include "onnx_internal.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/ops/dense.hpp"
#include "trim/io/onnx.hpp"

#include "onnx_importer.hpp"
#include "onnx_lean.hpp"

namespace trim::io {

namespace detail {

/// The PyTorch layer an ONNX node that trim cannot read usually comes from.
std::string unsupported_hint(const onnx::NodeProto& n, const std::string& message) {
  const std::string& t = n.op_type();
  auto has = [&](const char* s) { return message.find(s) != std::string::npos; };
  // A node reading a value whose batch axis a Transpose moved (followed, not
  // refused, since a later Transpose may put it back).
  if (has("batch axis moved")) return "sequence-first layouts inside nn.MultiheadAttention / nn.TransformerEncoder";
  if (has("merged with other axes") || has("mix the batch"))
    return "nn.MultiheadAttention's [T, N*heads, d] read piecewise, or a view() that mixes examples";
  if (t == "LSTM") return "torch.nn.LSTM";
  if (t == "GRU") return "torch.nn.GRU";
  if (t == "RNN") return "torch.nn.RNN";
  if (t == "ConvTranspose") return "torch.nn.ConvTranspose1d/2d: decoders, U-Net up-sampling";
  if (t == "Resize" || t == "Upsample") return "torch.nn.Upsample / F.interpolate: U-Net, feature pyramids";
  if ((t == "Conv" || t == "MaxPool" || t == "AveragePool") && (has("[N,C,L]") || has("1-D and 2-D")))
    return "torch.nn.Conv3d / MaxPool3d / AvgPool3d: volumes";
  if (t == "Where" || t == "Equal" || t == "Not" || t == "Expand" || t == "ConstantOfShape")
    return "masks and class tokens: ViT, nn.TransformerEncoder (attention masks), torch.where";
  if (t == "Mod" || t == "ScatterND" || t == "Roll") return "Swin Transformer's shifted windows (torch.roll, window partition)";
  if (t == "Gather" || t == "Embedding") return "nn.Embedding: a token model (int64 ids)";
  if (t == "Transpose" && has("batch")) return "sequence-first layouts inside nn.MultiheadAttention / nn.TransformerEncoder";
  if (t == "InstanceNormalization") return "nn.GroupNorm / nn.InstanceNorm";
  if (t == "Einsum") return "torch.einsum: attention variants";
  if (t == "Split") return "torch.chunk / torch.split: q, k, v from one projection";
  if (t == "ReduceMean" || t == "ReduceSum" || t == "ReduceMax") return "x.mean(dim) / x.sum(dim); LayerNorm before opset 17";
  if (t == "Softmax") return "attention weights or a classifier's softmax";
  if (t == "Mul" || t == "Div") return "SiLU / Swish, squeeze-excitation, gating (a product of two data inputs)";
  if (t == "MatMul") return "attention: q @ kᵀ and weights @ v";
  if (t == "Tile") return "tensor.repeat";
  if (t == "Cast" || t == "Shape" || t == "Range") return "shape arithmetic on the batch size (x.view(x.size(0), ...))";
  return "";
}

const std::map<std::string, Importer::Handler>& Importer::handlers() {
  static const std::map<std::string, Handler> h = {
      {"Identity", &Importer::op_identity},
      {"Dropout", &Importer::op_dropout},
      {"Constant", &Importer::op_constant},
      {"ConstantOfShape", &Importer::op_constant_of_shape},
      {"Shape", &Importer::op_shape},
      {"Cast", &Importer::op_cast},
      {"Gather", &Importer::op_gather},
      {"Unsqueeze", &Importer::op_unsqueeze},
      {"Squeeze", &Importer::op_squeeze},
      {"Concat", &Importer::op_concat},
      {"Reshape", &Importer::op_reshape},
      {"Flatten", &Importer::op_flatten},
      {"Transpose", &Importer::op_transpose},
      {"Slice", &Importer::op_slice},
      {"Range", &Importer::op_range},
      {"Add", &Importer::op_arith},
      {"Sub", &Importer::op_arith},
      {"Mul", &Importer::op_arith},
      {"Div", &Importer::op_arith},
      {"Sum", &Importer::op_sum},
      {"Neg", &Importer::op_unary_math},
      {"Sqrt", &Importer::op_unary_math},
      {"Reciprocal", &Importer::op_unary_math},
      {"Gemm", &Importer::op_gemm},
      {"MatMul", &Importer::op_matmul},
      {"Conv", &Importer::op_conv},
      {"ConvTranspose", &Importer::op_conv_transpose},
      {"Resize", &Importer::op_resize},
      {"Upsample", &Importer::op_resize},
      {"Equal", &Importer::op_compare},
      {"Not", &Importer::op_not},
      {"Mod", &Importer::op_mod},
      {"Where", &Importer::op_where},
      {"Expand", &Importer::op_expand},
      {"ScatterND", &Importer::op_scatter_nd},
      {"BatchNormalization", &Importer::op_batch_norm},
      {"Relu", &Importer::op_activation},
      {"LeakyRelu", &Importer::op_activation},
      {"Elu", &Importer::op_activation},
      {"Sigmoid", &Importer::op_activation},
      {"Tanh", &Importer::op_activation},
      {"Softplus", &Importer::op_activation},
      {"Clip", &Importer::op_activation},
      {"Softmax", &Importer::op_softmax},
      {"LogSoftmax", &Importer::op_softmax},
      {"MaxPool", &Importer::op_pool},
      {"AveragePool", &Importer::op_pool},
      {"GlobalAveragePool", &Importer::op_global_avg_pool},
      {"ReduceMean", &Importer::op_reduce_mean},
      {"Pad", &Importer::op_pad},
      {"Exp", &Importer::op_activation},
      {"Log", &Importer::op_activation},
      {"Erf", &Importer::op_activation},
      {"HardSigmoid", &Importer::op_activation},
      {"HardSwish", &Importer::op_activation},
      {"Pow", &Importer::op_pow},
      {"ReduceSum", &Importer::op_reduce},
      {"ReduceMax", &Importer::op_reduce},
      {"LayerNormalization", &Importer::op_layer_norm},
      {"LSTM", &Importer::op_recurrent},
      {"GRU", &Importer::op_recurrent},
  };
  return h;
}

// ---- driver ------------------------------------------------------------------------------

void Importer::read_inputs() {
  std::set<std::string> init_names;
  for (const auto& t : graph_->initializer()) init_names.insert(t.name());
  for (const auto& vi : graph_->input()) {
    if (init_names.count(vi.name())) continue;  // IR < 4 lists initializers as inputs
    const std::string where = "onnx '" + file_ + "': input '" + vi.name() + "': ";
    if (vi.name().empty()) throw IoError(where + "an input has no name");
    if (values_.count(vi.name())) throw IoError(where + "declared twice");
    if (!vi.type().has_tensor_type()) throw IoError(where + "is not a tensor");
    const auto& tt = vi.type().tensor_type();
    if (is_token_type(tt.elem_type())) {
      cut_at_embedding(vi, where);
      continue;
    }
    if (tt.elem_type() != onnx::TensorProto::FLOAT)
      throw ValueError(where + "has element type " + detail::onnx_type_name(tt.elem_type()) +
                       ", expected float (trim computes in float32)");
    Shape s{Shape::free};
    auto ov = opt_.input_shapes.find(vi.name());
    if (ov != opt_.input_shapes.end()) {
      for (int64_t d : ov->second) {
        if (d < 1) throw ValueError(where + "per-example shape " + ov->second.str() + " given in the options is not concrete");
        s.push_back(d);
      }
    } else {
      if (!tt.has_shape())
        throw ShapeError(where + "has no shape; pass its per-example shape in OnnxImportOptions::input_shapes");
      const auto& dims = tt.shape().dim();
      if (dims.size() == 0) throw ShapeError(where + "is a scalar; trim needs a leading batch dimension");
      if (dims.size() > Shape::max_rank)
        throw ShapeError(where + "has rank " + std::to_string(dims.size()) + ", more than " + std::to_string(Shape::max_rank));
      if (dims[0].has_dim_value() && dims[0].dim_value() > 0) {
        if (static_batch_ == 0) static_batch_ = dims[0].dim_value();
        else if (static_batch_ != dims[0].dim_value()) static_batch_ = -1;
      }
      for (int k = 1; k < dims.size(); ++k) {
        if (!dims[k].has_dim_value() || dims[k].dim_value() < 1)
          throw ShapeError(where + "dimension " + std::to_string(k) + " is " +
                           (dims[k].has_dim_param() ? "symbolic ('" + dims[k].dim_param() + "')" : std::string("unknown")) +
                           "; only the batch (dimension 0) may vary. Pass the per-example shape in "
                           "OnnxImportOptions::input_shapes" +
                           (dims[0].has_dim_value() && dims[k].has_dim_param()
                                ? std::string(" (a sequence-first input [T, N, ...], as nn.Transformer* with "
                                              "batch_first=False or nn.LSTM take: export a wrapper that takes "
                                              "[N, T, ...] and calls x.transpose(0, 1) inside; trim reads the "
                                              "sequence-first layout from there on)")
                                : std::string()));
        s.push_back(dims[k].dim_value());
      }
    }
    check_example_size(s, where + "declared");
    values_[vi.name()] = Value{true, g_.input(vi.name(), s), {}};
    node_names_.insert(vi.name());
  }
  if (g_.inputs().empty()) throw IoError("onnx '" + file_ + "': the graph has no data input");
  for (const auto& t : graph_->initializer()) {
    if (t.name().empty()) throw IoError("onnx '" + file_ + "': an initializer has no name");
    if (values_.count(t.name())) throw IoError("onnx '" + file_ + "': initializer '" + t.name() + "' is defined twice");
    values_[t.name()] = Value{false, -1, {}, &t};
  }
}

// Token models: an input of integer token ids feeds an embedding table
// (Gather(table, ids)). trim explains such a model in the space of the
// embedded sequence: the Gather's output becomes the graph input
// [N, ids shape..., width] and the table is handed back to the caller
// (OnnxImportOptions::token_inputs) to embed ids.
void Importer::cut_at_embedding(const onnx::ValueInfoProto& vi, const std::string& where) {
  const std::string hint = "; trim explains token models in the space of their embedding, which needs the ids to "
                           "feed only Gather(table, ids) nodes with a constant table";
  int gather = -1;
  for (int k = 0; k < graph_->node_size(); ++k) {
    const auto& nd = graph_->node(k);
    for (int j = 0; j < nd.input_size(); ++j) {
      if (nd.input(j) != vi.name()) continue;
      if (nd.op_type() != "Gather" || j != 1)
        throw ValueError(where + "integer input read by node '" + (nd.name().empty() ? nd.output(0) : nd.name()) + "' (" +
                         nd.op_type() + ")" + hint);
      if (gather >= 0) throw ValueError(where + "integer input read by more than one Gather" + hint);
      gather = k;
    }
  }
  if (gather < 0) throw ValueError(where + "integer input is not used" + hint);
  const auto& nd = graph_->node(gather);
  for (const auto& a : nd.attribute())
    if (a.name() == "axis" && a.i() != 0) throw ValueError(where + "Gather along axis " + std::to_string(a.i()) + hint);
  const onnx::TensorProto* table = nullptr;
  for (const auto& t : graph_->initializer())
    if (t.name() == nd.input(0)) table = &t;
  if (!table) throw ValueError(where + "the embedding table '" + nd.input(0) + "' is not an initializer" + hint);
  HostTensor tc = from_proto(*table, "embedding table '" + nd.input(0) + "'", external(*table));
  if (tc.is_int || tc.rank() != 2) throw ValueError(where + "embedding table " + tc.describe() + ", expected float [vocabulary, width]");
  const auto& tt = vi.type().tensor_type();
  if (!tt.has_shape() || tt.shape().dim_size() < 1) throw ShapeError(where + "token ids need a shape [N, ...]");
  Shape s{Shape::free};
  for (int k = 1; k < tt.shape().dim_size(); ++k) {
    const auto& d = tt.shape().dim(k);
    if (!d.has_dim_value() || d.dim_value() < 1)
      throw ShapeError(where + "dimension " + std::to_string(k) + " of the token ids is not fixed; only the batch may vary");
    s.push_back(d.dim_value());
  }
  s.push_back(tc.shape[1]);
  check_example_size(s, where + "embedded");
  const std::string name = nd.output(0);
  if (values_.count(name)) throw IoError(where + "value '" + name + "' is defined twice");
  values_[name] = Value{true, g_.input(name, s), {}};
  node_names_.insert(name);
  fused_.insert(gather);
  if (opt_.token_inputs) opt_.token_inputs->push_back({vi.name(), name, nd.input(0), to_tensor(std::move(tc), "embedding table")});
}

void Importer::dispatch() {
  if (!n_->domain().empty() && n_->domain() != "ai.onnx")
    throw IoError("operator domain '" + n_->domain() + "' is not supported (only the default ONNX domain)");
  if (n_->output_size() == 0 || n_->output(0).empty()) throw ValueError("the node has no output");
  const auto& h = handlers();
  auto it = h.find(n_->op_type());
  if (it == h.end()) {
    std::string list;
    for (const auto& kv : h) list += (list.empty() ? "" : ", ") + kv.first;
    throw IoError("unsupported operator (trim reads: " + list + ")");
  }
  if (op_layout() || op_moved_layout()) return;
  (this->*(it->second))();
}

void Importer::survey_node() {
  bool fed_by_failure = false;
  for (const auto& name : n_->input()) fed_by_failure = fed_by_failure || failed_values_.count(name) > 0;
  const bool known = (n_->domain().empty() || n_->domain() == "ai.onnx") && handlers().count(n_->op_type());
  if (!(fed_by_failure && known)) {  // a known node fed by a failure is not at fault itself
    try {
      dispatch();
      return;
    } catch (const std::exception& e) {
      const std::string what = known ? e.what() : "unsupported operator";
      issues_->push_back({label(), n_->op_type(), what, unsupported_hint(*n_, what)});
    }
  }
  for (const auto& name : n_->output())
    if (!name.empty()) failed_values_.insert(name);
}

Graph Importer::run(const onnx::ModelProto& m, const RawIndex* raw) {
  raw_ = raw;
  if (!m.has_graph()) throw IoError("onnx '" + file_ + "': no graph in the file (not an ONNX model?)");
  bool found = false;
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") {
      opset_ = static_cast<int>(std::min<int64_t>(o.version(), 1000));
      found = true;
    }
  if (!found) throw IoError("onnx '" + file_ + "': no opset for the default ONNX domain (not an ONNX model?)");
  if ((opset_ < onnx_min_opset || opset_ > onnx_max_opset) && !opt_.allow_any_opset)
    throw IoError("onnx '" + file_ + "': opset " + std::to_string(opset_) + " is not supported (trim reads opsets " +
                  std::to_string(onnx_min_opset) + "-" + std::to_string(onnx_max_opset) +
                  "; set OnnxImportOptions::allow_any_opset to try anyway)");
  graph_ = &m.graph();
  if (graph_->sparse_initializer_size() > 0)
    throw IoError("onnx '" + file_ + "': sparse initializers are not supported");
  if (graph_->output_size() == 0) throw IoError("onnx '" + file_ + "': the graph has no outputs");
  for (const auto& o : graph_->output()) graph_outputs_.insert(o.name());
  for (int k = 0; k < graph_->node_size(); ++k)
    for (const auto& name : graph_->node(k).input())
      if (!name.empty()) {
        ++use_count_[name];
        consumer_[name] = k;
      }
  read_inputs();

  for (n_index_ = 0; n_index_ < graph_->node_size(); ++n_index_) {
    if (fused_.count(n_index_)) continue;
    n_ = &graph_->node(n_index_);
    base_ = !n_->name().empty() ? n_->name() : n_->output_size() && !n_->output(0).empty() ? n_->output(0) : n_->op_type();
    if (issues_) {
      survey_node();
      release_consumed();
      continue;
    }
    try {
      dispatch();
      release_consumed();
    } catch (const ShapeError& e) {
      throw ShapeError(ctx() + e.what());
    } catch (const ValueError& e) {
      throw ValueError(ctx() + e.what());
    } catch (const IoError& e) {
      throw IoError(ctx() + e.what());
    } catch (const Error& e) {
      throw Error(ctx() + e.what());
    } catch (const std::bad_alloc&) {
      throw IoError(ctx() + "out of memory (absurd sizes in the file?)");
    } catch (const std::exception& e) {
      throw IoError(ctx() + e.what());
    }
  }
  n_ = nullptr;
  if (issues_) return Graph();

  std::vector<NodeId> outs;
  for (const auto& o : graph_->output()) {
    auto it = values_.find(o.name());
    if (it == values_.end())
      throw IoError("onnx '" + file_ + "': graph output '" + o.name() + "' is not produced by any node");
    if (!it->second.moved.empty())
      throw ShapeError("onnx '" + file_ + "': graph output '" + o.name() +
                       "' has its batch axis moved by a Transpose; trim needs the batch first in every output");
    if (it->second.is_node) {
      outs.push_back(it->second.node);
    } else {
      try {
        decoded(it->second);
      } catch (const Error& e) {
        throw IoError("onnx '" + file_ + "': graph output '" + o.name() + "': " + e.what());
      }
      base_ = o.name();
      const Tensor t = to_tensor(it->second.c, "onnx '" + file_ + "': constant graph output '" + o.name() + "'");
      const int p = param(o.name(), "", t, false);
      outs.push_back(g_.add(std::make_shared<ops::Constant>(), {}, {p}, fresh(node_names_, o.name())));
    }
  }
  g_.set_outputs(outs);
  g_.finalize();
  return std::move(g_);
}

}  // namespace detail

using detail::Importer;

Graph load_onnx_bytes(const std::string& bytes, const std::string& name, const OnnxImportOptions& options) {
  const detail::LeanModel lean =
      detail::parse_lean(std::make_shared<detail::MemorySource>(bytes.data(), bytes.size(), name), name);
  return Importer(name, options).run(lean.model, &lean.raw);
}

Tensor embed_tokens(const OnnxTokenInput& t, const Tensor& ids) {
  if (t.table.rank() != 2) throw ShapeError("embed_tokens: table " + t.table.shape().str() + ", expected [vocabulary, width]");
  const int64_t vocab = t.table.dim(0), width = t.table.dim(1);
  if (ids.rank() < 1) throw ShapeError("embed_tokens: token ids " + ids.shape().str() + ", expected [N, ...]");
  Shape s = ids.shape();
  s.push_back(width);
  Tensor out(s);
  for (int64_t k = 0; k < ids.numel(); ++k) {
    const float v = ids[k];
    const int64_t id = static_cast<int64_t>(v);
    if (!(v >= 0.0f) || static_cast<float>(id) != v || id >= vocab)
      throw ValueError("embed_tokens: token id " + std::to_string(v) + " at flat index " + std::to_string(k) +
                       " is not an integer in [0, " + std::to_string(vocab) + ") (input '" + t.ids + "')");
    std::copy_n(t.table.data() + id * width, width, out.data() + k * width);
  }
  return out;
}

Graph load_onnx(const std::string& path, const OnnxImportOptions& options) {
  // The file is never read whole: its weights go from disk straight into
  // their parameters (onnx_lean.hpp).
  const detail::LeanModel lean = detail::parse_lean_file(path);
  return Importer(path, options).run(lean.model, &lean.raw);
}

std::vector<OnnxIssue> check_onnx(const std::string& path, const OnnxImportOptions& options) {
  const detail::LeanModel lean = detail::parse_lean_file(path);
  return Importer(path, options).survey(lean.model, &lean.raw);
}

}  // namespace trim::io
