// ONNX import: operators that map onto one trim op each (arithmetic, Gemm,
// MatMul, convolutions, Resize, BatchNorm, activations, pools, Pad).
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
#include "trim/graph/ops/activation.hpp"
#include "trim/graph/ops/batch_norm.hpp"
#include "trim/graph/ops/clip.hpp"
#include "trim/graph/ops/conv.hpp"
#include "trim/graph/ops/conv_transpose.hpp"
#include "trim/graph/ops/dense.hpp"
#include "trim/graph/ops/math.hpp"
#include "trim/graph/ops/product.hpp"
#include "trim/graph/ops/pool.hpp"
#include "trim/graph/ops/resize.hpp"
#include "trim/graph/ops/softmax.hpp"
#include "trim/graph/ops/structural.hpp"
#include "trim/graph/ops/volume.hpp"
#include "trim/io/onnx.hpp"

#include "onnx_importer.hpp"

namespace trim::io::detail {

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
      if (is_batch(v)) throw ShapeError("shape arithmetic on the batch size cannot be resolved");
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
  Tensor W = to_tensor(transB ? take_const(1, "the weight B") : const_transpose(B, {1, 0}), "weight B");
  if (alpha != 1.0f)
    for (float& v : W) v *= alpha;
  const int64_t out = W.dim(0);
  std::vector<int> params{
      param(in_name(1), std::string(transB ? "" : "T") + (alpha != 1.0f ? "alpha" : ""), std::move(W), true)};
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
  Tensor W = to_tensor(const_transpose(B, {1, 0}), "weights");
  const int64_t out = W.dim(0);
  std::vector<int> params{param(in_name(1), "T", std::move(W), true)};
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
  const std::vector<int64_t> kshape(Wc.shape.begin() + 2, Wc.shape.end());
  if (has_attr("kernel_shape") && attr_ints("kernel_shape") != kshape)
    throw ValueError("kernel_shape " + list_str(attr_ints("kernel_shape")) + " does not match weight " + list_str(Wc.shape));
  Tensor W = to_tensor(take_const(1, "the weight"), "weight");
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
  std::vector<int> params{param(in_name(1), "", std::move(W), true)};
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
  const std::vector<int64_t> kshape(Wc.shape.begin() + 2, Wc.shape.end());
  if (has_attr("kernel_shape") && attr_ints("kernel_shape") != kshape)
    throw ValueError("kernel_shape " + list_str(attr_ints("kernel_shape")) + " does not match weight " + list_str(Wc.shape));
  Tensor W = to_tensor(take_const(1, "the weight"), "weight");
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
  std::vector<int> params{param(in_name(1), "", std::move(W), true)};
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

}  // namespace trim::io::detail
