// ONNX import: constants evaluated at import and the shape operators
// (Constant, Shape, Cast, Gather, Unsqueeze, Squeeze, Concat, Reshape, Flatten,
// Transpose, Slice, Range), which act on data and constants alike.
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
#include "trim/graph/ops/structural.hpp"
#include "trim/io/onnx.hpp"

#include "onnx_importer.hpp"

namespace trim::io::detail {

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
      int64_t v = 0;
      if (is_batch(x) || is_batch(y)) {
        // N·c times or divided by a positive constant stays symbolic (N·heads
        // inside nn.MultiheadAttention); anything else needs N's value.
        const bool both = is_batch(x) && is_batch(y);
        const int64_t c = is_batch(x) ? batch_factor(x) : batch_factor(y), other = is_batch(x) ? y : x;
        int64_t f = 0;
        if (!both && other > 0 && op == '*' && !__builtin_mul_overflow(c, other, &f) && f < kMaxBatchFactor) {
          out.i[static_cast<size_t>(k)] = batch_times(f);
        } else if (!both && is_batch(x) && op == '/' && y > 0 && c % y == 0) {
          out.i[static_cast<size_t>(k)] = batch_times(c / y);
        } else {
          throw ShapeError("shape arithmetic on the batch size cannot be resolved (the batch stays free): " +
                           list_str({x}) + " " + op + " " + list_str({y}));
        }
      } else {
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
        if (overflow || is_batch(v)) throw ValueError("integer overflow in a constant");
        out.i[static_cast<size_t>(k)] = v;
      }
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
  // With ratio 0 (torchvision 0.14's Swin writes F.dropout(p=0, training=True)) it is the identity anyway.
  const bool no_drop = has_in(1) && is_const(1) && const_in(1, "ratio").numel() == 1 && const_in(1, "ratio").get(0) == 0;
  if (has_in(2) && !no_drop) {
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
  if (c.has_batch()) throw ValueError("constant " + c.describe() + " holds a value trim reserves for the symbolic batch size (INT64_MIN)");
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
    const size_t groups = v.merged.empty() ? static_cast<size_t>(s.rank()) : v.merged.size();
    for (size_t k = 0, at = 0; k < groups; ++k) {  // ONNX axis k: merged[k] node axes (Value::merged)
      const int count = v.merged.empty() ? 1 : v.merged[k];
      int64_t d = 1;
      bool batch = false;
      for (int j = 0; j < count; ++j, ++at) {
        const int a = v.moved.empty() ? static_cast<int>(at) : v.moved[at];
        if (s[a] == Shape::free) batch = true;
        else d *= s[a];
      }
      dims.push_back(batch ? batch_times(d) : d);
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

std::vector<int64_t> Importer::dims_of(const Value& v) const {
  if (!v.is_node) return v.c.shape;
  const Shape& s = shape_of(v.node);
  return std::vector<int64_t>(s.begin(), s.end());
}

void Importer::op_unsqueeze() {
  std::vector<int64_t> axes;
  if (!ints_attr_or_input("axes", 1, axes)) throw ValueError("axes are missing");
  const Value& v = in(0);
  const std::vector<int64_t> dims = dims_of(v);
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
  const std::vector<int64_t> dims = dims_of(v);
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
    int64_t& joined = out.shape[static_cast<size_t>(axis)];
    if (__builtin_add_overflow(joined, c.shape[static_cast<size_t>(axis)], &joined))
      throw ShapeError("constant inputs joined along axis " + std::to_string(axis) + " are too large");
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
    if (out.is_int) {
      // start + k·delta in 128 bits: near int64's limits the product alone
      // may overflow even when the element fits.
      const __int128 value = static_cast<__int128>(s.i[0]) + static_cast<__int128>(k) * d.i[0];
      if (value <= std::numeric_limits<int64_t>::min() || value > std::numeric_limits<int64_t>::max())
        throw ShapeError("Range from " + std::to_string(s.i[0]) + " by " + std::to_string(d.i[0]) +
                         " leaves the 64-bit integers");
      out.i[static_cast<size_t>(k)] = static_cast<int64_t>(value);
    }
    else out.f[static_cast<size_t>(k)] = static_cast<float>(start + static_cast<double>(k) * delta);
  }
  out_const(std::move(out));
}

}  // namespace trim::io::detail
