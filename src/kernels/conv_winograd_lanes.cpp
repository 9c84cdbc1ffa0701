// The Winograd convolutions of conv_winograd.hpp for builds without AVX-512:
// the same blocks, GEMMs and transforms as conv_winograd.cpp, with the
// transforms written for 16-lane vectors of GCC / Clang's vector extensions
// (two registers each with AVX2) and the GEMMs on the shared micro-kernel.
// Where the AVX-512 kernels permute lanes to read and write whole rows, these
// gather a tile's window and scatter its outputs element by element through
// small buffers in L1. On a Zen 1 core the GEMMs take about three quarters of
// a block of ResNet-50's layers and about half of DenseNet-121's (32 output
// channels, so fewer multiply-adds per gathered window); writing the outputs
// through SSE transposes instead measured no faster (docs/graph.md).

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "conv_winograd_plan.hpp"
#include "thread_scratch.hpp"
#include "weight_layouts.hpp"
#include "trim/core/parallel.hpp"

// The 64-byte vectors below never cross a call boundary of this file (all
// inline, in an anonymous namespace), so the compilers' note that passing
// them by value without AVX-512 differs from an AVX-512 caller's ABI does
// not apply (Clang reads GCC's pragma too).
#pragma GCC diagnostic ignored "-Wpsabi"

namespace trim::kernels::winograd::lanes {

namespace {

static_assert(kNR == 16, "one 16-lane vector of tiles per panel");

/// 16 floats: one per tile of a panel, or per kernel of the weight.
typedef float Vec __attribute__((vector_size(64)));

inline Vec splat(float v) { return Vec{} + v; }
inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }

/// The one-dimensional transforms of F(M, 3) (conv_winograd.cpp has the
/// matrices): Bᵀ d of an α-vector d (α = M + 2), G g of a 3-vector g, Aᵀ m of
/// an α-vector m.
template <int M>
struct Transform;

template <>
struct Transform<2> {
  static void input(const Vec (&d)[4], Vec (&s)[4]) {
    s[0] = d[0] - d[2];
    s[1] = d[1] + d[2];
    s[2] = d[2] - d[1];
    s[3] = d[1] - d[3];
  }
  static void kernel(const Vec (&g)[3], Vec (&u)[4]) {
    const Vec outer = g[0] + g[2];
    u[0] = g[0];
    u[1] = 0.5f * (outer + g[1]);
    u[2] = 0.5f * (outer - g[1]);
    u[3] = g[2];
  }
  static void output(const Vec (&m)[4], Vec (&y)[2]) {
    y[0] = (m[0] + m[1]) + m[2];
    y[1] = (m[1] - m[2]) - m[3];
  }
};

template <>
struct Transform<4> {
  static void input(const Vec (&d)[6], Vec (&s)[6]) {
    const Vec m31 = d[3] - d[1], m42 = d[4] - d[2];
    s[0] = 1.5f * m31 + ((d[0] + d[4]) - 2.0f * d[2]);
    s[1] = 0.5f * d[3] + ((d[1] + d[4]) - 2.5f * d[2]);
    s[2] = 2.5f * d[3] + (0.5f * d[2] + (d[4] - d[1]));
    s[3] = 2.0f * m31 + m42;
    s[4] = m42 - 0.5f * m31;
    s[5] = 1.5f * m42 + ((d[1] + d[5]) - 2.0f * d[3]);
  }
  static void kernel(const Vec (&g)[3], Vec (&u)[6]) {
    const Vec outer = g[0] + g[2];
    u[0] = g[0];
    u[1] = (-1.0f / 3.0f) * (outer - g[1]);
    u[2] = (1.0f / 3.0f) * (outer + g[1]);
    u[3] = (-4.0f / 15.0f) * (2.0f * g[1] + (4.0f * g[0] + g[2]));
    u[4] = (1.0f / 15.0f) * ((4.0f * g[2] + g[0]) - 2.0f * g[1]);
    u[5] = g[2];
  }
  static void output(const Vec (&m)[6], Vec (&y)[4]) {
    const Vec p21 = m[2] + m[1], m21 = m[2] - m[1];
    y[0] = (m[0] + p21) + (m[3] + m[4]);
    y[1] = 0.5f * m[3] + (m21 - 2.0f * m[4]);
    y[2] = 0.25f * m[3] + (4.0f * m[4] + p21);
    y[3] = (0.125f * m[3] + (m21 - 8.0f * m[4])) + m[5];
  }
};

/// Scratch kept between calls: per thread (blocks), and on the calling thread
/// (the transformed weight).
struct Buffers;  // V, M, output rows, weight
float* buffer(int which, int64_t n) { return detail::thread_scratch<Buffers, 4>(which, n); }

/// Floats of U_ξ in micro-kernel panels: the convolution's output channels
/// (rows) rounded up to whole panels, by its input channels (depth).
int64_t panel_plane(const Geometry& g) { return round_up(g.cout, kMR) * g.cin; }

/// U_ξ's A operand for output channels row .. row + kMR − 1 (row a multiple
/// of kMR): a panel of kMR rows per depth step, read contiguously.
detail::APanelRef panel_operand(const Geometry& g, const float* u, int64_t xi, int64_t row) {
  return {u + xi * panel_plane(g) + row * g.cin, 1, kMR};
}

/// U_ξ = (G g Gᵀ)[ξ] of every 3×3 kernel g of the convolution, stored as
/// panel_operand() reads it: u[ξ·plane + (o / kMR)·cin·kMR + c·kMR + o % kMR]
/// for output channel o and input channel c (rows past cout are zero). The
/// forward's kernel (o, c) is w[(o·cin + c)·9 ..]; with `transposed`, the
/// input gradient's is the flipped w[(c·cout + o)·9 + 8 − k] (its cout is the
/// forward's cin). Sixteen kernels at a time, in the weight's order.
template <int M>
void transform_weights(const Geometry& g, const float* w, bool transposed, float* u) {
  constexpr int A = M + 2;
  const int64_t kernels = g.cout * g.cin, plane = panel_plane(g);
  if (g.cout % kMR != 0) {  // zero the last panel's rows past cout
    const int64_t last = g.cout / kMR * kMR * g.cin;
    for (int64_t xi = 0; xi < A * A; ++xi) std::fill(u + xi * plane + last, u + (xi + 1) * plane, 0.0f);
  }
  parallel_for(ceil_div(kernels, kNR), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t i0 = b * kNR, n = std::min(kNR, kernels - i0);
      alignas(64) float taps[9][kNR] = {};
      int64_t at[kNR];  // kernel i0 + l's offset in each U_ξ
      for (int64_t l = 0; l < n; ++l) {
        const int64_t i = i0 + l, o = transposed ? i % g.cout : i / g.cin, c = transposed ? i / g.cout : i % g.cin;
        at[l] = o / kMR * g.cin * kMR + c * kMR + o % kMR;
        for (int k = 0; k < 9; ++k) taps[k][l] = w[i * 9 + (transposed ? 8 - k : k)];
      }
      Vec t[A][3];  // G g, column by column
      for (int j = 0; j < 3; ++j) {
        const Vec column[3] = {load(taps[j]), load(taps[3 + j]), load(taps[6 + j])};
        Vec out[A];
        Transform<M>::kernel(column, out);
        for (int r = 0; r < A; ++r) t[r][j] = out[r];
      }
      for (int r = 0; r < A; ++r) {  // (G g) Gᵀ
        Vec out[A];
        Transform<M>::kernel(t[r], out);
        for (int j = 0; j < A; ++j) {
          float* dst = u + (r * A + j) * plane;
          for (int64_t l = 0; l < n; ++l) dst[at[l]] = out[j][l];
        }
      }
    }
  });
}

/// Where a panel's α×α tile windows lie: lane l's offset in a channel plane
/// and its rows and columns [lo, hi) inside the input (no rows for lanes
/// past the tiles).
struct Windows {
  int64_t at[kNR];
  int row_lo[kNR], row_hi[kNR], col_lo[kNR], col_hi[kNR];
};

/// d[i][j][l] = the window element (i, j) of lane l, zero outside the input.
/// With SSE, four lanes at a time by 4×4 transposes of their window rows (a
/// 4×2 one for F(4×4)'s columns 4 and 5); a row cut by the input's left or
/// right border is first copied into a zero-padded scratch row. Element by
/// element, the gather took a quarter of the Winograd blocks of
/// DenseNet-121's 128 → 32 convolution at 32² on Zen 1.
template <int A>
void gather_windows(const float* xc, int64_t w, const Windows& win, float (&d)[A][A][kNR]) {
  static_assert(A == 4 || A == 6, "F(2×2) or F(4×4)");
#if defined(__SSE2__)
  alignas(16) static const float zeros[8] = {};
  alignas(16) float cut[4][8];  // rows cut by a border, zero-padded to α (+ 2) floats
  for (int l0 = 0; l0 < kNR; l0 += 4)
    for (int i = 0; i < A; ++i) {
      const float* src[4];
      for (int k = 0; k < 4; ++k) {
        const int l = l0 + k;
        if (i < win.row_lo[l] || i >= win.row_hi[l]) {
          src[k] = zeros;
          continue;
        }
        const float* row = xc + win.at[l] + i * w;
        if (win.col_lo[l] == 0 && win.col_hi[l] == A) {
          src[k] = row;
          continue;
        }
        for (int j = 0; j < 8; ++j) cut[k][j] = j >= win.col_lo[l] && j < win.col_hi[l] ? row[j] : 0.0f;
        src[k] = cut[k];
      }
      __m128 c0 = _mm_loadu_ps(src[0]), c1 = _mm_loadu_ps(src[1]), c2 = _mm_loadu_ps(src[2]),
             c3 = _mm_loadu_ps(src[3]);
      _MM_TRANSPOSE4_PS(c0, c1, c2, c3);
      _mm_store_ps(&d[i][0][l0], c0);
      _mm_store_ps(&d[i][1][l0], c1);
      _mm_store_ps(&d[i][2][l0], c2);
      _mm_store_ps(&d[i][3][l0], c3);
      if constexpr (A == 6) {
        const auto last2 = [&](int k) {  // columns 4 and 5 in lanes 0 and 1
          return _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src[k] + 4)));
        };
        const __m128 u01 = _mm_unpacklo_ps(last2(0), last2(1)), u23 = _mm_unpacklo_ps(last2(2), last2(3));
        _mm_store_ps(&d[i][4][l0], _mm_movelh_ps(u01, u23));
        _mm_store_ps(&d[i][5][l0], _mm_movehl_ps(u23, u01));
      }
    }
#else
  for (int l = 0; l < kNR; ++l) {
    for (int i = 0; i < A; ++i)
      for (int j = 0; j < A; ++j) d[i][j][l] = 0.0f;
    for (int i = win.row_lo[l]; i < win.row_hi[l]; ++i) {
      const float* row = xc + win.at[l] + i * w;
      for (int j = win.col_lo[l]; j < win.col_hi[l]; ++j) d[i][j][l] = row[j];
    }
  }
#endif
}

/// V of a block's tiles: lane l of panel jp is tile t = 16·jp + l, whose α×α
/// window (rows from M·ty − pt, columns from M·tx − pl) is gathered into d
/// (zeros outside the input and past the tiles), then transformed, Bᵀ d B,
/// into V[ξ] = v + ξ·v_stride, channel by channel.
template <int M>
void transform_input(const Geometry& g, const Plan& p, int64_t u0, int64_t tiles, const float* x, float* v,
                     int64_t v_stride) {
  constexpr int A = M + 2;
  static_assert(kNR % 4 == 0, "lanes in fours (gather_windows)");
  const int64_t plane = g.h * g.w, panels = ceil_div(tiles, kNR);
  alignas(64) float d[A][A][kNR];
  for (int64_t jp = 0; jp < panels; ++jp) {
    Windows win;
    for (int l = 0; l < kNR; ++l) {
      const int64_t t = jp * kNR + l;
      if (t >= tiles) {
        win.at[l] = 0, win.row_lo[l] = win.row_hi[l] = win.col_lo[l] = win.col_hi[l] = 0;
        continue;
      }
      const int64_t u = u0 + t / p.tw, e = u / p.th, ih = M * (u % p.th) - g.pt, iw = M * (t % p.tw) - g.pl;
      win.at[l] = e * g.cin * plane + ih * g.w + iw;
      win.row_lo[l] = static_cast<int>(std::max<int64_t>(0, -ih));
      win.row_hi[l] = static_cast<int>(std::min<int64_t>(A, g.h - ih));
      win.col_lo[l] = static_cast<int>(std::max<int64_t>(0, -iw));
      win.col_hi[l] = static_cast<int>(std::min<int64_t>(A, g.w - iw));
    }
    float* vp = v + jp * g.cin * kNR;
    for (int64_t c = 0; c < g.cin; ++c) {
      gather_windows(x + c * plane, g.w, win, d);
      Vec s[A][A];  // Bᵀ d
      for (int j = 0; j < A; ++j) {
        Vec column[A], out[A];
        for (int i = 0; i < A; ++i) column[i] = load(d[i][j]);
        Transform<M>::input(column, out);
        for (int i = 0; i < A; ++i) s[i][j] = out[i];
      }
      for (int r = 0; r < A; ++r) {  // (Bᵀ d) B
        Vec out[A];
        Transform<M>::input(s[r], out);
        for (int j = 0; j < A; ++j) store(vp + c * kNR + (r * A + j) * v_stride, out[j]);
      }
    }
  }
}

/// Runs the tiles of tile rows [u0, u1) from the input x to output channels
/// [o0, o1) of y: V, then M_ξ = U_ξ · V_ξ, then Y = Aᵀ M A + bias into M²
/// rows of tiles (row M·a + b: output row a, column b of every tile), then
/// each output row written (=, or += when `accumulate`) and finished.
template <int M>
void run_block(const Geometry& g, const Plan& p, int64_t u0, int64_t u1, int64_t o0, int64_t o1, const float* x,
               const float* ua, const float* bias, float* y, bool accumulate,
               const detail::Finish& after) {
  constexpr int A = M + 2;
  const int64_t tiles = (u1 - u0) * p.tw, panels = ceil_div(tiles, kNR), ldm = panels * kNR;
  const int64_t panel_floats = g.cin * kNR, mrows = round_up(o1 - o0, kMR);
  const int64_t v_stride = panels * panel_floats, m_stride = mrows * ldm;
  float* v = buffer(0, A * A * v_stride);
  float* m = buffer(1, A * A * m_stride);
  float* rows = buffer(2, M * M * ldm);
  transform_input<M>(g, p, u0, tiles, x, v, v_stride);

  // Each A panel stays in L1 across the block's panels.
  for (int64_t xi = 0; xi < A * A; ++xi) {
    const float* vxi = v + xi * v_stride;
    float* mxi = m + xi * m_stride;
    for (int64_t ip = 0; ip < mrows; ip += kMR) {
      const detail::APanelRef a = panel_operand(g, ua, xi, o0 + ip);
      const int64_t rows = std::min(kMR, o1 - o0 - ip);  // M's rows past o1 are never read
      for (int64_t jp = 0; jp < panels; ++jp) {
        const float* b = vxi + jp * panel_floats;
        float* c = mxi + ip * ldm + jp * kNR;
        if (rows == kMR)
          detail::micro_kernel(g.cin, a.ptr, a.ars, a.aqs, b, kNR, c, ldm, false);
        else
          detail::micro_kernel_rows(rows, g.cin, a.ptr, a.ars, a.aqs, b, kNR, c, ldm, false);
      }
    }
  }

  const bool finish = after.any();
  for (int64_t o = o0; o < o1; ++o) {
    const Vec b = splat(bias ? bias[o] : 0.0f);
    for (int64_t jp = 0; jp < panels; ++jp) {
      const float* mo = m + (o - o0) * ldm + jp * kNR;
      Vec r[M][A];  // Aᵀ M, column by column
      for (int j = 0; j < A; ++j) {
        Vec column[A], out[M];
        for (int i = 0; i < A; ++i) column[i] = load(mo + (i * A + j) * m_stride);
        Transform<M>::output(column, out);
        for (int i = 0; i < M; ++i) r[i][j] = out[i];
      }
      for (int i = 0; i < M; ++i) {  // (Aᵀ M) A
        Vec out[M];
        Transform<M>::output(r[i], out);
        for (int j = 0; j < M; ++j) store(rows + (i * M + j) * ldm + jp * kNR, out[j] + b);
      }
    }
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t e = u / p.th, ty = u % p.th, t0 = (u - u0) * p.tw;
      const int64_t plane = (e * g.cout + o) * g.ho * g.wo;
      for (int64_t a = 0; a < M && M * ty + a < g.ho; ++a) {
        const int64_t at = plane + (M * ty + a) * g.wo;
        float* dst = y + at;
        for (int64_t col = 0; col < g.wo; ++col) {
          const float value = rows[(a * M + col % M) * ldm + t0 + col / M];
          // 0 + value when overwriting: the bits of adding into zeros (−0
          // included), which the input gradient's overwrite mode must give.
          dst[col] = (accumulate ? dst[col] : 0.0f) + value;
        }
        if (finish) after.run(y, at, g.wo, 0.0f, o);
      }
    }
  }
}

template <int M>
void convolve_tiles(const Geometry& g, const Plan& p, const float* x, const float* w, bool transposed,
                    const float* bias, float* y, bool accumulate, const detail::Finish& after) {
  const int64_t floats = lanes::weight_floats(g, p);
  const auto build = [&](float* u) { transform_weights<M>(g, w, transposed, u); };
  std::shared_ptr<const Tensor> kept;
  const float* ua =
      detail::kept_or_built(keep_transformed_weight(g, p), w, g.cout * g.cin * 9,
                            {detail::kLayoutWinogradLanes, M, transposed, g.cout, g.cin}, floats, build,
                            [](int64_t n) { return buffer(3, n); }, kept);
  parallel_tasks(p.blocks * p.chunks, [&](int64_t task) {
    const int64_t b = task / p.chunks, o0 = task % p.chunks * p.chunk_rows;
    run_block<M>(g, p, b * p.block_units, std::min(p.units, (b + 1) * p.block_units), o0,
                 std::min(g.cout, o0 + p.chunk_rows), x, ua, bias, y, accumulate, after);
  });
}

}  // namespace

int64_t weight_floats(const Geometry& g, const Plan& p) { return p.alpha * p.alpha * panel_plane(g); }

void convolve(const Geometry& g, const Plan& p, const float* x, const float* w, bool transposed, const float* bias,
              float* y, bool accumulate, const detail::Finish& after) {
  if (p.m == 4)
    convolve_tiles<4>(g, p, x, w, transposed, bias, y, accumulate, after);
  else
    convolve_tiles<2>(g, p, x, w, transposed, bias, y, accumulate, after);
}

}  // namespace trim::kernels::winograd::lanes
