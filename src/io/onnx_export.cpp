// trim Graph -> ONNX.
//
// One ONNX node per trim node where ONNX has the operator, a short fixed
// chain otherwise (Dense on rank > 2 as MatMul + Add, softplus with β ≠ 1,
// softmax over an inner axis before opset 13). Parameters become
// initializers under their own names; each value gets the name of the trim
// node that produces it, so loading the file back gives the same node and
// parameter names and, since every op reads the same numbers, the same
// outputs bit for bit.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "onnx_internal.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/ops/activation.hpp"
#include "trim/graph/ops/batch_norm.hpp"
#include "trim/graph/ops/clip.hpp"
#include "trim/graph/ops/conv.hpp"
#include "trim/graph/ops/conv_transpose.hpp"
#include "trim/graph/ops/resize.hpp"
#include "trim/graph/ops/dense.hpp"
#include "trim/graph/ops/math.hpp"
#include "trim/graph/ops/product.hpp"
#include "trim/graph/ops/reduce.hpp"
#include "trim/graph/ops/pool.hpp"
#include "trim/graph/ops/softmax.hpp"
#include "trim/graph/ops/structural.hpp"
#include "trim/graph/ops/volume.hpp"
#include "trim/io/onnx.hpp"

namespace trim::io {

namespace {

void put_le32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

void fill_proto(const Tensor& t, onnx::TensorProto* p) {
  for (int64_t d : t.shape()) p->add_dims(d);
  p->set_data_type(onnx::TensorProto::FLOAT);
  std::string raw;
  raw.reserve(static_cast<size_t>(t.numel()) * 4);
  for (int64_t i = 0; i < t.numel(); ++i) {
    uint32_t b;
    const float v = t[i];
    std::memcpy(&b, &v, 4);
    put_le32(raw, b);
  }
  p->set_raw_data(std::move(raw));
}

class Exporter {
 public:
  Exporter(const Graph& g, int opset, std::string label) : g_(g), opset_(opset), label_(std::move(label)) {}

  std::string run();

 private:
  const Graph& g_;
  int opset_;
  std::string label_;
  onnx::ModelProto m_;
  onnx::GraphProto* gp_ = nullptr;
  std::set<std::string> used_, node_names_;
  std::vector<std::string> value_;       // ONNX value name of each trim node
  std::vector<bool> param_emitted_;
  std::map<std::pair<int, bool>, std::string> param_init_;  // (param, transposed) -> initializer
  NodeId cur_ = -1;

  std::string where() const {
    return "onnx '" + label_ + "': " + (cur_ >= 0 ? g_.describe(cur_) + ": " : std::string());
  }
  std::string fresh(std::set<std::string>& used, const std::string& base) {
    std::string name = base.empty() ? "v" : base;
    for (int k = 1; used.count(name); ++k) name = base + "_" + std::to_string(k);
    used.insert(name);
    return name;
  }
  std::string fresh_value(const std::string& base) { return fresh(used_, base); }

  std::string init_tensor(const std::string& base, const Tensor& t) {
    onnx::TensorProto* p = gp_->add_initializer();
    p->set_name(fresh_value(base));
    fill_proto(t, p);
    return p->name();
  }
  std::string init_ints(const std::string& base, const std::vector<int64_t>& v) {
    onnx::TensorProto* p = gp_->add_initializer();
    p->set_name(fresh_value(base));
    p->add_dims(static_cast<int64_t>(v.size()));
    p->set_data_type(onnx::TensorProto::INT64);
    for (int64_t x : v) p->add_int64_data(x);
    return p->name();
  }
  std::string init_scalar(const std::string& base, float v) { return init_tensor(base, Tensor::scalar(v)); }
  /// The initializer holding parameter `p` (transposed for MatMul), emitted once.
  std::string init_param(int p, bool transposed = false) {
    const auto key = std::make_pair(p, transposed);
    auto it = param_init_.find(key);
    if (it != param_init_.end()) return it->second;
    const Parameter& par = g_.parameters()[static_cast<size_t>(p)];
    Tensor t = par.value;
    if (transposed) {
      const int64_t r = t.dim(0), c = t.dim(1);
      Tensor tt({c, r});
      for (int64_t i = 0; i < r; ++i)
        for (int64_t j = 0; j < c; ++j) tt[j * r + i] = t[i * c + j];
      t = std::move(tt);
    }
    onnx::TensorProto* proto = gp_->add_initializer();
    if (!param_emitted_[static_cast<size_t>(p)]) {
      proto->set_name(par.name);  // reserved in used_ up front
      param_emitted_[static_cast<size_t>(p)] = true;
    } else {
      proto->set_name(fresh_value(par.name + (transposed ? ".T" : "")));
    }
    fill_proto(t, proto);
    param_init_[key] = proto->name();
    return proto->name();
  }

  onnx::NodeProto* emit(const std::string& type, const std::string& name, const std::vector<std::string>& in,
                        const std::string& out) {
    onnx::NodeProto* n = gp_->add_node();
    n->set_op_type(type);
    n->set_name(fresh(node_names_, name));
    for (const auto& s : in) n->add_input(s);
    n->add_output(out);
    return n;
  }
  static void attr_int(onnx::NodeProto* n, const char* name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_float(onnx::NodeProto* n, const char* name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr_ints(onnx::NodeProto* n, const char* name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  void value_info(onnx::ValueInfoProto* vi, const std::string& name, const Shape& s) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = tt->mutable_shape();
    for (int k = 0; k < s.rank(); ++k) {
      auto* d = shape->add_dim();
      if (s[k] == Shape::free) d->set_dim_param("N");
      else d->set_dim_value(s[k]);
    }
  }

  void export_node(NodeId id);
};

void Exporter::export_node(NodeId id) {
  const Node& n = g_.node(id);
  const Op& op = *n.op;
  const std::string& name = n.name;
  auto in = [&](size_t k) { return value_[static_cast<size_t>(n.inputs.at(k))]; };
  auto pin = [&](size_t k, bool transposed = false) { return init_param(n.params.at(k), transposed); };
  const std::string out = fresh_value(name);
  value_[static_cast<size_t>(id)] = out;
  const std::string type = op.type();

  if (const auto* d = dynamic_cast<const ops::Dense*>(&op)) {
    if (g_.shape(n.inputs.at(0)).rank() == 2) {
      std::vector<std::string> ins{in(0), pin(0)};
      if (d->bias()) ins.push_back(pin(1));
      attr_int(emit("Gemm", name, ins, out), "transB", 1);
    } else if (d->bias()) {
      const std::string mm = fresh_value(name + "/matmul");
      emit("MatMul", name, {in(0), pin(0, true)}, mm);
      emit("Add", name + "/bias", {mm, pin(1)}, out);
    } else {
      emit("MatMul", name, {in(0), pin(0, true)}, out);
    }
  } else if (const auto* cb = dynamic_cast<const ops::ConstantBinary*>(&op)) {
    emit(cb->mode() == ops::ConstantBinary::Add ? "Add" : "Mul", name, {in(0), pin(0)}, out);
  } else if (dynamic_cast<const ops::Constant*>(&op)) {
    emit("Identity", name, {pin(0)}, out);
  } else if (dynamic_cast<const ops::Add*>(&op)) {
    std::vector<std::string> ins;
    for (size_t k = 0; k < n.inputs.size(); ++k) ins.push_back(in(k));
    emit(ins.size() == 2 ? "Add" : ins.size() == 1 ? "Identity" : "Sum", name, ins, out);
  } else if (const auto* c1 = dynamic_cast<const ops::Conv1d*>(&op)) {
    std::vector<std::string> ins{in(0), pin(0)};
    if (c1->bias()) ins.push_back(pin(1));
    auto* node = emit("Conv", name, ins, out);
    attr_ints(node, "kernel_shape", {g_.parameters()[static_cast<size_t>(n.params[0])].value.dim(2)});
    attr_ints(node, "strides", {c1->stride()});
    attr_ints(node, "pads", {c1->pad_left(), c1->pad_right()});
    attr_ints(node, "dilations", {c1->dilation()});
    attr_int(node, "group", c1->groups());
  } else if (const auto* c2 = dynamic_cast<const ops::Conv2d*>(&op)) {
    std::vector<std::string> ins{in(0), pin(0)};
    if (c2->bias()) ins.push_back(pin(1));
    auto* node = emit("Conv", name, ins, out);
    const Tensor& w = g_.parameters()[static_cast<size_t>(n.params[0])].value;
    attr_ints(node, "kernel_shape", {w.dim(2), w.dim(3)});
    attr_ints(node, "strides", {c2->stride()[0], c2->stride()[1]});
    attr_ints(node, "pads", {c2->pads()[0], c2->pads()[1], c2->pads()[2], c2->pads()[3]});
    attr_ints(node, "dilations", {c2->dilation()[0], c2->dilation()[1]});
    attr_int(node, "group", c2->groups());
  } else if (const auto* bn = dynamic_cast<const ops::BatchNorm*>(&op)) {
    auto* node = emit("BatchNormalization", name, {in(0), pin(0), pin(1), pin(2), pin(3)}, out);
    attr_float(node, "epsilon", bn->eps());
  } else if (const auto* mp = dynamic_cast<const ops::MaxPool*>(&op)) {
    auto* node = emit("MaxPool", name, {in(0)}, out);
    attr_ints(node, "kernel_shape", mp->kernel_shape());
    attr_ints(node, "strides", mp->strides());
    attr_ints(node, "pads", mp->pads());
    attr_int(node, "ceil_mode", mp->ceil_mode());
  } else if (const auto* ap = dynamic_cast<const ops::AvgPool*>(&op)) {
    auto* node = emit("AveragePool", name, {in(0)}, out);
    attr_ints(node, "kernel_shape", ap->kernel_shape());
    attr_ints(node, "strides", ap->strides());
    attr_ints(node, "pads", ap->pads());
    attr_int(node, "ceil_mode", ap->ceil_mode());
    attr_int(node, "count_include_pad", ap->count_include_pad());
  } else if (dynamic_cast<const ops::GlobalAvgPool*>(&op)) {
    emit("GlobalAveragePool", name, {in(0)}, out);
  } else if (dynamic_cast<const ops::Relu*>(&op)) {
    emit("Relu", name, {in(0)}, out);
  } else if (const auto* lr = dynamic_cast<const ops::LeakyRelu*>(&op)) {
    attr_float(emit("LeakyRelu", name, {in(0)}, out), "alpha", lr->negative_slope());
  } else if (const auto* el = dynamic_cast<const ops::Elu*>(&op)) {
    attr_float(emit("Elu", name, {in(0)}, out), "alpha", el->alpha());
  } else if (dynamic_cast<const ops::Tanh*>(&op)) {
    emit("Tanh", name, {in(0)}, out);
  } else if (dynamic_cast<const ops::Sigmoid*>(&op)) {
    emit("Sigmoid", name, {in(0)}, out);
  } else if (const auto* sp = dynamic_cast<const ops::Softplus*>(&op)) {
    if (sp->beta() == 1.0f) {
      emit("Softplus", name, {in(0)}, out);
    } else {  // (1/β)·softplus(β x), as torch exports it
      const std::string a = fresh_value(name + "/scaled"), b = fresh_value(name + "/softplus");
      emit("Mul", name + "/scale", {in(0), init_scalar(name + ".beta", sp->beta())}, a);
      emit("Softplus", name, {a}, b);
      emit("Mul", name + "/unscale", {b, init_scalar(name + ".inv_beta", 1.0f / sp->beta())}, out);
    }
  } else if (const auto* cl = dynamic_cast<const ops::Clip*>(&op)) {
    const std::string lo = std::isinf(cl->lo()) ? std::string() : init_scalar(name + ".min", cl->lo());
    const std::string hi = std::isinf(cl->hi()) ? std::string() : init_scalar(name + ".max", cl->hi());
    std::vector<std::string> ins{in(0), lo};
    if (!hi.empty()) ins.push_back(hi);
    if (lo.empty() && hi.empty()) ins.pop_back();
    emit("Clip", name, ins, out);
  } else if (dynamic_cast<const ops::Softmax*>(&op) || dynamic_cast<const ops::LogSoftmax*>(&op)) {
    const auto* sm = dynamic_cast<const ops::Softmax*>(&op);
    const auto* lsm = dynamic_cast<const ops::LogSoftmax*>(&op);
    const char* t = sm ? "Softmax" : "LogSoftmax";
    const int axis_given = sm ? sm->axis() : lsm->axis();
    const int r = g_.shape(n.inputs[0]).rank();
    const int axis = axis_given < 0 ? axis_given + r : axis_given;
    if (opset_ >= 13 || axis == r - 1) {
      attr_int(emit(t, name, {in(0)}, out), "axis", opset_ >= 13 ? axis_given : axis);
    } else {  // before opset 13 Softmax normalises over all axes from `axis`: move ours last
      std::vector<int64_t> perm;
      for (int k = 0; k < r; ++k) perm.push_back(k);
      std::swap(perm[static_cast<size_t>(axis)], perm[static_cast<size_t>(r - 1)]);
      const std::string a = fresh_value(name + "/moved"), b = fresh_value(name + "/normalised");
      attr_ints(emit("Transpose", name + "/to_last", {in(0)}, a), "perm", perm);
      attr_int(emit(t, name, {a}, b), "axis", r - 1);
      attr_ints(emit("Transpose", name + "/back", {b}, out), "perm", perm);
    }
  } else if (const auto* rs = dynamic_cast<const ops::Reshape*>(&op)) {
    std::vector<int64_t> target{0};  // 0 copies the (free) batch dimension
    for (int64_t d : rs->per_example()) target.push_back(d);
    emit("Reshape", name, {in(0), init_ints(name + ".shape", target)}, out);
  } else if (const auto* fl = dynamic_cast<const ops::Flatten*>(&op)) {
    const Shape& xs = g_.shape(n.inputs[0]);
    const int a = fl->axis() < 0 ? fl->axis() + xs.rank() : fl->axis();
    if (a == 1) {
      attr_int(emit("Flatten", name, {in(0)}, out), "axis", 1);
    } else {  // ONNX Flatten is 2-D only; trim keeps the axes before `axis`
      const Shape& ys = n.shape;
      std::vector<int64_t> target{0};
      for (int k = 1; k < ys.rank(); ++k) target.push_back(ys[k]);
      emit("Reshape", name, {in(0), init_ints(name + ".shape", target)}, out);
    }
  } else if (const auto* tr = dynamic_cast<const ops::Transpose*>(&op)) {
    attr_ints(emit("Transpose", name, {in(0)}, out), "perm", {tr->perm().begin(), tr->perm().end()});
  } else if (const auto* cc = dynamic_cast<const ops::Concat*>(&op)) {
    std::vector<std::string> ins;
    for (size_t k = 0; k < n.inputs.size(); ++k) ins.push_back(in(k));
    attr_int(emit("Concat", name, ins, out), "axis", cc->axis());
  } else if (const auto* sl = dynamic_cast<const ops::Slice*>(&op)) {
    emit("Slice", name,
         {in(0), init_ints(name + ".starts", {sl->start()}), init_ints(name + ".ends", {sl->end()}),
          init_ints(name + ".axes", {sl->axis()}), init_ints(name + ".steps", {sl->step()})},
         out);
  } else if (const auto* pd = dynamic_cast<const ops::Pad*>(&op)) {
    std::vector<int64_t> pads{0};
    for (const auto& p : pd->pads()) pads.push_back(p[0]);
    pads.push_back(0);
    for (const auto& p : pd->pads()) pads.push_back(p[1]);
    auto* node = emit("Pad", name,
                      {in(0), init_ints(name + ".pads", pads), init_scalar(name + ".value", pd->value())}, out);
    auto* a = node->add_attribute();
    a->set_name("mode");
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s("constant");
  } else if (dynamic_cast<const ops::Multiply*>(&op)) {
    emit("Mul", name, {in(0), in(1)}, out);
  } else if (dynamic_cast<const ops::MatMul*>(&op)) {
    emit("MatMul", name, {in(0), in(1)}, out);
  } else if (const auto* rd = dynamic_cast<const ops::Reduce*>(&op)) {
    const std::vector<int64_t> axes(rd->axes().begin(), rd->axes().end());
    onnx::NodeProto* node;
    if (rd->mode() == ops::Reduce::Sum && opset_ >= 13) {
      node = emit("ReduceSum", name, {in(0), init_ints(name + ".axes", axes)}, out);
    } else {
      node = emit(rd->mode() == ops::Reduce::Sum ? "ReduceSum" : "ReduceMean", name, {in(0)}, out);
      attr_ints(node, "axes", axes);
    }
    attr_int(node, "keepdims", rd->keepdims());
  } else if (const auto* rm = dynamic_cast<const ops::ReduceMax*>(&op)) {
    auto* node = emit("ReduceMax", name, {in(0)}, out);
    attr_ints(node, "axes", {rm->axes().begin(), rm->axes().end()});
    attr_int(node, "keepdims", rm->keepdims());
  } else if (const auto* bc = dynamic_cast<const ops::Broadcast*>(&op)) {
    std::vector<int64_t> target{1};  // Expand keeps the batch: max(N, 1)
    for (int k = 0; k < bc->target().rank(); ++k) target.push_back(bc->target()[k]);
    emit("Expand", name, {in(0), init_ints(name + ".shape", target)}, out);
  } else if (const auto* m = dynamic_cast<const ops::Math*>(&op)) {
    switch (m->fn()) {
      case ops::Math::Exp: emit("Exp", name, {in(0)}, out); break;
      case ops::Math::Log: emit("Log", name, {in(0)}, out); break;
      case ops::Math::Sqrt: emit("Sqrt", name, {in(0)}, out); break;
      case ops::Math::Reciprocal: emit("Reciprocal", name, {in(0)}, out); break;
      case ops::Math::Erf: emit("Erf", name, {in(0)}, out); break;
      case ops::Math::Pow: emit("Pow", name, {in(0), init_scalar(name + ".exponent", m->a())}, out); break;
      case ops::Math::HardSigmoid: {
        auto* node = emit("HardSigmoid", name, {in(0)}, out);
        attr_float(node, "alpha", m->a());
        attr_float(node, "beta", m->b());
        break;
      }
      case ops::Math::HardSwish:
        if (opset_ < 14) {  // no HardSwish yet: x · HardSigmoid(x) with α = 1/6, β = ½, as torch writes it
          const std::string gate = fresh_value(name + "/gate");
          auto* node = emit("HardSigmoid", name + "/gate", {in(0)}, gate);
          attr_float(node, "alpha", 1.0f / 6.0f);
          attr_float(node, "beta", 0.5f);
          emit("Mul", name, {in(0), gate}, out);
        } else {
          emit("HardSwish", name, {in(0)}, out);
        }
        break;
    }
  } else if (const auto* ct = dynamic_cast<const ops::ConvTranspose*>(&op)) {
    std::vector<std::string> ins{in(0), pin(0)};
    if (ct->bias()) ins.push_back(pin(1));
    auto* node = emit("ConvTranspose", name, ins, out);
    const auto& c = ct->config();
    const Tensor& w = g_.parameters()[static_cast<size_t>(n.params[0])].value;
    if (ct->spatial_dims() == 1) {
      attr_ints(node, "kernel_shape", {w.dim(2)});
      attr_ints(node, "strides", {c.stride[1]});
      attr_ints(node, "pads", {c.pads[1], c.pads[3]});
      attr_ints(node, "dilations", {c.dilation[1]});
      attr_ints(node, "output_padding", {c.output_padding[1]});
    } else {
      attr_ints(node, "kernel_shape", {w.dim(2), w.dim(3)});
      attr_ints(node, "strides", {c.stride[0], c.stride[1]});
      attr_ints(node, "pads", {c.pads[0], c.pads[1], c.pads[2], c.pads[3]});
      attr_ints(node, "dilations", {c.dilation[0], c.dilation[1]});
      attr_ints(node, "output_padding", {c.output_padding[0], c.output_padding[1]});
    }
    attr_int(node, "group", c.groups);
  } else if (const auto* c3 = dynamic_cast<const ops::Conv3d*>(&op)) {
    std::vector<std::string> ins{in(0), pin(0)};
    if (c3->bias()) ins.push_back(pin(1));
    auto* node = emit("Conv", name, ins, out);
    const auto& c = c3->config();
    const Tensor& w = g_.parameters()[static_cast<size_t>(n.params[0])].value;
    attr_ints(node, "kernel_shape", {w.dim(2), w.dim(3), w.dim(4)});
    attr_ints(node, "strides", {c.stride.begin(), c.stride.end()});
    attr_ints(node, "pads", {c.pads.begin(), c.pads.end()});
    attr_ints(node, "dilations", {c.dilation.begin(), c.dilation.end()});
    attr_int(node, "group", c.groups);
  } else if (dynamic_cast<const ops::MaxPool3d*>(&op) || dynamic_cast<const ops::AvgPool3d*>(&op)) {
    const auto* m3 = dynamic_cast<const ops::MaxPool3d*>(&op);
    const kernels::Pool3dWindow& w = m3 ? m3->window() : dynamic_cast<const ops::AvgPool3d*>(&op)->window();
    auto* node = emit(m3 ? "MaxPool" : "AveragePool", name, {in(0)}, out);
    attr_ints(node, "kernel_shape", {w.kernel.begin(), w.kernel.end()});
    attr_ints(node, "strides", {w.stride.begin(), w.stride.end()});
    attr_ints(node, "pads", {w.pads.begin(), w.pads.end()});
    attr_int(node, "ceil_mode", w.ceil_mode);
    if (!m3) attr_int(node, "count_include_pad", w.count_include_pad);
  } else if (const auto* rz = dynamic_cast<const ops::Resize*>(&op)) {
    const kernels::ResizeConfig& c = rz->config();
    const Shape& xs = g_.shape(n.inputs[0]);
    std::vector<std::string> ins{in(0), ""};
    if (!c.sizes.empty() && c.sizes[0] > 0) {  // sizes: [N, C] from the input's shape, then the spatial sizes
      const std::string sh = fresh_value(name + "/shape"), nc = fresh_value(name + "/nc"), sz = fresh_value(name + "/sizes");
      emit("Shape", name + "/shape", {in(0)}, sh);
      emit("Slice", name + "/nc", {sh, init_ints(name + ".nc_start", {0}), init_ints(name + ".nc_end", {2})}, nc);
      attr_int(emit("Concat", name + "/sizes", {nc, init_ints(name + ".spatial_sizes", c.sizes)}, sz), "axis", 0);
      ins.push_back("");
      ins.push_back(sz);
    } else {
      Tensor scales({xs.rank()}, 1.0f);
      for (size_t k = 0; k < c.scales.size(); ++k) scales[static_cast<int64_t>(k) + 2] = static_cast<float>(c.scales[k]);
      ins.push_back(init_tensor(name + ".scales", scales));
    }
    auto* node = emit("Resize", name, ins, out);
    const auto attr_str = [](onnx::NodeProto* nd, const char* key, const char* v) {
      auto* a = nd->add_attribute();
      a->set_name(key);
      a->set_type(onnx::AttributeProto::STRING);
      a->set_s(v);
    };
    attr_str(node, "mode", kernels::resize_mode_name(c.mode));
    attr_str(node, "coordinate_transformation_mode", kernels::resize_coordinates_name(c.coordinates));
    attr_str(node, "nearest_mode", kernels::resize_nearest_name(c.nearest));
    attr_float(node, "cubic_coeff_a", static_cast<float>(c.cubic_a));
  } else if (type == "batch_constant") {  // the parameter repeated over the batch of input 0
    const Shape& ps = g_.parameters()[static_cast<size_t>(n.params.at(0))].value.shape();
    const std::string sh = fresh_value(name + "/shape"), nb = fresh_value(name + "/batch"),
                      target = fresh_value(name + "/target");
    emit("Shape", name + "/shape", {in(0)}, sh);
    emit("Slice", name + "/batch", {sh, init_ints(name + ".batch_start", {0}), init_ints(name + ".batch_end", {1})}, nb);
    attr_int(emit("Concat", name + "/target", {nb, init_ints(name + ".example_shape", ps.to_vector())}, target), "axis",
             0);
    emit("Expand", name, {pin(0), target}, out);
  } else if (type == "lstm_cell" || type == "lstm_hidden") {
    // An LSTM step in plain operators (gates i, o, f, c at offsets 0, H, 2H,
    // 3H of zx + zh + bias). Read back, it runs the generic Sum / Product /
    // Elementwise rules, not acd's cell rule (docs/io.md).
    const int64_t H = g_.parameters()[static_cast<size_t>(n.params.at(0))].value.numel() / 4;
    const std::string zs = fresh_value(name + "/zsum"), z = fresh_value(name + "/z");
    emit("Add", name + "/zsum", {in(0), in(1)}, zs);
    emit("Add", name + "/bias", {zs, pin(0)}, z);
    auto gate = [&](int k, const char* label, const char* act) {
      const std::string pre = fresh_value(name + "/" + label), post = fresh_value(name + "/" + label + "_act");
      const std::string base = name + "." + label;
      emit("Slice", name + "/" + label,
           {z, init_ints(base + "_start", {k * H}), init_ints(base + "_end", {(k + 1) * H}), init_ints(base + "_axis", {1})},
           pre);
      emit(act, name + "/" + label + "_act", {pre}, post);
      return post;
    };
    if (type == "lstm_cell") {  // c_t = σ(f)·c_{t−1} + σ(i)·tanh(c̃)
      const std::string i = gate(0, "i", "Sigmoid"), f = gate(2, "f", "Sigmoid"), c = gate(3, "c", "Tanh");
      const std::string keep = fresh_value(name + "/keep"), write = fresh_value(name + "/write");
      emit("Mul", name + "/keep", {f, in(2)}, keep);
      emit("Mul", name + "/write", {i, c}, write);
      emit("Add", name, {keep, write}, out);
    } else {  // h_t = σ(o)·tanh(c_t)
      const std::string o = gate(1, "o", "Sigmoid"), tc = fresh_value(name + "/tanh_c");
      emit("Tanh", name + "/tanh_c", {in(2)}, tc);
      emit("Mul", name, {o, tc}, out);
    }
  } else if (type == "gelu") {  // ONNX has Gelu only from opset 20: x · ½(1 + erf(x/√2)), as torch writes it
    const std::string t = fresh_value(name + "/scaled"), e = fresh_value(name + "/erf"), h = fresh_value(name + "/half");
    emit("Mul", name + "/scale", {in(0), init_scalar(name + ".inv_sqrt2", 0.70710678118654752f)}, t);
    emit("Erf", name + "/erf", {t}, e);
    emit("Add", name + "/one", {e, init_scalar(name + ".one", 1.0f)}, h);
    const std::string p = fresh_value(name + "/gated");
    emit("Mul", name + "/gate", {in(0), h}, p);
    emit("Mul", name, {p, init_scalar(name + ".half", 0.5f)}, out);
  } else {
    throw ValueError(where() + "op type '" + type + "' has no ONNX equivalent in trim's exporter");
  }
}

std::string Exporter::run() {
  if (opset_ < onnx_min_opset || opset_ > onnx_max_opset)
    throw ValueError("onnx '" + label_ + "': opset " + std::to_string(opset_) + " is not supported (trim writes " +
                     std::to_string(onnx_min_opset) + "-" + std::to_string(onnx_max_opset) + ")");
  if (g_.inputs().empty() || g_.outputs().empty())
    throw ValueError("onnx '" + label_ + "': the graph has no inputs or no outputs (set_outputs first)");
  m_.set_ir_version(detail::ir_version_for_opset(opset_));
  m_.set_producer_name("trim");
  m_.set_producer_version("0.1");
  auto* os = m_.add_opset_import();
  os->set_domain("");
  os->set_version(opset_);
  gp_ = m_.mutable_graph();
  gp_->set_name("trim");

  // Initializers keep the parameter names: reserve them before naming values.
  for (const Parameter& p : g_.parameters()) used_.insert(p.name);
  param_emitted_.assign(g_.parameters().size(), false);
  value_.assign(static_cast<size_t>(g_.num_nodes()), std::string());

  for (NodeId id = 0; id < g_.num_nodes(); ++id) {
    cur_ = id;
    const Node& n = g_.node(id);
    if (n.is_input) {
      value_[static_cast<size_t>(id)] = fresh_value(n.name);
      value_info(gp_->add_input(), value_[static_cast<size_t>(id)], n.shape);
      continue;
    }
    export_node(id);
  }
  cur_ = -1;

  std::set<NodeId> seen;
  for (NodeId o : g_.outputs()) {
    std::string v = value_[static_cast<size_t>(o)];
    if (g_.node(o).is_input || !seen.insert(o).second) {  // outputs must be distinct node results
      const std::string copy = fresh_value(g_.node(o).name + "/output");
      emit("Identity", g_.node(o).name + "/output", {v}, copy);
      v = copy;
    }
    value_info(gp_->add_output(), v, g_.shape(o));
  }

  if (m_.ByteSizeLong() > static_cast<size_t>(INT32_MAX))
    throw ValueError("onnx '" + label_ + "': the model exceeds protobuf's 2 GB limit");
  std::string bytes;
  if (!m_.SerializeToString(&bytes)) throw IoError("onnx '" + label_ + "': serialisation failed");
  return bytes;
}

}  // namespace

std::string save_onnx_bytes(const Graph& graph, int opset) { return Exporter(graph, opset, "<memory>").run(); }

void save_onnx(const Graph& graph, const std::string& path, int opset) {
  detail::write_file_atomic(path, Exporter(graph, opset, path).run(), "onnx");
}

}  // namespace trim::io
