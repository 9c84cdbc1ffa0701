#include "conv_winograd.hpp"

#include "conv_winograd_plan.hpp"

#include <algorithm>

#include "micro_kernel.hpp"
#include "thread_scratch.hpp"
#include "weight_layouts.hpp"
#include "trim/core/parallel.hpp"
#include "trim/core/tensor.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

// F(m×m, 3×3) computes each m×m output tile Y from the α×α input window d
// around it (α = m + 2) and the 3×3 kernel g as Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A.
// Summed over input channels, the α² elementwise products become α² GEMMs
// M_ξ[o, t] = Σ_c U_ξ[o, c] · V_ξ[c, t] over the tiles t: α² multiply-adds
// per tile and channel pair instead of a direct convolution's 9m².
//
// F(2×2, 3×3) (points 0, ±1, ∞): 16 per 4 outputs (2.25× fewer), with
//   Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]],
//   G  = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]],
//   Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]].
// F(4×4, 3×3): 36 per 16 outputs (4× fewer), with the points 0, −1, 1, ½,
// −2, ∞ rather than Lavin and Gray's 0, ±1, ±2, ∞ (with N(0, 1) inputs and
// He-scaled weights, 64 channels, they rounded 2.5× less: a largest error of
// 2.1·10⁻⁶ of the largest output instead of 5.2·10⁻⁶; the best of the pairs
// from ±⅓ … ±4 tried beside 0, ±1):
//   Bᵀ = [[1, −3/2, −2, 3/2, 1, 0], [0, 1, −5/2, ½, 1, 0], [0, −1, ½, 5/2, 1, 0],
//         [0, −2, −1, 2, 1, 0], [0, ½, −1, −½, 1, 0], [0, 1, −3/2, −2, 3/2, 1]],
//   G  = [[1, 0, 0], [−⅓, ⅓, −⅓], [⅓, ⅓, ⅓], [−16/15, −8/15, −4/15], [1/15, −2/15, 4/15],
//         [0, 0, 1]],
//   Aᵀ = [[1, 1, 1, 1, 1, 0], [0, −1, 1, ½, −2, 0], [0, 1, 1, ¼, 4, 0], [0, −1, 1, ⅛, −8, 1]].
// Its transformed values are several times larger than the outputs they sum
// to, so the GEMMs' sums round more than F(2×2)'s (docs/graph.md has the
// numbers). Which one a convolution takes depends on its shape only
// (tile_size).
//
// The transforms are where a Winograd convolution loses its gain: written to
// memory and packed again for the GEMM, the expanded tiles cost as much as
// the multiply-adds saved. Here the tiles go in blocks small enough that the
// transformed inputs V (written straight in the micro-kernel's panel layout)
// and the products M stay in cache between the three steps (in L2 for
// F(2×2); F(4×4)'s measured faster in larger blocks, see make_plan), and each
// block runs on one thread from input transform to output.

namespace trim::kernels::winograd {

namespace {

#if defined(__AVX512F__)

static_assert(kNR == 16, "one 16-lane vector of tiles per panel");

/// The one-dimensional transforms of F(M, 3), 16 lanes at a time: Bᵀ d of
/// an α-vector d (α = M + 2), G g of a 3-vector g, Aᵀ m of an α-vector m.
/// The two-dimensional transforms apply them to the columns, then the rows.
template <int M>
struct Transform;

template <>
struct Transform<2> {
  static void input(const __m512 (&d)[4], __m512 (&s)[4]) {
    s[0] = _mm512_sub_ps(d[0], d[2]);
    s[1] = _mm512_add_ps(d[1], d[2]);
    s[2] = _mm512_sub_ps(d[2], d[1]);
    s[3] = _mm512_sub_ps(d[1], d[3]);
  }
  static void kernel(const __m512 (&g)[3], __m512 (&u)[4]) {
    const __m512 half = _mm512_set1_ps(0.5f), outer = _mm512_add_ps(g[0], g[2]);
    u[0] = g[0];
    u[1] = _mm512_mul_ps(half, _mm512_add_ps(outer, g[1]));
    u[2] = _mm512_mul_ps(half, _mm512_sub_ps(outer, g[1]));
    u[3] = g[2];
  }
  static void output(const __m512 (&m)[4], __m512 (&y)[2]) {
    y[0] = _mm512_add_ps(_mm512_add_ps(m[0], m[1]), m[2]);
    y[1] = _mm512_sub_ps(_mm512_sub_ps(m[1], m[2]), m[3]);
  }
};

template <>
struct Transform<4> {
  static void input(const __m512 (&d)[6], __m512 (&s)[6]) {
    const __m512 half = _mm512_set1_ps(0.5f), three_halves = _mm512_set1_ps(1.5f), two = _mm512_set1_ps(2.0f),
                 five_halves = _mm512_set1_ps(2.5f);
    const __m512 m31 = _mm512_sub_ps(d[3], d[1]), m42 = _mm512_sub_ps(d[4], d[2]);
    s[0] = _mm512_fmadd_ps(three_halves, m31, _mm512_fnmadd_ps(two, d[2], _mm512_add_ps(d[0], d[4])));
    s[1] = _mm512_fmadd_ps(half, d[3], _mm512_fnmadd_ps(five_halves, d[2], _mm512_add_ps(d[1], d[4])));
    s[2] = _mm512_fmadd_ps(five_halves, d[3], _mm512_fmadd_ps(half, d[2], _mm512_sub_ps(d[4], d[1])));
    s[3] = _mm512_fmadd_ps(two, m31, m42);
    s[4] = _mm512_fnmadd_ps(half, m31, m42);
    s[5] = _mm512_fmadd_ps(three_halves, m42, _mm512_fnmadd_ps(two, d[3], _mm512_add_ps(d[1], d[5])));
  }
  static void kernel(const __m512 (&g)[3], __m512 (&u)[6]) {
    const __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f);
    const __m512 outer = _mm512_add_ps(g[0], g[2]);
    u[0] = g[0];
    u[1] = _mm512_mul_ps(_mm512_set1_ps(-1.0f / 3.0f), _mm512_sub_ps(outer, g[1]));
    u[2] = _mm512_mul_ps(_mm512_set1_ps(1.0f / 3.0f), _mm512_add_ps(outer, g[1]));
    u[3] = _mm512_mul_ps(_mm512_set1_ps(-4.0f / 15.0f), _mm512_fmadd_ps(two, g[1], _mm512_fmadd_ps(four, g[0], g[2])));
    u[4] = _mm512_mul_ps(_mm512_set1_ps(1.0f / 15.0f), _mm512_fnmadd_ps(two, g[1], _mm512_fmadd_ps(four, g[2], g[0])));
    u[5] = g[2];
  }
  static void output(const __m512 (&m)[6], __m512 (&y)[4]) {
    const __m512 p21 = _mm512_add_ps(m[2], m[1]), m21 = _mm512_sub_ps(m[2], m[1]);
    y[0] = _mm512_add_ps(_mm512_add_ps(m[0], p21), _mm512_add_ps(m[3], m[4]));
    y[1] = _mm512_fmadd_ps(_mm512_set1_ps(0.5f), m[3], _mm512_fnmadd_ps(_mm512_set1_ps(2.0f), m[4], m21));
    y[2] = _mm512_fmadd_ps(_mm512_set1_ps(0.25f), m[3], _mm512_fmadd_ps(_mm512_set1_ps(4.0f), m[4], p21));
    y[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(0.125f), m[3], _mm512_fnmadd_ps(_mm512_set1_ps(8.0f), m[4], m21)),
                         m[5]);
  }
};

/// Floats of the transformed weight, with slack for the rows past cout that a
/// last A panel reads (up to kMR − 1 rows of cin floats past the end).
int64_t weight_floats(const Geometry& g, const Plan& p) {
  return p.alpha * p.alpha * g.cout * g.cin + kMR * std::max(g.cin, g.cout);
}

/// Where GEMM ξ reads its A operand (U_ξ, cout × cin) in the transformed
/// weight u: the forward reads U_ξ[o][c] row-major; the input gradient's
/// weight is the forward weight transposed and flipped, and u holds the
/// flipped kernels in the forward weight's order, so it reads U_ξ
/// column-major. Rows past cout read into the next row or plane (or the
/// buffer's slack); their products are never stored.
detail::APanelRef operand(const Geometry& g, const float* u, bool transposed, int64_t xi, int64_t row) {
  const int64_t plane = g.cout * g.cin;
  if (!transposed) return {u + xi * plane + row * g.cin, g.cin, 1};
  return {u + xi * plane + row, 1, g.cout};
}

/// Tile rows at least this wide are transformed a row at a time
/// (transform_tile_rows), narrower ones lane by lane (transform_gathered);
/// rows of 2, 4 or 8 4×4 tiles a panel at a time instead (panel_rows).
constexpr int64_t kRowTransformTiles = 8;

/// Whether the input transform gathers lane by lane (narrow tile rows)
/// rather than reading the input a row at a time.
bool gathered(const Plan& p) { return p.tw < kRowTransformTiles; }

/// Scratch kept between calls: per thread (blocks), and on the calling thread
/// (the transformed weight).
struct Buffers;  // V, M, output rows, weight
float* buffer(int which, int64_t n) { return detail::thread_scratch<Buffers, 4>(which, n); }

/// u[ξ][i] = (G g Gᵀ)[ξ] for the 3×3 kernel g = w[9i .. 9i + 9) (flipped,
/// w[9i + 8 − k], when `flip`) of each of the weight's `kernels` kernels, in
/// the weight's own order. The forward reads U_ξ as a row-major cout × cin
/// matrix; the input gradient reads the flipped kernels' array as its
/// transpose (see operand()). Sixteen kernels at a time, one per lane.
template <int M>
void transform_weights(const float* w, int64_t kernels, bool flip, float* u) {
  constexpr int A = M + 2;
  const __m512i taps = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                          _mm512_set1_epi32(9));
  parallel_for((kernels + kNR - 1) / kNR, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t i0 = b * kNR, n = std::min(kNR, kernels - i0);
      const __mmask16 lanes = static_cast<__mmask16>((1u << n) - 1);
      const float* src = w + i0 * 9;
      __m512 k[9];
      for (int i = 0; i < 9; ++i)
        k[i] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes,
                                        _mm512_add_epi32(taps, _mm512_set1_epi32(flip ? 8 - i : i)), src, 4);
      __m512 t[A][3];  // G g, column by column
      for (int j = 0; j < 3; ++j) {
        const __m512 column[3] = {k[j], k[3 + j], k[6 + j]};
        __m512 out[A];
        Transform<M>::kernel(column, out);
        for (int r = 0; r < A; ++r) t[r][j] = out[r];
      }
      float* dst = u + i0;
      for (int r = 0; r < A; ++r) {  // (G g) Gᵀ
        __m512 out[A];
        Transform<M>::kernel(t[r], out);
        for (int j = 0; j < A; ++j) _mm512_mask_storeu_ps(dst + (r * A + j) * kernels, lanes, out[j]);
      }
    }
  });
}

/// V[ξ] of the tiles of one panel and channel from the α×α windows d (d[r][j]
/// = row r, column j of every lane's window): Bᵀ d B, stored at dst + ξ·v_stride.
template <int M>
inline void store_transformed(const __m512 (&d)[M + 2][M + 2], float* dst, int64_t v_stride) {
  constexpr int A = M + 2;
  __m512 s[A][A];  // Bᵀ d
  for (int j = 0; j < A; ++j) {
    __m512 column[A], out[A];
    for (int i = 0; i < A; ++i) column[i] = d[i][j];
    Transform<M>::input(column, out);
    for (int i = 0; i < A; ++i) s[i][j] = out[i];
  }
  for (int r = 0; r < A; ++r) {  // (Bᵀ d) B
    __m512 out[A];
    Transform<M>::input(s[r], out);
    for (int j = 0; j < A; ++j) _mm512_store_ps(dst + (r * A + j) * v_stride, out[j]);
  }
}

/// V of a block's tiles, lane by lane: lane l of panel jp is tile t = jp·16 +
/// l, whose window starts at offset off[l] (row M·ty − pt, column M·tx − pl)
/// in every channel's input plane; each of the α² reads is a gather masked
/// to the lanes whose window row and column are inside the input (padding
/// and lanes past the tiles read zeros; those lanes' columns of M are never
/// stored). For narrow planes, where a tile row fills a fraction of a vector.
template <int M>
void transform_gathered(const Geometry& g, const Plan& p, int64_t u0, int64_t tiles, const float* x, float* v,
                        int64_t v_stride) {
  constexpr int A = M + 2;
  const int64_t plane = g.h * g.w, panels = (tiles + kNR - 1) / kNR;
  alignas(64) int32_t off[kNR];
  for (int64_t jp = 0; jp < panels; ++jp) {
    unsigned row_ok[A] = {}, col_ok[A] = {};  // lane bits
    for (int64_t l = 0; l < kNR && jp * kNR + l < tiles; ++l) {
      const int64_t t = jp * kNR + l;
      const int64_t u = u0 + t / p.tw, e = u / p.th, ih = M * (u % p.th) - g.pt, iw = M * (t % p.tw) - g.pl;
      off[l] = static_cast<int32_t>(e * g.cin * plane + ih * g.w + iw);
      for (int i = 0; i < A; ++i) {
        if (ih + i >= 0 && ih + i < g.h) row_ok[i] |= 1u << l;
        if (iw + i >= 0 && iw + i < g.w) col_ok[i] |= 1u << l;
      }
    }
    for (int64_t l = tiles - jp * kNR; l < kNR; ++l) off[l] = 0;
    const __m512i base = _mm512_load_si512(off);
    __m512i at[A][A];
    __mmask16 inside[A][A];
    for (int r = 0; r < A; ++r)
      for (int j = 0; j < A; ++j) {
        at[r][j] = _mm512_add_epi32(base, _mm512_set1_epi32(static_cast<int32_t>(r * g.w + j)));
        inside[r][j] = static_cast<__mmask16>(row_ok[r] & col_ok[j]);
      }
    float* vp = v + jp * g.cin * kNR;
    for (int64_t c = 0; c < g.cin; ++c) {
      const float* xc = x + c * plane;
      __m512 d[A][A];
      for (int r = 0; r < A; ++r)
        for (int j = 0; j < A; ++j)
          d[r][j] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), inside[r][j], at[r][j], xc, 4);
      store_transformed<M>(d, vp + c * kNR, v_stride);
    }
  }
}

/// Columns M·i + φ (φ < M + 2) of 16 tiles i, from the vectors s[v] holding
/// columns 16v .. 16v + 15 (v ≤ M): split M ways (even and odd lanes, once
/// for M = 2, twice for M = 4), then phases 0 and 1 moved on by a tile for
/// phases M and M + 1, the last lane from s[M].
template <int M>
inline void split_phases(const __m512 (&s)[M + 1], __m512 (&ph)[M + 2]) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  if constexpr (M == 2) {
    ph[0] = _mm512_permutex2var_ps(s[0], even, s[1]);
    ph[1] = _mm512_permutex2var_ps(s[0], odd, s[1]);
  } else {
    static_assert(M == 4, "F(2×2) or F(4×4)");
    const __m512 e01 = _mm512_permutex2var_ps(s[0], even, s[1]), o01 = _mm512_permutex2var_ps(s[0], odd, s[1]);
    const __m512 e23 = _mm512_permutex2var_ps(s[2], even, s[3]), o23 = _mm512_permutex2var_ps(s[2], odd, s[3]);
    ph[0] = _mm512_permutex2var_ps(e01, even, e23);
    ph[1] = _mm512_permutex2var_ps(o01, even, o23);
    ph[2] = _mm512_permutex2var_ps(e01, odd, e23);
    ph[3] = _mm512_permutex2var_ps(o01, odd, o23);
  }
  const __m512i next0 = _mm512_set_epi32(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
  const __m512i next1 = _mm512_set_epi32(17, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
  ph[M] = _mm512_permutex2var_ps(ph[0], next0, s[M]);
  ph[M + 1] = _mm512_permutex2var_ps(ph[1], next1, s[M]);
}

/// V of a block's tiles, tile row by tile row, read from the input itself
/// (the padding is masked off, no copy): the α rows a tile row reads are
/// combined (Bᵀ d) across their whole width, then split into their columns
/// modulo M (split_phases) so that every tile's (Bᵀ d) B is a lane-wise
/// operation, 16 tiles per step.
template <int M>
void transform_tile_rows(const Geometry& g, const Plan& p, int64_t u0, int64_t u1, const float* x, float* v,
                         int64_t v_stride) {
  constexpr int A = M + 2, kVectors = M + 1;
  const int64_t plane = g.h * g.w, panel_floats = g.cin * kNR;
  for (int64_t u = u0; u < u1; ++u) {
    const int64_t e = u / p.th, ty = u % p.th, t_row = (u - u0) * p.tw;
    // The window rows M·ty .. M·ty + M + 1 of the padded plane are input
    // rows M·ty − pt + i; rows outside the input are zero (not loaded).
    const float* example = x + e * g.cin * plane;
    int64_t row_at[A];
    bool inside[A];
    for (int i = 0; i < A; ++i) {
      const int64_t ih = M * ty + i - g.pt;
      inside[i] = ih >= 0 && ih < g.h;
      row_at[i] = ih * g.w;
    }
    for (int64_t tx0 = 0; tx0 < p.tw; tx0 += kNR) {
      // Up to 16 tiles read padded columns M·tx0 + j, j < cols ≤ 16M + 2:
      // input columns iw0 + j, loaded as M + 1 vectors from j = 0. Columns
      // left of the input, past its width or past the tiles are zeros.
      const int64_t n = std::min(kNR, p.tw - tx0), cols = M * n + 2, iw0 = M * tx0 - g.pl;
      const int64_t j0 = std::max<int64_t>(0, -iw0), j1 = std::min(cols, g.w - iw0);
      __mmask16 mask[kVectors];
      for (int k = 0; k < kVectors; ++k) {
        const int64_t lo = std::max<int64_t>(j0, 16 * k) - 16 * k, hi = std::min<int64_t>(j1, 16 * k + 16) - 16 * k;
        mask[k] = hi > lo ? static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1)) : 0;
      }
      // Lanes [0, n) are tiles t .. t + n − 1 of the block: the first k1 in
      // panel t / 16, the rest at the start of the next one.
      const int64_t t = t_row + tx0, first = t % kNR, k1 = std::min(n, kNR - first);
      const __mmask16 m1 = static_cast<__mmask16>((1u << k1) - 1);
      const __mmask16 m2 = static_cast<__mmask16>(((1u << n) - 1) & ~((1u << k1) - 1));
      for (int64_t c = 0; c < g.cin; ++c) {
        const float* xc = example + c * plane + iw0;  // masked-off lanes are not read
        __m512 s[A][kVectors];                         // Bᵀ d over columns 16k ..: s[row][k]
        for (int k = 0; k < kVectors; ++k) {
          __m512 d[A], out[A];
          for (int i = 0; i < A; ++i)
            d[i] = inside[i] ? _mm512_maskz_loadu_ps(mask[k], xc + row_at[i] + 16 * k) : _mm512_setzero_ps();
          Transform<M>::input(d, out);
          for (int i = 0; i < A; ++i) s[i][k] = out[i];
        }
        float* dst = v + t / kNR * panel_floats + c * kNR + first;
        for (int i = 0; i < A; ++i) {  // (Bᵀ d) B
          __m512 ph[A], out[A];
          split_phases<M>(s[i], ph);
          Transform<M>::input(ph, out);
          for (int j = 0; j < A; ++j) {
            float* d = dst + (i * A + j) * v_stride;
            _mm512_mask_storeu_ps(d, m1, out[j]);
            if (m2) _mm512_mask_storeu_ps(d + panel_floats - kNR, m2, out[j]);
          }
        }
      }
    }
  }
}

/// y[at .. at + width) = (or +=, when `accumulate`) one output row of a tile
/// row from the M rows of its tiles' columns, then `after`: src[j·ldm + tx]
/// is output column M·tx + j. 16 / M tiles per vector, interleaved by one
/// permutation; reads up to 16 / M − 1 floats past the tile row.
template <int M>
inline void interleave_row(const float* src, int64_t ldm, float* y, int64_t at, int64_t width, bool accumulate,
                           const detail::Finish& after) {
  float* const dst = y + at;
  const bool finish = after.any();
  constexpr int64_t kTiles = kNR / M;
  // Lane M·t + j of the output is lane kTiles·j + t of the loaded vector.
  const __m512i order = M == 4 ? _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0)
                               : _mm512_set_epi32(15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0);
  for (int64_t c0 = 0, tx = 0; c0 < width; c0 += kNR, tx += kTiles) {
    __m512 v;
    if constexpr (M == 4) {
      v = _mm512_castps128_ps512(_mm_loadu_ps(src + tx));
      v = _mm512_insertf32x4(v, _mm_loadu_ps(src + ldm + tx), 1);
      v = _mm512_insertf32x4(v, _mm_loadu_ps(src + 2 * ldm + tx), 2);
      v = _mm512_insertf32x4(v, _mm_loadu_ps(src + 3 * ldm + tx), 3);
    } else {
      const __m256 lo = _mm256_loadu_ps(src + tx), hi = _mm256_loadu_ps(src + ldm + tx);
      v = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
    }
    v = _mm512_permutexvar_ps(order, v);
    const __mmask16 k = width - c0 >= kNR ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (width - c0)) - 1);
    // Stored, 0 + v: the bits of adding into zeros (−0 included), which the
    // input gradient's overwrite mode must give.
    v = _mm512_add_ps(accumulate ? _mm512_maskz_loadu_ps(k, dst + c0) : _mm512_setzero_ps(), v);
    if (finish) v = after.apply(v, at + c0, k);
    _mm512_mask_storeu_ps(dst + c0, k, v);
  }
}

/// Whether a block's panels are whole tile rows, 16 / tw of them
/// (transform_panel_rows): 4×4 tiles, 2, 4 or 8 of them across (5–8, 13–16
/// or 29–32 outputs). Blocks are whole panels, so a panel's tile rows are
/// consecutive.
bool panel_rows(const Plan& p) { return p.m == 4 && (p.tw == 2 || p.tw == 4 || p.tw == 8); }

/// V of a block's tiles when every panel holds R = 16 / G whole tile rows of
/// G = tw tiles (panel_rows; lane G·q + t is tile t of the panel's q-th tile
/// row, which may be in another plane): each tile row's 6 input rows are
/// combined (Bᵀ d) across padded columns 0 .. 16·kVectors − 1, read from the
/// input itself (the padding masked off); window column φ of every tile,
/// padded column 4t + φ, is picked from the R tile rows into one vector by
/// two-source permutations and blends, and (Bᵀ d) B is lane-wise. The same
/// arithmetic as transform_gathered without its 36 gathers per channel, and
/// as transform_tile_rows without its half-empty vectors for 8 tiles.
template <int G>
void transform_panel_rows(const Geometry& g, const Plan& p, int64_t u0, int64_t u1, const float* x, float* v,
                          int64_t v_stride) {
  constexpr int A = 6, R = kNR / G, kVectors = G == 8 ? 3 : G == 4 ? 2 : 1;  // 4G + 2 padded columns
  const int64_t plane = g.h * g.w, panel_floats = g.cin * kNR;
  // Padded column k is input column k − pl: the lanes of each vector inside the input.
  __mmask16 mask[kVectors];
  for (int h = 0; h < kVectors; ++h) {
    const int64_t lo = std::clamp<int64_t>(g.pl - 16 * h, 0, 16), hi = std::clamp<int64_t>(g.w + g.pl - 16 * h, 0, 16);
    mask[h] = hi > lo ? static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1)) : __mmask16(0);
  }
  // pick[φ]: lane G·q + t from lane 4t + φ of a pair of sources: for G = 2,
  // tile rows 2k and 2k + 1 into lanes 4k .. 4k + 3 (φ < 6: all columns are
  // in the first vector); for G = 4, tile rows 2k and 2k + 1 into lanes 8k ..
  // 8k + 7 (φ < 4; 4 and 5 are 0 and 1 of the columns shifted by 4); for
  // G = 8, the tile row's first two vectors (or the shifted ones) into lanes
  // 8q .. 8q + 7.
  constexpr int kPicks = G == 2 ? 6 : 4;
  __m512i pick[kPicks];
  for (int phi = 0; phi < kPicks; ++phi) {
    alignas(64) int32_t idx[kNR];
    for (int l = 0; l < kNR; ++l)
      idx[l] = G == 2 ? (l / 2 % 2) * 16 + 4 * (l % 2) + phi
                      : G == 4 ? (l / 4 % 2) * 16 + 4 * (l % 4) + phi : 4 * (l % 8) + phi;
    pick[phi] = _mm512_load_si512(idx);
  }
  for (int64_t u = u0; u < u1; u += R) {
    // Tile row u + q's window rows; rows past the block (a last, partial
    // panel) and outside the input are zeros.
    const float* row_at[R][A];
    for (int q = 0; q < R; ++q) {
      const int64_t e = (u + q) / p.th, ty = (u + q) % p.th;
      for (int i = 0; i < A; ++i) {
        const int64_t ih = 4 * ty + i - g.pt;
        row_at[q][i] = u + q < u1 && ih >= 0 && ih < g.h ? x + e * g.cin * plane + ih * g.w - g.pl : nullptr;
      }
    }
    float* dst = v + (u - u0) / R * panel_floats;
    for (int64_t c = 0; c < g.cin; ++c) {
      const int64_t at = c * plane;  // masked-off lanes are not read
      __m512 s[R][A][kVectors];       // Bᵀ d of tile row q over padded columns 16h ..: s[q][row][h]
      for (int q = 0; q < R; ++q)
        for (int h = 0; h < kVectors; ++h) {
          __m512 d[A], out[A];
          for (int i = 0; i < A; ++i)
            d[i] = row_at[q][i] ? _mm512_maskz_loadu_ps(mask[h], row_at[q][i] + at + 16 * h) : _mm512_setzero_ps();
          Transform<4>::input(d, out);
          for (int i = 0; i < A; ++i) s[q][i][h] = out[i];
        }
      const auto shift4 = [](__m512 lo, __m512 hi) {  // columns 4 .. 19 of lo, hi
        return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), 4));
      };
      for (int i = 0; i < A; ++i) {  // (Bᵀ d) B
        __m512 ph[A];
        if constexpr (G == 2) {
          for (int phi = 0; phi < A; ++phi) {
            __m512 out = _mm512_permutex2var_ps(s[0][i][0], pick[phi], s[1][i][0]);
            for (int k = 1; k < 4; ++k)
              out = _mm512_mask_blend_ps(static_cast<__mmask16>(0xF << (4 * k)), out,
                                         _mm512_permutex2var_ps(s[2 * k][i][0], pick[phi], s[2 * k + 1][i][0]));
            ph[phi] = out;
          }
        } else {
          // The four sources of phases 0–3 and of 4–5, for lanes 0–7 and 8–15.
          __m512 low[4], high[4];
          if constexpr (G == 4) {
            for (int q = 0; q < 4; ++q) {
              low[q] = s[q][i][0];
              high[q] = shift4(s[q][i][0], s[q][i][1]);
            }
          } else {
            for (int q = 0; q < 2; ++q) {
              low[2 * q] = s[q][i][0];
              low[2 * q + 1] = s[q][i][1];
              high[2 * q] = shift4(s[q][i][0], s[q][i][1]);
              high[2 * q + 1] = shift4(s[q][i][1], s[q][i][2]);
            }
          }
          const auto gather = [&](const __m512 (&src)[4], int phi) {
            return _mm512_mask_blend_ps(0xFF00, _mm512_permutex2var_ps(src[0], pick[phi], src[1]),
                                        _mm512_permutex2var_ps(src[2], pick[phi], src[3]));
          };
          for (int phi = 0; phi < 4; ++phi) ph[phi] = gather(low, phi);
          ph[4] = gather(high, 0);
          ph[5] = gather(high, 1);
        }
        __m512 out[A];
        Transform<4>::input(ph, out);
        for (int j = 0; j < A; ++j) _mm512_store_ps(dst + c * kNR + (i * A + j) * v_stride, out[j]);
      }
    }
  }
}

/// Runs the tiles of tile rows [u0, u1) from the input x to output channels
/// [o0, o1) of y.
template <int M>
void run_block(const Geometry& g, const Plan& p, int64_t u0, int64_t u1, int64_t o0, int64_t o1, const float* x,
               const float* ua, bool transposed, const float* bias, float* y, bool accumulate,
               const detail::Finish& after) {
  constexpr int A = M + 2;
  const int64_t tiles = (u1 - u0) * p.tw, panels = (tiles + kNR - 1) / kNR, ldm = panels * kNR;
  const int64_t panel_floats = g.cin * kNR, mrows = round_up(o1 - o0, kMR);
  const int64_t v_stride = panels * panel_floats, m_stride = mrows * ldm;
  float* v = buffer(0, A * A * v_stride);
  float* m = buffer(1, A * A * m_stride);
  float* rows = buffer(2, M * M * ldm + kNR);  // + the overread of interleave_row

  if (panel_rows(p)) {  // 4×4 tiles only
    if (p.tw == 2)
      transform_panel_rows<2>(g, p, u0, u1, x, v, v_stride);
    else if (p.tw == 4)
      transform_panel_rows<4>(g, p, u0, u1, x, v, v_stride);
    else
      transform_panel_rows<8>(g, p, u0, u1, x, v, v_stride);
  } else if (!gathered(p)) {
    transform_tile_rows<M>(g, p, u0, u1, x, v, v_stride);
  } else {
    transform_gathered<M>(g, p, u0, tiles, x, v, v_stride);
  }

  // M_ξ = U_ξ · V_ξ: each A panel stays in L1 across the block's panels.
  for (int64_t xi = 0; xi < A * A; ++xi) {
    const float* vxi = v + xi * v_stride;
    float* mxi = m + xi * m_stride;
    for (int64_t ip = 0; ip < mrows; ip += kMR) {
      const detail::APanelRef a = operand(g, ua, transposed, xi, o0 + ip);
      for (int64_t jp = 0; jp < panels; ++jp)
        detail::micro_kernel(g.cin, a.ptr, a.ars, a.aqs, vxi + jp * panel_floats, kNR, mxi + ip * ldm + jp * kNR,
                             ldm, false);
    }
  }

  // Y = Aᵀ M A per output channel into M² rows (row M·a + b: output row a,
  // column b of every tile), then interleaved into the output's rows.
  for (int64_t o = o0; o < o1; ++o) {
    const __m512 b = _mm512_set1_ps(bias ? bias[o] : 0.0f);
    for (int64_t jp = 0; jp < panels; ++jp) {
      const float* mo = m + (o - o0) * ldm + jp * kNR;
      __m512 r[M][A];  // Aᵀ M, column by column
      for (int j = 0; j < A; ++j) {
        __m512 column[A], out[M];
        for (int i = 0; i < A; ++i) column[i] = _mm512_load_ps(mo + (i * A + j) * m_stride);
        Transform<M>::output(column, out);
        for (int i = 0; i < M; ++i) r[i][j] = out[i];
      }
      float* out_rows = rows + jp * kNR;
      for (int i = 0; i < M; ++i) {  // (Aᵀ M) A
        __m512 out[M];
        Transform<M>::output(r[i], out);
        for (int j = 0; j < M; ++j) _mm512_store_ps(out_rows + (i * M + j) * ldm, _mm512_add_ps(out[j], b));
      }
    }
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t e = u / p.th, ty = u % p.th, t0 = (u - u0) * p.tw;
      const int64_t plane = (e * g.cout + o) * g.ho * g.wo;
      for (int64_t a = 0; a < M && M * ty + a < g.ho; ++a) {
        const int64_t at = plane + (M * ty + a) * g.wo;
        interleave_row<M>(rows + M * a * ldm + t0, ldm, y, at, g.wo, accumulate, after);
      }
    }
  }
}

template <int M>
void convolve_tiles(const Geometry& g, const Plan& p, const float* x, const float* w, bool transposed,
                    const float* bias, float* y, bool accumulate, const detail::Finish& after) {
  const int64_t floats = weight_floats(g, p);
  const auto build = [&](float* u) { transform_weights<M>(w, g.cout * g.cin, transposed, u); };
  std::shared_ptr<const Tensor> kept;
  const float* ua =
      detail::kept_or_built(keep_transformed_weight(g, p), w, g.cout * g.cin * 9,
                            {detail::kLayoutWinograd, M, transposed, g.cout, g.cin}, floats, build,
                            [](int64_t n) { return buffer(3, n); }, kept);
  parallel_tasks(p.blocks * p.chunks, [&](int64_t task) {
    const int64_t b = task / p.chunks, o0 = task % p.chunks * p.chunk_rows;
    run_block<M>(g, p, b * p.block_units, std::min(p.units, (b + 1) * p.block_units), o0,
                 std::min(g.cout, o0 + p.chunk_rows), x, ua, transposed, bias, y, accumulate, after);
  });
}

#endif  // __AVX512F__

}  // namespace

Plan make_plan(const Geometry& g) {
  Plan p{};
  p.m = tile_size(g);
  p.alpha = p.m + 2;
  p.th = ceil_div(g.ho, p.m);
  p.tw = ceil_div(g.wo, p.m);
  p.units = g.n * p.th;
  // F(2×2): about 2^17 floats of V and M per block (α² (cin + cout) per
  // tile): half of a 1 MB L2, the rest for the A panels streaming through.
  // F(4×4): 2^19, which measured faster (fewer passes over its larger
  // transformed weight, 36·cin·cout floats, which does not stay in L2).
  const int64_t per_tile = p.alpha * p.alpha * (g.cin + g.cout);
  const int64_t budget = int64_t{1} << (p.m == 4 ? 19 : 17);
  const int64_t target = std::clamp<int64_t>(budget / per_tile, p.m == 4 ? 32 : 16, 128);
  p.block_units = std::max<int64_t>(1, target / p.tw);
  // Whole panels of tiles when a tile row divides 16.
  if (kNR % p.tw == 0) {
    const int64_t rows_per_panel = kNR / p.tw;
    p.block_units = std::max(rows_per_panel, p.block_units / rows_per_panel * rows_per_panel);
  }
  // Enough blocks for every thread (the result does not depend on the
  // blocks), but none of less than a panel of tiles: a batch-1 16×16 output
  // in 4×4 tiles (one panel) ran 1.6× slower split in two half-empty panels
  // on two threads than on one.
  const int64_t threads = std::max(1, num_threads());
  if (ceil_div(p.units, p.block_units) < threads) {
    p.block_units = std::max(ceil_div(kNR, p.tw), ceil_div(p.units, threads));
    if (kNR % p.tw == 0) p.block_units = round_up(p.block_units, kNR / p.tw);
  }
  p.blocks = ceil_div(p.units, p.block_units);
  p.lanes = round_up(p.block_units * p.tw, kNR);
  // Few blocks for the threads (a batch of one or a few small planes): each
  // block's GEMMs and output go in ranges of output channels instead, each
  // range transforming the block's input again, so only with 64 output
  // channels or more (ranges of at least 32; split 32-channel outputs measured
  // slower). A batch-4 8×8 output, 128 channels, in 4×4 tiles (one block of
  // one panel) ran 1.7× faster on two idle cores, 10 % slower when the second
  // core was busy with other work; 40 4×4 outputs of 256 channels (blocks of
  // 2 and 1 panels) 1.24× faster on two threads.
  p.chunks = 1;
  if (threads > 1 && g.cout >= 64) {
    if (p.blocks < threads)
      p.chunks = ceil_div(threads, p.blocks);
    else if (p.blocks < 4 * threads && g.cout >= 64 * threads)
      p.chunks = threads;
    p.chunks = std::min(p.chunks, g.cout / 32);
  }
  p.chunk_rows = round_up(ceil_div(g.cout, p.chunks), kMR);
  p.chunks = ceil_div(g.cout, p.chunk_rows);
  return p;
}

bool worthwhile(const Geometry& g) {
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  if (g.pt < 0 || g.pt > 2 || g.pl < 0 || g.pl > 2 || g.ho < 2 || g.wo < 2) return false;
  // Lane offsets into the input are 32-bit.
  if (g.n * g.cin * g.h * g.w >= (int64_t{1} << 31)) return false;
  // Channels enough for deep GEMMs, and tiles enough to repay transforming
  // the weight every call: 64 of 2×2, or 8 of 4×4 (half a panel; 1 thread,
  // 10–25 % faster than the GEMM path at 8 and 9 tiles, 1.6× at 12).
  if (g.cin < 32 || g.cout < 32) return false;
  if (tile_size(g) == 4) return g.n * ceil_div(g.ho, 4) * ceil_div(g.wo, 4) >= 8;
  return g.n * ceil_div(g.ho, 2) * ceil_div(g.wo, 2) >= 64;
#else
  (void)g;
  return false;
#endif
}

void convolve(const Geometry& g, const float* x, const float* w, bool transposed, const float* bias, float* y,
              bool accumulate, const detail::Finish& after) {
#if defined(__AVX512F__)
  const Plan p = make_plan(g);
  if (after.gradient()) {  // the AVX-512 stores apply only the forward's finish
    convolve(g, x, w, transposed, bias, y, accumulate, {});
    detail::finish_planes(y, g.n * g.cout, g.ho * g.wo, g.cout, after);
  } else if (p.m == 4) {
    convolve_tiles<4>(g, p, x, w, transposed, bias, y, accumulate, after);
  } else {
    convolve_tiles<2>(g, p, x, w, transposed, bias, y, accumulate, after);
  }
#elif defined(__AVX2__) && defined(__FMA__)
  lanes::convolve(g, make_plan(g), x, w, transposed, bias, y, accumulate, after);
#else
  (void)g, (void)x, (void)w, (void)transposed, (void)bias, (void)y, (void)accumulate, (void)after;
#endif
}

void scratch_floats(const Geometry& g, int64_t& per_thread, int64_t& shared) {
  per_thread = shared = 0;
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  const Plan p = make_plan(g);
  per_thread = p.alpha * p.alpha * p.lanes * (g.cin + p.chunk_rows) + p.m * p.m * p.lanes + kNR;
#if defined(__AVX512F__)
  shared = weight_floats(g, p);
#else
  shared = lanes::weight_floats(g, p);
#endif
#else
  (void)g;
#endif
}

}  // namespace trim::kernels::winograd
