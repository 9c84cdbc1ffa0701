// Depthwise convolutions on channel blocks: 16 channels of one example are
// copied into a channel-interleaved buffer ([row][column][16], NHWC-like),
// convolved there with one 16-lane vector per pixel, and copied back. The
// planes of the networks that use depthwise convolutions are small (2–32
// columns), so vectorising along a row leaves most lanes idle and spends more
// time on loop overhead than on products; across channels every lane works
// and the taps become plain vector FMAs with no bounds checks (the buffer has
// zero columns where the padding is). The copies go through 16×16 in-register
// transposes (AVX-512), two 8×8 ones (AVX2) or plain loops elsewhere.

#include <algorithm>
#include <type_traits>
#include <vector>

#include "conv_depthwise.hpp"
#include "trim/core/parallel.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace trim::kernels::depthwise {

namespace {

constexpr int64_t kLanes = 16;
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));
using Buffer = std::vector<Vec>;  // C++17 aligned new: 64-byte aligned pixels

/// Where pixel p of a plane with `cols` columns goes in a blocked buffer:
/// (p / cols)·stride + p % cols + left.
struct Placement {
  int64_t cols, stride, left;
};

#if defined(__AVX512F__)
/// r[i][j] ↔ r[j][i] for a 16×16 block of floats held in 16 registers.
inline void transpose16(__m512* r) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // r[4a + b] now holds, in its 128-bit lane k, column 4k + b of rows 4a..4a+3.
  for (int b = 0; b < 4; ++b) {
    const __m512 x0 = _mm512_shuffle_f32x4(r[b], r[4 + b], 0x88), x1 = _mm512_shuffle_f32x4(r[b], r[4 + b], 0xdd);
    const __m512 x2 = _mm512_shuffle_f32x4(r[8 + b], r[12 + b], 0x88),
                 x3 = _mm512_shuffle_f32x4(r[8 + b], r[12 + b], 0xdd);
    t[b] = _mm512_shuffle_f32x4(x0, x2, 0x88);
    t[4 + b] = _mm512_shuffle_f32x4(x1, x3, 0x88);
    t[8 + b] = _mm512_shuffle_f32x4(x0, x2, 0xdd);
    t[12 + b] = _mm512_shuffle_f32x4(x1, x3, 0xdd);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

inline __mmask16 head_mask(int64_t k) { return static_cast<__mmask16>((1u << k) - 1u); }
#elif defined(__AVX2__)
/// r[i][j] ↔ r[j][i] for an 8×8 block of floats held in 8 registers.
inline void transpose8(__m256* r) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x20);
    r[4 + i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x31);
  }
}

/// Lanes [0, k) of a maskload / maskstore.
inline __m256i head_mask(int64_t k) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(k)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

/// buf[placement(p)][l] = src[l][p] for p < count; lanes whose src is null
/// get zeros. Buffer entries outside the placement are left alone.
void pack(const float* const* src, int64_t count, const Placement& pl, Vec* buf) {
  int64_t r = 0, c = 0;
#if defined(__AVX512F__)
  for (int64_t p0 = 0; p0 < count; p0 += kLanes) {
    const int64_t k = std::min(kLanes, count - p0);
    const __mmask16 m = head_mask(k);
    __m512 v[16];
    for (int l = 0; l < 16; ++l) v[l] = src[l] ? _mm512_maskz_loadu_ps(m, src[l] + p0) : _mm512_setzero_ps();
    transpose16(v);
    for (int64_t j = 0; j < k; ++j) {
      _mm512_store_ps(reinterpret_cast<float*>(buf + r * pl.stride + c + pl.left), v[j]);
      if (++c == pl.cols) c = 0, ++r;
    }
  }
#elif defined(__AVX2__)
  // Eight positions at a time: lanes 0–7, then 8–15, each an 8×8 transpose.
  for (int64_t p0 = 0; p0 < count; p0 += 8) {
    const int64_t k = std::min<int64_t>(8, count - p0);
    const __m256i m = head_mask(k);
    float* at[8];
    for (int64_t j = 0; j < k; ++j) {
      at[j] = reinterpret_cast<float*>(buf + r * pl.stride + c + pl.left);
      if (++c == pl.cols) c = 0, ++r;
    }
    for (int half = 0; half < 2; ++half) {
      __m256 v[8];
      for (int l = 0; l < 8; ++l) {
        const float* s = src[8 * half + l];
        v[l] = !s ? _mm256_setzero_ps() : k == 8 ? _mm256_loadu_ps(s + p0) : _mm256_maskload_ps(s + p0, m);
      }
      transpose8(v);
      for (int64_t j = 0; j < k; ++j) _mm256_storeu_ps(at[j] + 8 * half, v[j]);
    }
  }
#else
  for (int64_t p = 0; p < count; ++p) {
    Vec& d = buf[r * pl.stride + c + pl.left];
    for (int l = 0; l < kLanes; ++l) d[l] = src[l] ? src[l][p] : 0.0f;
    if (++c == pl.cols) c = 0, ++r;
  }
#endif
}

/// dst[l][p] = buf[p][l] (or += when kAdd) for p < count and every lane whose
/// dst is not null.
template <bool kAdd>
void unpack(const Vec* buf, int64_t count, float* const* dst) {
#if defined(__AVX512F__)
  for (int64_t p0 = 0; p0 < count; p0 += kLanes) {
    const int64_t k = std::min(kLanes, count - p0);
    const __mmask16 m = head_mask(k);
    __m512 v[16];
    for (int64_t j = 0; j < 16; ++j)
      v[j] = j < k ? _mm512_load_ps(reinterpret_cast<const float*>(buf + p0 + j)) : _mm512_setzero_ps();
    transpose16(v);
    for (int l = 0; l < 16; ++l) {
      if (!dst[l]) continue;
      const __m512 out = kAdd ? _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst[l] + p0), v[l]) : v[l];
      _mm512_mask_storeu_ps(dst[l] + p0, m, out);
    }
  }
#elif defined(__AVX2__)
  for (int64_t p0 = 0; p0 < count; p0 += 8) {
    const int64_t k = std::min<int64_t>(8, count - p0);
    const __m256i m = head_mask(k);
    for (int half = 0; half < 2; ++half) {
      __m256 v[8];
      for (int64_t j = 0; j < 8; ++j)
        v[j] = j < k ? _mm256_loadu_ps(reinterpret_cast<const float*>(buf + p0 + j) + 8 * half) : _mm256_setzero_ps();
      transpose8(v);
      for (int l = 0; l < 8; ++l) {
        float* d = dst[8 * half + l];
        if (!d) continue;
        if (k == 8) {  // masked stores are slow on some AVX2 cores (Zen 1)
          _mm256_storeu_ps(d + p0, kAdd ? _mm256_add_ps(_mm256_loadu_ps(d + p0), v[l]) : v[l]);
          continue;
        }
        const __m256 out = kAdd ? _mm256_add_ps(_mm256_maskload_ps(d + p0, m), v[l]) : v[l];
        _mm256_maskstore_ps(d + p0, m, out);
      }
    }
  }
#else
  for (int l = 0; l < kLanes; ++l) {
    if (!dst[l]) continue;
    for (int64_t p = 0; p < count; ++p) {
      if (kAdd)
        dst[l][p] += buf[p][l];
      else
        dst[l][p] = buf[p][l];
    }
  }
#endif
}

/// Weights of output channels o0, o0 + step, ... (lanes of them) as one
/// vector per tap.
void pack_weights(const float* weight, int64_t o0, int64_t lanes, int64_t khw, Vec* wb, int64_t step = 1) {
  for (int64_t t = 0; t < khw; ++t)
    for (int64_t l = 0; l < kLanes; ++l) wb[t][l] = l < lanes ? weight[(o0 + l * step) * khw + t] : 0.0f;
}

/// Calls chunk.template run<R>(first) over [0, n) with R = 8, 4, 2, 1.
template <class Chunk>
inline void for_each_chunk(int64_t n, const Chunk& chunk) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) chunk.template run<8>(i);
  if (i + 4 <= n) chunk.template run<4>(i), i += 4;
  if (i + 2 <= n) chunk.template run<2>(i), i += 2;
  if (i < n) chunk.template run<1>(i);
}

/// One output row of the forward on a blocked input (zero columns at the
/// sides): out[ow] = bias + Σ_{ki, kj} w[ki, kj] · xb[ih(ki), ow·sw + kj·dw].
/// KW > 0: kernel width KW, column stride SW and dilation 1 known at compile
/// time, so each kernel row's input vectors are loaded once for all its taps
/// (the same sums in the same order as the general case, KW = 0).
template <int KW, int SW>
struct ForwardRow {
  const Geometry& g;
  const Vec* xb;  // [h][wpad], column iw at iw + pl
  int64_t wpad;
  const Vec* wb;
  Vec bias;
  int64_t oh, ki0, ki1;
  Vec* out;

  template <int R>
  void run(int64_t ow) const {
    Vec acc[R];
    for (int r = 0; r < R; ++r) acc[r] = bias;
    for (int64_t ki = ki0; ki < ki1; ++ki) {
      const Vec* xr = xb + (oh * g.sh + ki * g.dh - g.pt) * wpad + ow * g.sw;
      const Vec* wr = wb + ki * g.kw;
      if constexpr (KW > 0) {
        constexpr int kN = (R - 1) * SW + KW;
        Vec v[kN];
        for (int q = 0; q < kN; ++q) v[q] = xr[q];
        for (int kj = 0; kj < KW; ++kj) {
          const Vec wv = wr[kj];
          for (int r = 0; r < R; ++r) acc[r] += wv * v[r * SW + kj];
        }
      } else {
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          const Vec wv = wr[kj];
          const Vec* xp = xr + kj * g.dw;
          for (int r = 0; r < R; ++r) acc[r] += wv * xp[r * g.sw];
        }
      }
    }
    for (int r = 0; r < R; ++r) out[ow + r] = acc[r];
  }
};

/// The output rows of one block.
template <int KW, int SW>
void forward_rows(const Geometry& g, const Vec* xb, int64_t wpad, const Vec* wb, const Vec& bias, const int64_t* ki0,
                  const int64_t* ki1, Vec* ob) {
  for (int64_t oh = 0; oh < g.ho; ++oh) {
    const ForwardRow<KW, SW> row{g, xb, wpad, wb, bias, oh, ki0[oh], ki1[oh], ob + oh * g.wo};
    for_each_chunk(g.wo, row);
  }
}

using ForwardRows = void (*)(const Geometry&, const Vec*, int64_t, const Vec*, const Vec&, const int64_t*,
                             const int64_t*, Vec*);

/// The specialisation for g's kernel width and stride (3×3 and 5×5 at stride
/// 1 and 2, ConvNeXt's 7×7 at stride 1, no column dilation), else the
/// general rows.
ForwardRows forward_rows_for(const Geometry& g) {
  if (g.dw == 1 || g.kw == 1) {
    if (g.kw == 3 && g.sw == 1) return forward_rows<3, 1>;
    if (g.kw == 3 && g.sw == 2) return forward_rows<3, 2>;
    if (g.kw == 5 && g.sw == 1) return forward_rows<5, 1>;
    if (g.kw == 5 && g.sw == 2) return forward_rows<5, 2>;
    if (g.kw == 7 && g.sw == 1) return forward_rows<7, 1>;
  }
  return forward_rows<0, 0>;
}

/// Input columns φ, φ + sw, φ + 2·sw, ... of one input row of the input
/// gradient, gathered from a blocked dy (zero columns at the sides):
/// dx[ih, φ + j·sw] = Σ over (oh, ki) meeting row ih and kj of phase φ of
/// w[ki, kj] · dy[oh, q(kj) + j]. KW > 0: column stride and dilation 1 and
/// kernel width KW known at compile time; every kj is in the one phase, with
/// q(kj) = q(KW − 1) + KW − 1 − kj, so the dy vectors of a kernel row are
/// loaded once (same sums, same order as the general case, KW = 0). With
/// `add` the sums start from what `out` holds (further output channels of
/// the same input channels).
template <int KW>
struct BackwardRow {
  const Vec* dyb;         // [ho][wop]
  const int64_t* rows;    // pairs (oh·wop, ki·kw) of this input row
  int64_t nrows;
  const int64_t* phase;   // pairs (kj, q) of this column phase
  int64_t nphase;
  const Vec* wb;
  Vec* out;               // column j at out[j·sw]
  int64_t sw;
  bool add;

  template <int R>
  void run(int64_t j0) const {
    Vec acc[R] = {};
    if (add)
      for (int r = 0; r < R; ++r) acc[r] = out[(j0 + r) * sw];
    for (int64_t a = 0; a < nrows; ++a) {
      const Vec* dr = dyb + rows[2 * a] + j0;
      const Vec* wr = wb + rows[2 * a + 1];
      if constexpr (KW > 0) {
        const Vec* d = dr + phase[2 * (KW - 1) + 1];
        Vec v[R + KW - 1];
        for (int q = 0; q < R + KW - 1; ++q) v[q] = d[q];
        for (int kj = 0; kj < KW; ++kj) {
          const Vec wv = wr[kj];
          for (int r = 0; r < R; ++r) acc[r] += wv * v[r + KW - 1 - kj];
        }
      } else {
        for (int64_t b = 0; b < nphase; ++b) {
          const Vec wv = wr[phase[2 * b]];
          const Vec* d = dr + phase[2 * b + 1];
          for (int r = 0; r < R; ++r) acc[r] += wv * d[r];
        }
      }
    }
    for (int r = 0; r < R; ++r) out[(j0 + r) * sw] = acc[r];
  }
};

/// Number of blocks of 16 channels.
inline int64_t blocks_of(int64_t channels) { return (channels + kLanes - 1) / kLanes; }

}  // namespace

bool blocked_fits(const Geometry& g) {
  // Faster than the row-wise kernels at every plane size measured (2² to
  // 112², MobileNetV2 at 224²); beyond 256² pixels a block's buffers (64
  // bytes a pixel) would grow past 4 MB per thread.
  constexpr int64_t kMaxPixels = int64_t{1} << 16;
  return g.pt >= 0 && g.pl >= 0 && g.h * g.w <= kMaxPixels && g.ho * g.wo <= kMaxPixels;
}

void forward_blocked(const Geometry& g, const float* x, const float* weight, const float* bias, float* y) {
  const int64_t cout = g.channels * g.mult, blocks = blocks_of(cout), khw = g.kh * g.kw;
  const int64_t hw = g.h * g.w, p = g.ho * g.wo;
  const int64_t wpad = std::max(g.pl + g.w, (g.wo - 1) * g.sw + (g.kw - 1) * g.dw + 1);
  // Kernel rows [ki0, ki1) of each output row that read inside the input.
  std::vector<int64_t> ki0(static_cast<size_t>(g.ho)), ki1(static_cast<size_t>(g.ho));
  for (int64_t oh = 0; oh < g.ho; ++oh) {
    int64_t lo = g.kh, hi = 0;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      const int64_t ih = oh * g.sh + ki * g.dh - g.pt;
      if (ih >= 0 && ih < g.h) lo = std::min(lo, ki), hi = ki + 1;
    }
    ki0[static_cast<size_t>(oh)] = lo;
    ki1[static_cast<size_t>(oh)] = std::max(lo, hi);
  }
  const ForwardRows rows = forward_rows_for(g);
  // Tasks run block-major so consecutive tasks share their packed weights.
  parallel_for(g.n * blocks, [&](int64_t begin, int64_t end) {
    Buffer xb(static_cast<size_t>(g.h * wpad)), ob(static_cast<size_t>(p)), wb(static_cast<size_t>(khw));
    int64_t packed = -1;
    const float* src[kLanes];
    float* dst[kLanes];
    Vec bv = {};
    for (int64_t t = begin; t < end; ++t) {
      const int64_t blk = t / g.n, e = t % g.n, o0 = blk * kLanes, lanes = std::min(kLanes, cout - o0);
      if (blk != packed) {
        pack_weights(weight, o0, lanes, khw, wb.data());
        for (int64_t l = 0; l < kLanes; ++l) bv[l] = bias && l < lanes ? bias[o0 + l] : 0.0f;
        packed = blk;
      }
      for (int64_t l = 0; l < kLanes; ++l) {
        src[l] = l < lanes ? x + (e * g.channels + (o0 + l) / g.mult) * hw : nullptr;
        dst[l] = l < lanes ? y + (e * cout + o0 + l) * p : nullptr;
      }
      pack(src, hw, {g.w, wpad, g.pl}, xb.data());
      rows(g, xb.data(), wpad, wb.data(), bv, ki0.data(), ki1.data(), ob.data());
      unpack<false>(ob.data(), p, dst);
    }
  });
}

void backward_input_blocked(const Geometry& g, const float* dy, const float* weight, float* dx, bool overwrite) {
  // Lanes are input channels; their output channels c·mult + m are gathered
  // one m after the other into the same dx block.
  const int64_t c = g.channels, cout = c * g.mult, blocks = blocks_of(c), khw = g.kh * g.kw;
  const int64_t hw = g.h * g.w, p = g.ho * g.wo;
  // Output columns read for input columns [0, w): (iw + pl − kj·dw) / sw from
  // ⌊(pl − (kw−1)·dw) / sw⌋ to ⌊(w − 1 + pl) / sw⌋; zero columns cover the
  // ones outside [0, wo).
  const int64_t reach = (g.kw - 1) * g.dw - g.pl;
  const int64_t left = reach > 0 ? (reach + g.sw - 1) / g.sw : 0;
  const int64_t right = std::max<int64_t>(0, (g.w - 1 + g.pl) / g.sw - (g.wo - 1));
  const int64_t wop = left + g.wo + right;
  // Per input row: the (output row, kernel row) pairs that meet it.
  std::vector<int64_t> row_begin(static_cast<size_t>(g.h + 1)), rows;
  for (int64_t ih = 0; ih < g.h; ++ih) {
    row_begin[static_cast<size_t>(ih)] = static_cast<int64_t>(rows.size()) / 2;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      const int64_t num = ih + g.pt - ki * g.dh;
      if (num >= 0 && num % g.sh == 0 && num / g.sh < g.ho) {
        rows.push_back(num / g.sh * wop);
        rows.push_back(ki * g.kw);
      }
    }
  }
  row_begin[static_cast<size_t>(g.h)] = static_cast<int64_t>(rows.size()) / 2;
  // Per column phase φ (input columns φ + j·sw): the kernel columns whose
  // output column is whole, and that column's buffer index at j = 0.
  const int64_t phases = std::min(g.sw, g.w);
  std::vector<int64_t> phase_begin(static_cast<size_t>(phases + 1)), taps;
  for (int64_t ph = 0; ph < phases; ++ph) {
    phase_begin[static_cast<size_t>(ph)] = static_cast<int64_t>(taps.size()) / 2;
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      const int64_t num = ph + g.pl - kj * g.dw;
      if (((num % g.sw) + g.sw) % g.sw == 0) {
        taps.push_back(kj);
        taps.push_back(num / g.sw + left);
      }
    }
  }
  phase_begin[static_cast<size_t>(phases)] = static_cast<int64_t>(taps.size()) / 2;
  const bool unit = g.sw == 1 && (g.dw == 1 || g.kw == 1);  // one phase holding every kj in order
  parallel_for(g.n * blocks, [&](int64_t begin, int64_t end) {
    Buffer dyb(static_cast<size_t>(g.ho * wop)), dxb(static_cast<size_t>(hw)),
        wb(static_cast<size_t>(khw * g.mult));
    int64_t packed = -1;
    const float* src[kLanes];
    float* dst[kLanes];
    for (int64_t t = begin; t < end; ++t) {
      const int64_t blk = t / g.n, e = t % g.n, c0 = blk * kLanes, lanes = std::min(kLanes, c - c0);
      if (blk != packed) {
        for (int64_t m = 0; m < g.mult; ++m)
          pack_weights(weight, c0 * g.mult + m, lanes, khw, wb.data() + m * khw, g.mult);
        packed = blk;
      }
      for (int64_t l = 0; l < kLanes; ++l) dst[l] = l < lanes ? dx + (e * c + c0 + l) * hw : nullptr;
      for (int64_t m = 0; m < g.mult; ++m) {
        for (int64_t l = 0; l < kLanes; ++l) src[l] = l < lanes ? dy + (e * cout + (c0 + l) * g.mult + m) * p : nullptr;
        pack(src, p, {g.wo, wop, left}, dyb.data());
        for (int64_t ih = 0; ih < g.h; ++ih) {
          const int64_t r0 = row_begin[static_cast<size_t>(ih)], r1 = row_begin[static_cast<size_t>(ih + 1)];
          for (int64_t ph = 0; ph < phases; ++ph) {
            const int64_t t0 = phase_begin[static_cast<size_t>(ph)], t1 = phase_begin[static_cast<size_t>(ph + 1)];
            const int64_t cols = (g.w - ph + g.sw - 1) / g.sw;
            const auto gather = [&](auto fixed) {
              const BackwardRow<decltype(fixed)::value> row{dyb.data(), rows.data() + 2 * r0, r1 - r0,
                                                            taps.data() + 2 * t0, t1 - t0, wb.data() + m * khw,
                                                            dxb.data() + ih * g.w + ph, g.sw, m > 0};
              for_each_chunk(cols, row);
            };
            if (unit && g.kw == 3)
              gather(std::integral_constant<int, 3>());
            else if (unit && g.kw == 5)
              gather(std::integral_constant<int, 5>());
            else if (unit && g.kw == 7)
              gather(std::integral_constant<int, 7>());
            else
              gather(std::integral_constant<int, 0>());
          }
        }
      }
      // Every pixel of the block's dx planes is written: stored over dx
      // when overwriting (no zeroing pass before, no read of dx here).
      if (overwrite)
        unpack<false>(dxb.data(), hw, dst);
      else
        unpack<true>(dxb.data(), hw, dst);
    }
  });
}

void backward_weight_blocked(const Geometry& g, const float* x, const float* dy, float* dweight) {
  const int64_t cout = g.channels * g.mult, blocks = blocks_of(cout), khw = g.kh * g.kw;
  const int64_t hw = g.h * g.w, p = g.ho * g.wo;
  const int64_t wpad = std::max(g.pl + g.w, (g.wo - 1) * g.sw + (g.kw - 1) * g.dw + 1);
  // A block of output channels sums over the examples in order on one
  // thread, tap by tap in the order of the row-wise kernel: the same sums for
  // any thread count.
  parallel_for(blocks, [&](int64_t begin, int64_t end) {
    Buffer xb(static_cast<size_t>(g.h * wpad)), dyb(static_cast<size_t>(p)), acc(static_cast<size_t>(khw));
    const float* xs[kLanes];
    const float* ds[kLanes];
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t o0 = blk * kLanes, lanes = std::min(kLanes, cout - o0);
      pack_weights(dweight, o0, lanes, khw, acc.data());  // the sums start from dweight
      for (int64_t e = 0; e < g.n; ++e) {
        for (int64_t l = 0; l < kLanes; ++l) {
          xs[l] = l < lanes ? x + (e * g.channels + (o0 + l) / g.mult) * hw : nullptr;
          ds[l] = l < lanes ? dy + (e * cout + o0 + l) * p : nullptr;
        }
        pack(xs, hw, {g.w, wpad, g.pl}, xb.data());
        pack(ds, p, {g.wo, g.wo, 0}, dyb.data());
        for (int64_t oh = 0; oh < g.ho; ++oh) {
          const Vec* dr = dyb.data() + oh * g.wo;
          for (int64_t ki = 0; ki < g.kh; ++ki) {
            const int64_t ih = oh * g.sh + ki * g.dh - g.pt;
            if (ih < 0 || ih >= g.h) continue;
            const Vec* xr = xb.data() + ih * wpad;
            for (int64_t kj = 0; kj < g.kw; ++kj) {
              const Vec* xp = xr + kj * g.dw;
              Vec sum = {};
              for (int64_t ow = 0; ow < g.wo; ++ow) sum += dr[ow] * xp[ow * g.sw];
              acc[static_cast<size_t>(ki * g.kw + kj)] += sum;
            }
          }
        }
      }
      for (int64_t t = 0; t < khw; ++t)
        for (int64_t l = 0; l < lanes; ++l) dweight[(o0 + l) * khw + t] = acc[static_cast<size_t>(t)][l];
    }
  });
}

}  // namespace trim::kernels::depthwise
