// ONNX import: masks, indices and shapes folded at import.
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
#include "trim/graph/ops/batch_constant.hpp"
#include "trim/graph/ops/dense.hpp"
#include "trim/io/onnx.hpp"

#include "onnx_importer.hpp"

namespace trim::io::detail {

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
    const bool na = ea.is_int && is_batch(ea.i[static_cast<size_t>(k)]), nb = eb.is_int && is_batch(eb.i[static_cast<size_t>(k)]);
    if (na || nb) {
      const double other = na ? eb.get(k) : ea.get(k);
      if (na && nb) out.i[static_cast<size_t>(k)] = ea.i[static_cast<size_t>(k)] == eb.i[static_cast<size_t>(k)];
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

}  // namespace trim::io::detail
