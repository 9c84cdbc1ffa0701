// ONNX import: recurrent layers (LSTM and GRU, unrolled over the time steps by
// onnx_import_recurrent.cpp) and values whose batch axis a Transpose or a
// recurrent layer moved (sequence-first layouts).
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
#include "trim/io/onnx.hpp"

#include "onnx_importer.hpp"
#include "onnx_recurrent.hpp"
#include "trim/graph/ops/structural.hpp"

namespace trim::io::detail {

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
  if (!v.merged.empty())
    throw ShapeError("input '" + in_name(k) + "' has its batch axis merged with other axes; a recurrent layer reads " +
                     "[T, N, ·] or [N, T, ·]");
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

/// Reshape of a value whose batch axis a Transpose or an LSTM / GRU moved
/// ([T, N, ...]) that keeps the batch an axis of its own: done on the
/// batch-first node, the result keeps the moved layout (Value::moved). A
/// reshape that merges the batch with other axes goes to layout_reshape;
/// Slice, Squeeze and Gather of such values are op_layout's (layout_select).
/// False when input 0 is not such a value (the ordinary handler runs).
bool Importer::op_moved_layout() {
  const std::string& t = n_->op_type();
  if (t != "Reshape" || !has_in(0)) return false;
  auto it = values_.find(n_->input(0));
  if (it == values_.end() || !it->second.is_node || it->second.moved.empty()) return false;
  const Value v = it->second;
  if (!v.merged.empty()) return false;  // op_layout reads (or refuses) it
  const Shape& xs = shape_of(v.node);
  const int r = xs.rank();
  std::vector<int> p = v.moved;
  Shape os;  // the ONNX layout
  for (int k = 0; k < r; ++k) os.push_back(xs[p[static_cast<size_t>(k)]]);
  NodeId y = v.node;
  const HostTensor& tgt = const_in(1, "shape");
  if (!tgt.is_int || tgt.rank() != 1) throw ValueError("the target shape must be a 1-D integer tensor");
  if (std::any_of(tgt.i.begin(), tgt.i.end(), [](int64_t v) { return is_batch(v) && v != kBatch; })) {
    layout_reshape(v, tgt);  // N·c: the batch merges with other axes
    return true;
  }
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
  if (!detail::moved_reshape(os, p, d, ns, mo)) {  // the batch merges with other axes, or moves further
    layout_reshape(v, tgt);
    return true;
  }
  y = reshape_to(y, ns);
  p = mo;
  bool identity = true;
  for (size_t k = 0; k < p.size(); ++k) identity = identity && p[k] == static_cast<int>(k);
  define(0, Value{true, y, {}, nullptr, identity ? std::vector<int>{} : p});
  return true;
}

}  // namespace trim::io::detail
