#include "conv_taps.hpp"

#include <algorithm>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "micro_kernel.hpp"
#include "thread_scratch.hpp"
#include "weight_layouts.hpp"
#include "trim/core/parallel.hpp"
#include "trim/core/tensor.hpp"

// A convolution is a sum over its kernel taps t of W_t · shift_t(x), where
// W_t is the cout × cin matrix of the weight at tap t. Over a small output
// most taps of most positions fall on padding: a 3×3 kernel over a 2×2 output
// (ResNet's last stage at 64²) reads the input at 16 of its 36 tap-position
// pairs, and a direct convolution multiplies zeros for the other 20. Here
// each tap is a GEMM over only the output positions where it reads the
// input, so the multiply-adds are exactly the products with the input. The
// weight is repacked tap by tap, which costs what packing it for the direct
// GEMM costs; over few columns the repacked weight is kept between calls.

namespace trim::kernels::taps {

namespace {

using detail::kMR;
using detail::kNR;

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/// B (all taps' columns) up to this many floats stays in L2 while A panels
/// are read in place through every tap.
constexpr int64_t kInPlaceB = int64_t{1} << 17;

/// Output positions [i0, i1) × [j0, j1) whose input under one tap lies inside
/// the input; (oh, ow) is that input's position for output (0, 0).
struct TapRange {
  int64_t i0, i1, j0, j1, oh, ow;
  int64_t count() const { return (i1 - i0) * (j1 - j0); }
};

/// Outputs i in [0, out) with 0 ≤ i·stride + off < size.
void valid_span(int64_t off, int64_t stride, int64_t size, int64_t out, int64_t& i0, int64_t& i1) {
  i0 = off >= 0 ? 0 : (-off + stride - 1) / stride;
  i1 = off >= size ? 0 : std::min(out, (size - off + stride - 1) / stride);
  i0 = std::min(i0, out);
  i1 = std::max(i1, i0);
}

TapRange tap_range(const Geometry& g, int64_t ki, int64_t kj) {
  TapRange r{};
  r.oh = ki * g.dh - g.pt;
  r.ow = kj * g.dw - g.pl;
  valid_span(r.oh, g.sh, g.h, g.ho, r.i0, r.i1);
  valid_span(r.ow, g.sw, g.w, g.wo, r.j0, r.j1);
  return r;
}

/// Columns of tap t's GEMM (each example's valid positions), rounded up to
/// whole panels, and their total over the taps.
std::vector<int64_t> tap_columns(const Geometry& g, int64_t& total) {
  std::vector<int64_t> cols(static_cast<size_t>(g.kh * g.kw));
  total = 0;
  for (int64_t t = 0; t < g.kh * g.kw; ++t) {
    cols[static_cast<size_t>(t)] = round_up(g.n * tap_range(g, t / g.kw, t % g.kw).count(), kNR);
    total += cols[static_cast<size_t>(t)];
  }
  return cols;
}

/// Scratch kept on the calling thread between calls.
struct Buffers;  // the weight by tap, B panels
float* buffer(int which, int64_t n) { return detail::thread_scratch<Buffers, 2>(which, n); }

/// Floats between the taps' A operands in the packed weight: padded by a
/// cache line so that the kh·kw streams pack_weight writes do not all map to
/// the same cache sets (mrows·cin is often a multiple of 4 KB).
int64_t tap_stride(const Geometry& g, int64_t mrows) { return mrows * g.cin + kNR; }

/// a[t][o / kMR][c][o % kMR] = the weight at tap t of output channel o and
/// input channel c (zero for rows past cout): kh·kw A operands in
/// micro-kernel panels. Each kernel is read once.
void pack_weight(const Geometry& g, const float* w, bool transposed, int64_t mrows, float* a) {
  const int64_t khw = g.kh * g.kw, stride = tap_stride(g, mrows);
  constexpr int64_t chunk = 16;  // input channels per run
  if (!transposed) {
    // A panel's kernels are contiguous: element by element, a chunk of
    // channels at a time, into kh·kw runs that stay in L1. (Gathers cost
    // more here: ResNet-18's 512-channel layer at 2×2, batch 40, 5.9 → 5.3 ms.)
    parallel_for(mrows / kMR, [&](int64_t p0, int64_t p1) {
      for (int64_t ip = p0; ip < p1; ++ip) {
        const int64_t rows = std::min(kMR, g.cout - ip * kMR);
        for (int64_t c0 = 0; c0 < g.cin; c0 += chunk) {
          const int64_t nc = std::min(chunk, g.cin - c0);
          float* base = a + (ip * g.cin + c0) * kMR;
          for (int64_t t = 0; rows < kMR && t < khw; ++t)  // rows past cout are zero
            std::fill_n(base + t * stride, nc * kMR, 0.0f);
          for (int64_t r = 0; r < rows; ++r) {
            const float* k = w + ((ip * kMR + r) * g.cin + c0) * khw;
            for (int64_t c = 0; c < nc; ++c, k += khw)
              for (int64_t t = 0; t < khw; ++t) base[t * stride + c * kMR + r] = k[t];
          }
        }
      }
    });
    return;
  }
#if defined(__AVX512F__)
  // Transposed, a panel's kernels lie cout·kh·kw floats apart: each tap's run
  // of a panel and chunk (chunk·kMR floats, [channel][row]) is gathered
  // straight from the weight, 16 floats at a time (the offsets of the run's
  // elements from the panel's first kernel are the same for every panel,
  // chunk and tap). A fifth of the time of ResNet-18's 512-channel 3×3 layer
  // at 2×2 (batch 40) went into the element-by-element sort below, and
  // sorting element by element in the weight's own order was slower still.
  // Offsets must fit 32 bits.
  const int64_t row_step = khw, chan_step = g.cout * khw;
  if (chunk * chan_step + kMR * row_step < (int64_t{1} << 31)) {
    constexpr int64_t vecs = chunk * kMR / 16;
    alignas(64) int32_t idx[chunk * kMR];
    for (int64_t e = 0; e < chunk * kMR; ++e) idx[e] = static_cast<int32_t>(e / kMR * chan_step + e % kMR * row_step);
    parallel_for(mrows / kMR, [&](int64_t p0, int64_t p1) {
      for (int64_t ip = p0; ip < p1; ++ip) {
        const int64_t rows = std::min(kMR, g.cout - ip * kMR);
        for (int64_t c0 = 0; c0 < g.cin; c0 += chunk) {
          const int64_t nc = std::min(chunk, g.cin - c0);
          // Lane e (channel e / kMR, row e % kMR) of vector j is read when both exist.
          __mmask16 masks[vecs];
          for (int64_t j = 0; j < vecs; ++j) {
            unsigned m = 0;
            for (int64_t l = 0; l < 16; ++l) {
              const int64_t e = 16 * j + l;
              if (e / kMR < nc && e % kMR < rows) m |= 1u << l;
            }
            masks[j] = static_cast<__mmask16>(m);
          }
          const float* base = w + ip * kMR * row_step + c0 * chan_step;
          for (int64_t t = 0; t < khw; ++t) {
            const float* src = base + khw - 1 - t;
            float* dst = a + t * stride + (ip * g.cin + c0) * kMR;
            for (int64_t j = 0; j < vecs && 16 * j < nc * kMR; ++j) {
              const __m512i vi = _mm512_load_si512(idx + 16 * j);
              const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), masks[j], vi, src, 4);
              const int64_t left = nc * kMR - 16 * j;
              _mm512_mask_storeu_ps(dst + 16 * j, static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << left) - 1), v);
            }
          }
        }
      }
    });
    return;
  }
#endif
  parallel_for(mrows / kMR, [&](int64_t p0, int64_t p1) {
    std::vector<float> runs(static_cast<size_t>(khw * chunk * kMR));
    for (int64_t ip = p0; ip < p1; ++ip)
      for (int64_t c0 = 0; c0 < g.cin; c0 += chunk) {
        const int64_t nc = std::min(chunk, g.cin - c0), len = nc * kMR;
        for (int64_t c = c0; c < c0 + nc; ++c)
          for (int64_t r = 0; r < kMR; ++r) {
            const int64_t o = ip * kMR + r, at = (c - c0) * kMR + r;
            float* run = runs.data() + at;
            if (o >= g.cout) {
              for (int64_t t = 0; t < khw; ++t) run[t * len] = 0.0f;
            } else {  // transposed (the forward weight returned above)
              const float* k = w + (c * g.cout + o) * khw;
              for (int64_t t = 0; t < khw; ++t) run[t * len] = k[khw - 1 - t];
            }
          }
        for (int64_t t = 0; t < khw; ++t)
          std::copy(runs.data() + t * len, runs.data() + (t + 1) * len, a + t * stride + (ip * g.cin + c0) * kMR);
      }
  });
}

/// One tap's GEMM columns: for column q (example e, output (i, j) in the
/// tap's range), the input offset (channel 0) and the output offset
/// (channel 0), or −1 for the padding columns of the last panel.
void tap_offsets(const Geometry& g, const TapRange& r, int64_t columns, int64_t* xoff, int64_t* yoff) {
  int64_t q = 0;
  for (int64_t e = 0; e < g.n; ++e)
    for (int64_t i = r.i0; i < r.i1; ++i)
      for (int64_t j = r.j0; j < r.j1; ++j, ++q) {
        xoff[q] = (e * g.cin * g.h + i * g.sh + r.oh) * g.w + j * g.sw + r.ow;
        yoff[q] = (e * g.cout * g.ho + i) * g.wo + j;
      }
  for (; q < columns; ++q) xoff[q] = yoff[q] = -1;
}

}  // namespace

bool worthwhile(const Geometry& g) {
  // Deep enough GEMMs that each tile's multiply-adds (6·cin per column)
  // outweigh scattering it into the output, and columns enough.
  if (g.cin < 64 || g.cout < 32 || g.n * g.ho * g.wo < 32) return false;
  int64_t valid = 0;
  for (int64_t t = 0; t < g.kh * g.kw; ++t) valid += tap_range(g, t / g.kw, t % g.kw).count();
  return 3 * valid <= 2 * g.kh * g.kw * g.ho * g.wo;
}

void convolve(const Geometry& g, const float* x, const float* w, bool transposed, const float* bias, float* y,
              bool accumulate) {
  const int64_t khw = g.kh * g.kw, mrows = round_up(g.cout, kMR), plane_in = g.h * g.w, plane_out = g.ho * g.wo;
  int64_t total = 0;
  const std::vector<int64_t> cols = tap_columns(g, total);
  std::vector<int64_t> first(static_cast<size_t>(khw) + 1, 0);  // tap t's columns start at first[t]
  for (int64_t t = 0; t < khw; ++t) first[static_cast<size_t>(t) + 1] = first[static_cast<size_t>(t)] + cols[static_cast<size_t>(t)];
  std::vector<int64_t> xoff(static_cast<size_t>(total)), yoff(static_cast<size_t>(total));
  for (int64_t t = 0; t < khw; ++t)
    tap_offsets(g, tap_range(g, t / g.kw, t % g.kw), cols[static_cast<size_t>(t)], xoff.data() + first[static_cast<size_t>(t)],
                yoff.data() + first[static_cast<size_t>(t)]);

  float* b = buffer(1, total * g.cin);
  // B panels: panel p (columns 16p .. 16p + 15 over all taps) holds, per input
  // channel c, those columns' inputs (zero in padding columns).
  parallel_for(total / kNR, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t* xo = xoff.data() + p * kNR;
      float* dst = b + p * kNR * g.cin;
      for (int64_t c = 0; c < g.cin; ++c, dst += kNR) {
        const float* xc = x + c * plane_in;
        for (int64_t l = 0; l < kNR; ++l) dst[l] = xo[l] >= 0 ? xc[xo[l]] : 0.0f;
      }
    }
  });
  if (!accumulate) {
    parallel_for(g.n * g.cout, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) std::fill(y + i * plane_out, y + (i + 1) * plane_out, bias ? bias[i % g.cout] : 0.0f);
    });
  } else if (bias) {
    parallel_for(g.n * g.cout, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        for (float* v = y + i * plane_out; v < y + (i + 1) * plane_out; ++v) *v += bias[i % g.cout];
    });
  }
  // Output channels split over the threads (disjoint outputs); every output
  // sums its taps in order, whichever thread runs it.
  const auto multiply = [&](const detail::APanelRef& a, int64_t ip, int64_t q0, float* tile) {
    detail::micro_kernel(g.cin, a.ptr, a.ars, a.aqs, b + q0 * g.cin, kNR, tile, kNR, false);
    for (int64_t r = 0; r < std::min(kMR, g.cout - ip * kMR); ++r) {
      float* yo = y + (ip * kMR + r) * plane_out;
      for (int64_t l = 0; l < kNR; ++l)
        if (yoff[static_cast<size_t>(q0 + l)] >= 0) yo[yoff[static_cast<size_t>(q0 + l)]] += tile[r * kNR + l];
    }
  };
  if (total * g.cin <= kInPlaceB) {
    // B fits in L2 with room: each thread takes its A panels one after the
    // other through every tap, reading them where the weight lies (a panel's
    // kernels stay in cache from one tap to the next), without packing the
    // weight. A ragged last panel is copied, zero-filled, per tap.
    const int64_t ars = transposed ? khw : g.cin * khw, aqs = transposed ? g.cout * khw : khw;
    parallel_for(mrows / kMR, [&](int64_t p0, int64_t p1) {
      alignas(64) float tile[kMR * kNR];
      std::vector<float> ragged;
      for (int64_t ip = p0; ip < p1; ++ip)
        for (int64_t t = 0; t < khw; ++t) {
          const int64_t tap = transposed ? khw - 1 - t : t;
          detail::APanelRef a{w + ip * kMR * ars + tap, ars, aqs};
          if (ip * kMR + kMR > g.cout) {
            ragged.assign(static_cast<size_t>(g.cin * kMR), 0.0f);
            for (int64_t r = 0; r < g.cout - ip * kMR; ++r)
              for (int64_t c = 0; c < g.cin; ++c) ragged[static_cast<size_t>(c * kMR + r)] = a.ptr[r * ars + c * aqs];
            a = {ragged.data(), 1, kMR};
          }
          for (int64_t q0 = first[static_cast<size_t>(t)]; q0 < first[static_cast<size_t>(t) + 1]; q0 += kNR)
            multiply(a, ip, q0, tile);
        }
    });
    return;
  }
  // Otherwise the weight is sorted by tap once, and a tap's columns go in
  // blocks of B that stay in L2 while every A panel of the thread passes.
  const int64_t stride = tap_stride(g, mrows);
  const auto build = [&](float* a) { pack_weight(g, w, transposed, mrows, a); };
  // Kept between calls when the columns are few (weight_layouts.hpp): then
  // sorting the weight costs a third of the call (ResNet-50's 512-channel
  // layer at 2×2, batch 40).
  std::shared_ptr<const Tensor> kept;
  const float* packed =
      detail::kept_or_built(total < 2048, w, g.cout * g.cin * khw,
                            {detail::kLayoutTaps, transposed, g.cout, g.cin, khw}, khw * stride, build,
                            [](int64_t n) { return buffer(0, n); }, kept);
  const int64_t block = std::max(kNR, (int64_t{1} << 17) / g.cin / kNR * kNR);
  parallel_for(mrows / kMR, [&](int64_t p0, int64_t p1) {
    alignas(64) float tile[kMR * kNR];
    for (int64_t t = 0; t < khw; ++t) {
      const int64_t q_end = first[static_cast<size_t>(t) + 1];
      for (int64_t qb = first[static_cast<size_t>(t)]; qb < q_end; qb += block)
        for (int64_t ip = p0; ip < p1; ++ip)
          for (int64_t q0 = qb; q0 < std::min(q_end, qb + block); q0 += kNR)
            multiply({packed + t * stride + ip * kMR * g.cin, 1, kMR}, ip, q0, tile);
    }
  });
}

int64_t scratch_floats(const Geometry& g) {
  int64_t total = 0;
  tap_columns(g, total);
  return g.kh * g.kw * tap_stride(g, round_up(g.cout, kMR)) + total * g.cin;
}

}  // namespace trim::kernels::taps
