// ONNX import: products of data and the layers that decompose into kinds
// (Pow, reductions, LayerNormalization, softmax inside attention).
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
#include "trim/graph/ops/math.hpp"
#include "trim/graph/ops/product.hpp"
#include "trim/graph/ops/reduce.hpp"
#include "trim/io/onnx.hpp"

#include "onnx_importer.hpp"

namespace trim::io::detail {

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

}  // namespace trim::io::detail
