#pragma once
// Internal to the ONNX reader: the Importer, which walks an ONNX graph once
// and builds a trim Graph. Its operator handlers live in several files by
// family: onnx_import_shape.cpp (constant evaluation and shape operators),
// onnx_import_layers.cpp (layers that map onto one op), onnx_import_kinds.cpp
// (products of data and layers decomposed into kinds), onnx_import_masks.cpp
// (masks, indices and shapes folded at import), onnx_import.cpp (the driver and
// the handler table). Not installed.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "onnx_host_tensor.hpp"
#include "trim/graph/graph.hpp"
#include "trim/graph/ops/math.hpp"
#include "trim/graph/ops/structural.hpp"
#include "trim/io/onnx.hpp"

namespace trim::io::detail {

struct Value {
  bool is_node = false;
  NodeId node = -1;
  HostTensor c;
  /// An initializer not decoded yet: decoded on first use, so that a corrupt
  /// one is reported with the node that reads it.
  const onnx::TensorProto* lazy = nullptr;
  /// Data whose batch axis a Transpose moved (a sequence-first layout): the
  /// ONNX value's axis k is axis moved[k] of `node`, which keeps the batch
  /// first. Empty for ordinary values. Transpose (which may put the batch
  /// back), Shape, the operators op_layout reads (onnx_import_layout.cpp:
  /// elementwise ones, products, normalisations, Slice / Squeeze / Gather),
  /// a Reshape (op_moved_layout) and LSTM / GRU read such a value; every
  /// other operator refuses it.
  std::vector<int> moved{};
  /// With `moved`: ONNX axis k is merged[k] consecutive entries of `moved`
  /// (nn.MultiheadAttention's [T, N·heads, d] reads node axes {1}, {0, 2},
  /// {3} of [N, heads, T, d]); empty when each ONNX axis is one node axis.
  /// See onnx_import_layout.cpp.
  std::vector<int> merged{};
  /// A constant freed after its last reader (Importer::release_consumed).
  bool released = false;
};

/// ONNX Slice index resolution for one axis of length `dim`
/// (onnx_import_shape.cpp).
void resolve_slice(int64_t dim, int64_t step, int64_t& start, int64_t& end);

class Importer {
 public:
  Importer(std::string file, const OnnxImportOptions& opt) : file_(std::move(file)), opt_(opt) {}

  /// `raw`: the initializers' raw_data a lean parse left in the file
  /// (onnx_lean.hpp).
  Graph run(const onnx::ModelProto& m, const RawIndex* raw = nullptr);
  /// Reads every node as `run` does but records each failing node in
  /// `issues` instead of throwing (nodes fed by a failed one are skipped
  /// unless their operator is unknown too).
  std::vector<OnnxIssue> survey(const onnx::ModelProto& m, const RawIndex* raw = nullptr) {
    std::vector<OnnxIssue> issues;
    issues_ = &issues;
    run(m, raw);
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
  const RawIndex* raw_ = nullptr;
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
  int param(const std::string& value_name, const std::string& variant, Tensor t, bool trainable) {
    const std::string key = value_name + '\x1f' + variant + (trainable ? "T" : "C");
    auto it = param_by_key_.find(key);
    if (it != param_by_key_.end()) return it->second;
    const std::string name = fresh(param_names_, value_name.empty() ? base_ : value_name);
    const int p = g_.add_parameter(name, std::move(t), Init::keep(), trainable);
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
                       "Transpose, Reshape, Shape, Slice, Squeeze, Gather, elementwise operators, MatMul, Gemm, "
                       "Softmax, LayerNormalization and reductions over non-batch axes, LSTM and GRU");
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
  const Value& decoded(Value& v) const {
    if (v.lazy) {
      v.c = from_proto(*v.lazy, "initializer", external(*v.lazy));
      v.lazy = nullptr;
    }
    if (v.released)
      throw Error("internal: constant read after its last consumer released it (please report this model)");
    return v;
  }
  /// Where the lean parse left `t`'s raw_data, if it did.
  const ExternalRaw* external(const onnx::TensorProto& t) const {
    if (!raw_) return nullptr;
    auto it = raw_->find(&t);
    return it == raw_->end() ? nullptr : &it->second;
  }
  /// Constant input k for a node that turns it into a parameter: its values
  /// are moved out when this node is their last reader (no later node, no
  /// graph output, read once here), copied otherwise. Saves a copy of every
  /// large weight while loading.
  HostTensor take_const(int k, const char* what) {
    const HostTensor& c = const_in(k, what);
    const std::string& name = in_name(k);
    auto last = consumer_.find(name);
    const bool last_reader = last != consumer_.end() && last->second == n_index_ && !graph_outputs_.count(name) &&
                             std::count(n_->input().begin(), n_->input().end(), name) == 1;
    if (!last_reader) return c;
    Value& v = values_.at(name);
    HostTensor out = std::move(v.c);
    v.c = HostTensor();
    v.released = true;
    return out;
  }
  /// Frees the constants whose last reader was the current node.
  void release_consumed() {
    for (const auto& name : n_->input()) {
      auto last = consumer_.find(name);
      if (name.empty() || last == consumer_.end() || last->second != n_index_ || graph_outputs_.count(name)) continue;
      auto it = values_.find(name);
      if (it == values_.end() || it->second.is_node || it->second.lazy) continue;
      it->second.c = HostTensor();
      it->second.released = true;
    }
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
  /// to_tensor, moving a float constant's values instead of copying them.
  static Tensor to_tensor(HostTensor&& c, const std::string& what) {
    if (c.is_int || c.rank() == 0 || c.rank() > Shape::max_rank) return to_tensor(static_cast<const HostTensor&>(c), what);
    return c.f.release().reshape(Shape(c.shape));
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
  /// The ONNX dimensions of a value: its node's shape (batch axis free) or
  /// its constant's shape.
  std::vector<int64_t> dims_of(const Value& v) const;
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
  // recurrent layers (unrolled by onnx_import_recurrent.cpp) and values whose
  // batch axis moved (onnx_import_sequence.cpp)
  void op_recurrent();
  NodeId sequence_in(int k, int64_t layout, bool optional);
  bool op_moved_layout();
  // values whose batch axis moved and merged with others (onnx_import_layout.cpp)
  bool op_layout();
  Value layout_value(NodeId x, std::vector<std::vector<int>> groups);
  void layout_reshape(const Value& v, const HostTensor& target);
  void layout_transpose(const Value& v);
  void layout_select(const Value& v);

  static const std::map<std::string, Handler>& handlers();

  void read_inputs();
  static bool is_token_type(int32_t t) {
    return t == onnx::TensorProto::INT64 || t == onnx::TensorProto::INT32;
  }
  void cut_at_embedding(const onnx::ValueInfoProto& vi, const std::string& where);
  void dispatch();
  void survey_node();
};

}  // namespace trim::io::detail
