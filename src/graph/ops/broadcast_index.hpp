#pragma once
// Offsets of a NumPy-broadcast operand while walking a larger shape in
// row-major order (private to the graph ops).

#include <cstdint>
#include <vector>

#include "trim/core/shape.hpp"

namespace trim::ops::detail {

/// Strides of `in` (same rank as `out`, each axis equal to out's or 1) for
/// walking `out`: 0 on broadcast axes.
inline std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> s(static_cast<size_t>(out.rank()), 0);
  int64_t step = 1;
  for (int a = in.rank() - 1; a >= 0; --a) {
    s[static_cast<size_t>(a)] = (in[a] == 1 && out[a] != 1) ? 0 : step;
    step *= in[a];
  }
  return s;
}

/// The walk of `out` with two broadcast operands as runs along one (merged)
/// last axis. Neighbouring axes that both operands walk alike (contiguously
/// or both broadcast) are merged and size-1 axes dropped, so [N,C,H,W] ⊙
/// [N,C,1,1] is N·C runs of H·W with the second operand fixed in each run:
/// runs are as long as the operands allow, and the traversal order of the
/// elements is row-major order of `out` whatever the merging.
struct BroadcastRuns {
  int64_t count = 0;  ///< number of runs (0 when out is empty)
  int64_t n = 1;      ///< length of each run
  int64_t la = 0, lb = 0;  ///< the operands' strides along a run
  std::vector<int64_t> dims, sa, sb;  ///< the outer (merged) axes and strides

  BroadcastRuns(const Shape& out, const Shape& a, const Shape& b) {
    if (out.numel() == 0) return;
    const std::vector<int64_t> fa = broadcast_strides(a, out), fb = broadcast_strides(b, out);
    for (int k = 0; k < out.rank(); ++k) {
      const size_t u = static_cast<size_t>(k);
      if (out[k] == 1) continue;
      if (!dims.empty() && sa.back() == fa[u] * out[k] && sb.back() == fb[u] * out[k]) {
        dims.back() *= out[k];
        sa.back() = fa[u];
        sb.back() = fb[u];
      } else {
        dims.push_back(out[k]);
        sa.push_back(fa[u]);
        sb.push_back(fb[u]);
      }
    }
    if (!dims.empty()) {
      n = dims.back(), la = sa.back(), lb = sb.back();
      dims.pop_back(), sa.pop_back(), sb.pop_back();
    }
    count = out.numel() / n;
  }

  /// True when no two runs touch the same element of either operand (every
  /// outer axis advances both), so runs may be split over threads even when
  /// they write gradients of the operands.
  bool runs_disjoint() const {
    for (size_t u = 0; u < dims.size(); ++u)
      if (sa[u] == 0 || sb[u] == 0) return false;
    return true;
  }

  /// Calls fn(o, ia, ib, n, la, lb) for runs [first, last): o the flat offset
  /// into out, ia / ib the offsets into the operands.
  template <class Fn>
  void each(int64_t first, int64_t last, Fn&& fn) const {
    if (first >= last) return;
    const int r = static_cast<int>(dims.size());
    std::vector<int64_t> idx(dims.size(), 0);
    int64_t ia = 0, ib = 0, rest = first;
    for (int d = r - 1; d >= 0; --d) {
      const size_t u = static_cast<size_t>(d);
      idx[u] = rest % dims[u];
      rest /= dims[u];
      ia += idx[u] * sa[u];
      ib += idx[u] * sb[u];
    }
    for (int64_t k = first; k < last; ++k) {
      fn(k * n, ia, ib, n, la, lb);
      for (int d = r - 1; d >= 0; --d) {
        const size_t u = static_cast<size_t>(d);
        ia += sa[u];
        ib += sb[u];
        if (++idx[u] < dims[u]) break;
        ia -= sa[u] * dims[u];
        ib -= sb[u] * dims[u];
        idx[u] = 0;
      }
    }
  }
};

/// Calls fn(o, ia, ib, n, sa, sb) for every run of the (merged) last axis of
/// `out`: o is the flat offset into out, ia / ib the offsets into the two
/// operands, n the length of the run and sa / sb the operands' strides along
/// it. Elements come in row-major order of `out`.
template <class Fn>
void for_each_run(const Shape& out, const Shape& a, const Shape& b, Fn&& fn) {
  const BroadcastRuns runs(out, a, b);
  runs.each(0, runs.count, fn);
}

}  // namespace trim::ops::detail
