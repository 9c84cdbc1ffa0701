#include "trim/kernels/structural.hpp"

#include <algorithm>
#include <array>

#include "over_rows.hpp"
#include "trim/core/parallel.hpp"

namespace trim::kernels {

namespace {

/// Square tile edge of the blocked transpose: two 32×32 float tiles fit in L1.
constexpr int64_t kTile = 32;
/// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelWork = int64_t{1} << 16;

using Dims = std::array<int64_t, Shape::max_rank>;

/// A set of loop axes, each with a size and a stride in the source and in
/// the destination; `seek` positions it at a flat row-major loop index.
struct Walker {
  int n = 0;
  Dims dim{}, src_stride{}, dst_stride{};

  void add(int64_t d, int64_t s, int64_t t) {
    dim[static_cast<size_t>(n)] = d;
    src_stride[static_cast<size_t>(n)] = s;
    dst_stride[static_cast<size_t>(n)] = t;
    ++n;
  }
  int64_t count() const {
    int64_t c = 1;
    for (int k = 0; k < n; ++k) c *= dim[static_cast<size_t>(k)];
    return c;
  }
  /// Source and destination offsets of loop index `flat`.
  void seek(int64_t flat, int64_t& so, int64_t& dof) const {
    so = dof = 0;
    for (int k = n - 1; k >= 0; --k) {
      const size_t u = static_cast<size_t>(k);
      const int64_t i = flat % dim[u];
      flat /= dim[u];
      so += i * src_stride[u];
      dof += i * dst_stride[u];
    }
  }
};

template <bool Acc>
inline void put(float& d, float v) {
  if (Acc)
    d += v;
  else
    d = v;
}

template <bool Acc>
void copy_row(const float* s, float* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) put<Acc>(d[i], s[i]);
}

template <bool Acc>
void copy_strided(const float* s, int64_t stride, float* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) put<Acc>(d[i], s[i * stride]);
}

/// out (contiguous, axes permuted: out.shape[k] = src.shape[perm[k]]) =/+= src.
template <bool Acc>
void permute(const float* src, const Shape& shape, const std::vector<int>& perm, float* out) {
  if (shape.numel() == 0) return;
  const std::vector<int64_t> sstr = row_major_strides(shape);
  // Output axes with size-1 axes dropped and axes that stay adjacent in the
  // source merged, so e.g. NCHW -> NHWC becomes a batch of 2-d transposes.
  Dims d{}, st{};
  int m = 0;
  for (size_t k = 0; k < perm.size(); ++k) {
    const int64_t dk = shape[perm[k]], sk = sstr[static_cast<size_t>(perm[k])];
    if (dk == 1) continue;
    if (m > 0 && st[static_cast<size_t>(m - 1)] == sk * dk) {
      d[static_cast<size_t>(m - 1)] *= dk;
      st[static_cast<size_t>(m - 1)] = sk;
    } else {
      d[static_cast<size_t>(m)] = dk;
      st[static_cast<size_t>(m)] = sk;
      ++m;
    }
  }
  if (m == 0) {
    put<Acc>(out[0], src[0]);
    return;
  }
  Dims dstr{};
  dstr[static_cast<size_t>(m - 1)] = 1;
  for (int k = m - 2; k >= 0; --k)
    dstr[static_cast<size_t>(k)] = dstr[static_cast<size_t>(k + 1)] * d[static_cast<size_t>(k + 1)];
  const size_t q = static_cast<size_t>(m - 1);
  const int64_t total = shape.numel();

  if (st[q] == 1) {
    // The innermost axis stays innermost: contiguous row copies.
    Walker w;
    for (int k = 0; k < m - 1; ++k) w.add(d[static_cast<size_t>(k)], st[static_cast<size_t>(k)], dstr[static_cast<size_t>(k)]);
    const int64_t len = d[q];
    const auto rows = [&](int64_t b, int64_t e) {
      Dims idx{};
      int64_t so, dof;
      w.seek(b, so, dof);
      int64_t rest = b;
      for (int k = w.n - 1; k >= 0; --k) {
        idx[static_cast<size_t>(k)] = rest % w.dim[static_cast<size_t>(k)];
        rest /= w.dim[static_cast<size_t>(k)];
      }
      for (int64_t r = b; r < e; ++r) {
        copy_row<Acc>(src + so, out + dof, len);
        for (int k = w.n - 1; k >= 0; --k) {
          const size_t u = static_cast<size_t>(k);
          so += w.src_stride[u];
          dof += w.dst_stride[u];
          if (++idx[u] < w.dim[u]) break;
          so -= w.dim[u] * w.src_stride[u];
          dof -= w.dim[u] * w.dst_stride[u];
          idx[u] = 0;
        }
      }
    };
    if (total >= kParallelWork)
      parallel_for(w.count(), rows);
    else
      rows(0, w.count());
    return;
  }

  // The source's contiguous axis p moved away from the end: blocked 2-d
  // transposes between output axes p and m−1, looped over the other axes.
  size_t p = 0;  // exists: the source's innermost non-unit axis has stride 1
  while (p < q && st[p] != 1) ++p;
  Walker w;
  for (int k = 0; k < m - 1; ++k)
    if (static_cast<size_t>(k) != p)
      w.add(d[static_cast<size_t>(k)], st[static_cast<size_t>(k)], dstr[static_cast<size_t>(k)]);
  const int64_t P = d[p], Q = d[q], out_p = dstr[p], src_q = st[q];
  const int64_t tiles = (P + kTile - 1) / kTile;
  const auto units = [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      int64_t so, dof;
      w.seek(u / tiles, so, dof);
      const int64_t i0 = (u % tiles) * kTile, i1 = std::min(P, i0 + kTile);
      for (int64_t j0 = 0; j0 < Q; j0 += kTile) {
        const int64_t j1 = std::min(Q, j0 + kTile);
        for (int64_t i = i0; i < i1; ++i)
          copy_strided<Acc>(src + so + i + j0 * src_q, src_q, out + dof + i * out_p + j0, j1 - j0);
      }
    }
  };
  const int64_t n_units = w.count() * tiles;
  if (total >= kParallelWork)
    parallel_for(n_units, units);
  else
    units(0, n_units);
}

}  // namespace

std::vector<int> inverse_permutation(const std::vector<int>& perm) {
  std::vector<int> inv(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) inv[static_cast<size_t>(perm[k])] = static_cast<int>(k);
  return inv;
}

void transpose_forward(const Tensor& x, const std::vector<int>& perm, Tensor& y) {
  permute<false>(x.data(), x.shape(), perm, y.data());
}

void transpose_backward(const Tensor& dy, const std::vector<int>& perm, Tensor& dx) {
  permute<true>(dy.data(), dy.shape(), inverse_permutation(perm), dx.data());
}

// ---- concat -----------------------------------------------------------------------

void concat_forward(const std::vector<const Tensor*>& xs, int axis, Tensor& y) {
  const Shape& s = y.shape();
  const int a = s.axis(axis);
  const int64_t outer = s.numel(0, a), inner = s.numel(a + 1, s.rank());
  const int64_t row = s[a] * inner;
  // DenseNet's concatenations are megabytes per call (serial, they were a
  // stretch with one thread idle).
  detail::over_rows(outer, y.numel(), detail::kSplitFloats, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      float* dst = y.data() + o * row;
      for (const Tensor* x : xs) {
        const int64_t chunk = x->dim(a) * inner;
        copy_row<false>(x->data() + o * chunk, dst, chunk);
        dst += chunk;
      }
    }
  });
}

void concat_backward(const Tensor& dy, int axis, const std::vector<int64_t>& lengths,
                     const std::vector<Tensor*>& dxs, const std::vector<char>& overwrite) {
  const Shape& s = dy.shape();
  const int a = s.axis(axis);
  const int64_t outer = s.numel(0, a), inner = s.numel(a + 1, s.rank());
  const int64_t row = s[a] * inner;
  detail::over_rows(outer, dy.numel(), detail::kSplitFloats, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      const float* src = dy.data() + o * row;
      for (size_t i = 0; i < lengths.size(); ++i) {
        const int64_t chunk = lengths[i] * inner;
        if (i < dxs.size() && dxs[i]) {
          float* d = dxs[i]->data() + o * chunk;
          if (i < overwrite.size() && overwrite[i])
            for (int64_t k = 0; k < chunk; ++k) d[k] = src[k] + 0.0f;  // as 0 + dy: −0 becomes +0
          else
            copy_row<true>(src, d, chunk);
        }
        src += chunk;
      }
    }
  });
}

// ---- slice ------------------------------------------------------------------------

void slice_forward(const Tensor& x, int axis, int64_t start, int64_t step, Tensor& y) {
  const Shape& s = x.shape();
  const int a = s.axis(axis);
  const int64_t outer = s.numel(0, a), len = s[a], inner = s.numel(a + 1, s.rank());
  const int64_t count = y.dim(a);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < count; ++k)
      copy_row<false>(x.data() + (o * len + start + k * step) * inner, y.data() + (o * count + k) * inner,
                      inner);
}

void slice_backward(const Tensor& dy, int axis, int64_t start, int64_t step, Tensor& dx) {
  const Shape& s = dx.shape();
  const int a = s.axis(axis);
  const int64_t outer = s.numel(0, a), len = s[a], inner = s.numel(a + 1, s.rank());
  const int64_t count = dy.dim(a);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < count; ++k)
      copy_row<true>(dy.data() + (o * count + k) * inner, dx.data() + (o * len + start + k * step) * inner,
                     inner);
}

// ---- pad --------------------------------------------------------------------------

namespace {

/// Shapes and strides of a padding, for walking it axis by axis.
struct PadGeometry {
  int rank = 0;
  Dims xs{}, ys{}, xstr{}, ystr{}, before{};

  PadGeometry(const Shape& x, const PadWidths& pads) : rank(x.rank()) {
    for (int k = rank - 1; k >= 0; --k) {
      const size_t u = static_cast<size_t>(k);
      xs[u] = x[k];
      before[u] = pads[u][0];
      ys[u] = pads[u][0] + x[k] + pads[u][1];
      xstr[u] = k == rank - 1 ? 1 : xstr[u + 1] * xs[u + 1];
      ystr[u] = k == rank - 1 ? 1 : ystr[u + 1] * ys[u + 1];
    }
  }
};

/// Visits the padded tensor y as contiguous pieces: interior(x_off, y_off,
/// n) for each run of n elements that come from x, border(y_off, n) for each
/// run of padding (whole padded slabs of outer axes come as one run).
template <class Interior, class Border>
void pad_walk(const PadGeometry& p, int axis, int64_t xo, int64_t yo, Interior& interior, Border& border) {
  const size_t a = static_cast<size_t>(axis);
  const int64_t before = p.before[a], inside = p.xs[a], after = p.ys[a] - before - inside;
  if (axis == p.rank - 1) {
    if (before) border(yo, before);
    if (inside) interior(xo, yo + before, inside);
    if (after) border(yo + before + inside, after);
    return;
  }
  if (before) border(yo, before * p.ystr[a]);
  for (int64_t i = 0; i < inside; ++i)
    pad_walk(p, axis + 1, xo + i * p.xstr[a], yo + (before + i) * p.ystr[a], interior, border);
  if (after) border(yo + (before + inside) * p.ystr[a], after * p.ystr[a]);
}

template <class Interior, class Border>
void pad_visit(const Shape& x, const PadWidths& pads, Interior interior, Border border) {
  if (x.rank() == 0) {
    interior(0, 0, 1);
    return;
  }
  const PadGeometry p(x, pads);
  pad_walk(p, 0, 0, 0, interior, border);
}

}  // namespace

void pad_forward(const Tensor& x, const PadWidths& pads, float value, Tensor& y) {
  const float* xd = x.data();
  float* yd = y.data();
  pad_visit(
      x.shape(), pads, [&](int64_t xo, int64_t yo, int64_t n) { copy_row<false>(xd + xo, yd + yo, n); },
      [&](int64_t yo, int64_t n) { std::fill(yd + yo, yd + yo + n, value); });
}

void pad_backward(const Tensor& dy, const PadWidths& pads, Tensor& dx) {
  const float* g = dy.data();
  float* d = dx.data();
  pad_visit(
      dx.shape(), pads, [&](int64_t xo, int64_t yo, int64_t n) { copy_row<true>(g + yo, d + xo, n); },
      [](int64_t, int64_t) {});
}

void pad_add_border(Tensor& y, const PadWidths& pads, float c) {
  Shape xs = y.shape();
  for (int k = 0; k < xs.rank(); ++k) xs[k] -= pads[static_cast<size_t>(k)][0] + pads[static_cast<size_t>(k)][1];
  float* yd = y.data();
  pad_visit(
      xs, pads, [](int64_t, int64_t, int64_t) {},
      [&](int64_t yo, int64_t n) {
        for (int64_t i = 0; i < n; ++i) yd[yo + i] += c;
      });
}

}  // namespace trim::kernels
