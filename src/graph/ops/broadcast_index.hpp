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

/// Calls fn(o, ia, ib, n, sa, sb) for every run of the last axis of `out`:
/// o is the flat offset into out, ia / ib the offsets into the two operands,
/// n the length of the run and sa / sb the operands' strides along it.
template <class Fn>
void for_each_run(const Shape& out, const Shape& a, const Shape& b, Fn&& fn) {
  const int r = out.rank();
  if (out.numel() == 0) return;
  const std::vector<int64_t> sa = broadcast_strides(a, out), sb = broadcast_strides(b, out);
  const int64_t n = r ? out[r - 1] : 1;
  const int64_t la = r ? sa[static_cast<size_t>(r - 1)] : 0, lb = r ? sb[static_cast<size_t>(r - 1)] : 0;
  std::vector<int64_t> idx(static_cast<size_t>(r > 0 ? r - 1 : 0), 0);
  const int64_t runs = out.numel() / n;
  int64_t ia = 0, ib = 0;
  for (int64_t k = 0; k < runs; ++k) {
    fn(k * n, ia, ib, n, la, lb);
    for (int d = r - 2; d >= 0; --d) {
      const size_t u = static_cast<size_t>(d);
      ia += sa[u];
      ib += sb[u];
      if (++idx[u] < out[d]) break;
      ia -= sa[u] * out[d];
      ib -= sb[u] * out[d];
      idx[u] = 0;
    }
  }
}

}  // namespace trim::ops::detail
