#include "trim/graph/layers.hpp"

#include <memory>

#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/dense.hpp"
#include "trim/graph/ops/product.hpp"
#include "trim/graph/ops/reduce.hpp"

namespace trim::nn {

namespace {
std::string sub(const std::string& name, const char* part) { return name.empty() ? "" : name + "/" + part; }

Shape per_example(const Shape& s) {
  Shape r;
  for (int k = 1; k < s.rank(); ++k) r.push_back(s[k]);
  return r;
}

/// x ⊙ c or x + c (`add`) for a constant c stored as parameter
/// `<node name>.value` (trainable or not).
NodeId scale(Graph& g, NodeId x, const Tensor& c, const std::string& name, bool add, bool trainable = false,
             const std::string& param = "") {
  const std::string node = name.empty() ? (add ? "add_constant_" : "mul_constant_") + std::to_string(g.num_nodes()) : name;
  const int p = g.add_parameter(param.empty() ? node + ".value" : param, c, Init::keep(), trainable);
  return g.add(std::make_shared<ops::ConstantBinary>(add ? ops::ConstantBinary::Add : ops::ConstantBinary::Mul), {x},
               {p}, node);
}

/// The node broadcast to the per-example shape `target` when it differs.
NodeId to_shape(Graph& g, NodeId x, const Shape& target, const std::string& name) {
  if (per_example(g.shape(x)) == target) return x;
  return broadcast(g, x, target, name);
}
}  // namespace

NodeId multiply(Graph& g, NodeId a, NodeId b, const std::string& name) {
  return g.add(std::make_shared<ops::Multiply>(), {a, b}, {}, name);
}

NodeId matmul(Graph& g, NodeId a, NodeId b, const std::string& name) {
  return g.add(std::make_shared<ops::MatMul>(), {a, b}, {}, name);
}

NodeId divide(Graph& g, NodeId a, NodeId b, const std::string& name) {
  return multiply(g, a, math(g, b, ops::Math::Reciprocal, 0.0f, 0.0f, sub(name, "reciprocal")), name);
}

NodeId reduce_sum(Graph& g, NodeId x, const std::vector<int>& axes, bool keepdims, const std::string& name) {
  return g.add(std::make_shared<ops::Reduce>(ops::Reduce::Sum, axes, keepdims), {x}, {}, name);
}

NodeId reduce_mean(Graph& g, NodeId x, const std::vector<int>& axes, bool keepdims, const std::string& name) {
  return g.add(std::make_shared<ops::Reduce>(ops::Reduce::Mean, axes, keepdims), {x}, {}, name);
}

NodeId reduce_max(Graph& g, NodeId x, const std::vector<int>& axes, bool keepdims, const std::string& name) {
  return g.add(std::make_shared<ops::ReduceMax>(axes, keepdims), {x}, {}, name);
}

NodeId broadcast(Graph& g, NodeId x, const Shape& per_example_shape, const std::string& name) {
  return g.add(std::make_shared<ops::Broadcast>(per_example_shape), {x}, {}, name);
}

NodeId add_broadcast(Graph& g, NodeId a, NodeId b, bool subtract, const std::string& name) {
  const Shape sa = g.shape(a), sb = g.shape(b);
  if (sa.rank() != sb.rank())
    throw ShapeError((name.empty() ? std::string("add") : name) + ": inputs " + sa.str() + " and " + sb.str() +
                     " must have the same rank");
  Shape target;
  for (int k = 1; k < sa.rank(); ++k) {
    if (sa[k] != sb[k] && sa[k] != 1 && sb[k] != 1)
      throw ShapeError((name.empty() ? std::string("add") : name) + ": inputs " + sa.str() + " and " + sb.str() +
                       " do not broadcast");
    target.push_back(sa[k] == 1 ? sb[k] : sa[k]);
  }
  const NodeId lhs = to_shape(g, a, target, sub(name, "broadcast_a"));
  NodeId rhs = to_shape(g, b, target, sub(name, "broadcast_b"));
  if (subtract) rhs = scale(g, rhs, Tensor::scalar(-1.0f), name.empty() ? "" : name + "/neg", false);
  return add(g, lhs, rhs, name);
}

NodeId math(Graph& g, NodeId x, ops::Math::Fn fn, float a, float b, const std::string& name) {
  return g.add(std::make_shared<ops::Math>(fn, a, b), {x}, {}, name);
}

NodeId layer_norm(Graph& g, NodeId x, int axis, const std::string& name, float eps) {
  const Shape xs = g.shape(x);
  const int r = xs.rank();
  const int a = axis < 0 ? axis + r : axis;
  if (a < 1 || a >= r)
    throw ShapeError("layer_norm '" + name + "': axis " + std::to_string(axis) + " of input " + xs.str() +
                     " must be a non-batch axis");
  std::vector<int> axes;
  Shape norm;
  for (int k = a; k < r; ++k) {
    axes.push_back(k);
    norm.push_back(xs[k]);
  }
  const NodeId mean = reduce_mean(g, x, axes, true, sub(name, "mean"));
  const NodeId centred = add_broadcast(g, x, mean, true, sub(name, "centred"));
  const NodeId sq = math(g, centred, ops::Math::Pow, 2.0f, 0.0f, sub(name, "square"));
  const NodeId var = reduce_mean(g, sq, axes, true, sub(name, "var"));
  const std::string base = name.empty() ? "layer_norm_" + std::to_string(g.num_nodes()) : name;
  const NodeId shifted = scale(g, var, Tensor::scalar(eps), base + "/eps", true);
  const NodeId inv_std = math(g, shifted, ops::Math::Pow, -0.5f, 0.0f, base + "/inv_std");
  const NodeId normed = multiply(g, centred, inv_std, base + "/normalised");
  const NodeId scaled = scale(g, normed, Tensor(norm, 1.0f), base + "/weight", false, true, base + ".weight");
  return scale(g, scaled, Tensor(norm, 0.0f), base, true, true, base + ".bias");
}

NodeId softmax_by_kinds(Graph& g, NodeId x, int axis, const std::string& name) {
  const NodeId m = reduce_max(g, x, {axis}, true, sub(name, "max"));
  const NodeId shifted = add_broadcast(g, x, m, true, sub(name, "shifted"));
  const NodeId e = math(g, shifted, ops::Math::Exp, 0.0f, 0.0f, sub(name, "exp"));
  const NodeId s = reduce_sum(g, e, {axis}, true, sub(name, "sum"));
  const NodeId inv = math(g, s, ops::Math::Reciprocal, 0.0f, 0.0f, sub(name, "reciprocal"));
  return multiply(g, e, inv, name);
}

NodeId silu(Graph& g, NodeId x, const std::string& name) {
  return multiply(g, x, sigmoid(g, x, sub(name, "sigmoid")), name);
}

NodeId mish(Graph& g, NodeId x, const std::string& name) {
  return multiply(g, x, tanh(g, softplus(g, x, 1.0f, 20.0f, sub(name, "softplus")), sub(name, "tanh")), name);
}

}  // namespace trim::nn
