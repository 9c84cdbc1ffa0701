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
#include "onnx_recurrent.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/activation.hpp"
#include "trim/graph/ops/batch_constant.hpp"
#include "trim/graph/ops/batch_norm.hpp"
#include "trim/graph/ops/clip.hpp"
#include "trim/graph/ops/conv.hpp"
#include "trim/graph/ops/conv_transpose.hpp"
#include "trim/graph/ops/dense.hpp"
#include "trim/graph/ops/math.hpp"
#include "trim/graph/ops/product.hpp"
#include "trim/graph/ops/reduce.hpp"
#include "trim/graph/ops/pool.hpp"
#include "trim/graph/ops/resize.hpp"
#include "trim/graph/ops/softmax.hpp"
#include "trim/graph/ops/structural.hpp"
#include "trim/graph/ops/volume.hpp"
#include "trim/io/onnx.hpp"

namespace trim::io {

namespace {

/// The symbolic batch size inside integer constants.
constexpr int64_t kBatch = std::numeric_limits<int64_t>::min();
/// Largest constant computed at import time (elements). Initializers may be
/// larger: their size is checked against the bytes actually stored.
constexpr int64_t kMaxConstElems = int64_t{1} << 24;
/// Bound on a per-example element count: anything larger comes from a
/// corrupt file and would overflow later shape arithmetic.
constexpr int64_t kMaxExampleElems = int64_t{1} << 40;

std::string list_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ",";
    s += v[i] == kBatch ? std::string("N") : std::to_string(v[i]);
  }
  return s + "]";
}

int64_t checked_numel(const std::vector<int64_t>& shape, const std::string& what,
                      int64_t limit = kMaxConstElems) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw ShapeError(what + " has a negative dimension in " + list_str(shape));
    if (d != 0 && n > limit / d)
      throw ShapeError(what + " of shape " + list_str(shape) + " is too large (more than " + std::to_string(limit) +
                       " elements)");
    n *= d;
  }
  return n;
}

/// A constant: float or integer (bool and all integer types), row-major.
struct HostTensor {
  bool is_int = false;
  std::vector<int64_t> shape;
  std::vector<float> f;
  std::vector<int64_t> i;

  int64_t numel() const { return static_cast<int64_t>(is_int ? i.size() : f.size()); }
  int rank() const { return static_cast<int>(shape.size()); }
  bool has_batch() const { return is_int && std::find(i.begin(), i.end(), kBatch) != i.end(); }
  double get(int64_t k) const { return is_int ? static_cast<double>(i[static_cast<size_t>(k)]) : f[static_cast<size_t>(k)]; }
  void resize(int64_t n) {
    if (is_int) i.assign(static_cast<size_t>(n), 0);
    else f.assign(static_cast<size_t>(n), 0.0f);
  }
  /// Copies element `from` of `src` (same type) to element `to`.
  void copy_from(const HostTensor& src, int64_t from, int64_t to) {
    if (is_int) i[static_cast<size_t>(to)] = src.i[static_cast<size_t>(from)];
    else f[static_cast<size_t>(to)] = src.f[static_cast<size_t>(from)];
  }
  std::string describe() const {
    std::string s = std::string(is_int ? "int" : "float") + " " + list_str(shape);
    if (numel() <= 8) {
      s += " = {";
      for (int64_t k = 0; k < numel(); ++k) {
        if (k) s += ",";
        if (is_int) s += i[static_cast<size_t>(k)] == kBatch ? "N" : std::to_string(i[static_cast<size_t>(k)]);
        else {
          std::ostringstream o;
          o << f[static_cast<size_t>(k)];
          s += o.str();
        }
      }
      s += "}";
    }
    return s;
  }
};

std::vector<int64_t> strides_of(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t k = shape.size(); k-- > 1;) s[k - 1] = s[k] * shape[k];
  return s;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

uint64_t load_le(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int k = n - 1; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}

/// Decodes an ONNX TensorProto, checking every count against its dims.
HostTensor from_proto(const onnx::TensorProto& t, const std::string& what_in) {
  const std::string what = what_in + " '" + t.name() + "'";
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw IoError(what + " is stored in an external data file, which trim does not read "
                         "(save the model with its weights inside)");
  if (t.has_segment()) throw IoError(what + " is segmented, which trim does not read");
  HostTensor h;
  h.shape.assign(t.dims().begin(), t.dims().end());
  // The element count is only an upper bound here; each branch below checks
  // it against the data actually stored before allocating.
  const int64_t n = checked_numel(h.shape, what, int64_t{1} << 40);
  const int32_t type = t.data_type();
  const std::string& raw = t.raw_data();
  const bool has_raw = t.has_raw_data();
  auto bad_count = [&](int64_t got, const char* unit) {
    return IoError(what + " of shape " + list_str(h.shape) + " (" + detail::onnx_type_name(type) + ") holds " +
                   std::to_string(got) + " " + unit + ", expected " + std::to_string(n) +
                   " (truncated or corrupt tensor)");
  };
  auto raw_elems = [&](int size) {
    if (raw.size() != static_cast<uint64_t>(n) * static_cast<uint64_t>(size))
      throw IoError(what + " of shape " + list_str(h.shape) + " (" + detail::onnx_type_name(type) + ") has " +
                    std::to_string(raw.size()) + " bytes of raw data, expected " +
                    std::to_string(static_cast<uint64_t>(n) * static_cast<uint64_t>(size)) +
                    " (truncated or corrupt tensor)");
    return reinterpret_cast<const unsigned char*>(raw.data());
  };
  // Check the stored count before allocating anything.
  int elem_size = 0;
  int64_t typed = 0;
  switch (type) {
    case onnx::TensorProto::FLOAT: elem_size = 4; typed = t.float_data_size(); break;
    case onnx::TensorProto::DOUBLE: elem_size = 8; typed = t.double_data_size(); break;
    case onnx::TensorProto::INT64: elem_size = 8; typed = t.int64_data_size(); break;
    case onnx::TensorProto::UINT64: elem_size = 8; typed = t.uint64_data_size(); break;
    case onnx::TensorProto::UINT32: elem_size = 4; typed = t.uint64_data_size(); break;
    case onnx::TensorProto::INT32: elem_size = 4; typed = t.int32_data_size(); break;
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16: elem_size = 2; typed = t.int32_data_size(); break;
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL: elem_size = 1; typed = t.int32_data_size(); break;
    default:
      throw IoError(what + " has element type " + detail::onnx_type_name(type) + ", which trim does not read");
  }
  if (has_raw) raw_elems(elem_size);
  else if (typed != n) throw bad_count(typed, "values");
  switch (type) {
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::DOUBLE:
    case onnx::TensorProto::FLOAT16: {
      h.is_int = false;
      h.f.resize(static_cast<size_t>(n));
      if (type == onnx::TensorProto::FLOAT) {
        if (has_raw) {
          const unsigned char* p = raw_elems(4);
          for (int64_t k = 0; k < n; ++k) {
            const uint32_t b = static_cast<uint32_t>(load_le(p + 4 * k, 4));
            std::memcpy(&h.f[static_cast<size_t>(k)], &b, 4);
          }
        } else {
          if (t.float_data_size() != n) throw bad_count(t.float_data_size(), "values");
          std::copy(t.float_data().begin(), t.float_data().end(), h.f.begin());
        }
      } else if (type == onnx::TensorProto::DOUBLE) {
        auto put = [&](int64_t k, double d) {
          if (std::isfinite(d) && std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max()))
            throw IoError(what + ": double value " + std::to_string(d) + " is outside float32's range");
          h.f[static_cast<size_t>(k)] = static_cast<float>(d);
        };
        if (has_raw) {
          const unsigned char* p = raw_elems(8);
          for (int64_t k = 0; k < n; ++k) {
            const uint64_t b = load_le(p + 8 * k, 8);
            double d;
            std::memcpy(&d, &b, 8);
            put(k, d);
          }
        } else {
          if (t.double_data_size() != n) throw bad_count(t.double_data_size(), "values");
          for (int64_t k = 0; k < n; ++k) put(k, t.double_data(static_cast<int>(k)));
        }
      } else {
        if (has_raw) {
          const unsigned char* p = raw_elems(2);
          for (int64_t k = 0; k < n; ++k)
            h.f[static_cast<size_t>(k)] = half_to_float(static_cast<uint16_t>(load_le(p + 2 * k, 2)));
        } else {
          if (t.int32_data_size() != n) throw bad_count(t.int32_data_size(), "values");
          for (int64_t k = 0; k < n; ++k)
            h.f[static_cast<size_t>(k)] = half_to_float(static_cast<uint16_t>(t.int32_data(static_cast<int>(k))));
        }
      }
      return h;
    }
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
    case onnx::TensorProto::BOOL: {
      h.is_int = true;
      h.i.resize(static_cast<size_t>(n));
      int size = 1;
      bool is_signed = true;
      switch (type) {
        case onnx::TensorProto::INT64: size = 8; break;
        case onnx::TensorProto::INT32: size = 4; break;
        case onnx::TensorProto::INT16: size = 2; break;
        case onnx::TensorProto::UINT16: size = 2; is_signed = false; break;
        case onnx::TensorProto::UINT32: size = 4; is_signed = false; break;
        case onnx::TensorProto::UINT64: size = 8; is_signed = false; break;
        case onnx::TensorProto::UINT8:
        case onnx::TensorProto::BOOL: is_signed = false; break;
        default: break;
      }
      if (has_raw) {
        const unsigned char* p = raw_elems(size);
        for (int64_t k = 0; k < n; ++k) {
          uint64_t b = load_le(p + size * k, size);
          int64_t v;
          if (is_signed && size < 8 && (b >> (8 * size - 1)) & 1) b |= ~uint64_t{0} << (8 * size);
          if (!is_signed && size == 8 && b > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            throw IoError(what + ": uint64 value exceeds int64's range");
          std::memcpy(&v, &b, 8);
          h.i[static_cast<size_t>(k)] = v;
        }
      } else if (type == onnx::TensorProto::INT64) {
        if (t.int64_data_size() != n) throw bad_count(t.int64_data_size(), "values");
        std::copy(t.int64_data().begin(), t.int64_data().end(), h.i.begin());
      } else if (type == onnx::TensorProto::UINT32 || type == onnx::TensorProto::UINT64) {
        if (t.uint64_data_size() != n) throw bad_count(t.uint64_data_size(), "values");
        for (int64_t k = 0; k < n; ++k) {
          const uint64_t v = t.uint64_data(static_cast<int>(k));
          if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            throw IoError(what + ": uint64 value exceeds int64's range");
          h.i[static_cast<size_t>(k)] = static_cast<int64_t>(v);
        }
      } else {
        if (t.int32_data_size() != n) throw bad_count(t.int32_data_size(), "values");
        std::copy(t.int32_data().begin(), t.int32_data().end(), h.i.begin());
      }
      if (type == onnx::TensorProto::BOOL)
        for (int64_t& v : h.i) v = v != 0;
      for (int64_t v : h.i)
        if (v == kBatch) throw IoError(what + " holds INT64_MIN, which trim cannot represent");
      return h;
    }
    default:
      throw IoError(what + " has element type " + detail::onnx_type_name(type) + ", which trim does not read");
  }
}

/// Shape of an ONNX attribute type, for messages.
const char* attr_type_name(int t) {
  switch (t) {
    case onnx::AttributeProto::FLOAT: return "FLOAT";
    case onnx::AttributeProto::INT: return "INT";
    case onnx::AttributeProto::STRING: return "STRING";
    case onnx::AttributeProto::TENSOR: return "TENSOR";
    case onnx::AttributeProto::GRAPH: return "GRAPH";
    case onnx::AttributeProto::FLOATS: return "FLOATS";
    case onnx::AttributeProto::INTS: return "INTS";
    case onnx::AttributeProto::STRINGS: return "STRINGS";
    case onnx::AttributeProto::SPARSE_TENSOR: return "SPARSE_TENSOR";
    default: return "UNDEFINED";
  }
}

/// The PyTorch layer an ONNX node that trim cannot read usually comes from.
std::string unsupported_hint(const onnx::NodeProto& n, const std::string& message) {
  const std::string& t = n.op_type();
  auto has = [&](const char* s) { return message.find(s) != std::string::npos; };
  // A node reading a value whose batch axis a Transpose moved (followed, not
  // refused, since a later Transpose may put it back).
  if (has("batch axis moved")) return "sequence-first layouts inside nn.MultiheadAttention / nn.TransformerEncoder";
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

struct Value {
  bool is_node = false;
  NodeId node = -1;
  HostTensor c;
  /// An initializer not decoded yet: decoded on first use, so that a corrupt
  /// one is reported with the node that reads it.
  const onnx::TensorProto* lazy = nullptr;
  /// Data whose batch axis a Transpose moved (a sequence-first layout): the
  /// ONNX value's axis k is axis moved[k] of `node`, which keeps the batch
  /// first. Empty for ordinary values. Only Transpose (which may put the batch
  /// back), Shape, op_moved_layout's Slice / Squeeze / Gather / Reshape and
  /// LSTM / GRU read such a value; every other operator refuses it.
  std::vector<int> moved{};
};

class Importer {
 public:
  Importer(std::string file, const OnnxImportOptions& opt) : file_(std::move(file)), opt_(opt) {}

  Graph run(const onnx::ModelProto& m);
  /// Reads every node as `run` does but records each failing node in
  /// `issues` instead of throwing (nodes fed by a failed one are skipped
  /// unless their operator is unknown too).
  std::vector<OnnxIssue> survey(const onnx::ModelProto& m) {
    std::vector<OnnxIssue> issues;
    issues_ = &issues;
    run(m);
    return issues;
  }

 private:
  using Handler = void (Importer::*)();

  // ---- context and errors ------------------------------------------------
  std::string file_;
  const OnnxImportOptions& opt_;
  std::vector<OnnxIssue>* issues_ = nullptr;  // survey mode
  std::set<std::string> failed_values_;        // outputs of failed nodes (survey mode)
  int opset_ = 0;
  Graph g_{0};
  mutable std::map<std::string, Value> values_;
  std::map<std::string, int> use_count_;
  std::map<std::string, int> consumer_;  // value -> index of its (last) consuming node
  std::set<std::string> graph_outputs_;
  std::set<int> fused_;  // nodes already absorbed into an earlier one
  std::set<std::string> node_names_, param_names_;
  std::map<std::string, int> param_by_key_;
  const onnx::GraphProto* graph_ = nullptr;
  const onnx::NodeProto* n_ = nullptr;
  int n_index_ = 0;
  std::string base_;            // trim name base of the current node
  int64_t static_batch_ = 0;    // a fixed batch size declared by the inputs, if any

  std::string label() const {
    return n_->name().empty() ? "#" + std::to_string(n_index_) +
                                    (n_->output_size() ? " -> '" + n_->output(0) + "'" : std::string())
                              : n_->name();
  }
  std::string ctx() const { return "onnx '" + file_ + "': node '" + label() + "' (" + n_->op_type() + "): "; }

  // ---- names ---------------------------------------------------------------
  std::string fresh(std::set<std::string>& used, const std::string& base) {
    std::string name = base.empty() ? "node" : base;
    for (int k = 1; used.count(name); ++k) name = base + "_" + std::to_string(k);
    used.insert(name);
    return name;
  }
  NodeId add(std::shared_ptr<const Op> op, std::vector<NodeId> inputs, std::vector<int> params,
             const std::string& suffix = "") {
    const NodeId id = g_.add(std::move(op), std::move(inputs), std::move(params), fresh(node_names_, base_ + suffix));
    check_example_size(g_.shape(id), "output");
    return id;
  }
  /// Rejects shapes whose per-example size would overflow later arithmetic.
  static void check_example_size(const Shape& s, const std::string& what) {
    int64_t n = 1;
    for (int k = 1; k < s.rank(); ++k) {
      if (s[k] < 0 || (s[k] != 0 && n > kMaxExampleElems / s[k]))
        throw ShapeError(what + " shape " + s.str() + " is absurdly large (corrupt file?)");
      n *= s[k];
    }
  }
  /// Rejects window and padding attributes no real model has (they would
  /// overflow shape arithmetic).
  static const std::vector<int64_t>& bounded(const std::vector<int64_t>& v, const char* what) {
    for (int64_t x : v)
      if (x > (int64_t{1} << 31) || x < -(int64_t{1} << 31))
        throw ValueError(std::string(what) + " " + list_str(v) + " holds an absurd value");
    return v;
  }
  /// A parameter for constant `value_name` (transformed as `variant` says);
  /// the same constant used the same way twice shares one parameter.
  int param(const std::string& value_name, const std::string& variant, const Tensor& t, bool trainable) {
    const std::string key = value_name + '\x1f' + variant + (trainable ? "T" : "C");
    auto it = param_by_key_.find(key);
    if (it != param_by_key_.end()) return it->second;
    const std::string name = fresh(param_names_, value_name.empty() ? base_ : value_name);
    const int p = g_.add_parameter(name, t, Init::keep(), trainable);
    param_by_key_[key] = p;
    return p;
  }

  // ---- inputs, outputs, attributes ------------------------------------------
  int nin() const { return n_->input_size(); }
  bool has_in(int k) const { return k < nin() && !n_->input(k).empty(); }
  const std::string& in_name(int k) const { return n_->input(k); }
  const Value& in(int k) const {
    if (!has_in(k))
      throw IoError("input " + std::to_string(k) + " is missing (the operator needs at least " +
                    std::to_string(k + 1) + " inputs)");
    const Value& v = in_any_layout(k);
    if (!v.moved.empty())
      throw ShapeError("input '" + n_->input(k) + "' has its batch axis moved to axis " +
                       std::to_string(std::find(v.moved.begin(), v.moved.end(), 0) - v.moved.begin()) +
                       " by a Transpose (a sequence-first layout); trim follows such a layout only into a "
                       "Transpose that puts the batch axis back first, Slice, Squeeze, Gather, a Reshape that keeps "
                       "the axes up to the batch, LSTM and GRU");
    return v;
  }
  /// in(k), also when a Transpose moved its batch axis (Value::moved).
  const Value& in_any_layout(int k) const {
    if (!has_in(k))
      throw IoError("input " + std::to_string(k) + " is missing (the operator needs at least " +
                    std::to_string(k + 1) + " inputs)");
    auto it = values_.find(n_->input(k));
    if (it == values_.end())
      throw IoError("input '" + n_->input(k) +
                    "' is not defined: no initializer, graph input or earlier node produces it");
    return decoded(it->second);
  }
  static const Value& decoded(Value& v) {
    if (v.lazy) {
      v.c = from_proto(*v.lazy, "initializer");
      v.lazy = nullptr;
    }
    return v;
  }
  bool is_const(int k) const { return !in(k).is_node; }
  const HostTensor& const_in(int k, const char* what) const {
    const Value& v = in(k);
    if (v.is_node)
      throw ValueError(std::string(what) + " (input " + std::to_string(k) + " '" + in_name(k) +
                       "') must be a constant or initializer, but it depends on the graph input");
    return v.c;
  }
  NodeId node_in(int k) const {
    const Value& v = in(k);
    if (!v.is_node)
      throw ValueError("input " + std::to_string(k) + " '" + in_name(k) +
                       "' is a constant where trim expects data that depends on the graph input");
    return v.node;
  }
  void define(int k, Value v) {
    if (k >= n_->output_size() || n_->output(k).empty()) return;
    const std::string& name = n_->output(k);
    if (values_.count(name)) throw IoError("value '" + name + "' is produced twice");
    values_[name] = std::move(v);
  }
  void out_node(NodeId id, int k = 0) { define(k, Value{true, id, {}}); }
  void out_const(HostTensor c, int k = 0) { define(k, Value{false, -1, std::move(c)}); }
  void alias(int from, int k = 0) { define(k, in(from)); }
  void only_first_output() const {
    for (int k = 1; k < n_->output_size(); ++k)
      if (!n_->output(k).empty() && (use_count_.count(n_->output(k)) || graph_outputs_.count(n_->output(k))))
        throw ValueError("output " + std::to_string(k) + " '" + n_->output(k) +
                         "' is used, but trim only provides the operator's first output");
  }

  const onnx::AttributeProto* attr(const char* name) const {
    for (const auto& a : n_->attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  void attr_type(const onnx::AttributeProto* a, int expected) const {
    if (a->type() != expected && a->type() != onnx::AttributeProto::UNDEFINED)
      throw ValueError("attribute '" + a->name() + "' has type " + attr_type_name(a->type()) + ", expected " +
                       attr_type_name(expected));
  }
  int64_t attr_int(const char* name, int64_t def) const {
    const auto* a = attr(name);
    if (!a) return def;
    attr_type(a, onnx::AttributeProto::INT);
    return a->i();
  }
  float attr_float(const char* name, float def) const {
    const auto* a = attr(name);
    if (!a) return def;
    attr_type(a, onnx::AttributeProto::FLOAT);
    return a->f();
  }
  std::string attr_string(const char* name, const std::string& def) const {
    const auto* a = attr(name);
    if (!a) return def;
    attr_type(a, onnx::AttributeProto::STRING);
    return a->s();
  }
  bool has_attr(const char* name) const { return attr(name) != nullptr; }
  std::vector<int64_t> attr_ints(const char* name, std::vector<int64_t> def = {}) const {
    const auto* a = attr(name);
    if (!a) return def;
    attr_type(a, onnx::AttributeProto::INTS);
    return {a->ints().begin(), a->ints().end()};
  }
  /// An INTS attribute (older opsets) or a constant int input (newer ones).
  bool ints_attr_or_input(const char* name, int k, std::vector<int64_t>& out) const {
    if (has_in(k)) {
      const HostTensor& c = const_in(k, name);
      if (!c.is_int || c.rank() > 1)
        throw ValueError(std::string("input '") + name + "' must be a 1-D integer tensor, got " + c.describe());
      if (c.has_batch()) throw ShapeError(std::string("input '") + name + "' depends on the batch size");
      out = c.i;
      return true;
    }
    if (has_attr(name)) {
      out = attr_ints(name);
      return true;
    }
    return false;
  }
  float scalar_input(int k, const char* what, float def) const {
    if (!has_in(k)) return def;
    const HostTensor& c = const_in(k, what);
    if (c.numel() != 1) throw ValueError(std::string(what) + " must hold one value, got " + c.describe());
    if (c.has_batch()) throw ShapeError(std::string(what) + " depends on the batch size");
    return static_cast<float>(c.get(0));
  }

  // ---- helpers ------------------------------------------------------------
  const Shape& shape_of(NodeId id) const { return g_.shape(id); }
  static int norm_axis(int64_t axis, int rank, const std::string& what) {
    if (axis < -rank || axis >= rank)
      throw ShapeError(what + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return static_cast<int>(axis < 0 ? axis + rank : axis);
  }
  static Tensor to_tensor(const HostTensor& c, const std::string& what) {
    if (c.has_batch()) throw ShapeError(what + " depends on the batch size");
    if (c.rank() > Shape::max_rank)
      throw ShapeError(what + " has rank " + std::to_string(c.rank()) + ", more than trim's " +
                       std::to_string(Shape::max_rank));
    Tensor t = c.rank() == 0 ? Tensor::scalar(0.0f) : Tensor(Shape(c.shape));
    for (int64_t k = 0; k < c.numel(); ++k) t[k] = static_cast<float>(c.get(k));
    return t;
  }
  static HostTensor as_float(const HostTensor& c) {
    if (!c.is_int) return c;
    if (c.has_batch()) throw ShapeError("a float value depends on the batch size");
    HostTensor f;
    f.shape = c.shape;
    f.f.resize(c.i.size());
    for (size_t k = 0; k < c.i.size(); ++k) f.f[k] = static_cast<float>(c.i[k]);
    return f;
  }
  std::string const_name(int k) const { return in_name(k); }
  Shape per_example(const Shape& s) const {
    Shape r;
    for (int k = 1; k < s.rank(); ++k) r.push_back(s[k]);
    return r;
  }
  NodeId reshape_to(NodeId x, const Shape& full, const std::string& suffix = "") {
    return add(std::make_shared<ops::Reshape>(per_example(full)), {x}, {}, suffix);
  }

  // constant evaluation
  HostTensor eval_binary(const HostTensor& a, const HostTensor& b, char op) const;
  HostTensor const_slice(const HostTensor& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                         const std::vector<int64_t>& axes, const std::vector<int64_t>& steps) const;
  HostTensor const_transpose(const HostTensor& x, const std::vector<int64_t>& perm) const;
  HostTensor const_gather(const HostTensor& x, const HostTensor& idx, int axis) const;
  Shape reshape_target(const Shape& x, const HostTensor& t, bool allowzero) const;
  void slice_args(std::vector<int64_t>& starts, std::vector<int64_t>& ends, std::vector<int64_t>& axes,
                  std::vector<int64_t>& steps, int rank) const;

  // operators
  void op_identity();
  void op_dropout();
  void op_constant();
  void op_constant_of_shape();
  void op_shape();
  void op_cast();
  void op_gather();
  void op_unsqueeze();
  void op_squeeze();
  void op_concat();
  void op_reshape();
  void op_flatten();
  void op_transpose();
  void op_slice();
  void op_range();
  void op_arith();
  void op_sum();
  void op_unary_math();
  void op_gemm();
  void op_matmul();
  void op_conv();
  void op_conv_transpose();
  void op_resize();
  void op_compare();
  void op_not();
  void op_mod();
  void op_where();
  void op_expand();
  void op_scatter_nd();
  NodeId batch_constant(const HostTensor& per_example, const std::string& suffix);
  void op_batch_norm();
  void op_activation();
  void op_softmax();
  void op_pool();
  void op_global_avg_pool();
  void op_reduce_mean();
  void op_pad();
  // products of data and the layers that decompose into kinds
  void op_pow();
  void op_reduce();
  void op_layer_norm();
  void expand_data(NodeId x, const HostTensor& shape);
  NodeId broadcast_to(NodeId x, const Shape& full, const std::string& suffix);
  NodeId sum_broadcast(NodeId a, NodeId b, bool subtract, const std::string& suffix);
  NodeId math_node(NodeId x, ops::Math::Fn fn, float a, float b, const std::string& suffix);
  NodeId softmax_by_kinds(NodeId x, int axis, bool log);
  // recurrent layers (unrolled in onnx_import_recurrent.cpp) and moved layouts
  void op_recurrent();
  NodeId sequence_in(int k, int64_t layout, bool optional);
  bool op_moved_layout();

  static const std::map<std::string, Handler>& handlers();

  void read_inputs();
  static bool is_token_type(int32_t t) {
    return t == onnx::TensorProto::INT64 || t == onnx::TensorProto::INT32;
  }
  void cut_at_embedding(const onnx::ValueInfoProto& vi, const std::string& where);
  void dispatch();
  void survey_node();
};

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

// ---- constant evaluation ------------------------------------------------------------

HostTensor Importer::eval_binary(const HostTensor& a_in, const HostTensor& b_in, char op) const {
  const bool is_int = a_in.is_int && b_in.is_int;
  const HostTensor a = is_int ? a_in : as_float(a_in);
  const HostTensor b = is_int ? b_in : as_float(b_in);
  const int r = std::max(a.rank(), b.rank());
  std::vector<int64_t> shape(static_cast<size_t>(r));
  for (int k = 0; k < r; ++k) {
    const int ka = k - (r - a.rank()), kb = k - (r - b.rank());
    const int64_t da = ka >= 0 ? a.shape[static_cast<size_t>(ka)] : 1;
    const int64_t db = kb >= 0 ? b.shape[static_cast<size_t>(kb)] : 1;
    if (da != db && da != 1 && db != 1)
      throw ShapeError("constant operands " + list_str(a.shape) + " and " + list_str(b.shape) + " do not broadcast");
    shape[static_cast<size_t>(k)] = da == 1 ? db : da;
  }
  HostTensor out;
  out.is_int = is_int;
  out.shape = shape;
  const int64_t n = checked_numel(shape, "result");
  out.resize(n);
  const auto sa = strides_of(a.shape), sb = strides_of(b.shape);
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t ia = 0, ib = 0;
    for (int d = 0; d < r; ++d) {
      const int da = d - (r - a.rank()), db = d - (r - b.rank());
      if (da >= 0 && a.shape[static_cast<size_t>(da)] != 1) ia += idx[static_cast<size_t>(d)] * sa[static_cast<size_t>(da)];
      if (db >= 0 && b.shape[static_cast<size_t>(db)] != 1) ib += idx[static_cast<size_t>(d)] * sb[static_cast<size_t>(db)];
    }
    if (is_int) {
      const int64_t x = a.i[static_cast<size_t>(ia)], y = b.i[static_cast<size_t>(ib)];
      if (x == kBatch || y == kBatch)
        throw ShapeError("shape arithmetic on the batch size cannot be resolved (the batch stays free)");
      int64_t v = 0;
      bool overflow = false;
      switch (op) {
        case '+': overflow = __builtin_add_overflow(x, y, &v); break;
        case '-': overflow = __builtin_sub_overflow(x, y, &v); break;
        case '*': overflow = __builtin_mul_overflow(x, y, &v); break;
        default:
          if (y == 0) throw ValueError("integer division by zero in a constant");
          if (x == std::numeric_limits<int64_t>::min() && y == -1) overflow = true;
          else v = x / y;
      }
      if (overflow || v == kBatch) throw ValueError("integer overflow in a constant");
      out.i[static_cast<size_t>(k)] = v;
    } else {
      const float x = a.f[static_cast<size_t>(ia)], y = b.f[static_cast<size_t>(ib)];
      out.f[static_cast<size_t>(k)] = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y;
    }
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < shape[static_cast<size_t>(d)]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
  return out;
}

/// ONNX Slice index resolution for one axis of length `dim`.
void resolve_slice(int64_t dim, int64_t step, int64_t& start, int64_t& end) {
  if (dim == 0) {
    start = end = 0;
    return;
  }
  if (start < 0) start = start < -dim ? -dim - 1 : start;  // avoid overflow below
  if (end < 0) end = end < -dim - 1 ? -dim - 1 : end;
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
  }
}

void Importer::slice_args(std::vector<int64_t>& starts, std::vector<int64_t>& ends, std::vector<int64_t>& axes,
                          std::vector<int64_t>& steps, int rank) const {
  if (has_in(1) || has_in(2)) {  // opset >= 10: inputs
    ints_attr_or_input("starts", 1, starts);
    ints_attr_or_input("ends", 2, ends);
    if (!has_in(3) || !ints_attr_or_input("axes", 3, axes)) axes.clear();
    if (!has_in(4) || !ints_attr_or_input("steps", 4, steps)) steps.clear();
  } else {
    starts = attr_ints("starts");
    ends = attr_ints("ends");
    axes = attr_ints("axes");
  }
  if (starts.size() != ends.size())
    throw ValueError("starts " + list_str(starts) + " and ends " + list_str(ends) + " differ in length");
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    throw ValueError("starts, ends, axes and steps differ in length");
  std::set<int64_t> seen;
  for (int64_t& a : axes) {
    a = norm_axis(a, rank, "slice axis");
    if (!seen.insert(a).second) throw ValueError("slice axis " + std::to_string(a) + " appears twice");
  }
  for (int64_t s : steps)
    if (s == 0) throw ValueError("slice step 0");
}

HostTensor Importer::const_slice(const HostTensor& x, const std::vector<int64_t>& starts,
                                 const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                                 const std::vector<int64_t>& steps) const {
  const int r = x.rank();
  std::vector<int64_t> st(static_cast<size_t>(r), 0), step(static_cast<size_t>(r), 1), shape = x.shape;
  for (size_t k = 0; k < axes.size(); ++k) {
    const size_t a = static_cast<size_t>(axes[k]);
    int64_t s = starts[k], e = ends[k];
    resolve_slice(x.shape[a], steps[k], s, e);
    st[a] = s;
    step[a] = steps[k];
    const int64_t len = steps[k] > 0 ? (e > s ? (e - s - 1) / steps[k] + 1 : 0)
                                     : (s > e ? (s - e - 1) / -(steps[k] == std::numeric_limits<int64_t>::min() ? steps[k] + 1 : steps[k]) + 1 : 0);
    shape[a] = len;
  }
  HostTensor out;
  out.is_int = x.is_int;
  out.shape = shape;
  const int64_t n = checked_numel(shape, "slice");
  out.resize(n);
  const auto xs = strides_of(x.shape);
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t off = 0;
    for (int d = 0; d < r; ++d)
      off += (st[static_cast<size_t>(d)] + idx[static_cast<size_t>(d)] * step[static_cast<size_t>(d)]) *
             xs[static_cast<size_t>(d)];
    out.copy_from(x, off, k);
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < shape[static_cast<size_t>(d)]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
  return out;
}

HostTensor Importer::const_transpose(const HostTensor& x, const std::vector<int64_t>& perm) const {
  const int r = x.rank();
  if (static_cast<int>(perm.size()) != r) throw ValueError("perm " + list_str(perm) + " does not match rank " + std::to_string(r));
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= r || seen[static_cast<size_t>(p)]) throw ValueError("perm " + list_str(perm) + " is not a permutation");
    seen[static_cast<size_t>(p)] = true;
  }
  HostTensor out;
  out.is_int = x.is_int;
  for (int64_t p : perm) out.shape.push_back(x.shape[static_cast<size_t>(p)]);
  const int64_t n = x.numel();
  out.resize(n);
  const auto xs = strides_of(x.shape);
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t off = 0;
    for (int d = 0; d < r; ++d) off += idx[static_cast<size_t>(d)] * xs[static_cast<size_t>(perm[static_cast<size_t>(d)])];
    out.copy_from(x, off, k);
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < out.shape[static_cast<size_t>(d)]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
  return out;
}

HostTensor Importer::const_gather(const HostTensor& x, const HostTensor& idx, int axis) const {
  if (!idx.is_int || idx.has_batch()) throw ValueError("Gather indices must be constant integers");
  const int64_t dim = x.shape[static_cast<size_t>(axis)];
  HostTensor out;
  out.is_int = x.is_int;
  for (int k = 0; k < axis; ++k) out.shape.push_back(x.shape[static_cast<size_t>(k)]);
  for (int64_t d : idx.shape) out.shape.push_back(d);
  for (int k = axis + 1; k < x.rank(); ++k) out.shape.push_back(x.shape[static_cast<size_t>(k)]);
  const int64_t n = checked_numel(out.shape, "gather");
  out.resize(n);
  int64_t outer = 1, inner = 1;
  for (int k = 0; k < axis; ++k) outer *= x.shape[static_cast<size_t>(k)];
  for (int k = axis + 1; k < x.rank(); ++k) inner *= x.shape[static_cast<size_t>(k)];
  int64_t o = 0;
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t j = 0; j < idx.numel(); ++j) {
      int64_t i = idx.i[static_cast<size_t>(j)];
      if (i < -dim || i >= dim)
        throw ShapeError("Gather index " + std::to_string(i) + " is out of range for an axis of length " + std::to_string(dim));
      if (i < 0) i += dim;
      for (int64_t b = 0; b < inner; ++b) out.copy_from(x, (a * dim + i) * inner + b, o++);
    }
  return out;
}

Shape Importer::reshape_target(const Shape& x, const HostTensor& t, bool allowzero) const {
  if (!t.is_int || t.rank() != 1) throw ValueError("the target shape must be a 1-D integer tensor, got " + t.describe());
  std::vector<int64_t> d = t.i;
  if (d.empty()) throw ShapeError("target shape [] would drop the batch axis");
  for (size_t k = 0; k < d.size(); ++k)
    if (d[k] == 0 && !allowzero) {
      if (static_cast<int>(k) >= x.rank())
        throw ShapeError("target " + list_str(t.i) + ": entry " + std::to_string(k) + " copies a dimension input " +
                         x.str() + " does not have");
      d[k] = k == 0 ? kBatch : x[static_cast<int>(k)];
    }
  for (size_t k = 1; k < d.size(); ++k)
    if (d[k] == kBatch)
      throw ShapeError("target " + list_str(t.i) + " moves the batch size to axis " + std::to_string(k) +
                       "; the batch must stay axis 0 (input " + x.str() + ")");
  std::vector<int64_t> per(d.begin() + 1, d.end());
  if (static_cast<int>(per.size()) + 1 > Shape::max_rank)
    throw ShapeError("target " + list_str(t.i) + " exceeds trim's maximum rank " + std::to_string(Shape::max_rank));
  for (int64_t v : per)
    if (v == 0) throw ShapeError("target " + list_str(t.i) + " has a zero-sized dimension");
  bounded(per, "target shape");
  const int64_t count = x.numel(1, x.rank());
  const bool unknown = std::find(per.begin(), per.end(), -1) != per.end();
  int64_t known = 1;
  for (int64_t v : per)
    if (v > 0 && (__builtin_mul_overflow(known, v, &known) || known > kMaxExampleElems))
      throw ShapeError("target " + list_str(t.i) + " is absurdly large");
  if (d[0] != kBatch) {
    const bool batch_ok =
        (d[0] == -1 && !unknown && known == count) ||
        (d[0] > 0 && static_batch_ > 0 && d[0] == static_batch_ && (unknown || known == count));
    if (!batch_ok)
      throw ShapeError("target shape " + list_str(t.i) + " for input " + x.str() + " does not keep the batch " +
                       "dimension free (" + std::string(d[0] == -1 ? "-1 must absorb exactly the batch" :
                                                                        "it fixes the batch size") +
                       "); export with a dynamic batch axis and reshape with x.view(x.size(0), ...)");
  }
  return Shape(per);
}

// ---- operators ------------------------------------------------------------------------

void Importer::op_identity() { alias(0); }

void Importer::op_dropout() {
  only_first_output();
  if (has_in(2)) {
    const HostTensor& m = const_in(2, "training_mode");
    if (m.numel() != 1 || m.get(0) != 0)
      throw ValueError("training_mode is true: trim imports models for inference only");
  }
  alias(0);
}

void Importer::op_constant() {
  const auto& attrs = n_->attribute();
  if (attrs.size() != 1) throw ValueError("expected exactly one value attribute, got " + std::to_string(attrs.size()));
  const onnx::AttributeProto& a = attrs[0];
  HostTensor c;
  if (a.name() == "value") {
    attr_type(&a, onnx::AttributeProto::TENSOR);
    c = from_proto(a.t(), "constant");
  } else if (a.name() == "value_float") {
    attr_type(&a, onnx::AttributeProto::FLOAT);
    c.f = {a.f()};
  } else if (a.name() == "value_floats") {
    attr_type(&a, onnx::AttributeProto::FLOATS);
    c.f.assign(a.floats().begin(), a.floats().end());
    c.shape = {static_cast<int64_t>(c.f.size())};
  } else if (a.name() == "value_int") {
    attr_type(&a, onnx::AttributeProto::INT);
    c.is_int = true;
    c.i = {a.i()};
  } else if (a.name() == "value_ints") {
    attr_type(&a, onnx::AttributeProto::INTS);
    c.is_int = true;
    c.i.assign(a.ints().begin(), a.ints().end());
    c.shape = {static_cast<int64_t>(c.i.size())};
  } else {
    throw ValueError("attribute '" + a.name() + "' is not supported (sparse and string constants are not read)");
  }
  if (c.has_batch()) throw ValueError("constant holds INT64_MIN, which trim cannot represent");
  out_const(std::move(c));
}

void Importer::op_constant_of_shape() {
  const HostTensor& s = const_in(0, "shape");
  if (!s.is_int || s.rank() != 1) throw ValueError("the shape input must be a 1-D integer tensor, got " + s.describe());
  HostTensor v;
  v.f = {0.0f};
  if (const auto* a = attr("value")) {
    attr_type(a, onnx::AttributeProto::TENSOR);
    v = from_proto(a->t(), "value");
    if (v.numel() != 1) throw ValueError("attribute 'value' must hold one element");
  }
  if (s.has_batch()) {
    // Filled with one value (a zero initial state): a constant per example. With N not first
    // (an LSTM's [layers, N, hidden]) it is stored batch-first with the layout moved (Value::moved).
    if (std::count(s.i.begin(), s.i.end(), kBatch) != 1)
      throw ShapeError("ConstantOfShape of " + s.describe() + ": the batch size may appear once, other sizes fixed");
    const size_t b = static_cast<size_t>(std::find(s.i.begin(), s.i.end(), kBatch) - s.i.begin());
    HostTensor per;
    for (size_t k = 0; k < s.i.size(); ++k)
      if (k != b) per.shape.push_back(s.i[k]);
    per.f.assign(static_cast<size_t>(checked_numel(per.shape, "ConstantOfShape output")), static_cast<float>(v.get(0)));
    const NodeId id = batch_constant(per, "");
    if (b == 0) {
      out_node(id);
      return;
    }
    std::vector<int> moved;
    for (size_t k = 0; k < s.i.size(); ++k) moved.push_back(k < b ? static_cast<int>(k) + 1 : k == b ? 0 : static_cast<int>(k));
    define(0, Value{true, id, {}, nullptr, moved});
    return;
  }
  HostTensor out;
  out.is_int = v.is_int;
  out.shape = s.i;
  out.resize(checked_numel(out.shape, "ConstantOfShape output"));
  if (out.is_int) std::fill(out.i.begin(), out.i.end(), v.i[0]);
  else std::fill(out.f.begin(), out.f.end(), v.f[0]);
  out_const(std::move(out));
}

void Importer::op_shape() {
  const Value& v = in_any_layout(0);
  std::vector<int64_t> dims;
  if (v.is_node) {
    const Shape& s = shape_of(v.node);
    for (int k = 0; k < s.rank(); ++k) {
      const int a = v.moved.empty() ? k : v.moved[static_cast<size_t>(k)];
      dims.push_back(s[a] == Shape::free ? kBatch : s[a]);
    }
  } else {
    dims = v.c.shape;
  }
  const int64_t r = static_cast<int64_t>(dims.size());
  int64_t start = attr_int("start", 0), end = attr_int("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  HostTensor out;
  out.is_int = true;
  if (end > start) out.i.assign(dims.begin() + start, dims.begin() + end);
  out.shape = {static_cast<int64_t>(out.i.size())};
  out_const(std::move(out));
}

void Importer::op_cast() {
  const int64_t to = attr_int("to", -1);
  const bool to_float = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE || to == onnx::TensorProto::FLOAT16;
  const bool to_int = to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32 || to == onnx::TensorProto::INT16 ||
                      to == onnx::TensorProto::INT8 || to == onnx::TensorProto::UINT8 || to == onnx::TensorProto::UINT16 ||
                      to == onnx::TensorProto::UINT32 || to == onnx::TensorProto::UINT64 || to == onnx::TensorProto::BOOL;
  if (!to_float && !to_int) throw ValueError("cast to type " + std::to_string(to) + " is not supported");
  const Value& v = in(0);
  if (v.is_node) {
    if (!to_float) throw ValueError("casting data to an integer type is not supported (trim computes in float)");
    alias(0);
    return;
  }
  HostTensor c = v.c;
  if (to_float) {
    c = as_float(c);
  } else if (!c.is_int) {
    HostTensor i;
    i.is_int = true;
    i.shape = c.shape;
    for (float f : c.f) {
      if (!std::isfinite(f) || std::fabs(f) > 9.2e18f) throw ValueError("cast of " + std::to_string(f) + " to an integer");
      i.i.push_back(to == onnx::TensorProto::BOOL ? f != 0.0f : static_cast<int64_t>(f));
    }
    c = std::move(i);
  } else if (to == onnx::TensorProto::BOOL) {
    for (int64_t& x : c.i)
      if (x != kBatch) x = x != 0;
  }
  out_const(std::move(c));
}

void Importer::op_gather() {
  const HostTensor& idx = const_in(1, "indices");
  if (!idx.is_int) throw ValueError("indices must be integers, got " + idx.describe());
  if (is_const(0)) {
    const HostTensor& x = in(0).c;
    if (x.rank() == 0) throw ShapeError("cannot gather from a scalar");
    out_const(const_gather(x, idx, norm_axis(attr_int("axis", 0), x.rank(), "axis")));
    return;
  }
  const NodeId x = node_in(0);
  const Shape xs = shape_of(x);
  const int axis = norm_axis(attr_int("axis", 0), xs.rank(), "axis");
  if (axis == 0) throw ShapeError("gathering along the batch axis of " + xs.str() + " is not supported");
  if (idx.rank() > 1) throw ShapeError("indices of rank " + std::to_string(idx.rank()) + " on data are not supported");
  const int64_t dim = xs[axis];
  std::vector<int64_t> ids;
  for (int64_t i : idx.i) {
    if (i < -dim || i >= dim)
      throw ShapeError("index " + std::to_string(i) + " is out of range for axis " + std::to_string(axis) + " of " + xs.str());
    ids.push_back(i < 0 ? i + dim : i);
  }
  if (ids.empty()) throw ShapeError("empty indices");
  // Runs of consecutive indices become slices, joined by a concat.
  std::vector<NodeId> parts;
  for (size_t k = 0; k < ids.size();) {
    size_t e = k + 1;
    while (e < ids.size() && ids[e] == ids[e - 1] + 1) ++e;
    parts.push_back(add(std::make_shared<ops::Slice>(axis, ids[k], ids[e - 1] + 1, 1), {x}, {},
                        ids.size() == 1 ? "" : "/slice"));
    k = e;
  }
  NodeId y = parts.size() == 1 ? parts[0] : add(std::make_shared<ops::Concat>(axis), parts, {});
  if (idx.rank() == 0) {
    Shape s;
    for (int k = 0; k < xs.rank(); ++k)
      if (k != axis) s.push_back(xs[k]);
    y = reshape_to(y, s, "/squeeze");
  }
  out_node(y);
}

void Importer::op_unsqueeze() {
  std::vector<int64_t> axes;
  if (!ints_attr_or_input("axes", 1, axes)) throw ValueError("axes are missing");
  const Value& v = in(0);
  std::vector<int64_t> dims;
  if (v.is_node) {
    const Shape& s = shape_of(v.node);
    dims.assign(s.begin(), s.end());
  } else {
    dims = v.c.shape;
  }
  const int r = static_cast<int>(dims.size() + axes.size());
  std::vector<bool> is_new(static_cast<size_t>(r), false);
  for (int64_t a : axes) {
    const int k = norm_axis(a, r, "axis");
    if (is_new[static_cast<size_t>(k)]) throw ValueError("axis " + std::to_string(a) + " appears twice");
    is_new[static_cast<size_t>(k)] = true;
  }
  std::vector<int64_t> out;
  size_t j = 0;
  for (int k = 0; k < r; ++k) out.push_back(is_new[static_cast<size_t>(k)] ? 1 : dims[j++]);
  if (!v.is_node) {
    HostTensor c = v.c;
    c.shape = out;
    out_const(std::move(c));
    return;
  }
  if (is_new[0]) throw ShapeError("unsqueezing axis 0 would move the batch axis of " + shape_of(v.node).str());
  Shape s;
  for (int64_t d : out) s.push_back(d);
  out_node(reshape_to(v.node, s));
}

void Importer::op_squeeze() {
  std::vector<int64_t> axes;
  const bool given = ints_attr_or_input("axes", 1, axes);
  const Value& v = in(0);
  std::vector<int64_t> dims;
  if (v.is_node) {
    const Shape& s = shape_of(v.node);
    dims.assign(s.begin(), s.end());
  } else {
    dims = v.c.shape;
  }
  const int r = static_cast<int>(dims.size());
  std::vector<bool> drop(static_cast<size_t>(r), false);
  if (given) {
    for (int64_t a : axes) {
      const int k = norm_axis(a, r, "axis");
      if (v.is_node && k == 0) throw ShapeError("cannot squeeze the batch axis");
      if (dims[static_cast<size_t>(k)] != 1)
        throw ShapeError("axis " + std::to_string(a) + " has size " + std::to_string(dims[static_cast<size_t>(k)]) +
                         ", expected 1");
      drop[static_cast<size_t>(k)] = true;
    }
  } else {
    for (int k = v.is_node ? 1 : 0; k < r; ++k) drop[static_cast<size_t>(k)] = dims[static_cast<size_t>(k)] == 1;
  }
  std::vector<int64_t> out;
  for (int k = 0; k < r; ++k)
    if (!drop[static_cast<size_t>(k)]) out.push_back(dims[static_cast<size_t>(k)]);
  if (!v.is_node) {
    HostTensor c = v.c;
    c.shape = out;
    out_const(std::move(c));
    return;
  }
  Shape s;
  for (int64_t d : out) s.push_back(d);
  out_node(reshape_to(v.node, s));
}

void Importer::op_concat() {
  if (!has_attr("axis")) throw ValueError("attribute 'axis' is missing");
  const int64_t axis_attr = attr_int("axis", 0);
  bool any_node = false, all_node = true;
  for (int k = 0; k < nin(); ++k) {
    const bool node = in(k).is_node;
    any_node = any_node || node;
    all_node = all_node && node;
  }
  if (any_node) {
    if (!all_node)
      throw ShapeError("joining data with a constant is not supported (a constant has no batch dimension)");
    std::vector<NodeId> xs;
    for (int k = 0; k < nin(); ++k) xs.push_back(in(k).node);
    const int axis = norm_axis(axis_attr, shape_of(xs[0]).rank(), "axis");
    if (axis == 0) throw ShapeError("concatenating along the batch axis is not supported");
    out_node(add(std::make_shared<ops::Concat>(axis), xs, {}));
    return;
  }
  const HostTensor& first = in(0).c;
  const int r = first.rank();
  if (r == 0) throw ShapeError("cannot concatenate scalars");
  const int axis = norm_axis(axis_attr, r, "axis");
  bool is_int = true;
  for (int k = 0; k < nin(); ++k) is_int = is_int && in(k).c.is_int;
  HostTensor out;
  out.is_int = is_int;
  out.shape = first.shape;
  out.shape[static_cast<size_t>(axis)] = 0;
  for (int k = 0; k < nin(); ++k) {
    const HostTensor& c = in(k).c;
    for (int d = 0; d < r; ++d)
      if (c.rank() != r || (d != axis && c.shape[static_cast<size_t>(d)] != first.shape[static_cast<size_t>(d)]))
        throw ShapeError("constant inputs " + list_str(first.shape) + " and " + list_str(c.shape) + " do not fit");
    out.shape[static_cast<size_t>(axis)] += c.shape[static_cast<size_t>(axis)];
  }
  out.resize(checked_numel(out.shape, "concat"));
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= first.shape[static_cast<size_t>(d)];
  std::vector<HostTensor> parts;
  for (int k = 0; k < nin(); ++k) parts.push_back(is_int ? in(k).c : as_float(in(k).c));
  int64_t o = 0;
  for (int64_t a = 0; a < outer; ++a)
    for (const HostTensor& c : parts) {
      const int64_t block = outer ? c.numel() / outer : 0;
      for (int64_t b = 0; b < block; ++b) out.copy_from(c, a * block + b, o++);
    }
  out_const(std::move(out));
}

void Importer::op_reshape() {
  const HostTensor& t = const_in(1, "shape");
  const bool allowzero = attr_int("allowzero", 0) != 0;
  if (is_const(0)) {
    HostTensor c = in(0).c;
    if (t.has_batch()) throw ShapeError("a constant reshaped by the batch size cannot be resolved");
    if (!t.is_int || t.rank() != 1) throw ValueError("the target shape must be a 1-D integer tensor");
    std::vector<int64_t> d = t.i;
    int unknown = -1;
    int64_t known = 1;
    for (size_t k = 0; k < d.size(); ++k) {
      if (d[k] == 0 && !allowzero) {
        if (k >= c.shape.size()) throw ShapeError("target " + list_str(t.i) + " copies a missing dimension");
        d[k] = c.shape[k];
      }
      if (d[k] == -1) {
        if (unknown >= 0) throw ValueError("target " + list_str(t.i) + " has more than one -1");
        unknown = static_cast<int>(k);
      } else if (d[k] < 0) {
        throw ValueError("target " + list_str(t.i) + " has a negative dimension");
      } else if (__builtin_mul_overflow(known, d[k], &known)) {
        throw ShapeError("target " + list_str(t.i) + " overflows");
      }
    }
    if (unknown >= 0) d[static_cast<size_t>(unknown)] = known ? c.numel() / known : 0;
    if (checked_numel(d, "target") != c.numel())
      throw ShapeError("cannot reshape constant " + list_str(c.shape) + " to " + list_str(t.i));
    c.shape = d;
    out_const(std::move(c));
    return;
  }
  const NodeId x = node_in(0);
  out_node(add(std::make_shared<ops::Reshape>(reshape_target(shape_of(x), t, allowzero)), {x}, {}));
}

void Importer::op_flatten() {
  const int64_t axis_attr = attr_int("axis", 1);
  const Value& v = in(0);
  if (!v.is_node) {
    HostTensor c = v.c;
    const int r = c.rank();
    const int64_t a = axis_attr < 0 ? axis_attr + r : axis_attr;
    if (a < 0 || a > r) throw ShapeError("axis " + std::to_string(axis_attr) + " is out of range");
    int64_t outer = 1;
    for (int64_t k = 0; k < a; ++k) outer *= c.shape[static_cast<size_t>(k)];
    c.shape = {outer, outer ? c.numel() / outer : 0};
    out_const(std::move(c));
    return;
  }
  const Shape& xs = shape_of(v.node);
  const int r = xs.rank();
  const int64_t a = axis_attr < 0 ? axis_attr + r : axis_attr;
  if (a < 0 || a > r)
    throw ShapeError("axis " + std::to_string(axis_attr) + " is out of range for input " + xs.str());
  if (a == 0) throw ShapeError("axis 0 would merge the batch axis of " + xs.str() + " into one row");
  if (a == 1) {
    out_node(add(std::make_shared<ops::Flatten>(1), {v.node}, {}));
    return;
  }
  // ONNX Flatten is always 2-D: axes 1..a-1 join the batch, allowed only when they are all 1.
  if (xs.numel(1, static_cast<int>(a)) != 1)
    throw ShapeError("axis " + std::to_string(axis_attr) + " would merge axes 1.." + std::to_string(a - 1) +
                     " of " + xs.str() + " into the batch");
  out_node(reshape_to(v.node, Shape{Shape::free, xs.numel(static_cast<int>(a), r)}));
}

void Importer::op_transpose() {
  const Value& v = in_any_layout(0);
  const int r = v.is_node ? shape_of(v.node).rank() : v.c.rank();
  std::vector<int64_t> perm = attr_ints("perm");
  if (perm.empty())
    for (int k = r - 1; k >= 0; --k) perm.push_back(k);
  if (!v.is_node) {
    out_const(const_transpose(v.c, perm));
    return;
  }
  // Composed with a layout moved earlier: output axis k is stored axis p[k].
  if (static_cast<int>(perm.size()) != r) throw ValueError("perm " + list_str(perm) + " does not match rank " + std::to_string(r));
  std::vector<int> p;
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (int64_t a : perm) {
    if (a < 0 || a >= r || seen[static_cast<size_t>(a)]) throw ValueError("perm " + list_str(perm) + " is not a permutation");
    seen[static_cast<size_t>(a)] = true;
    p.push_back(v.moved.empty() ? static_cast<int>(a) : v.moved[static_cast<size_t>(a)]);
  }
  if (p[0] != 0) {  // the batch moves (or stays moved): defer until a Transpose puts it back
    Value moved{true, v.node, {}, nullptr, p};
    define(0, std::move(moved));
    return;
  }
  bool identity = true;
  for (int k = 0; k < r; ++k) identity = identity && p[static_cast<size_t>(k)] == k;
  if (identity && !v.moved.empty()) {  // moved and put back: nothing to do
    out_node(v.node);
    return;
  }
  out_node(add(std::make_shared<ops::Transpose>(p), {v.node}, {}));
}

void Importer::op_slice() {
  const Value& v = in(0);
  const int r = v.is_node ? shape_of(v.node).rank() : v.c.rank();
  std::vector<int64_t> starts, ends, axes, steps;
  slice_args(starts, ends, axes, steps, r);
  if (!v.is_node) {
    out_const(const_slice(v.c, starts, ends, axes, steps));
    return;
  }
  NodeId x = v.node;
  const Shape xs = shape_of(x);
  bool any = false;
  for (size_t k = 0; k < axes.size(); ++k) {
    const int a = static_cast<int>(axes[k]);
    if (a == 0) {
      if (starts[k] != 0 || ends[k] < (int64_t{1} << 31) || steps[k] != 1)
        throw ShapeError("slicing the batch axis (start " + std::to_string(starts[k]) + ", end " +
                         std::to_string(ends[k]) + ") is not supported");
      continue;
    }
    if (steps[k] < 0) throw ValueError("negative slice steps on data are not supported");
    bounded({steps[k]}, "slice step");
    int64_t s = starts[k], e = ends[k];
    resolve_slice(xs[a], steps[k], s, e);
    if (s == 0 && e == xs[a] && steps[k] == 1) continue;
    if (e <= s) throw ShapeError("empty slice of axis " + std::to_string(a) + " of " + xs.str());
    x = add(std::make_shared<ops::Slice>(a, s, e, steps[k]), {x}, {}, any ? "/" + std::to_string(a) : "");
    any = true;
  }
  out_node(x);
}

void Importer::op_range() {
  const HostTensor& s = const_in(0, "start");
  const HostTensor& l = const_in(1, "limit");
  const HostTensor& d = const_in(2, "delta");
  if (s.numel() != 1 || l.numel() != 1 || d.numel() != 1 || s.has_batch() || l.has_batch() || d.has_batch())
    throw ShapeError("Range needs constant scalar start, limit and delta");
  HostTensor out;
  out.is_int = s.is_int && l.is_int && d.is_int;
  const double start = s.get(0), limit = l.get(0), delta = d.get(0);
  if (delta == 0) throw ValueError("Range delta 0");
  const double count = std::max(0.0, std::ceil((limit - start) / delta));
  if (!(count <= static_cast<double>(kMaxConstElems))) throw ShapeError("Range is too long");
  const int64_t n = static_cast<int64_t>(count);
  out.shape = {n};
  out.resize(n);
  for (int64_t k = 0; k < n; ++k) {
    if (out.is_int) out.i[static_cast<size_t>(k)] = s.i[0] + k * d.i[0];
    else out.f[static_cast<size_t>(k)] = static_cast<float>(start + static_cast<double>(k) * delta);
  }
  out_const(std::move(out));
}

void Importer::op_arith() {
  const std::string& t = n_->op_type();
  const char op = t == "Add" ? '+' : t == "Sub" ? '-' : t == "Mul" ? '*' : '/';
  const Value& a = in(0);
  const Value& b = in(1);
  if (!a.is_node && !b.is_node) {
    out_const(eval_binary(a.c, b.c, op));
    return;
  }
  if (a.is_node && b.is_node) {
    if (op == '*' || op == '/') {  // Kind::Product; a quotient is a ⊙ (1/b)
      const NodeId rhs = op == '*' ? b.node : math_node(b.node, ops::Math::Reciprocal, 0, 0, "/reciprocal");
      out_node(add(std::make_shared<ops::Multiply>(), {a.node, rhs}, {}));
      return;
    }
    if (shape_of(a.node) != shape_of(b.node)) {
      out_node(sum_broadcast(a.node, b.node, op == '-', ""));
      return;
    }
    NodeId rhs = b.node;
    if (op == '-')
      rhs = add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Mul), {b.node},
                {param(base_ + ".minus_one", "", Tensor::scalar(-1.0f), false)}, "/neg");
    out_node(add(std::make_shared<ops::Add>(), {a.node, rhs}, {}));
    return;
  }
  const bool const_first = !a.is_node;
  const NodeId x = const_first ? b.node : a.node;
  const int ck = const_first ? 0 : 1;
  const HostTensor c = as_float(const_first ? a.c : b.c);
  const std::string cname = in_name(ck);
  auto binary = [&](ops::ConstantBinary::Mode mode, const Tensor& value, const std::string& variant,
                    const std::string& suffix, NodeId input) {
    return add(std::make_shared<ops::ConstantBinary>(mode), {input},
               {param(cname, variant, value, false)}, suffix);
  };
  const Tensor ct = to_tensor(c, "constant operand '" + cname + "'");
  switch (op) {
    case '+': out_node(binary(ops::ConstantBinary::Add, ct, "", "", x)); return;
    case '*': out_node(binary(ops::ConstantBinary::Mul, ct, "", "", x)); return;
    case '-':
      if (!const_first) {
        Tensor neg = ct;
        for (float& v : neg) v = -v;
        out_node(binary(ops::ConstantBinary::Add, neg, "neg", "", x));
      } else {  // c - x = (−1)·x + c
        const NodeId m = add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Mul), {x},
                             {param(base_ + ".minus_one", "", Tensor::scalar(-1.0f), false)}, "/neg");
        out_node(binary(ops::ConstantBinary::Add, ct, "", "", m));
      }
      return;
    default:
      if (const_first) {  // c / x = c ⊙ (1/x)
        const NodeId r = math_node(x, ops::Math::Reciprocal, 0, 0, "/reciprocal");
        out_node(binary(ops::ConstantBinary::Mul, ct, "", "", r));
        return;
      }
      Tensor inv = ct;
      for (float& v : inv) v = 1.0f / v;
      out_node(binary(ops::ConstantBinary::Mul, inv, "reciprocal", "", x));
  }
}

void Importer::op_sum() {
  bool all_const = true;
  for (int k = 0; k < nin(); ++k) all_const = all_const && is_const(k);
  if (all_const) {
    HostTensor acc = in(0).c;
    for (int k = 1; k < nin(); ++k) acc = eval_binary(acc, in(k).c, '+');
    out_const(std::move(acc));
    return;
  }
  std::vector<NodeId> xs;
  for (int k = 0; k < nin(); ++k) xs.push_back(node_in(k));
  if (xs.size() == 1) {
    alias(0);
    return;
  }
  out_node(add(std::make_shared<ops::Add>(), xs, {}));
}

void Importer::op_unary_math() {
  const std::string& t = n_->op_type();
  if (in(0).is_node) {
    const NodeId x = node_in(0);
    if (t == "Neg")
      out_node(add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Mul), {x},
                   {param(base_ + ".minus_one", "", Tensor::scalar(-1.0f), false)}));
    else
      out_node(math_node(x, t == "Sqrt" ? ops::Math::Sqrt : ops::Math::Reciprocal, 0, 0, ""));
    return;
  }
  const HostTensor& x = const_in(0, "the input");
  if (x.is_int && t == "Neg") {
    HostTensor c = x;
    for (int64_t& v : c.i) {
      if (v == kBatch) throw ShapeError("shape arithmetic on the batch size cannot be resolved");
      v = -v;
    }
    out_const(std::move(c));
    return;
  }
  HostTensor c = as_float(x);
  for (float& v : c.f) v = t == "Neg" ? -v : t == "Sqrt" ? std::sqrt(v) : 1.0f / v;
  out_const(std::move(c));
}

void Importer::op_gemm() {
  if (attr_int("transA", 0) != 0) throw ValueError("transA = 1 would transpose the batch axis; not supported");
  const NodeId x = node_in(0);
  const HostTensor& B = const_in(1, "the weight B");
  const float alpha = attr_float("alpha", 1.0f), beta = attr_float("beta", 1.0f);
  const bool transB = attr_int("transB", 0) != 0;
  if (B.rank() != 2) throw ShapeError("weight B " + list_str(B.shape) + " must be 2-D");
  Tensor W = to_tensor(transB ? B : const_transpose(B, {1, 0}), "weight B");
  if (alpha != 1.0f)
    for (float& v : W) v *= alpha;
  const int64_t out = W.dim(0);
  std::vector<int> params{param(in_name(1), std::string(transB ? "" : "T") + (alpha != 1.0f ? "alpha" : ""), W, true)};
  const bool bias = has_in(2) && beta != 0.0f;
  if (bias) {
    const HostTensor& C = const_in(2, "the bias C");
    Tensor b({out});
    const int64_t n = C.numel();
    bool ok = n == 1 || n == out;
    for (size_t k = 0; k + 1 < C.shape.size(); ++k) ok = ok && C.shape[k] == 1;
    if (!ok || (C.rank() > 0 && C.shape.back() != n))
      throw ShapeError("bias C " + list_str(C.shape) + " must broadcast to [" + std::to_string(out) +
                       "] per row (a bias varying over the batch is not supported)");
    for (int64_t k = 0; k < out; ++k) b[k] = beta * static_cast<float>(C.get(n == 1 ? 0 : k));
    params.push_back(param(in_name(2), beta != 1.0f || n != out ? "beta" : "", b, true));
  }
  out_node(add(std::make_shared<ops::Dense>(bias), {x}, params));
}

void Importer::op_matmul() {
  if (is_const(0)) throw ValueError("a constant left operand (W @ x) is not supported; write x @ Wᵀ");
  if (in(1).is_node) {  // attention: scores q @ kᵀ, weighted values p @ v (Kind::Product)
    out_node(add(std::make_shared<ops::MatMul>(), {node_in(0), node_in(1)}, {}));
    return;
  }
  const NodeId x = node_in(0);
  const HostTensor& B = const_in(1, "the right operand (weights)");
  if (B.rank() != 2) throw ShapeError("weights " + list_str(B.shape) + " must be 2-D");
  if (shape_of(x).rank() < 2) throw ShapeError("input " + shape_of(x).str() + " must have rank >= 2");
  const Tensor W = to_tensor(const_transpose(B, {1, 0}), "weights");
  const int64_t out = W.dim(0);
  std::vector<int> params{param(in_name(1), "T", W, true)};
  // Fuse a following bias Add (torch exports Linear on rank > 2 as MatMul + Add).
  const std::string& y = n_->output(0);
  bool bias = false;
  auto uc = use_count_.find(y);
  if (uc != use_count_.end() && uc->second == 1 && !graph_outputs_.count(y)) {
    const int ci = consumer_.at(y);
    const onnx::NodeProto& next = graph_->node(ci);
    if (next.op_type() == "Add" && next.domain().empty() && next.input_size() == 2 && next.output_size() >= 1) {
      const std::string& other = next.input(0) == y ? next.input(1) : next.input(0);
      auto it = values_.find(other);
      if (it != values_.end() && !it->second.is_node && decoded(it->second).c.shape == std::vector<int64_t>{out} &&
          !it->second.c.has_batch() && next.input(0) != next.input(1)) {
        params.push_back(param(other, "", to_tensor(it->second.c, "bias"), true));
        bias = true;
        fused_.insert(ci);
        const NodeId id = add(std::make_shared<ops::Dense>(true), {x}, params);
        if (values_.count(next.output(0))) throw IoError("value '" + next.output(0) + "' is produced twice");
        values_[next.output(0)] = Value{true, id, {}};
        return;
      }
    }
  }
  out_node(add(std::make_shared<ops::Dense>(bias), {x}, params));
}

void Importer::op_conv() {
  const NodeId x = node_in(0);
  const Shape xs = shape_of(x);
  const HostTensor& Wc = const_in(1, "the weight");
  if (xs.rank() != 3 && xs.rank() != 4 && xs.rank() != 5)
    throw ShapeError("input " + xs.str() +
                     ": only 1-D ([N,C,L]), 2-D ([N,C,H,W]) and 3-D ([N,C,D,H,W]) convolutions are supported");
  const int sd = xs.rank() - 2;
  if (Wc.rank() != xs.rank())
    throw ShapeError("weight " + list_str(Wc.shape) + " does not match input " + xs.str());
  const Tensor W = to_tensor(Wc, "weight");
  const std::vector<int64_t> kshape(Wc.shape.begin() + 2, Wc.shape.end());
  if (has_attr("kernel_shape") && attr_ints("kernel_shape") != kshape)
    throw ValueError("kernel_shape " + list_str(attr_ints("kernel_shape")) + " does not match weight " + list_str(Wc.shape));
  const auto strides = attr_ints("strides", std::vector<int64_t>(static_cast<size_t>(sd), 1));
  const auto dil = attr_ints("dilations", std::vector<int64_t>(static_cast<size_t>(sd), 1));
  auto pads = attr_ints("pads", std::vector<int64_t>(static_cast<size_t>(2 * sd), 0));
  if (static_cast<int>(strides.size()) != sd || static_cast<int>(dil.size()) != sd ||
      static_cast<int>(pads.size()) != 2 * sd)
    throw ValueError("strides " + list_str(strides) + ", dilations " + list_str(dil) + " or pads " + list_str(pads) +
                     " do not match " + std::to_string(sd) + " spatial dimensions");
  bounded(strides, "strides");
  bounded(dil, "dilations");
  bounded(pads, "pads");
  const std::string auto_pad = attr_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (int k = 0; k < sd; ++k) {
      const int64_t in = xs[2 + k], s = strides[static_cast<size_t>(k)];
      if (s < 1) throw ValueError("stride " + std::to_string(s));
      const int64_t outd = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (outd - 1) * s + (kshape[static_cast<size_t>(k)] - 1) * dil[static_cast<size_t>(k)] + 1 - in);
      const int64_t small = total / 2;
      pads[static_cast<size_t>(k)] = auto_pad == "SAME_UPPER" ? small : total - small;
      pads[static_cast<size_t>(k + sd)] = total - pads[static_cast<size_t>(k)];
    }
  } else if (auto_pad == "VALID") {
    std::fill(pads.begin(), pads.end(), 0);
  } else if (auto_pad != "NOTSET") {
    throw ValueError("auto_pad '" + auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  }
  const int64_t group = bounded({attr_int("group", 1)}, "group")[0];
  const bool bias = has_in(2);
  std::vector<int> params{param(in_name(1), "", W, true)};
  if (bias) {
    const HostTensor& b = const_in(2, "the bias");
    params.push_back(param(in_name(2), "", to_tensor(b, "bias"), true));
  }
  std::shared_ptr<Op> op;
  if (sd == 1) {
    kernels::Conv1dConfig c;
    c.stride = strides[0];
    c.dilation = dil[0];
    c.pad_left = pads[0];
    c.pad_right = pads[1];
    c.groups = group;
    op = std::make_shared<ops::Conv1d>(c, bias);
  } else if (sd == 3) {
    kernels::Conv3dConfig c;
    c.stride = {strides[0], strides[1], strides[2]};
    c.dilation = {dil[0], dil[1], dil[2]};
    c.pads = {pads[0], pads[1], pads[2], pads[3], pads[4], pads[5]};
    c.groups = group;
    op = std::make_shared<ops::Conv3d>(c, bias);
  } else {
    kernels::Conv2dConfig c;
    c.stride = {strides[0], strides[1]};
    c.dilation = {dil[0], dil[1]};
    c.pads = {pads[0], pads[1], pads[2], pads[3]};
    c.groups = group;
    op = std::make_shared<ops::Conv2d>(c, bias);
  }
  out_node(add(op, {x}, params));
}

void Importer::op_conv_transpose() {
  const NodeId x = node_in(0);
  const Shape xs = shape_of(x);
  const HostTensor& Wc = const_in(1, "the weight");
  if (xs.rank() != 3 && xs.rank() != 4)
    throw ShapeError("input " + xs.str() + ": only 1-D ([N,C,L]) and 2-D ([N,C,H,W]) transposed convolutions are supported");
  const int sd = xs.rank() - 2;
  const size_t usd = static_cast<size_t>(sd);
  if (Wc.rank() != xs.rank()) throw ShapeError("weight " + list_str(Wc.shape) + " does not match input " + xs.str());
  const Tensor W = to_tensor(Wc, "weight");
  const std::vector<int64_t> kshape(Wc.shape.begin() + 2, Wc.shape.end());
  if (has_attr("kernel_shape") && attr_ints("kernel_shape") != kshape)
    throw ValueError("kernel_shape " + list_str(attr_ints("kernel_shape")) + " does not match weight " + list_str(Wc.shape));
  const auto strides = bounded(attr_ints("strides", std::vector<int64_t>(usd, 1)), "strides");
  const auto dil = bounded(attr_ints("dilations", std::vector<int64_t>(usd, 1)), "dilations");
  auto pads = bounded(attr_ints("pads", std::vector<int64_t>(2 * usd, 0)), "pads");
  auto opad = bounded(attr_ints("output_padding", std::vector<int64_t>(usd, 0)), "output_padding");
  if (strides.size() != usd || dil.size() != usd || pads.size() != 2 * usd || opad.size() != usd)
    throw ValueError("strides " + list_str(strides) + ", dilations " + list_str(dil) + ", pads " + list_str(pads) +
                     " or output_padding " + list_str(opad) + " do not match " + std::to_string(sd) + " spatial dimensions");
  const std::string auto_pad = attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID")
    throw ValueError("auto_pad '" + auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  std::vector<int64_t> out_shape = bounded(attr_ints("output_shape"), "output_shape");
  if (out_shape.size() == usd + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  if (!out_shape.empty() && out_shape.size() != usd)
    throw ValueError("output_shape " + list_str(attr_ints("output_shape")) + " does not match " + std::to_string(sd) +
                     " spatial dimensions");
  if (out_shape.empty() && (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER"))
    for (size_t k = 0; k < usd; ++k) out_shape.push_back(xs[static_cast<int>(k) + 2] * strides[k]);
  if (auto_pad == "VALID") std::fill(pads.begin(), pads.end(), 0);
  if (!out_shape.empty()) {  // ONNX: the pads (or extra output padding) that give this output size
    for (size_t k = 0; k < usd; ++k) {
      int64_t span = 0, reach = 0, total = 0;
      if (__builtin_mul_overflow(strides[k], xs[static_cast<int>(k) + 2] - 1, &span) ||
          __builtin_mul_overflow(kshape[k] - 1, dil[k], &reach) || __builtin_add_overflow(span, reach, &total) ||
          __builtin_add_overflow(total, opad[k] + 1 - out_shape[k], &total))
        throw ShapeError("strides " + list_str(strides) + " and dilations " + list_str(dil) + " give an absurd output size");
      if (total < 0) {
        opad[k] -= total;
        pads[k] = pads[k + usd] = 0;
      } else if (auto_pad == "SAME_UPPER") {
        pads[k] = total / 2;
        pads[k + usd] = total - total / 2;
      } else {
        pads[k] = total - total / 2;
        pads[k + usd] = total / 2;
      }
    }
  }
  const int64_t group = bounded({attr_int("group", 1)}, "group")[0];
  const bool bias = has_in(2);
  std::vector<int> params{param(in_name(1), "", W, true)};
  if (bias) params.push_back(param(in_name(2), "", to_tensor(const_in(2, "the bias"), "bias"), true));
  kernels::ConvTransposeConfig c;
  if (sd == 1) {
    c = kernels::ConvTransposeConfig::one_d(strides[0], pads[0], pads[1], dil[0], opad[0], group);
  } else {
    c.stride = {strides[0], strides[1]};
    c.dilation = {dil[0], dil[1]};
    c.pads = {pads[0], pads[1], pads[2], pads[3]};
    c.output_padding = {opad[0], opad[1]};
    c.groups = group;
  }
  out_node(add(std::make_shared<ops::ConvTranspose>(sd, c, bias), {x}, params));
}

void Importer::op_resize() {
  // Resize (opset 11+: X, roi, scales, sizes) and the older Upsample (X, scales).
  const bool upsample = n_->op_type() == "Upsample";
  const NodeId x = node_in(0);
  const Shape xs = shape_of(x);
  const int r = xs.rank();
  if (r < 3) throw ShapeError("input " + xs.str() + ": only inputs [N,C,spatial...] can be resized");
  kernels::ResizeConfig c;
  c.mode = kernels::parse_resize_mode(attr_string("mode", "nearest"));
  if (upsample) {
    c.coordinates = kernels::ResizeCoordinates::asymmetric;
    c.nearest = kernels::ResizeNearest::floor;
  } else {
    c.coordinates = kernels::parse_resize_coordinates(attr_string("coordinate_transformation_mode", "half_pixel"));
    c.nearest = kernels::parse_resize_nearest(attr_string("nearest_mode", "round_prefer_floor"));
    c.cubic_a = attr_float("cubic_coeff_a", -0.75f);
    if (attr_int("exclude_outside", 0) != 0) throw ValueError("exclude_outside=1 is not supported");
  }
  const int scales_in = upsample ? 1 : 2, sizes_in = 3;
  const HostTensor* scales = nullptr;
  const HostTensor* sizes = nullptr;
  HostTensor attr_scales;  // Upsample before opset 9: an attribute
  if (has_in(scales_in) && const_in(scales_in, "scales").numel() > 0) scales = &const_in(scales_in, "scales");
  if (!upsample && has_in(sizes_in) && const_in(sizes_in, "sizes").numel() > 0) sizes = &const_in(sizes_in, "sizes");
  if (upsample && !scales) {
    const auto a = attr("scales");
    if (!a) throw ValueError("the scales are missing");
    attr_type(a, onnx::AttributeProto::FLOATS);
    attr_scales.f.assign(a->floats().begin(), a->floats().end());
    attr_scales.shape = {static_cast<int64_t>(attr_scales.f.size())};
    scales = &attr_scales;
  }
  if (!scales == !sizes) throw ValueError("exactly one of scales and sizes must be given");
  const HostTensor& given = scales ? *scales : *sizes;
  if (given.rank() != 1 || given.numel() != r)
    throw ValueError(std::string(scales ? "scales " : "sizes ") + given.describe() + " must hold one entry per axis of input " +
                     xs.str());
  if (sizes && !sizes->is_int) throw ValueError("sizes " + sizes->describe() + " must be integers");
  for (int a = 0; a < 2; ++a) {  // batch and channels stay
    const bool keeps = scales ? scales->get(a) == 1.0
                              : (a == 0 ? (sizes->i[0] == kBatch || sizes->i[0] == static_batch_) : sizes->i[1] == xs[1]);
    if (!keeps)
      throw ShapeError(std::string(scales ? "scales " : "sizes ") + given.describe() + " resize the " +
                       (a == 0 ? "batch" : "channel") + " axis of input " + xs.str() + "; only the spatial axes may change");
  }
  if (sizes && sizes->has_batch() && std::count(sizes->i.begin(), sizes->i.end(), kBatch) > 1)
    throw ShapeError("sizes " + sizes->describe() + " depend on the batch size beyond the batch axis");
  for (int a = 2; a < r; ++a) {
    if (scales) c.scales.push_back(scales->get(a));
    else c.sizes.push_back(sizes->i[static_cast<size_t>(a)]);
  }
  out_node(add(std::make_shared<ops::Resize>(c), {x}, {}));
}

void Importer::op_batch_norm() {
  only_first_output();
  if (attr_int("training_mode", 0) != 0) throw ValueError("training_mode = 1: trim imports models for inference only");
  const NodeId x = node_in(0);
  const float eps = attr_float("epsilon", 1e-5f);
  const int64_t C = shape_of(x).rank() >= 2 ? shape_of(x)[1] : -1;
  const char* names[] = {"scale", "B", "mean", "var"};
  std::vector<int> params;
  for (int k = 1; k <= 4; ++k) {
    const HostTensor& c = const_in(k, names[k - 1]);
    if (c.shape != std::vector<int64_t>{C})
      throw ShapeError(std::string(names[k - 1]) + " " + list_str(c.shape) + ", expected [" + std::to_string(C) +
                       "] for input " + shape_of(x).str());
    params.push_back(param(in_name(k), "", to_tensor(c, names[k - 1]), k <= 2));
  }
  out_node(add(std::make_shared<ops::BatchNorm>(eps), {x}, params));
}

void Importer::op_activation() {
  const std::string& t = n_->op_type();
  std::shared_ptr<Op> op;
  if (t == "Relu") op = std::make_shared<ops::Relu>();
  else if (t == "LeakyRelu") op = std::make_shared<ops::LeakyRelu>(attr_float("alpha", 0.01f));
  else if (t == "Elu") op = std::make_shared<ops::Elu>(attr_float("alpha", 1.0f));
  else if (t == "Sigmoid") op = std::make_shared<ops::Sigmoid>();
  else if (t == "Tanh") op = std::make_shared<ops::Tanh>();
  else if (t == "Softplus") op = std::make_shared<ops::Softplus>(1.0f, 20.0f);
  else if (t == "Exp") op = std::make_shared<ops::Math>(ops::Math::Exp);
  else if (t == "Log") op = std::make_shared<ops::Math>(ops::Math::Log);
  else if (t == "Erf") op = std::make_shared<ops::Math>(ops::Math::Erf);
  else if (t == "HardSigmoid")
    op = std::make_shared<ops::Math>(ops::Math::HardSigmoid, attr_float("alpha", 0.2f), attr_float("beta", 0.5f));
  else if (t == "HardSwish") op = std::make_shared<ops::Math>(ops::Math::HardSwish);
  else {  // Clip: attributes before opset 11, optional inputs after
    const float inf = std::numeric_limits<float>::infinity();
    float lo = attr_float("min", -inf), hi = attr_float("max", inf);
    lo = scalar_input(1, "min", lo);
    hi = scalar_input(2, "max", hi);
    op = std::make_shared<ops::Clip>(lo, hi);
  }
  const Value& v = in(0);
  if (!v.is_node) {
    HostTensor c = as_float(v.c);
    op->infer_shape({Shape{}}, {}, op->type() + " '" + base_ + "'");  // validates the configuration
    std::vector<float> out(c.f.size());
    op->phi(c.f.data(), out.data(), c.numel());
    c.f = std::move(out);
    out_const(std::move(c));
    return;
  }
  out_node(add(op, {v.node}, {}));
}

void Importer::op_softmax() {
  const bool log = n_->op_type() == "LogSoftmax";
  const NodeId x = node_in(0);
  const Shape xs = shape_of(x);
  const int r = xs.rank();
  auto make = [&](int axis) -> std::shared_ptr<Op> {
    if (log) return std::make_shared<ops::LogSoftmax>(axis);
    return std::make_shared<ops::Softmax>(axis);
  };
  // A softmax inside the network (attention) is built from kinds so that
  // every method passes it; one that ends the network stays a single
  // (opaque) op: explain the logits before it.
  const bool inner = !graph_outputs_.count(n_->output(0));
  if (opset_ >= 13) {
    const int64_t axis = attr_int("axis", -1);
    norm_axis(axis, r, "axis");
    out_node(inner ? softmax_by_kinds(x, static_cast<int>(axis), log) : add(make(static_cast<int>(axis)), {x}, {}));
    return;
  }
  // Before opset 13 the input is coerced to 2-D at `axis`: normalise over
  // all axes from `axis` on.
  const int axis = norm_axis(attr_int("axis", 1), r, "axis");
  if (axis == 0) throw ValueError("axis 0 would normalise across the batch");
  if (axis == r - 1) {
    out_node(inner ? softmax_by_kinds(x, axis, log) : add(make(axis), {x}, {}));
    return;
  }
  const NodeId f = add(std::make_shared<ops::Flatten>(axis), {x}, {}, "/flatten");
  const NodeId s = inner ? softmax_by_kinds(f, -1, log) : add(make(-1), {f}, {});
  out_node(reshape_to(s, xs, "/reshape"));
}

void Importer::op_pool() {
  only_first_output();
  const bool is_max = n_->op_type() == "MaxPool";
  const NodeId x = node_in(0);
  const Shape xs = shape_of(x);
  if (xs.rank() != 3 && xs.rank() != 4 && xs.rank() != 5)
    throw ShapeError("input " + xs.str() + ": only 1-D, 2-D and 3-D pooling is supported");
  const int sd = xs.rank() - 2;
  if (!has_attr("kernel_shape")) throw ValueError("attribute 'kernel_shape' is missing");
  const auto k = attr_ints("kernel_shape");
  const auto strides = attr_ints("strides", std::vector<int64_t>(static_cast<size_t>(sd), 1));
  auto pads = attr_ints("pads", std::vector<int64_t>(static_cast<size_t>(2 * sd), 0));
  const auto dil = attr_ints("dilations", std::vector<int64_t>(static_cast<size_t>(sd), 1));
  if (static_cast<int>(k.size()) != sd || static_cast<int>(strides.size()) != sd ||
      static_cast<int>(pads.size()) != 2 * sd || static_cast<int>(dil.size()) != sd)
    throw ValueError("kernel_shape " + list_str(k) + ", strides " + list_str(strides) + " or pads " + list_str(pads) +
                     " do not match " + std::to_string(sd) + " spatial dimensions");
  for (int64_t d : dil)
    if (d != 1) throw ValueError("dilations " + list_str(dil) + " are not supported (only 1)");
  bounded(k, "kernel_shape");
  bounded(strides, "strides");
  bounded(pads, "pads");
  const bool ceil = attr_int("ceil_mode", 0) != 0;
  const std::string auto_pad = attr_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (int a = 0; a < sd; ++a) {
      const int64_t in = xs[2 + a], s = strides[static_cast<size_t>(a)];
      if (s < 1) throw ValueError("stride " + std::to_string(s));
      const int64_t outd = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (outd - 1) * s + k[static_cast<size_t>(a)] - in);
      const int64_t small = total / 2;
      pads[static_cast<size_t>(a)] = auto_pad == "SAME_UPPER" ? small : total - small;
      pads[static_cast<size_t>(a + sd)] = total - pads[static_cast<size_t>(a)];
    }
  } else if (auto_pad == "VALID") {
    std::fill(pads.begin(), pads.end(), 0);
  } else if (auto_pad != "NOTSET") {
    throw ValueError("auto_pad '" + auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  }
  const bool include_pad = attr_int("count_include_pad", 0) != 0;
  if (sd == 3) {
    kernels::Pool3dWindow w3;
    w3.kernel = {k[0], k[1], k[2]};
    w3.stride = {strides[0], strides[1], strides[2]};
    w3.pads = {pads[0], pads[1], pads[2], pads[3], pads[4], pads[5]};
    w3.ceil_mode = ceil;
    w3.count_include_pad = include_pad;
    if (is_max) out_node(add(std::make_shared<ops::MaxPool3d>(w3), {x}, {}));
    else out_node(add(std::make_shared<ops::AvgPool3d>(w3), {x}, {}));
    return;
  }
  kernels::PoolWindow w;
  if (sd == 1) {
    w = kernels::PoolWindow::one_d(k[0], strides[0], pads[0], pads[1], ceil, include_pad);
  } else {
    w.kernel = {k[0], k[1]};
    w.stride = {strides[0], strides[1]};
    w.pads = {pads[0], pads[1], pads[2], pads[3]};
    w.ceil_mode = ceil;
    w.count_include_pad = include_pad;
  }
  if (is_max) out_node(add(std::make_shared<ops::MaxPool>(sd, w), {x}, {}));
  else out_node(add(std::make_shared<ops::AvgPool>(sd, w), {x}, {}));
}

void Importer::op_global_avg_pool() { out_node(add(std::make_shared<ops::GlobalAvgPool>(), {node_in(0)}, {})); }

void Importer::op_reduce_mean() {
  // Only the spatial mean torch writes as x.mean((2, 3)): a global average pool.
  const NodeId x = node_in(0);
  const Shape xs = shape_of(x);
  const int r = xs.rank();
  std::vector<int64_t> axes;
  if (!ints_attr_or_input("axes", 1, axes))
    throw ValueError("a mean over all axes would mix the batch; only the mean over axes 2.. is supported");
  std::set<int64_t> got;
  for (int64_t a : axes) got.insert(norm_axis(a, r, "axis"));
  std::set<int64_t> spatial;
  for (int a = 2; a < r; ++a) spatial.insert(a);
  if (r < 3 || got != spatial) {  // any other non-batch axes (LayerNorm before opset 17)
    op_reduce();
    return;
  }
  const NodeId y = add(std::make_shared<ops::GlobalAvgPool>(), {x}, {});
  if (attr_int("keepdims", 1) != 0) {
    out_node(y);
    return;
  }
  out_node(reshape_to(y, Shape{xs[0], xs[1]}, "/squeeze"));
}

void Importer::op_pad() {
  const std::string mode = attr_string("mode", "constant");
  if (mode != "constant")
    throw ValueError("mode '" + mode + "' is not supported (only 'constant')");
  const NodeId x = node_in(0);
  const Shape xs = shape_of(x);
  const int r = xs.rank();
  std::vector<int64_t> pads;
  if (!ints_attr_or_input("pads", 1, pads)) throw ValueError("pads are missing");
  bounded(pads, "pads");
  float value = attr_float("value", 0.0f);
  value = scalar_input(2, "constant_value", value);
  std::vector<int64_t> axes;
  if (has_in(3)) {
    ints_attr_or_input("axes", 3, axes);
    for (int64_t& a : axes) a = norm_axis(a, r, "axis");
  } else {
    for (int a = 0; a < r; ++a) axes.push_back(a);
  }
  const size_t na = axes.size();
  if (pads.size() != 2 * na)
    throw ValueError("pads " + list_str(pads) + " has " + std::to_string(pads.size()) + " entries, expected " +
                     std::to_string(2 * na) + " for input " + xs.str());
  std::vector<std::array<int64_t, 2>> per(static_cast<size_t>(r - 1), {0, 0});
  for (size_t k = 0; k < na; ++k) {
    const int64_t b = pads[k], e = pads[k + na];
    if (b < 0 || e < 0) throw ValueError("negative pads " + list_str(pads) + " (cropping) are not supported");
    if (axes[k] == 0) {
      if (b || e) throw ShapeError("padding the batch axis is not supported (pads " + list_str(pads) + ")");
      continue;
    }
    per[static_cast<size_t>(axes[k] - 1)] = {b, e};
  }
  out_node(add(std::make_shared<ops::Pad>(per, value), {x}, {}));
}

// ---- products of data and layers decomposed into kinds ---------------------------

NodeId Importer::math_node(NodeId x, ops::Math::Fn fn, float a, float b, const std::string& suffix) {
  return add(std::make_shared<ops::Math>(fn, a, b), {x}, {}, suffix);
}

NodeId Importer::broadcast_to(NodeId x, const Shape& full, const std::string& suffix) {
  if (shape_of(x) == full) return x;
  return add(std::make_shared<ops::Broadcast>(per_example(full)), {x}, {}, suffix);
}

NodeId Importer::sum_broadcast(NodeId a, NodeId b, bool subtract, const std::string& suffix) {
  const Shape sa = shape_of(a), sb = shape_of(b);
  if (sa.rank() != sb.rank())
    throw ShapeError("data inputs " + sa.str() + " and " + sb.str() +
                     " have different ranks; broadcasting between them would align the batch axis with another");
  Shape full{sa[0]};
  for (int k = 1; k < sa.rank(); ++k) {
    if (sa[k] != sb[k] && sa[k] != 1 && sb[k] != 1)
      throw ShapeError("data inputs " + sa.str() + " and " + sb.str() + " do not broadcast");
    full.push_back(sa[k] == 1 ? sb[k] : sa[k]);
  }
  const NodeId lhs = broadcast_to(a, full, suffix + "/broadcast_a");
  NodeId rhs = broadcast_to(b, full, suffix + "/broadcast_b");
  if (subtract)
    rhs = add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Mul), {rhs},
              {param(base_ + ".minus_one", "", Tensor::scalar(-1.0f), false)}, suffix + "/neg");
  return add(std::make_shared<ops::Add>(), {lhs, rhs}, {}, suffix);
}

NodeId Importer::softmax_by_kinds(NodeId x, int axis, bool log) {
  // exp(x − max) ⊙ 1/Σ exp(x − max); log: (x − max) − log Σ exp(x − max).
  const NodeId m = add(std::make_shared<ops::ReduceMax>(std::vector<int>{axis}, true), {x}, {}, "/max");
  const NodeId shifted = sum_broadcast(x, m, true, "/shifted");
  const NodeId e = math_node(shifted, ops::Math::Exp, 0, 0, "/exp");
  const NodeId s = add(std::make_shared<ops::Reduce>(ops::Reduce::Sum, std::vector<int>{axis}, true), {e}, {}, "/sum");
  if (log) return sum_broadcast(shifted, math_node(s, ops::Math::Log, 0, 0, "/log"), true, "");
  return add(std::make_shared<ops::Multiply>(), {e, math_node(s, ops::Math::Reciprocal, 0, 0, "/reciprocal")}, {});
}

void Importer::op_pow() {
  const Value& b = in(0);
  const HostTensor& e = const_in(1, "the exponent");
  if (e.numel() != 1) throw ValueError("exponent " + e.describe() + " must be one constant value");
  if (e.has_batch()) throw ShapeError("the exponent depends on the batch size");
  const float p = static_cast<float>(e.get(0));
  if (!b.is_node) {
    HostTensor c = as_float(b.c);
    for (float& v : c.f) v = std::pow(v, p);
    out_const(std::move(c));
    return;
  }
  out_node(p == 1.0f ? b.node : math_node(b.node, ops::Math::Pow, p, 0, ""));
}

void Importer::op_reduce() {
  const std::string& t = n_->op_type();
  const NodeId x = node_in(0);
  const Shape xs = shape_of(x);
  std::vector<int64_t> axes;
  if (!ints_attr_or_input("axes", 1, axes) || axes.empty()) {
    if (attr_int("noop_with_empty_axes", 0) != 0) {
      alias(0);
      return;
    }
    throw ValueError(t + " over all axes would mix the batch; only reductions over non-batch axes are supported");
  }
  std::vector<int> ax;
  for (int64_t a : axes) ax.push_back(norm_axis(a, xs.rank(), "axis"));
  const bool keep = attr_int("keepdims", 1) != 0;
  if (t == "ReduceMax") out_node(add(std::make_shared<ops::ReduceMax>(ax, keep), {x}, {}));
  else out_node(add(std::make_shared<ops::Reduce>(t == "ReduceSum" ? ops::Reduce::Sum : ops::Reduce::Mean, ax, keep),
                    {x}, {}));
}

void Importer::op_layer_norm() {
  // (x − mean) ⊙ (var + eps)^(−½) ⊙ scale + bias over the axes from `axis` on:
  // reductions (Linear), a Sum, a square and a power (Elementwise), a Product.
  only_first_output();
  const NodeId x = node_in(0);
  const Shape xs = shape_of(x);
  const int r = xs.rank();
  const int axis = norm_axis(attr_int("axis", -1), r, "axis");
  if (axis == 0) throw ValueError("axis 0 would normalise across the batch");
  const float eps = attr_float("epsilon", 1e-5f);
  std::vector<int> axes;
  for (int a = axis; a < r; ++a) axes.push_back(a);
  const NodeId mean = add(std::make_shared<ops::Reduce>(ops::Reduce::Mean, axes, true), {x}, {}, "/mean");
  const NodeId centred = sum_broadcast(x, mean, true, "/centred");
  const NodeId sq = math_node(centred, ops::Math::Pow, 2.0f, 0, "/square");
  const NodeId var = add(std::make_shared<ops::Reduce>(ops::Reduce::Mean, axes, true), {sq}, {}, "/var");
  const NodeId shifted = add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Add), {var},
                             {param(base_ + ".epsilon", "", Tensor::scalar(eps), false)}, "/eps");
  const NodeId inv_std = math_node(shifted, ops::Math::Pow, -0.5f, 0, "/inv_std");
  NodeId y = add(std::make_shared<ops::Multiply>(), {centred, inv_std}, {}, "/normalised");
  const Tensor scale = to_tensor(as_float(const_in(1, "the scale")), "scale");
  y = add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Mul), {y},
          {param(in_name(1), "", scale, true)}, has_in(2) ? "/scale" : "");
  if (has_in(2)) {
    const Tensor bias = to_tensor(as_float(const_in(2, "the bias")), "bias");
    y = add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Add), {y}, {param(in_name(2), "", bias, true)});
  }
  out_node(y);
}

void Importer::expand_data(NodeId x, const HostTensor& t) {
  // Of data: the explicit broadcast trim writes (Kind::Structural).
  const Shape xs = shape_of(x);
  if (!t.is_int || t.rank() != 1 || t.numel() != xs.rank())
    throw ValueError("shape " + t.describe() + " must list one size per axis of input " + xs.str() +
                     " (expanding to a higher rank is not supported)");
  Shape full{xs[0]};
  for (int k = 1; k < xs.rank(); ++k) {
    const int64_t d = t.i[static_cast<size_t>(k)];
    if (d == kBatch) throw ShapeError("shape " + t.describe() + " moves the batch size to axis " + std::to_string(k));
    if (xs[k] != 1 && d != 1 && d != xs[k])
      throw ShapeError("input " + xs.str() + " does not expand to shape " + t.describe());
    full.push_back(xs[k] == 1 ? std::max<int64_t>(d, 1) : xs[k]);
  }
  if (t.i[0] != 1 && t.i[0] != kBatch) throw ShapeError("shape " + t.describe() + " would expand the batch axis");
  out_node(full == xs ? x : broadcast_to(x, full, ""));
}

// ---- masks, indices and shapes folded at import -------------------------------------------
//
// Design note. Exporters emit small integer and boolean subgraphs that only
// touch constants and shapes: `x.expand(N, -1, -1)` of a class token becomes
// Shape -> Equal(·, -1) -> Where -> Expand; attention masks are built with
// Equal / Not / Where; Swin's window indices with Mod and ScatterND; a zero
// initial state with ConstantOfShape of [N, ...]. trim evaluates them when the
// graph is read, with the batch size kept as a symbol (N):
//   - Equal, Not, Mod, Where, Expand and ScatterND of constants give
//     constants. N compares unequal to any value ≤ 0 (ONNX's "-1 means keep"
//     tests) and passes through Where / Expand / ScatterND untouched; any
//     other arithmetic on N is refused with a message.
//   - A constant expanded to [N, ...] (Expand, ConstantOfShape; for
//     ConstantOfShape N may sit anywhere, see Value::moved) becomes a
//     `batch_constant` node: Kind::Linear with A = 0, i.e. pure bias. It joins
//     data through Concat / Add like any node, and attribution methods treat
//     it as a bias (CD: irrelevant).
//   - Where(constant mask, data, constant) (or with the data second) becomes
//     data ⊙ keep + fill: Kind::Linear, the fill being its bias (masked_fill).
//   - Expand of data is accepted when it changes nothing (the shape it asks
//     for is the data's own); anything that broadcasts data is refused.
//   - A Transpose that moves the batch axis is deferred (Value::moved): the
//     data stays batch-first and the permutation is remembered; a Transpose
//     that puts the batch first again becomes one ordinary transpose (or
//     none), Shape reports N where it sits; any other reader is refused.
// What is not accepted: conditions that depend on the data, and shape
// arithmetic that needs the value of N.

namespace {

std::vector<int64_t> broadcast_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> s(r);
  for (size_t k = 0; k < r; ++k) {
    const int64_t da = k + a.size() >= r ? a[k + a.size() - r] : 1;
    const int64_t db = k + b.size() >= r ? b[k + b.size() - r] : 1;
    if (da != db && da != 1 && db != 1)
      throw ShapeError("shapes " + list_str(a) + " and " + list_str(b) + " do not broadcast");
    s[k] = da == 1 ? db : da;
  }
  return s;
}

/// x broadcast to `shape` (which x must broadcast to).
HostTensor expand_to(const HostTensor& x, const std::vector<int64_t>& shape) {
  if (broadcast_shape(x.shape, shape) != shape)
    throw ShapeError("constant " + list_str(x.shape) + " does not broadcast to " + list_str(shape));
  HostTensor out;
  out.is_int = x.is_int;
  out.shape = shape;
  const int64_t n = checked_numel(shape, "expanded constant");
  out.resize(n);
  const size_t r = shape.size(), off = r - x.shape.size();
  const auto sx = strides_of(x.shape);
  std::vector<int64_t> idx(r, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t from = 0;
    for (size_t d = off; d < r; ++d)
      if (x.shape[d - off] != 1) from += idx[d] * sx[d - off];
    out.copy_from(x, from, k);
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace

NodeId Importer::batch_constant(const HostTensor& per_example, const std::string& suffix) {
  const Tensor v = to_tensor(as_float(per_example), "constant");
  return add(std::make_shared<ops::BatchConstant>(), {g_.inputs().at(0)}, {param(n_->output(0), "", v, false)}, suffix);
}

void Importer::op_compare() {
  const HostTensor& a = const_in(0, "the first operand (only constants and shapes are supported)");
  const HostTensor& b = const_in(1, "the second operand (only constants and shapes are supported)");
  const auto shape = broadcast_shape(a.shape, b.shape);
  const HostTensor ea = expand_to(a, shape), eb = expand_to(b, shape);
  HostTensor out;
  out.is_int = true;
  out.shape = shape;
  out.resize(ea.numel());
  for (int64_t k = 0; k < ea.numel(); ++k) {
    const bool na = ea.is_int && ea.i[static_cast<size_t>(k)] == kBatch, nb = eb.is_int && eb.i[static_cast<size_t>(k)] == kBatch;
    if (na || nb) {
      const double other = na ? eb.get(k) : ea.get(k);
      if (na && nb) out.i[static_cast<size_t>(k)] = 1;
      else if (other <= 0) out.i[static_cast<size_t>(k)] = 0;  // a batch size is positive
      else throw ShapeError("comparing the batch size with " + std::to_string(other) + " cannot be resolved (the batch stays free)");
      continue;
    }
    out.i[static_cast<size_t>(k)] = ea.get(k) == eb.get(k);
  }
  out_const(std::move(out));
}

void Importer::op_not() {
  HostTensor c = const_in(0, "the input (only constant masks are supported)");
  if (!c.is_int || c.has_batch()) throw ValueError("Not of " + c.describe() + ": expected a constant boolean tensor");
  for (int64_t& v : c.i) v = v == 0;
  out_const(std::move(c));
}

void Importer::op_mod() {
  const HostTensor& a = const_in(0, "the dividend (only constants are supported)");
  const HostTensor& b = const_in(1, "the divisor (only constants are supported)");
  if (a.has_batch() || b.has_batch()) throw ShapeError("Mod of the batch size cannot be resolved (the batch stays free)");
  const bool fmod = attr_int("fmod", 0) != 0;
  const auto shape = broadcast_shape(a.shape, b.shape);
  const bool is_int = a.is_int && b.is_int;
  if (!is_int && !fmod) throw ValueError("Mod of floats needs fmod=1 (the ONNX rule)");
  const HostTensor ea = expand_to(is_int ? a : as_float(a), shape), eb = expand_to(is_int ? b : as_float(b), shape);
  HostTensor out;
  out.is_int = is_int;
  out.shape = shape;
  out.resize(ea.numel());
  for (int64_t k = 0; k < ea.numel(); ++k) {
    const size_t u = static_cast<size_t>(k);
    if (!is_int) {
      out.f[u] = std::fmod(ea.f[u], eb.f[u]);
      continue;
    }
    const int64_t x = ea.i[u], y = eb.i[u];
    if (y == 0) throw ValueError("integer Mod by zero in a constant");
    int64_t r = (y == -1) ? 0 : x % y;
    if (!fmod && r != 0 && ((r < 0) != (y < 0))) r += y;  // the sign of the divisor
    out.i[u] = r;
  }
  out_const(std::move(out));
}

void Importer::op_where() {
  const HostTensor& cond = const_in(0, "the condition (only constant masks are supported)");
  if (!cond.is_int || cond.has_batch()) throw ValueError("condition " + cond.describe() + ": expected a constant boolean tensor");
  const Value& xv = in(1);
  const Value& yv = in(2);
  if (!xv.is_node && !yv.is_node) {
    const auto shape = broadcast_shape(broadcast_shape(cond.shape, xv.c.shape), yv.c.shape);
    const bool is_int = xv.c.is_int && yv.c.is_int;
    const HostTensor ec = expand_to(cond, shape);
    const HostTensor ex = expand_to(is_int ? xv.c : as_float(xv.c), shape);
    const HostTensor ey = expand_to(is_int ? yv.c : as_float(yv.c), shape);
    HostTensor out = ex;
    for (int64_t k = 0; k < out.numel(); ++k)
      if (!ec.i[static_cast<size_t>(k)]) out.copy_from(ey, k, k);
    out_const(std::move(out));
    return;
  }
  if (xv.is_node && yv.is_node) throw ValueError("Where between two data inputs is not supported");
  // data ⊙ keep + fill, over the data's per-example shape.
  const bool data_first = xv.is_node;
  const NodeId x = data_first ? xv.node : yv.node;
  const HostTensor fill = as_float(data_first ? yv.c : xv.c);
  const Shape xs = shape_of(x);
  std::vector<int64_t> full{1};
  for (int k = 1; k < xs.rank(); ++k) full.push_back(xs[k]);
  if (broadcast_shape(broadcast_shape(cond.shape, fill.shape), full) != full)
    throw ShapeError("condition " + list_str(cond.shape) + " or value " + list_str(fill.shape) + " would broadcast the data " +
                     xs.str() + " to a larger shape");
  const HostTensor ec = expand_to(cond, full), ef = expand_to(fill, full);
  Shape per = per_example(xs);
  Tensor keep(per), bias(per);
  for (int64_t k = 0; k < keep.numel(); ++k) {
    const bool take_data = (ec.i[static_cast<size_t>(k)] != 0) == data_first;
    keep[k] = take_data ? 1.0f : 0.0f;
    bias[k] = take_data ? 0.0f : ef.f[static_cast<size_t>(k)];
  }
  const NodeId m = add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Mul), {x},
                       {param(n_->output(0), "keep", keep, false)}, "/keep");
  out_node(add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Add), {m},
               {param(n_->output(0), "fill", bias, false)}));
}

void Importer::op_expand() {
  const HostTensor& shape_c = const_in(1, "the shape");
  if (!shape_c.is_int || shape_c.rank() != 1) throw ValueError("shape " + shape_c.describe() + ": expected a 1-D integer tensor");
  const std::vector<int64_t>& want = shape_c.i;
  const Value& v = in(0);
  if (v.is_node) {
    const Shape xs = shape_of(v.node);
    std::vector<int64_t> have;
    for (int k = 0; k < xs.rank(); ++k) have.push_back(k == 0 ? kBatch : xs[k]);
    std::vector<int64_t> w = want;
    for (size_t k = 0; k < w.size() && w.size() <= have.size(); ++k) {
      const size_t hk = k + have.size() - w.size();
      if (w[k] == 1 || w[k] == have[hk] || (hk == 0 && static_batch_ > 0 && w[k] == static_batch_)) w[k] = have[hk];
    }
    bool same = w.size() <= have.size();
    for (size_t k = 0; same && k < w.size(); ++k) same = w[k] == have[k + have.size() - w.size()];
    if (same)
      alias(0);
    else
      expand_data(v.node, shape_c);
    return;
  }
  const HostTensor& x = v.c;
  if (x.has_batch()) throw ShapeError("expanding a shape that holds the batch size is not supported");
  if (!shape_c.has_batch()) {
    out_const(expand_to(x, broadcast_shape(x.shape, want)));
    return;
  }
  // A constant repeated over the batch: [N, ...].
  if (want[0] != kBatch || std::count(want.begin(), want.end(), kBatch) != 1 || x.rank() > static_cast<int>(want.size()))
    throw ShapeError("Expand to " + shape_c.describe() + ": only the batch size first can be resolved");
  std::vector<int64_t> one = want;
  one[0] = 1;
  const auto shape = broadcast_shape(x.shape, one);
  if (shape[0] != 1) throw ShapeError("Expand of " + list_str(x.shape) + " to " + shape_c.describe() + " changes the batch");
  HostTensor per = expand_to(x, shape);
  per.shape.erase(per.shape.begin());
  out_node(batch_constant(per, ""));
}

void Importer::op_scatter_nd() {
  const HostTensor& data = const_in(0, "the data (only constants are supported)");
  const HostTensor& idx = const_in(1, "the indices");
  const HostTensor& upd = const_in(2, "the updates (only constants are supported)");
  if (attr_string("reduction", "none") != "none") throw ValueError("only reduction 'none' is supported");
  if (!idx.is_int || idx.rank() < 1 || idx.has_batch()) throw ValueError("indices " + idx.describe() + ": expected constant integers");
  const int64_t k = idx.shape.back();
  if (k < 1 || k > data.rank()) throw ShapeError("indices " + list_str(idx.shape) + " do not fit data " + list_str(data.shape));
  std::vector<int64_t> ushape(idx.shape.begin(), idx.shape.end() - 1);
  ushape.insert(ushape.end(), data.shape.begin() + k, data.shape.end());
  if (upd.shape != ushape)
    throw ShapeError("updates " + list_str(upd.shape) + ", expected " + list_str(ushape) + " for data " +
                     list_str(data.shape) + " and indices " + list_str(idx.shape));
  const bool is_int = data.is_int && upd.is_int;
  HostTensor out = is_int ? data : as_float(data);
  const HostTensor u = is_int ? upd : as_float(upd);
  int64_t slice = 1;
  for (size_t d = static_cast<size_t>(k); d < data.shape.size(); ++d) slice *= data.shape[d];
  const auto strides = strides_of(data.shape);
  const int64_t rows = idx.numel() / k;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t off = 0;
    for (int64_t d = 0; d < k; ++d) {
      int64_t i = idx.i[static_cast<size_t>(r * k + d)];
      const int64_t dim = data.shape[static_cast<size_t>(d)];
      if (i < -dim || i >= dim) throw ShapeError("ScatterND index " + std::to_string(i) + " is out of range for length " + std::to_string(dim));
      if (i < 0) i += dim;
      off += i * strides[static_cast<size_t>(d)];
    }
    for (int64_t e = 0; e < slice; ++e) out.copy_from(u, r * slice + e, off + e);
  }
  out_const(std::move(out));
}

// ---- recurrent layers and values whose batch axis moved ---------------------------------
// The unrolling itself is in onnx_import_recurrent.cpp (detail::build_recurrent).

/// Input k of an LSTM / GRU ([T, N, ·] for layout 0, held batch-first with its
/// layout moved; [N, T, ·] for layout 1) as a batch-first node; -1 when an
/// optional input is absent or a constant zero state.
NodeId Importer::sequence_in(int k, int64_t layout, bool optional) {
  if (optional && !has_in(k)) return -1;
  const Value& v = in_any_layout(k);
  if (!v.is_node) {
    if (!optional) throw ValueError("the input sequence does not depend on the graph input");
    for (int64_t i = 0; i < v.c.numel(); ++i)
      if (v.c.get(i) != 0.0) throw ValueError("a constant initial state other than zeros is not supported");
    return -1;
  }
  const std::vector<int> seq_first{1, 0, 2};
  if (layout == 0 && v.moved != seq_first)
    throw ShapeError("input '" + in_name(k) + "' must be sequence-first [T, N, ·] (layout 0) with the batch second, " +
                     "but trim holds it as " + shape_of(v.node).str() +
                     " with the batch first: export with batch_first=True, or transpose a batch-first input");
  if (layout != 0 && !v.moved.empty())
    throw ShapeError("input '" + in_name(k) + "' must be batch-first (layout 1), but its batch axis moved");
  return v.node;
}

void Importer::op_recurrent() {
  using detail::RecurrentSpec;
  RecurrentSpec s;
  const bool lstm = n_->op_type() == "LSTM";
  s.cell = lstm ? RecurrentSpec::Cell::lstm : RecurrentSpec::Cell::gru;
  s.hidden = attr_int("hidden_size", 0);
  const std::string dir = attr_string("direction", "forward");
  if (dir == "bidirectional") s.directions = 2;
  else if (dir == "reverse") s.reverse = true;
  else if (dir != "forward") throw ValueError("direction '" + dir + "' is not forward, reverse or bidirectional");
  if (has_attr("clip")) throw ValueError("cell clipping ('clip') is not supported");
  const std::vector<std::string> defaults = lstm ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                                 : std::vector<std::string>{"Sigmoid", "Tanh"};
  if (const auto* a = attr("activations"))
    for (int i = 0; i < a->strings_size(); ++i)
      if (a->strings(i) != defaults[static_cast<size_t>(i) % defaults.size()])
        throw ValueError("activation '" + a->strings(i) + "' is not supported (only the defaults " +
                         (lstm ? "Sigmoid, Tanh, Tanh" : "Sigmoid, Tanh") + ")");
  if (lstm && attr_int("input_forget", 0) != 0) throw ValueError("input_forget = 1 is not supported");
  s.linear_before_reset = !lstm && attr_int("linear_before_reset", 0) != 0;
  const int64_t layout = attr_int("layout", 0);
  if (has_in(4)) throw ValueError("sequence_lens (variable-length, packed sequences) is not supported");
  if (lstm && has_in(7)) throw ValueError("peephole weights (input P) are not supported");
  s.x = sequence_in(0, layout, false);
  s.W = to_tensor(as_float(const_in(1, "W")), "W");
  s.R = to_tensor(as_float(const_in(2, "R")), "R");
  const int64_t gates = (lstm ? 4 : 3) * s.hidden;
  s.B = has_in(3) ? to_tensor(as_float(const_in(3, "B")), "B") : Tensor({int64_t{s.directions}, 2 * gates});
  s.h0 = sequence_in(5, layout, true);
  s.c0 = lstm ? sequence_in(6, layout, true) : -1;
  auto used = [&](int k) {
    return k < n_->output_size() && !n_->output(k).empty() &&
           (use_count_.count(n_->output(k)) > 0 || graph_outputs_.count(n_->output(k)) > 0);
  };
  s.need_y = used(0);
  s.need_h = used(1);
  s.need_c = lstm && used(2);
  const detail::RecurrentOutputs o = detail::build_recurrent(
      g_, s,
      [&](std::shared_ptr<const Op> op, std::vector<NodeId> ins, std::vector<int> ps, const std::string& suffix) {
        return add(std::move(op), std::move(ins), std::move(ps), suffix);
      },
      [&](const std::string& suffix, Tensor t, bool trainable) {
        return g_.add_parameter(fresh(param_names_, base_ + suffix), std::move(t), Init::keep(), trainable);
      });
  // Layout 0: Y is [T, dirs, N, H] and Y_h, Y_c [dirs, N, H], held batch-first.
  const std::vector<int> y_moved = layout == 0 ? std::vector<int>{1, 2, 0, 3} : std::vector<int>{};
  const std::vector<int> h_moved = layout == 0 ? std::vector<int>{1, 0, 2} : std::vector<int>{};
  if (o.y >= 0) define(0, Value{true, o.y, {}, nullptr, y_moved});
  if (o.y_h >= 0) define(1, Value{true, o.y_h, {}, nullptr, h_moved});
  if (o.y_c >= 0) define(2, Value{true, o.y_c, {}, nullptr, h_moved});
}

/// Slice, Squeeze, Gather (one index) and Reshape of a value whose batch axis
/// a Transpose or an LSTM / GRU moved ([T, N, ...]): done on the batch-first
/// node, the result keeps the moved layout (Value::moved). False when input 0
/// is not such a value (the ordinary handler runs).
bool Importer::op_moved_layout() {
  const std::string& t = n_->op_type();
  if ((t != "Slice" && t != "Squeeze" && t != "Gather" && t != "Reshape") || !has_in(0)) return false;
  auto it = values_.find(n_->input(0));
  if (it == values_.end() || !it->second.is_node || it->second.moved.empty()) return false;
  const Value v = it->second;
  const Shape& xs = shape_of(v.node);
  const int r = xs.rank();
  std::vector<int> p = v.moved;
  const int b = static_cast<int>(std::find(p.begin(), p.end(), 0) - p.begin());
  Shape os;  // the ONNX layout
  for (int k = 0; k < r; ++k) os.push_back(xs[p[static_cast<size_t>(k)]]);
  NodeId y = v.node;
  auto drop = [&](int a) {  // removes ONNX axis a (size 1)
    Shape per;
    for (int k = 1; k < shape_of(y).rank(); ++k)
      if (k != p[static_cast<size_t>(a)]) per.push_back(shape_of(y)[k]);
    y = add(std::make_shared<ops::Reshape>(per), {y}, {}, "/squeeze");
    p = detail::moved_without(p, a);
  };
  if (t == "Slice") {
    std::vector<int64_t> starts, ends, axes, steps;
    slice_args(starts, ends, axes, steps, r);
    for (size_t k = 0; k < axes.size(); ++k) {
      const int a = static_cast<int>(axes[k]), na = p[static_cast<size_t>(a)];
      if (a == b) {
        if (starts[k] != 0 || ends[k] < (int64_t{1} << 31) || steps[k] != 1)
          throw ShapeError("slicing the batch axis (axis " + std::to_string(a) + ") is not supported");
        continue;
      }
      if (steps[k] < 0) throw ValueError("negative slice steps on data are not supported");
      int64_t s = starts[k], e = ends[k];
      resolve_slice(xs[na], steps[k], s, e);
      if (s == 0 && e == xs[na] && steps[k] == 1) continue;
      if (e <= s) throw ShapeError("empty slice of axis " + std::to_string(a));
      y = add(std::make_shared<ops::Slice>(na, s, e, steps[k]), {y}, {}, "/" + std::to_string(a));
    }
  } else if (t == "Squeeze") {
    std::vector<int64_t> axes;
    if (!ints_attr_or_input("axes", 1, axes)) throw ValueError("Squeeze without axes of a value whose batch axis moved");
    std::vector<int> ks;
    for (int64_t a : axes) ks.push_back(norm_axis(a, r, "axis"));
    std::sort(ks.rbegin(), ks.rend());
    for (int a : ks) {
      if (a == b || os[a] != 1) throw ShapeError("axis " + std::to_string(a) + " of " + os.str() + " is not of size 1");
      drop(a);
    }
  } else if (t == "Gather") {
    const HostTensor& idx = const_in(1, "indices");
    const int a = norm_axis(attr_int("axis", 0), r, "axis");
    if (!idx.is_int || idx.rank() != 0 || a == b)
      throw ShapeError("only one index along an axis other than the batch is read on a value whose batch axis moved");
    int64_t i = idx.i[0];
    if (i < -os[a] || i >= os[a]) throw ShapeError("index " + std::to_string(i) + " is out of range for " + os.str());
    if (i < 0) i += os[a];
    y = add(std::make_shared<ops::Slice>(p[static_cast<size_t>(a)], i, i + 1, 1), {y}, {});
    drop(a);
  } else {  // Reshape
    const HostTensor& tgt = const_in(1, "shape");
    if (!tgt.is_int || tgt.rank() != 1) throw ValueError("the target shape must be a 1-D integer tensor");
    std::vector<int64_t> d = tgt.i;
    int64_t known = 1, unknown = -1;
    for (size_t k = 0; k < d.size(); ++k) {
      if (d[k] == 0 && static_cast<int>(k) < r) d[k] = os[static_cast<int>(k)];
      else if (d[k] == kBatch) d[k] = Shape::free;
      else if (d[k] == -1) unknown = static_cast<int64_t>(k);
      if (d[k] > 0) known *= d[k];
    }
    if (unknown >= 0) {
      const int64_t count = xs.numel(1, r);
      if (known == 0 || count % known) throw ShapeError("cannot reshape " + os.str() + " to " + list_str(tgt.i));
      d[static_cast<size_t>(unknown)] = count / known;
      if (std::count(d.begin(), d.end(), Shape::free) != 1)
        throw ShapeError("target " + list_str(tgt.i) + " leaves the batch size unresolved for " + os.str());
    }
    Shape ns;
    std::vector<int> mo;
    if (!detail::moved_reshape(os, p, d, ns, mo))
      throw ShapeError("reshaping " + os.str() + " (its batch axis " + std::to_string(b) + " moved) to " +
                       list_str(tgt.i) + " is not supported: trim reshapes such a value only when the axes up to the "
                       "batch stay (merging the batch with another axis, as nn.MultiheadAttention's [T, N*heads, d], is not read yet)");
    y = reshape_to(y, ns);
    p = mo;
  }
  bool identity = true;
  for (size_t k = 0; k < p.size(); ++k) identity = identity && p[k] == static_cast<int>(k);
  define(0, Value{true, y, {}, nullptr, identity ? std::vector<int>{} : p});
  return true;
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
                           "OnnxImportOptions::input_shapes");
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
  const HostTensor tc = from_proto(*table, "embedding table '" + nd.input(0) + "'");
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
  if (opt_.token_inputs) opt_.token_inputs->push_back({vi.name(), name, nd.input(0), to_tensor(tc, "embedding table")});
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
  if (op_moved_layout()) return;
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

Graph Importer::run(const onnx::ModelProto& m) {
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
      continue;
    }
    try {
      dispatch();
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

std::string read_file(const std::string& path) {
  // An ifstream opens a directory without complaint and reports its size as
  // 2^63 − 1.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw IoError("onnx '" + path + "': is a directory, not a model file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("onnx '" + path + "': cannot open for reading (" + std::strerror(errno) + ")");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw IoError("onnx '" + path + "': cannot determine the file size");
  if (size > std::streamoff{INT32_MAX})
    throw IoError("onnx '" + path + "': file of " + std::to_string(size) + " bytes exceeds protobuf's 2 GB limit");
  in.seekg(0, std::ios::beg);
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(&bytes[0], size);
  if (in.gcount() != size) throw IoError("onnx '" + path + "': read error");
  return bytes;
}

}  // namespace

Graph load_onnx_bytes(const std::string& bytes, const std::string& name, const OnnxImportOptions& options) {
  if (bytes.empty()) throw IoError("onnx '" + name + "': the file is empty");
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    throw IoError("onnx '" + name + "': more than 2 GB, beyond protobuf's limit");
  onnx::ModelProto m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw IoError("onnx '" + name + "': not a valid ONNX protobuf (malformed or truncated file)");
  return Importer(name, options).run(m);
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
  return load_onnx_bytes(read_file(path), path, options);
}

std::vector<OnnxIssue> check_onnx(const std::string& path, const OnnxImportOptions& options) {
  const std::string bytes = read_file(path);
  if (bytes.empty()) throw IoError("onnx '" + path + "': the file is empty");
  onnx::ModelProto m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw IoError("onnx '" + path + "': not a valid ONNX protobuf (malformed or truncated file)");
  return Importer(path, options).survey(m);
}

}  // namespace trim::io
