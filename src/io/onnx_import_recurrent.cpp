// ONNX LSTM and GRU, unrolled over their static time steps (onnx_recurrent.hpp).
//
// Per direction and step t (ONNX gate order: LSTM i, o, f, c; GRU z, r, h):
//   zx_t = slice t of linear(x; W)            (the input projection of every step at once)
//   zh_t = linear(h_{t−1}; R)
//   LSTM: c_t = lstm_cell(zx_t, zh_t, c_{t−1}), h_t = lstm_hidden(zx_t, zh_t, c_t), bias Wb + Rb
//   GRU:  [z r] = σ(zx_t[z r] + zh_t[z r]), n = tanh(zx_t[h] + r ⊙ zh_t[h]),
//         h_t = n + z ⊙ (h_{t−1} − n)        (linear_before_reset = 1, as torch writes;
//         0: n = tanh(zx_t[h] + linear(r ⊙ h_{t−1}; R_h)))
// A zero initial state is a batch_constant of zeros (pure bias, no attribution).
#include <string>

#include "onnx_recurrent.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/ops/activation.hpp"
#include "trim/graph/ops/batch_constant.hpp"
#include "trim/graph/ops/dense.hpp"
#include "trim/graph/ops/product.hpp"
#include "trim/graph/ops/recurrent.hpp"
#include "trim/graph/ops/structural.hpp"

namespace trim::io::detail {

namespace {

/// Rows [first, first + count) of the 2-D block `d` of a [dirs, rows, cols] tensor.
Tensor block(const Tensor& t, int64_t d, int64_t first, int64_t count) {
  const int64_t rows = t.dim(1), cols = t.rank() > 2 ? t.dim(2) : 1;
  Tensor out = t.rank() > 2 ? Tensor({count, cols}) : Tensor({count});
  for (int64_t r = 0; r < count; ++r)
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = t[(d * rows + first + r) * cols + c];
  return out;
}

struct Unroller {
  const Graph& g;
  const RecurrentSpec& s;
  const AddNode& add;
  const AddParam& param;
  int64_t T = 0, H = 0;

  std::string tag(int d, int64_t t, const std::string& what) const {
    return "/" + (s.directions == 2 ? std::string(d ? "bw" : "fw") + "/" : std::string()) + "t" +
           std::to_string(t) + "/" + what;
  }
  NodeId slice(NodeId x, int axis, int64_t from, int64_t to, const std::string& name) {
    return add(std::make_shared<ops::Slice>(axis, from, to, 1), {x}, {}, name);
  }
  NodeId reshape(NodeId x, Shape per_example, const std::string& name) {
    return add(std::make_shared<ops::Reshape>(per_example), {x}, {}, name);
  }
  NodeId dense(NodeId x, int w, int b, const std::string& name) {
    std::vector<int> p{w};
    if (b >= 0) p.push_back(b);
    return add(std::make_shared<ops::Dense>(b >= 0), {x}, p, name);
  }
  /// Zeros [N, shape...] (a pure bias: no attribution flows to it).
  NodeId zeros(Shape shape, const std::string& name) {
    const int p = param(name + ".zeros", Tensor(shape), false);
    return add(std::make_shared<ops::BatchConstant>(), {s.x}, {p}, name);
  }
  /// The initial state of direction d: [N, H] sliced from [N, dirs, H], or zeros.
  NodeId initial(NodeId given, int d, const std::string& name) {
    if (given < 0) return zeros({H}, name);
    const Shape& gs = g.shape(given);
    if (gs.rank() != 3 || gs[1] != s.directions || gs[2] != H)
      throw ShapeError("initial state " + gs.str() + " must be [N, " + std::to_string(s.directions) + ", " +
                       std::to_string(H) + "] (ONNX [directions, N, hidden])");
    NodeId v = s.directions == 1 ? given : slice(given, 1, d, d + 1, name + "/slice");
    return reshape(v, {H}, name);
  }

  /// h_t of every step (time order) and the last c (LSTM) of direction d.
  std::vector<NodeId> direction(int d, NodeId& c_last) {
    const int G = s.cell == RecurrentSpec::Cell::lstm ? 4 : 3;
    const std::string dn = s.directions == 2 ? (d ? "/bw" : "/fw") : "";
    const int w = param(dn + "/W", block(s.W, d, 0, G * H), true);
    const bool whole_r = s.cell == RecurrentSpec::Cell::lstm || s.linear_before_reset;
    const int r = whole_r ? param(dn + "/R", block(s.R, d, 0, G * H), true) : -1;
    const Tensor wb = block(s.B, d, 0, G * H), rb = block(s.B, d, G * H, G * H);
    std::vector<NodeId> hs(static_cast<size_t>(T), -1);
    NodeId h = initial(s.h0, d, dn + "/h0");
    if (s.cell == RecurrentSpec::Cell::lstm) {
      Tensor bias = wb;
      bias.as_vector() += rb.as_vector();
      const int b = param(dn + "/bias", bias, true);
      const NodeId xp = dense(s.x, w, -1, dn + "/input_projection");
      NodeId c = initial(s.c0, d, dn + "/c0");
      for (int64_t k = 0; k < T; ++k) {
        const int64_t t = (d == 1 || s.reverse) ? T - 1 - k : k;
        const NodeId zx = reshape(slice(xp, 1, t, t + 1, tag(d, t, "zx_slice")), {4 * H}, tag(d, t, "zx"));
        const NodeId zh = dense(h, r, -1, tag(d, t, "zh"));
        c = add(std::make_shared<ops::LstmCell>(), {zx, zh, c}, {b}, tag(d, t, "c"));
        h = add(std::make_shared<ops::LstmHidden>(), {zx, zh, c}, {b}, tag(d, t, "h"));
        hs[static_cast<size_t>(t)] = h;
      }
      c_last = c;
      return hs;
    }
    // GRU
    const int wbp = param(dn + "/Wb", wb, true);
    const NodeId xp = dense(s.x, w, wbp, dn + "/input_projection");
    int rh = -1, rbh = -1, rzr = -1, rbzr = -1, rbp = -1;
    if (s.linear_before_reset) {
      rbp = param(dn + "/Rb", rb, true);
    } else {  // R split: [z r] applied to h, h-gate applied to r ⊙ h
      rzr = param(dn + "/R_zr", block(s.R, d, 0, 2 * H), true);
      rh = param(dn + "/R_h", block(s.R, d, 2 * H, H), true);
      rbzr = param(dn + "/Rb_zr", block(s.B, d, G * H, 2 * H), true);
      rbh = param(dn + "/Rb_h", block(s.B, d, G * H + 2 * H, H), true);
    }
    const int minus_one = param(dn + "/minus_one", Tensor({1}, std::vector<float>{-1.0f}), false);
    for (int64_t k = 0; k < T; ++k) {
      const int64_t t = (d == 1 || s.reverse) ? T - 1 - k : k;
      const NodeId zx = reshape(slice(xp, 1, t, t + 1, tag(d, t, "zx_slice")), {3 * H}, tag(d, t, "zx"));
      NodeId pre_zr, zh_h = -1;
      if (s.linear_before_reset) {
        const NodeId zh = dense(h, r, rbp, tag(d, t, "zh"));
        pre_zr = add(std::make_shared<ops::Add>(),
                     {slice(zx, 1, 0, 2 * H, tag(d, t, "zx_zr")), slice(zh, 1, 0, 2 * H, tag(d, t, "zh_zr"))}, {},
                     tag(d, t, "pre_zr"));
        zh_h = slice(zh, 1, 2 * H, 3 * H, tag(d, t, "zh_h"));
      } else {
        pre_zr = add(std::make_shared<ops::Add>(),
                     {slice(zx, 1, 0, 2 * H, tag(d, t, "zx_zr")), dense(h, rzr, rbzr, tag(d, t, "zh_zr"))}, {},
                     tag(d, t, "pre_zr"));
      }
      const NodeId zr = add(std::make_shared<ops::Sigmoid>(), {pre_zr}, {}, tag(d, t, "zr"));
      const NodeId z = slice(zr, 1, 0, H, tag(d, t, "z"));
      const NodeId rg = slice(zr, 1, H, 2 * H, tag(d, t, "r"));
      NodeId gated;
      if (s.linear_before_reset) {
        gated = add(std::make_shared<ops::Multiply>(), {rg, zh_h}, {}, tag(d, t, "r_zh"));
      } else {
        const NodeId rhp = add(std::make_shared<ops::Multiply>(), {rg, h}, {}, tag(d, t, "r_h"));
        gated = dense(rhp, rh, rbh, tag(d, t, "r_zh"));
      }
      const NodeId pre_n = add(std::make_shared<ops::Add>(), {slice(zx, 1, 2 * H, 3 * H, tag(d, t, "zx_h")), gated},
                               {}, tag(d, t, "pre_n"));
      const NodeId n = add(std::make_shared<ops::Tanh>(), {pre_n}, {}, tag(d, t, "n"));
      const NodeId neg_n =
          add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Mul), {n}, {minus_one}, tag(d, t, "neg_n"));
      const NodeId diff = add(std::make_shared<ops::Add>(), {h, neg_n}, {}, tag(d, t, "h_minus_n"));
      const NodeId zd = add(std::make_shared<ops::Multiply>(), {z, diff}, {}, tag(d, t, "z_diff"));
      h = add(std::make_shared<ops::Add>(), {n, zd}, {}, tag(d, t, "h"));
      hs[static_cast<size_t>(t)] = h;
    }
    return hs;
  }
};

}  // namespace

RecurrentOutputs build_recurrent(const Graph& g, const RecurrentSpec& s, const AddNode& add, const AddParam& param) {
  const Shape& xs = g.shape(s.x);
  const int G = s.cell == RecurrentSpec::Cell::lstm ? 4 : 3;
  const int64_t H = s.hidden;
  if (xs.rank() != 3) throw ShapeError("input " + xs.str() + " must be a sequence [N, T, features]");
  if (H < 1) throw ValueError("hidden_size " + std::to_string(H) + " must be positive");
  const int dirs = s.directions;
  if (s.W.rank() != 3 || s.W.dim(0) != dirs || s.W.dim(1) != G * H || s.W.dim(2) != xs[2])
    throw ShapeError("W " + s.W.shape().str() + " must be [" + std::to_string(dirs) + ", " + std::to_string(G * H) +
                     ", " + std::to_string(xs[2]) + "]");
  if (s.R.rank() != 3 || s.R.dim(0) != dirs || s.R.dim(1) != G * H || s.R.dim(2) != H)
    throw ShapeError("R " + s.R.shape().str() + " must be [" + std::to_string(dirs) + ", " + std::to_string(G * H) +
                     ", " + std::to_string(H) + "]");
  if (s.B.rank() != 2 || s.B.dim(0) != dirs || s.B.dim(1) != 2 * G * H)
    throw ShapeError("B " + s.B.shape().str() + " must be [" + std::to_string(dirs) + ", " +
                     std::to_string(2 * G * H) + "]");
  Unroller u{g, s, add, param, xs[1], H};
  std::vector<std::vector<NodeId>> hs;
  std::vector<NodeId> cs;
  for (int d = 0; d < dirs; ++d) {
    NodeId c = -1;
    hs.push_back(u.direction(d, c));
    cs.push_back(c);
  }
  RecurrentOutputs out;
  // Joins per-direction [N, H] values into [N, dirs, H].
  auto join_dirs = [&](const std::vector<NodeId>& v, const std::string& name) {
    if (dirs == 1) return u.reshape(v[0], {1, H}, name);
    std::vector<NodeId> parts;
    for (int d = 0; d < dirs; ++d) parts.push_back(u.reshape(v[static_cast<size_t>(d)], {1, H}, name + (d ? "/bw" : "/fw")));
    return add(std::make_shared<ops::Concat>(1), parts, {}, name);
  };
  if (s.need_y) {
    std::vector<NodeId> steps;
    for (int64_t t = 0; t < u.T; ++t) {
      std::vector<NodeId> v;
      for (int d = 0; d < dirs; ++d) v.push_back(hs[static_cast<size_t>(d)][static_cast<size_t>(t)]);
      steps.push_back(u.reshape(join_dirs(v, "/y/t" + std::to_string(t)), {1, dirs, H}, "/y/t" + std::to_string(t) + "/step"));
    }
    out.y = steps.size() == 1 ? steps[0] : add(std::make_shared<ops::Concat>(1), steps, {}, "/y");
  }
  if (s.need_h) {
    std::vector<NodeId> last;
    for (int d = 0; d < dirs; ++d) {
      const bool backwards = d == 1 || s.reverse;
      last.push_back(backwards ? hs[static_cast<size_t>(d)].front() : hs[static_cast<size_t>(d)].back());
    }
    out.y_h = join_dirs(last, "/y_h");
  }
  if (s.need_c && s.cell == RecurrentSpec::Cell::lstm) out.y_c = join_dirs(cs, "/y_c");
  return out;
}

bool moved_reshape(const Shape& onnx_shape, const std::vector<int>& moved, const std::vector<int64_t>& target,
                   Shape& node_shape, std::vector<int>& moved_out) {
  int b = 0;
  while (b < static_cast<int>(moved.size()) && moved[static_cast<size_t>(b)] != 0) ++b;
  if (b == static_cast<int>(moved.size()) || static_cast<int>(target.size()) <= b) return false;
  for (int k = 0; k <= b; ++k)
    if (target[static_cast<size_t>(k)] != onnx_shape[k]) return false;
  for (int k = b + 1; k < onnx_shape.rank(); ++k)
    if (moved[static_cast<size_t>(k)] != k) return false;
  // Node layout: [N, the axes before the batch in their stored order, the new tail].
  node_shape = Shape{Shape::free};
  std::vector<int64_t> lead(static_cast<size_t>(b));
  for (int k = 0; k < b; ++k) lead[static_cast<size_t>(moved[static_cast<size_t>(k)] - 1)] = onnx_shape[k];
  for (int64_t v : lead) node_shape.push_back(v);
  moved_out.assign(moved.begin(), moved.begin() + b);
  moved_out.push_back(0);
  for (size_t k = static_cast<size_t>(b) + 1; k < target.size(); ++k) {
    node_shape.push_back(target[k]);
    moved_out.push_back(static_cast<int>(k));
  }
  return true;
}

}  // namespace trim::io::detail
