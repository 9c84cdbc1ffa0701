// ONNX import: values whose batch axis a Transpose moved and a Reshape merged
// with other axes — nn.MultiheadAttention as torch 1.13 exports it
// (sequence-first inside: [T, N, E] -> [T, N·heads, d] -> [N·heads, T, d]).
//
// trim's graph stays batch-first and static. An ONNX value is a view of a
// batch-first node: its axis k is the group of node axes Value::merged[k]
// long, read from Value::moved in row-major order (the batch, node axis 0,
// among them). The merged axis N·heads of [N·heads, T, d] is node axes
// [N, heads] of the node [N, heads, T, d]. Values are kept canonical: the
// node holds the batch first, then every other axis in the order the ONNX
// value reads them, and the non-batch axes of one group that sit side by side
// are one node axis. An operator that does not care about the layout
// (elementwise ones, a product with weights over the last axis, MatMul over
// the last two axes, a softmax or a normalisation over an axis that is not
// the batch) runs on the node, through its ordinary handler; Transpose and
// Reshape only rewrite the record (plus a physical transpose or reshape of
// the node when the canonical form needs one).
#include <algorithm>
#include <functional>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "onnx_internal.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/ops/structural.hpp"
#include "trim/io/onnx.hpp"

#include "onnx_importer.hpp"

namespace trim::io::detail {

namespace {

using Groups = std::vector<std::vector<int>>;

bool has_layout(const Value& v) { return v.is_node && !v.moved.empty(); }

/// The node axes of each ONNX axis of `v` (node rank `rank`).
Groups groups_of(const Value& v, int rank) {
  std::vector<int> fine = v.moved;
  if (fine.empty()) {
    fine.resize(static_cast<size_t>(rank));
    std::iota(fine.begin(), fine.end(), 0);
  }
  std::vector<int> counts = v.merged;
  if (counts.empty()) counts.assign(fine.size(), 1);
  Groups g;
  size_t at = 0;
  for (int c : counts) {
    g.emplace_back(fine.begin() + static_cast<std::ptrdiff_t>(at), fine.begin() + static_cast<std::ptrdiff_t>(at + c));
    at += static_cast<size_t>(c);
  }
  return g;
}

/// ONNX sizes of a layout over node shape `s` (the batch as N·c).
std::vector<int64_t> onnx_dims(const Shape& s, const Groups& g) {
  std::vector<int64_t> d;
  for (const auto& axes : g) {
    int64_t n = 1;
    bool batch = false;
    for (int a : axes) {
      if (a == 0) batch = true;
      else n *= s[a];
    }
    d.push_back(batch ? batch_times(n) : n);
  }
  return d;
}

/// The one node axis of ONNX axis `k`, or -1 when it holds the batch or several axes.
int single_axis(const Groups& g, int k) {
  const auto& axes = g[static_cast<size_t>(k)];
  return axes.size() == 1 && axes[0] != 0 ? axes[0] : -1;
}

std::string groups_str(const Groups& g) {
  std::string s = "[";
  for (size_t k = 0; k < g.size(); ++k) {
    if (k) s += ", ";
    for (size_t j = 0; j < g[k].size(); ++j) s += (j ? "·" : "") + (g[k][j] == 0 ? std::string("N") : "a" + std::to_string(g[k][j]));
  }
  return s + "]";
}

}  // namespace

Value Importer::layout_value(NodeId x, std::vector<std::vector<int>> groups) {
  // 1. The node holds the batch first, then the other axes in reading order.
  const int r = shape_of(x).rank();
  std::vector<int> order{0};
  for (const auto& axes : groups)
    for (int a : axes)
      if (a != 0) order.push_back(a);
  std::vector<int> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int k = 0; k < static_cast<int>(sorted.size()); ++k)
    if (sorted[static_cast<size_t>(k)] != k || static_cast<int>(sorted.size()) != r)
      throw ShapeError("internal: layout " + groups_str(groups) + " does not cover the axes of " + shape_of(x).str());
  bool identity = true;
  for (int k = 0; k < r; ++k) identity = identity && order[static_cast<size_t>(k)] == k;
  if (!identity) {
    x = add(std::make_shared<ops::Transpose>(order), {x}, {}, "/layout");
    std::vector<int> pos(static_cast<size_t>(r));
    for (int k = 0; k < r; ++k) pos[static_cast<size_t>(order[static_cast<size_t>(k)])] = k;
    for (auto& axes : groups)
      for (int& a : axes) a = pos[static_cast<size_t>(a)];
  }
  // 2. Non-batch axes side by side in one group become one node axis.
  const Shape xs = shape_of(x);
  std::vector<int64_t> dims{Shape::free};
  Groups out;
  for (const auto& axes : groups) {
    std::vector<int> h;
    bool open = false;
    for (int a : axes) {
      if (a == 0) {
        h.push_back(0);
        open = false;
      } else if (open) {
        dims.back() *= xs[a];
      } else {
        dims.push_back(xs[a]);
        h.push_back(static_cast<int>(dims.size()) - 1);
        open = true;
      }
    }
    out.push_back(h);
  }
  if (Shape(dims) != xs) x = reshape_to(x, Shape(dims), "/layout_merge");
  // 3. The record; an ordinary value when every ONNX axis is its own node axis in order.
  bool plain = true, single = true;
  std::vector<int> fine, counts;
  for (size_t k = 0; k < out.size(); ++k) {
    single = single && out[k].size() == 1;
    plain = plain && out[k].size() == 1 && out[k][0] == static_cast<int>(k);
    fine.insert(fine.end(), out[k].begin(), out[k].end());
    counts.push_back(static_cast<int>(out[k].size()));
  }
  Value v{true, x, {}};
  if (!plain) {
    v.moved = fine;
    if (!single) v.merged = counts;
  }
  return v;
}

void Importer::layout_reshape(const Value& in_value, const HostTensor& target) {
  if (!target.is_int || target.rank() != 1) throw ValueError("the target shape must be a 1-D integer tensor");
  if (attr_int("allowzero", 0) != 0 && std::count(target.i.begin(), target.i.end(), 0) > 0)
    throw ShapeError("allowzero with a zero in " + target.describe() + " on data is not supported");
  const Value v = layout_value(in_value.node, groups_of(in_value, shape_of(in_value.node).rank()));
  const Shape xs = shape_of(v.node);
  const Groups g = groups_of(v, xs.rank());
  const std::vector<int64_t> have = onnx_dims(xs, g);
  std::vector<int64_t> d = target.i;
  const int64_t total = xs.numel(1, xs.rank());
  int64_t known = 1;
  int unknown = -1, symbolic = 0;
  for (size_t k = 0; k < d.size(); ++k) {
    if (d[k] == 0) {
      if (k >= have.size()) throw ShapeError("target " + target.describe() + " copies an axis the input does not have");
      d[k] = have[k];
    }
    if (d[k] == -1) {
      if (unknown >= 0) throw ShapeError("target " + target.describe() + " has two -1 entries");
      unknown = static_cast<int>(k);
    } else if (d[k] <= 0 && !is_batch(d[k])) {
      throw ShapeError("target " + target.describe() + " has a size " + std::to_string(d[k]));
    } else {
      symbolic += is_batch(d[k]) ? 1 : 0;
      if (__builtin_mul_overflow(known, is_batch(d[k]) ? batch_factor(d[k]) : d[k], &known) || known > kMaxExampleElems)
        throw ShapeError("target " + target.describe() + " is absurdly large");
    }
  }
  if (unknown >= 0) {
    if (total % known) throw ShapeError("cannot reshape " + list_str(have) + " to " + target.describe());
    d[static_cast<size_t>(unknown)] = symbolic ? total / known : batch_times(total / known);
    if (!symbolic) ++symbolic;
    known = total;
  }
  if (symbolic != 1 || known != total)
    throw ShapeError("cannot reshape " + list_str(have) + " to " + target.describe() +
                     " (the batch size must appear once, as N or a multiple N·c)");
  // Walk the node axes in reading order, cutting them into the target's axes.
  std::vector<int> fine;
  for (const auto& axes : g) fine.insert(fine.end(), axes.begin(), axes.end());
  struct Piece {
    int src;
    int64_t size;
  };
  std::vector<Piece> pieces;
  std::vector<int> counts;
  size_t i = 0;
  auto size_at = [&](size_t k) -> int64_t { return k < fine.size() && fine[k] != 0 ? xs[fine[k]] : 1; };
  int64_t rem = size_at(0);
  auto fail = [&]() {
    return ShapeError("reshaping " + list_str(have) + " to " + target.describe() +
                      " would mix the batch with other data in a way trim cannot hold batch-first (the batch must "
                      "stay a whole axis of one group, as in [T, N·heads, d])");
  };
  for (int64_t t : d) {
    int64_t need = is_batch(t) ? batch_factor(t) : t;
    bool batch = is_batch(t);
    int count = 0;
    while (need > 1 || batch) {
      if (i >= fine.size()) throw fail();
      const int a = fine[i];
      if (a == 0) {
        if (!batch) throw fail();
        batch = false;
        pieces.push_back({0, 1});
      } else if (rem <= need) {
        if (need % rem) throw fail();
        need /= rem;
        pieces.push_back({a, rem});
      } else {
        if (rem % need) throw fail();
        pieces.push_back({a, need});
        rem /= need;
        need = 1;
        ++count;
        continue;
      }
      ++count;
      rem = size_at(++i);
    }
    if (count == 0) {  // a target axis of size 1: cut from the next (or last) non-batch axis
      int src = -1;
      for (size_t k = i; src < 0 && k < fine.size(); ++k)
        if (fine[k] != 0) src = fine[k];
      for (size_t k = pieces.size(); src < 0 && k-- > 0;)
        if (pieces[k].src != 0) src = pieces[k].src;
      if (src < 0) throw fail();
      pieces.push_back({src, 1});
      count = 1;
    }
    counts.push_back(count);
  }
  for (; i < fine.size(); rem = size_at(++i)) {  // trailing axes of size 1 join the last target axis
    if (fine[i] == 0 || rem != 1 || counts.empty()) throw fail();
    pieces.push_back({fine[i], 1});
    ++counts.back();
  }
  // Pieces of the same node axis are adjacent and in order: the new node shape
  // is the batch, then the non-batch pieces in reading order.
  std::vector<int64_t> dims{Shape::free};
  Groups ng;
  size_t at = 0;
  for (int c : counts) {
    std::vector<int> axes;
    for (int k = 0; k < c; ++k, ++at) {
      if (pieces[at].src == 0) {
        axes.push_back(0);
      } else {
        dims.push_back(pieces[at].size);
        axes.push_back(static_cast<int>(dims.size()) - 1);
      }
    }
    ng.push_back(axes);
  }
  if (static_cast<int>(dims.size()) > Shape::max_rank)
    throw ShapeError("reshaping " + list_str(have) + " to " + target.describe() + " needs more than trim's " +
                     std::to_string(Shape::max_rank) + " axes batch-first");
  NodeId y = v.node;
  if (Shape(dims) != xs) y = reshape_to(y, Shape(dims));
  define(0, layout_value(y, ng));
}

void Importer::layout_transpose(const Value& v) {
  const Groups g = groups_of(v, shape_of(v.node).rank());
  const int r = static_cast<int>(g.size());
  std::vector<int64_t> perm = attr_ints("perm");
  if (perm.empty())
    for (int k = r - 1; k >= 0; --k) perm.push_back(k);
  if (static_cast<int>(perm.size()) != r) throw ValueError("perm " + list_str(perm) + " does not match rank " + std::to_string(r));
  std::vector<bool> seen(static_cast<size_t>(r), false);
  Groups ng;
  for (int64_t a : perm) {
    if (a < 0 || a >= r || seen[static_cast<size_t>(a)]) throw ValueError("perm " + list_str(perm) + " is not a permutation");
    seen[static_cast<size_t>(a)] = true;
    ng.push_back(g[static_cast<size_t>(a)]);
  }
  define(0, layout_value(v.node, ng));
}

void Importer::layout_select(const Value& in_value) {
  // Slice, Gather (one index), Squeeze and Unsqueeze of ONNX axes that are one
  // node axis each (Swin's q, k, v = qkv[0], qkv[1], qkv[2] of
  // [3, N·windows, heads, T, d]).
  const std::string& t = n_->op_type();
  const Value v = layout_value(in_value.node, groups_of(in_value, shape_of(in_value.node).rank()));
  NodeId x = v.node;
  Groups g = groups_of(v, shape_of(x).rank());
  const int r = static_cast<int>(g.size());
  auto axis_of = [&](int k) {
    const int a = single_axis(g, k);
    if (a < 0)
      throw ShapeError(t + " along axis " + std::to_string(k) + " of input '" + in_name(0) + "', which holds the " +
                       "batch merged with other axes (" + groups_str(g) + ", as nn.MultiheadAttention's " +
                       "[T, N·heads, d]), is not supported: trim reads such an axis only whole");
    return a;
  };
  auto drop = [&](int k) {  // removes ONNX axis k (one node axis of size 1)
    const int a = axis_of(k);
    const Shape xs = shape_of(x);
    std::vector<int64_t> dims;
    for (int j = 0; j < xs.rank(); ++j)
      if (j != a) dims.push_back(xs[j]);
    x = reshape_to(x, Shape(dims), "/drop");
    g.erase(g.begin() + k);
    for (auto& axes : g)
      for (int& b : axes)
        if (b > a) --b;
  };
  if (t == "Slice") {
    std::vector<int64_t> starts, ends, axes, steps;
    slice_args(starts, ends, axes, steps, r);
    for (size_t k = 0; k < axes.size(); ++k) {
      const int ak = norm_axis(axes[k], r, "axis");
      int64_t s = starts[k], e = ends[k];
      if (steps[k] < 1) throw ValueError("slice steps below 1 on data are not supported");
      if (single_axis(g, ak) < 0 && s == 0 && e >= (int64_t{1} << 31) && steps[k] == 1) continue;  // the whole axis
      const int a = axis_of(ak);
      const int64_t dim = shape_of(x)[a];
      resolve_slice(dim, steps[k], s, e);
      if (s == 0 && e == dim && steps[k] == 1) continue;
      if (e <= s) throw ShapeError("empty slice of axis " + std::to_string(ak));
      x = add(std::make_shared<ops::Slice>(a, s, e, steps[k]), {x}, {}, "/" + std::to_string(ak));
    }
  } else if (t == "Gather") {
    const HostTensor& idx = const_in(1, "indices");
    const int k = norm_axis(attr_int("axis", 0), r, "axis");
    const int a = axis_of(k);
    const int64_t dim = shape_of(x)[a];
    if (!idx.is_int || idx.rank() != 0)
      throw ShapeError("only one index is read along an axis of a value whose batch axis moved");
    int64_t i = idx.i[0];
    if (i < -dim || i >= dim) throw ShapeError("index " + std::to_string(i) + " is out of range for axis " + std::to_string(k));
    if (i < 0) i += dim;
    x = add(std::make_shared<ops::Slice>(a, i, i + 1, 1), {x}, {});
    drop(k);
  } else if (t == "Squeeze") {
    std::vector<int64_t> axes;
    if (!ints_attr_or_input("axes", 1, axes)) throw ValueError("Squeeze without axes of a value whose batch axis moved");
    std::vector<int> ks;
    for (int64_t a : axes) ks.push_back(norm_axis(a, r, "axis"));
    std::sort(ks.rbegin(), ks.rend());
    for (int k : ks) {
      if (shape_of(x)[axis_of(k)] != 1) throw ShapeError("axis " + std::to_string(k) + " is not of size 1");
      drop(k);
    }
  } else {  // Unsqueeze: a new node axis of size 1 per new ONNX axis (layout_value puts it in place)
    std::vector<int64_t> axes;
    if (!ints_attr_or_input("axes", 1, axes)) throw ValueError("Unsqueeze without axes");
    const int out_rank = r + static_cast<int>(axes.size());
    std::vector<int> ks;
    for (int64_t a : axes) ks.push_back(norm_axis(a, out_rank, "axis"));
    std::sort(ks.begin(), ks.end());
    const Shape xs = shape_of(x);
    std::vector<int64_t> dims(xs.begin(), xs.end());
    for (int k : ks) {
      dims.push_back(1);
      g.insert(g.begin() + k, std::vector<int>{static_cast<int>(dims.size()) - 1});
    }
    if (static_cast<int>(dims.size()) > Shape::max_rank)
      throw ShapeError("Unsqueeze would need more than trim's " + std::to_string(Shape::max_rank) + " axes");
    x = reshape_to(x, Shape(dims), "/unsqueeze");
  }
  define(0, layout_value(x, g));
}

bool Importer::op_layout() {
  const std::string& t = n_->op_type();
  if (!has_in(0)) return false;
  auto value = [&](int k) -> const Value* {
    if (!has_in(k)) return nullptr;
    auto it = values_.find(in_name(k));
    return it == values_.end() ? nullptr : &decoded(it->second);
  };
  int first = -1;
  for (int k = 0; k < nin(); ++k)
    if (const Value* v = value(k); v && has_layout(*v) && first < 0) first = k;

  if (t == "Reshape") {
    const Value* v = value(0);
    if (!v || !v->is_node || !has_in(1)) return false;
    const Value* tv = value(1);
    if (!tv || tv->is_node) return false;
    const HostTensor& tgt = tv->c;
    bool merges = false;  // a batch size other than N first: N·c, or N elsewhere
    for (size_t k = 0; k < tgt.i.size() && tgt.is_int; ++k)
      merges = merges || (is_batch(tgt.i[k]) && (k != 0 || tgt.i[k] != kBatch));
    if (!merges && v->moved.empty() && tgt.is_int && !tgt.has_batch() && tgt.rank() == 1) {
      // A -1 that absorbs the batch and more (Swin's attn.view(-1, heads, T, T) of [N, windows, heads, T, T]).
      const Shape& xs = shape_of(v->node);
      int64_t known = 1;
      bool unknown = false, ok = true;
      for (size_t k = 0; k < tgt.i.size(); ++k) {
        int64_t d = tgt.i[k];
        if (d == 0) d = static_cast<int>(k) < xs.rank() && k > 0 ? xs[static_cast<int>(k)] : -2;
        if (d == -1) unknown = true;
        else if (d <= 0 || __builtin_mul_overflow(known, d, &known) || known > kMaxExampleElems) ok = false;
      }
      const int64_t total = xs.numel(1, xs.rank());
      merges = ok && unknown && known < total && total % known == 0;
    }
    if (!v->merged.empty() || (v->moved.empty() && merges)) {
      layout_reshape(*v, tgt);
      return true;
    }
    return false;  // moved only: op_moved_layout, then layout_reshape if that cannot
  }
  if (first < 0) return false;
  const Value& lead = *value(first);
  if (t == "Transpose") {
    if (lead.merged.empty()) return false;  // op_transpose follows plain moves
    layout_transpose(lead);
    return true;
  }
  if ((t == "Slice" || t == "Squeeze" || t == "Gather" || t == "Unsqueeze") && first == 0) {
    layout_select(lead);
    return true;
  }
  if (t == "Slice" || t == "Squeeze" || t == "Gather" || t == "Unsqueeze" || t == "Flatten" || t == "Concat") {
    if (lead.merged.empty()) return false;
    throw ShapeError("input '" + in_name(first) + "' has its batch axis merged with other axes (" +
                     groups_str(groups_of(lead, shape_of(lead.node).rank())) + ", as nn.MultiheadAttention's " +
                     "[T, N·heads, d]); trim reads such a value with Transpose, Reshape, Shape, elementwise " +
                     "operators, MatMul, Gemm, Softmax and normalisations over non-batch axes");
  }
  static const std::set<std::string> unary = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Erf", "Sqrt", "Reciprocal",
                                              "Neg",  "Exp",       "Log",     "Identity", "Dropout", "Cast",
                                              "Pow",  "HardSigmoid", "HardSwish", "Elu", "Softplus", "Gelu"};
  static const std::set<std::string> binary = {"Add", "Sub", "Mul", "Div"};
  static const std::set<std::string> axis_ops = {"Softmax", "LogSoftmax", "LayerNormalization", "ReduceMean",
                                                 "ReduceSum", "ReduceMax"};
  const bool is_unary = unary.count(t) > 0, is_binary = binary.count(t) > 0, is_axis = axis_ops.count(t) > 0;
  if (!is_unary && !is_binary && !is_axis && t != "MatMul" && t != "Gemm") return false;

  // The canonical node and layout of every data input: all must agree.
  const Value lv = layout_value(lead.node, groups_of(lead, shape_of(lead.node).rank()));
  const Groups g = groups_of(lv, shape_of(lv.node).rank());
  const int onnx_rank = static_cast<int>(g.size());
  const int node_rank = shape_of(lv.node).rank();
  onnx::NodeProto patched = *n_;
  const int data_inputs = t == "Pow" ? 1 : nin();  // Pow's exponent is a constant
  for (int k = 0; k < data_inputs; ++k) {
    const Value* v = value(k);
    if (!v) continue;
    const std::string name = in_name(k) + "\x1flayout#" + std::to_string(n_index_);
    if (v->is_node) {
      if (!has_layout(*v))
        throw ShapeError("input '" + in_name(k) + "' is batch-first while input '" + in_name(first) +
                         "' has its batch axis moved (" + groups_str(g) + "); trim cannot combine the two");
      const Value w = k == first ? lv : layout_value(v->node, groups_of(*v, shape_of(v->node).rank()));
      if (w.node != v->node) values_[in_name(k)] = w;  // the same value, canonical: later readers reuse it
      if (groups_of(w, shape_of(w.node).rank()) != g)
        throw ShapeError("inputs '" + in_name(first) + "' and '" + in_name(k) + "' hold their axes in different " +
                         "layouts (" + groups_str(g) + " and " + groups_str(groups_of(w, shape_of(w.node).rank())) + ")");
      values_[name] = Value{true, w.node, {}};
    } else if (is_binary) {
      // A constant operand, aligned with the ONNX axes from the right, onto the node's axes.
      const HostTensor& c = v->c;
      if (c.rank() > onnx_rank)
        throw ShapeError("constant '" + in_name(k) + "' " + list_str(c.shape) + " has more axes than the data");
      std::vector<int64_t> shape(static_cast<size_t>(node_rank), 1);
      bool any = false;
      for (int j = 0; j < c.rank(); ++j) {
        const int64_t dj = c.shape[static_cast<size_t>(j)];
        if (dj == 1) continue;
        const int a = single_axis(g, onnx_rank - c.rank() + j);
        if (a < 0)
          throw ShapeError("constant '" + in_name(k) + "' " + list_str(c.shape) + " varies along an axis that holds " +
                           "the batch or several merged axes (" + groups_str(g) + ")");
        shape[static_cast<size_t>(a)] = dj;
        any = true;
      }
      HostTensor mapped = c;
      mapped.shape = any ? shape : std::vector<int64_t>{};
      if (!any && c.numel() != 1) throw ShapeError("constant '" + in_name(k) + "' is empty");
      values_[name] = Value{false, -1, std::move(mapped)};
    } else {
      continue;  // weights and exponents: read as they are
    }
    patched.set_input(k, name);
  }
  // Operators over axes: the axis must be one node axis (not the batch).
  auto node_axis = [&](int64_t a, const char* what) {
    const int k = norm_axis(a, onnx_rank, what);
    const int na = single_axis(g, k);
    if (na < 0)
      throw ShapeError(std::string(what) + " " + std::to_string(a) + " holds the batch or several merged axes (" +
                       groups_str(g) + ")");
    return na;
  };
  std::vector<int> dropped;  // ONNX axes a reduction with keepdims = 0 removes
  auto set_attr = [&](const char* name, const std::vector<int64_t>& vals, bool ints) {
    onnx::AttributeProto* at = nullptr;
    for (auto& a : *patched.mutable_attribute())
      if (a.name() == name) at = &a;
    if (!at) {
      at = patched.add_attribute();
      at->set_name(name);
    }
    at->clear_ints();
    if (ints) {
      at->set_type(onnx::AttributeProto::INTS);
      for (int64_t x : vals) at->add_ints(x);
    } else {
      at->set_type(onnx::AttributeProto::INT);
      at->set_i(vals[0]);
    }
  };
  if (t == "Softmax" || t == "LogSoftmax") {
    const int64_t def = opset_ >= 13 ? -1 : 1;
    const int64_t a = attr_int("axis", def);
    if (opset_ < 13 && norm_axis(a, onnx_rank, "axis") != onnx_rank - 1)
      throw ShapeError("a softmax over several axes (opset < 13) of a value whose batch axis moved is not supported");
    set_attr("axis", {node_axis(a, "axis")}, false);
  } else if (t == "LayerNormalization") {
    const int a = norm_axis(attr_int("axis", -1), onnx_rank, "axis");
    if (a != onnx_rank - 1 || single_axis(g, a) != node_rank - 1)
      throw ShapeError("LayerNormalization over several axes of a value whose batch axis moved is not supported");
    set_attr("axis", {-1}, false);
  } else if (is_axis) {  // reductions; keepdims = 0 is keepdims = 1, then the axes dropped
    std::vector<int64_t> axes;
    if (!ints_attr_or_input("axes", 1, axes) || axes.empty())
      throw ShapeError(t + " over all axes would mix the batch");
    std::vector<int64_t> mapped;
    for (int64_t a : axes) mapped.push_back(node_axis(a, "axis"));
    if (attr_int("keepdims", 1) == 0) {
      for (int64_t a : axes) dropped.push_back(norm_axis(a, onnx_rank, "axis"));
      set_attr("keepdims", {1}, false);
    }
    if (has_in(1)) {
      const std::string name = in_name(1) + "\x1flayout#" + std::to_string(n_index_);
      HostTensor c;
      c.is_int = true;
      c.shape = {static_cast<int64_t>(mapped.size())};
      c.i = mapped;
      values_[name] = Value{false, -1, std::move(c)};
      patched.set_input(1, name);
    } else {
      set_attr("axes", mapped, true);
    }
  } else if (t == "MatMul" || t == "Gemm") {
    // Weights act on the last axis; MatMul of two data values on the last two.
    const bool data = t == "MatMul" && value(1) && value(1)->is_node;
    if (onnx_rank < (data ? 3 : 2) || single_axis(g, onnx_rank - 1) != node_rank - 1 ||
        (data && single_axis(g, onnx_rank - 2) != node_rank - 2))
      throw ShapeError(t + " of a value whose batch axis moved needs its last " + (data ? "two axes" : "axis") +
                       " apart from the batch (" + groups_str(g) + ")");
    if (t == "Gemm" && onnx_rank != 2) throw ShapeError("Gemm input must be 2-D");
  }

  // Run the ordinary handler on the node and give its outputs the layout.
  // The values it may define: its outputs, and those of a consumer it fuses
  // (MatMul + bias Add).
  std::vector<std::string> outs(n_->output().begin(), n_->output().end());
  if (n_->output_size() > 0) {
    auto c = consumer_.find(n_->output(0));
    if (c != consumer_.end())
      for (const auto& o : graph_->node(c->second).output()) outs.push_back(o);
  }
  std::set<std::string> before;
  for (const auto& o : outs)
    if (values_.count(o)) before.insert(o);
  const onnx::NodeProto* saved = n_;
  n_ = &patched;
  try {
    (this->*(handlers().at(t)))();
  } catch (...) {
    n_ = saved;
    throw;
  }
  n_ = saved;
  for (const auto& o : outs) {
    auto it = values_.find(o);
    if (o.empty() || before.count(o) || it == values_.end() || !it->second.is_node) continue;
    auto& kv = *it;
    const Shape os = shape_of(kv.second.node);
    if (os.rank() != node_rank)
      throw ShapeError("internal: " + t + " changed the rank of a value whose batch axis moved");
    NodeId y = kv.second.node;
    Groups og = g;
    if (!dropped.empty()) {  // the reduced node axes (size 1 now) go, with their ONNX axes
      std::sort(dropped.rbegin(), dropped.rend());
      dropped.erase(std::unique(dropped.begin(), dropped.end()), dropped.end());
      std::vector<int> gone;
      for (int k : dropped) gone.push_back(og[static_cast<size_t>(k)][0]);
      std::vector<int64_t> dims;
      for (int j = 0; j < os.rank(); ++j)
        if (std::find(gone.begin(), gone.end(), j) == gone.end()) dims.push_back(os[j]);
      y = reshape_to(y, Shape(dims), "/drop");
      for (int k : dropped) og.erase(og.begin() + k);
      for (auto& axes : og)
        for (int& b : axes) b -= static_cast<int>(std::count_if(gone.begin(), gone.end(), [&](int a) { return a < b; }));
    }
    kv.second = layout_value(y, og);
  }
  return true;
}

}  // namespace trim::io::detail
