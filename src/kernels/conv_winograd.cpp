#include "conv_winograd.hpp"

#include <algorithm>

#include "micro_kernel.hpp"
#include "thread_scratch.hpp"
#include "trim/core/parallel.hpp"
#include "trim/core/tensor.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

// F(2×2, 3×3) computes each 2×2 output tile Y from the 4×4 input window d
// around it and the 3×3 kernel g as Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, with
//   Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]],
//   G  = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]],
//   Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]].
// Summed over input channels, the 16 elementwise products become 16 GEMMs
// M_ξ[o, t] = Σ_c U_ξ[o, c] · V_ξ[c, t] over the tiles t: 16 multiply-adds
// per tile and channel pair instead of a direct convolution's 36.
//
// The transforms are where a Winograd convolution loses its gain: written to
// memory and packed again for the GEMM, the 4×-expanded tiles cost as much as
// the multiply-adds saved. Here the tiles go in blocks small enough that the
// transformed inputs V (written straight in the micro-kernel's panel layout)
// and the products M stay in L2 between the three steps, and each block runs
// on one thread from input transform to output.

namespace trim::kernels::winograd {

namespace {

#if defined(__AVX512F__)

using detail::kMR;
using detail::kNR;
static_assert(kNR == 16, "one 16-lane vector of tiles per panel");

/// How one call is cut into blocks of tile rows.
struct Plan {
  int64_t th, tw;       ///< tiles down and across an output plane
  int64_t hp, wp;       ///< the padded input plane the tiles read (2·th + 2) × (2·tw + 2)
  int64_t units;        ///< tile rows over the batch (n·th)
  int64_t block_units;  ///< tile rows per block
  int64_t blocks;
  int64_t lanes;  ///< a block's tiles rounded up to whole panels: the row length of M
  int64_t mrows;  ///< cout rounded up to whole A panels
};

/// Tile rows at least this wide are transformed a row at a time
/// (transform_tile_rows), narrower ones lane by lane (transform_gathered).
constexpr int64_t kRowTransformTiles = 8;

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/// Floats of the transformed weight, with slack for the rows past cout that a
/// last A panel reads (up to kMR − 1 rows of cin floats past the end).
int64_t weight_floats(const Geometry& g) { return 16 * g.cout * g.cin + kMR * std::max(g.cin, g.cout); }

/// Whether the input transform gathers from a padded copy of the input
/// (narrow tile rows) rather than reading the input's rows.
bool gathered(const Plan& p) { return p.tw < kRowTransformTiles; }

/// Floats of the padded copy of the input that gathered transforms read.
int64_t padded_floats(const Geometry& g, const Plan& p) { return g.n * g.cin * p.hp * p.wp; }

Plan make_plan(const Geometry& g) {
  Plan p{};
  p.th = (g.ho + 1) / 2;
  p.tw = (g.wo + 1) / 2;
  p.hp = 2 * p.th + 2;
  p.wp = 2 * p.tw + 2;
  p.units = g.n * p.th;
  // About 2^17 floats of V and M per block (16 (cin + cout) per tile): half
  // of a 1 MB L2, the rest for the A panels streaming through.
  const int64_t target = std::clamp<int64_t>((int64_t{1} << 17) / (16 * (g.cin + g.cout)), 16, 128);
  p.block_units = std::max<int64_t>(1, target / p.tw);
  // Enough blocks for every thread (the result does not depend on the blocks).
  const int64_t threads = std::max(1, num_threads());
  if ((p.units + p.block_units - 1) / p.block_units < threads)
    p.block_units = std::max<int64_t>(1, (p.units + threads - 1) / threads);
  p.blocks = (p.units + p.block_units - 1) / p.block_units;
  p.lanes = round_up(p.block_units * p.tw, kNR);
  p.mrows = round_up(g.cout, kMR);
  return p;
}

/// Scratch kept between calls: per thread (blocks), and on the calling thread
/// (the padded input and the transformed weight).
struct Buffers;  // V, M, output rows, padded input, weight
float* buffer(int which, int64_t n) { return detail::thread_scratch<Buffers, 5>(which, n); }

/// u[ξ][i] = (G g Gᵀ)[ξ] for the 3×3 kernel g = w[9i .. 9i + 9) of each of
/// the weight's `kernels` kernels, in the weight's own order. The forward
/// reads U_ξ as a row-major cout × cin matrix; the input gradient reads the
/// same array as its transpose, with ξ mirrored for the flipped kernel (see
/// operand()). Sixteen kernels at a time, one per lane.
void transform_weights(const float* w, int64_t kernels, float* u) {
  const __m512i taps = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                          _mm512_set1_epi32(9));
  const __m512 half = _mm512_set1_ps(0.5f);
  parallel_for((kernels + kNR - 1) / kNR, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t i0 = b * kNR, n = std::min(kNR, kernels - i0);
      const __mmask16 lanes = static_cast<__mmask16>((1u << n) - 1);
      const float* src = w + i0 * 9;
      __m512 k[9];
      for (int i = 0; i < 9; ++i)
        k[i] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes, _mm512_add_epi32(taps, _mm512_set1_epi32(i)), src, 4);
      __m512 t[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        const __m512 outer = _mm512_add_ps(k[j], k[6 + j]);
        t[0][j] = k[j];
        t[1][j] = _mm512_mul_ps(half, _mm512_add_ps(outer, k[3 + j]));
        t[2][j] = _mm512_mul_ps(half, _mm512_sub_ps(outer, k[3 + j]));
        t[3][j] = k[6 + j];
      }
      float* dst = u + i0;
      for (int r = 0; r < 4; ++r) {  // (G g) Gᵀ
        const __m512 outer = _mm512_add_ps(t[r][0], t[r][2]);
        _mm512_mask_storeu_ps(dst + (r * 4 + 0) * kernels, lanes, t[r][0]);
        _mm512_mask_storeu_ps(dst + (r * 4 + 1) * kernels, lanes, _mm512_mul_ps(half, _mm512_add_ps(outer, t[r][1])));
        _mm512_mask_storeu_ps(dst + (r * 4 + 2) * kernels, lanes, _mm512_mul_ps(half, _mm512_sub_ps(outer, t[r][1])));
        _mm512_mask_storeu_ps(dst + (r * 4 + 3) * kernels, lanes, t[r][2]);
      }
    }
  });
}

/// Where GEMM ξ reads its A operand (U_ξ, cout × cin) in the transformed
/// weight u: the forward reads U_ξ[o][c] row-major; the input gradient's
/// weight is the forward weight transposed and flipped, and flipping a kernel
/// swaps rows 0 and 3 and columns 0 and 3 of G g Gᵀ, so it reads U_ξ' (ξ'
/// mirrored) column-major. Rows past cout read into the next row or plane (or
/// the buffer's slack); their products are never stored.
detail::APanelRef operand(const Geometry& g, const float* u, bool transposed, int64_t xi, int64_t row) {
  const int64_t plane = g.cout * g.cin;
  if (!transposed) return {u + xi * plane + row * g.cin, g.cin, 1};
  constexpr int mirror[4] = {3, 1, 2, 0};
  const int64_t xm = mirror[xi / 4] * 4 + mirror[xi % 4];
  return {u + xm * plane + row, 1, g.cout};
}

/// xp[e][c] = the input plane with pt rows and pl columns of zeros before it
/// and zeros after it up to hp × wp.
void pad_input(const Geometry& g, const Plan& p, const float* x, float* xp) {
  const int64_t rows = std::min(g.h, p.hp - g.pt), cols = std::min(g.w, p.wp - g.pl);
  parallel_for(g.n * g.cin, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float* src = x + i * g.h * g.w;
      float* dst = xp + i * p.hp * p.wp;
      std::fill(dst, dst + p.hp * p.wp, 0.0f);
      for (int64_t r = 0; r < rows; ++r)
        std::copy(src + r * g.w, src + r * g.w + cols, dst + (r + g.pt) * p.wp + g.pl);
    }
  });
}

/// V[ξ] of the tiles of one panel and channel from the 4×4 windows d (d[r][j]
/// = row r, column j of every lane's window): Bᵀ d B, stored at dst + ξ·v_stride.
inline void store_transformed(const __m512 (&d)[4][4], float* dst, int64_t v_stride) {
  __m512 s[4][4];  // Bᵀ d
  for (int j = 0; j < 4; ++j) {
    s[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
    s[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
    s[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
    s[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
  }
  for (int r = 0; r < 4; ++r) {  // (Bᵀ d) B
    _mm512_store_ps(dst + (r * 4 + 0) * v_stride, _mm512_sub_ps(s[r][0], s[r][2]));
    _mm512_store_ps(dst + (r * 4 + 1) * v_stride, _mm512_add_ps(s[r][1], s[r][2]));
    _mm512_store_ps(dst + (r * 4 + 2) * v_stride, _mm512_sub_ps(s[r][2], s[r][1]));
    _mm512_store_ps(dst + (r * 4 + 3) * v_stride, _mm512_sub_ps(s[r][1], s[r][3]));
  }
}

/// V of a block's tiles, lane by lane: lane l of panel jp is tile t = jp·16 +
/// l, whose window starts at off[t] in every channel's padded plane (lanes
/// past the tiles read tile 0's window; their columns of M are never stored).
/// For narrow planes, where a tile row fills a fraction of a vector.
void transform_gathered(const Geometry& g, const Plan& p, int64_t u0, int64_t tiles, const float* xp, float* v,
                        int64_t v_stride) {
  const int64_t plane = p.hp * p.wp, panels = (tiles + kNR - 1) / kNR;
  alignas(64) int32_t off[kNR];
  for (int64_t jp = 0; jp < panels; ++jp) {
    for (int64_t l = 0; l < kNR; ++l) {
      const int64_t t = jp * kNR + l < tiles ? jp * kNR + l : 0;
      const int64_t u = u0 + t / p.tw, e = u / p.th, ty = u % p.th, tx = t % p.tw;
      off[l] = static_cast<int32_t>(e * g.cin * plane + 2 * ty * p.wp + 2 * tx);
    }
    __m512i at[4][4];
    const __m512i base = _mm512_load_si512(off);
    for (int r = 0; r < 4; ++r)
      for (int j = 0; j < 4; ++j) at[r][j] = _mm512_add_epi32(base, _mm512_set1_epi32(static_cast<int32_t>(r * p.wp + j)));
    float* vp = v + jp * g.cin * kNR;
    for (int64_t c = 0; c < g.cin; ++c) {
      const float* xc = xp + c * plane;
      __m512 d[4][4];
      for (int r = 0; r < 4; ++r)
        for (int j = 0; j < 4; ++j) d[r][j] = _mm512_i32gather_ps(at[r][j], xc, 4);
      store_transformed(d, vp + c * kNR, v_stride);
    }
  }
}

/// V of a block's tiles, tile row by tile row, read from the input itself
/// (the padding is masked off, no copy): the four rows a tile row reads are
/// combined (Bᵀ d) across their whole width, then split into
/// even and odd columns so that every tile's (Bᵀ d) B is a lane-wise
/// operation, 16 tiles per step.
void transform_tile_rows(const Geometry& g, const Plan& p, int64_t u0, int64_t u1, const float* x, float* v,
                         int64_t v_stride) {
  const int64_t plane = g.h * g.w, panel_floats = g.cin * kNR;
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t u = u0; u < u1; ++u) {
    const int64_t e = u / p.th, ty = u % p.th, t_row = (u - u0) * p.tw;
    // The window rows 2ty .. 2ty + 3 of the padded plane are input rows
    // 2ty − pt + i; rows outside the input are zero (not loaded).
    const float* example = x + e * g.cin * plane;
    int64_t row_at[4];
    bool inside[4];
    for (int i = 0; i < 4; ++i) {
      const int64_t ih = 2 * ty + i - g.pt;
      inside[i] = ih >= 0 && ih < g.h;
      row_at[i] = ih * g.w;
    }
    for (int64_t tx0 = 0; tx0 < p.tw; tx0 += kNR) {
      // Up to 16 tiles read padded columns 2tx0 + j, j < cols ≤ 34: input
      // columns iw0 + j. Columns left of the input, past its width or past
      // the tiles are zeros. Loaded from j = 0 and from j = 2 (two vectors
      // each): split into even and odd lanes they give columns 2i and 2i + 1,
      // and 2i + 2 and 2i + 3, of tile i.
      const int64_t n = std::min(kNR, p.tw - tx0), cols = 2 * n + 2, iw0 = 2 * tx0 - g.pl;
      const int64_t j0 = std::max<int64_t>(0, -iw0), j1 = std::min(cols, g.w - iw0);
      const uint64_t valid = ((uint64_t{1} << j1) - 1) & ~((uint64_t{1} << j0) - 1);
      const auto lanes = [&](int shift) { return static_cast<__mmask16>((valid >> shift) & 0xFFFF); };
      const __mmask16 mask[2][2] = {{lanes(0), lanes(16)}, {lanes(2), lanes(18)}};
      // Lanes [0, n) are tiles t .. t + n − 1 of the block: the first k1 in
      // panel t / 16, the rest at the start of the next one.
      const int64_t t = t_row + tx0, first = t % kNR, k1 = std::min(n, kNR - first);
      const __mmask16 m1 = static_cast<__mmask16>((1u << k1) - 1);
      const __mmask16 m2 = static_cast<__mmask16>(((1u << n) - 1) & ~((1u << k1) - 1));
      for (int64_t c = 0; c < g.cin; ++c) {
        const float* xc = example + c * plane + iw0;  // masked-off lanes are not read
        __m512 s[2][2][4];  // Bᵀ d over columns from j = 2k + 16h: s[k][h][row]
        for (int k = 0; k < 2; ++k)
          for (int h = 0; h < 2; ++h) {
            __m512 d[4];
            for (int i = 0; i < 4; ++i)
              d[i] = inside[i] ? _mm512_maskz_loadu_ps(mask[k][h], xc + row_at[i] + 2 * k + 16 * h) : _mm512_setzero_ps();
            s[k][h][0] = _mm512_sub_ps(d[0], d[2]);
            s[k][h][1] = _mm512_add_ps(d[1], d[2]);
            s[k][h][2] = _mm512_sub_ps(d[2], d[1]);
            s[k][h][3] = _mm512_sub_ps(d[1], d[3]);
          }
        float* dst = v + t / kNR * panel_floats + c * kNR + first;
        for (int i = 0; i < 4; ++i) {  // (Bᵀ d) B
          const __m512 e0 = _mm512_permutex2var_ps(s[0][0][i], even, s[0][1][i]);
          const __m512 o0 = _mm512_permutex2var_ps(s[0][0][i], odd, s[0][1][i]);
          const __m512 e1 = _mm512_permutex2var_ps(s[1][0][i], even, s[1][1][i]);
          const __m512 o1 = _mm512_permutex2var_ps(s[1][0][i], odd, s[1][1][i]);
          const __m512 out[4] = {_mm512_sub_ps(e0, e1), _mm512_add_ps(o0, e1), _mm512_sub_ps(e1, o0),
                                 _mm512_sub_ps(o0, o1)};
          for (int j = 0; j < 4; ++j) {
            float* d = dst + (i * 4 + j) * v_stride;
            _mm512_mask_storeu_ps(d, m1, out[j]);
            if (m2) _mm512_mask_storeu_ps(d + panel_floats - kNR, m2, out[j]);
          }
        }
      }
    }
  }
}

/// Runs the tiles of tile rows [u0, u1) from the padded input to y.
void run_block(const Geometry& g, const Plan& p, int64_t u0, int64_t u1, const float* x, const float* xp, const float* ua,
               bool transposed, const float* bias, float* y, bool accumulate) {
  const int64_t tiles = (u1 - u0) * p.tw, panels = (tiles + kNR - 1) / kNR, ldm = panels * kNR;
  const int64_t panel_floats = g.cin * kNR;
  const int64_t v_stride = panels * panel_floats, m_stride = p.mrows * ldm;
  float* v = buffer(0, 16 * v_stride);
  float* m = buffer(1, 16 * m_stride);
  float* rows = buffer(2, 4 * ldm);

  if (!gathered(p))
    transform_tile_rows(g, p, u0, u1, x, v, v_stride);
  else
    transform_gathered(g, p, u0, tiles, xp, v, v_stride);

  // M_ξ = U_ξ · V_ξ: each A panel stays in L1 across the block's panels.
  for (int64_t xi = 0; xi < 16; ++xi) {
    const float* vxi = v + xi * v_stride;
    float* mxi = m + xi * m_stride;
    for (int64_t ip = 0; ip < p.mrows; ip += kMR) {
      const detail::APanelRef a = operand(g, ua, transposed, xi, ip);
      for (int64_t jp = 0; jp < panels; ++jp)
        detail::micro_kernel(g.cin, a.ptr, a.ars, a.aqs, vxi + jp * panel_floats, kNR, mxi + ip * ldm + jp * kNR,
                             ldm, false);
    }
  }

  // Y = Aᵀ M A per output channel into four rows (the tiles' corners), then
  // interleaved into the output's rows.
  for (int64_t o = 0; o < g.cout; ++o) {
    const __m512 b = _mm512_set1_ps(bias ? bias[o] : 0.0f);
    for (int64_t jp = 0; jp < panels; ++jp) {
      const float* mo = m + o * ldm + jp * kNR;
      const auto at = [&](int i, int j) { return _mm512_load_ps(mo + (i * 4 + j) * m_stride); };
      __m512 r0[4], r1[4];  // Aᵀ M
      for (int j = 0; j < 4; ++j) {
        const __m512 m1 = at(1, j), m2 = at(2, j);
        r0[j] = _mm512_add_ps(_mm512_add_ps(at(0, j), m1), m2);
        r1[j] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), at(3, j));
      }
      float* out = rows + jp * kNR;
      _mm512_store_ps(out, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r0[0], r0[1]), r0[2]), b));
      _mm512_store_ps(out + ldm, _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(r0[1], r0[2]), r0[3]), b));
      _mm512_store_ps(out + 2 * ldm, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r1[0], r1[1]), r1[2]), b));
      _mm512_store_ps(out + 3 * ldm, _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(r1[1], r1[2]), r1[3]), b));
    }
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t e = u / p.th, ty = u % p.th, t0 = (u - u0) * p.tw;
      float* plane_out = y + (e * g.cout + o) * g.ho * g.wo;
      for (int64_t a = 0; a < 2 && 2 * ty + a < g.ho; ++a) {
        const float* even = rows + 2 * a * ldm + t0;  // output columns 2tx
        const float* odd = even + ldm;                // and 2tx + 1
        float* dst = plane_out + (2 * ty + a) * g.wo;
        const int64_t pairs = g.wo / 2;
        if (accumulate) {
          for (int64_t tx = 0; tx < pairs; ++tx) {
            dst[2 * tx] += even[tx];
            dst[2 * tx + 1] += odd[tx];
          }
          if (g.wo % 2) dst[g.wo - 1] += even[pairs];
        } else {
          for (int64_t tx = 0; tx < pairs; ++tx) {
            dst[2 * tx] = even[tx];
            dst[2 * tx + 1] = odd[tx];
          }
          if (g.wo % 2) dst[g.wo - 1] = even[pairs];
        }
      }
    }
  }
}

#endif  // __AVX512F__

}  // namespace

bool worthwhile(const Geometry& g) {
#if defined(__AVX512F__)
  if (g.pt < 0 || g.pt > 2 || g.pl < 0 || g.pl > 2 || g.ho < 2 || g.wo < 2) return false;
  const int64_t th = (g.ho + 1) / 2, tw = (g.wo + 1) / 2;
  // Lane offsets are 32-bit.
  if (g.n * g.cin * (2 * th + 2) * (2 * tw + 2) >= (int64_t{1} << 31)) return false;
  // Channels enough for deep GEMMs, and tiles enough to repay transforming
  // the weight (16·cout·cin floats every call).
  return g.cin >= 32 && g.cout >= 32 && g.n * th * tw >= 64;
#else
  (void)g;
  return false;
#endif
}

void convolve(const Geometry& g, const float* x, const float* w, bool transposed, const float* bias, float* y,
              bool accumulate) {
#if defined(__AVX512F__)
  const Plan p = make_plan(g);
  float* ua = buffer(4, weight_floats(g));
  transform_weights(w, g.cout * g.cin, ua);
  float* xp = nullptr;
  if (gathered(p)) {
    xp = buffer(3, padded_floats(g, p));
    pad_input(g, p, x, xp);
  }
  parallel_tasks(p.blocks, [&](int64_t b) {
    run_block(g, p, b * p.block_units, std::min(p.units, (b + 1) * p.block_units), x, xp, ua, transposed, bias, y,
              accumulate);
  });
#else
  (void)g, (void)x, (void)w, (void)transposed, (void)bias, (void)y, (void)accumulate;
#endif
}

void scratch_floats(const Geometry& g, int64_t& per_thread, int64_t& shared) {
  per_thread = shared = 0;
#if defined(__AVX512F__)
  const Plan p = make_plan(g);
  per_thread = 16 * p.lanes * (g.cin + p.mrows) + 4 * p.lanes;
  shared = weight_floats(g) + (gathered(p) ? padded_floats(g, p) : 0);
#else
  (void)g;
#endif
}

}  // namespace trim::kernels::winograd
