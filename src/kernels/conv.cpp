#include "trim/kernels/conv.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "conv_depthwise.hpp"
#include "conv_taps.hpp"
#include "conv_winograd.hpp"
#include "deal.hpp"
#include "epilogue.hpp"
#include "micro_kernel.hpp"
#include "over_rows.hpp"
#include "thread_scratch.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"

namespace trim::kernels {

namespace {

using detail::micro_kernel;

std::string str(int64_t v) { return std::to_string(v); }

/// "5x5" or "5" depending on the number of spatial axes.
std::string dims_str(const int64_t* v, int n) {
  std::string s = str(v[0]);
  for (int i = 1; i < n; ++i) s += "x" + str(v[i]);
  return s;
}

/// Shape checks shared by conv1d and conv2d (`spatial` axes).
Shape output_shape(const Shape& x, const Shape& w, int spatial, const int64_t* stride,
                   const int64_t* pad_before, const int64_t* pad_after, const int64_t* dilation,
                   int64_t groups, const std::string& where) {
  const int rank = spatial + 2;
  const std::string layout = spatial == 2 ? "[N,C_in,H,W]" : "[N,C_in,L]";
  const std::string wlayout = spatial == 2 ? "[C_out,C_in/groups,kh,kw]" : "[C_out,C_in/groups,k]";
  if (x.rank() != rank)
    throw ShapeError(where + ": input " + x.str() + ", expected rank " + str(rank) + " " + layout);
  if (w.rank() != rank)
    throw ShapeError(where + ": weight " + w.str() + ", expected rank " + str(rank) + " " + wlayout);
  for (int i = 0; i < rank; ++i)
    if (w[i] < 1) throw ShapeError(where + ": weight " + w.str() + " has an empty dimension");
  for (int i = 1; i < rank; ++i)
    if (x[i] < 1)
      throw ShapeError(where + ": input " + x.str() + ", expected positive channel and spatial sizes");
  if (w[0] % groups != 0)
    throw ShapeError(where + ": weight " + w.str() + " has " + str(w[0]) +
                     " output channels, not divisible by groups " + str(groups));
  const int64_t cin = w[1] * groups;
  if (x[1] != cin) {
    const std::string rest = spatial == 2 ? ",H,W]" : ",L]";
    throw ShapeError(where + ": input " + x.str() + ", expected [*," + str(cin) + rest + " (weight " +
                     w.str() + ", groups " + str(groups) + ")");
  }
  Shape y{x[0], w[0]};
  for (int i = 0; i < spatial; ++i) {
    const int64_t o = conv_output_size(x[2 + i], w[2 + i], stride[i], pad_before[i], pad_after[i],
                                       dilation[i]);
    if (o < 1) {
      int64_t eff[2], padded[2], k[2], in[2];
      for (int j = 0; j < spatial; ++j) {
        k[j] = w[2 + j];
        in[j] = x[2 + j];
        eff[j] = dilation[j] * (k[j] - 1) + 1;
        padded[j] = in[j] + pad_before[j] + pad_after[j];
      }
      throw ShapeError(where + ": kernel " + dims_str(k, spatial) + " (dilated " + dims_str(eff, spatial) +
                       ") is larger than the padded input " + dims_str(padded, spatial) + " (input " +
                       x.str() + ", weight " + w.str() + ")");
    }
    y.push_back(o);
  }
  return y;
}

/// Everything the loops need, in 2-D form (1-D has h = kh = 1).
struct Geom {
  int64_t n, cin, h, w, cout, kh, kw, ho, wo;
  int64_t sh, sw, pt, pl, pb, pr, dh, dw, groups;
  int64_t cin_g, cout_g;
  int64_t hw;  ///< input plane size
  int64_t p;   ///< output plane size (columns of the im2col matrix)
  int64_t k;   ///< rows of the im2col matrix per group: cin_g·kh·kw
  bool pointwise;  ///< 1×1, stride 1, no padding: the input is its own im2col

  /// Input offset of im2col row `k` (channel plane start) and the input
  /// row / column of output position (0, 0) for that row.
  void decode(int64_t row, int64_t& coff, int64_t& dih, int64_t& diw) const {
    const int64_t c = row / (kh * kw), r = row % (kh * kw);
    coff = c * hw;
    dih = (r / kw) * dh - pt;
    diw = (r % kw) * dw - pl;
  }
};

/// Walks im2col rows in order, keeping decode()'s values without divisions.
struct RowIter {
  const Geom& g;
  int64_t coff, dih, diw, ki, kj;
  RowIter(const Geom& geom, int64_t row) : g(geom) {
    g.decode(row, coff, dih, diw);
    ki = (row % (g.kh * g.kw)) / g.kw;
    kj = row % g.kw;
  }
  void next() {
    diw += g.dw;
    if (++kj < g.kw) return;
    kj = 0;
    diw = -g.pl;
    dih += g.dh;
    if (++ki < g.kh) return;
    ki = 0;
    dih = -g.pt;
    coff += g.hw;
  }
};

Geom make_geom(int64_t n, int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t kh, int64_t kw,
               int64_t ho, int64_t wo, const Conv2dConfig& c) {
  Geom g{};
  g.n = n;
  g.cin = cin;
  g.h = h;
  g.w = w;
  g.cout = cout;
  g.kh = kh;
  g.kw = kw;
  g.ho = ho;
  g.wo = wo;
  g.sh = c.stride[0];
  g.sw = c.stride[1];
  g.pt = c.pads[0];
  g.pl = c.pads[1];
  g.pb = c.pads[2];
  g.pr = c.pads[3];
  g.dh = c.dilation[0];
  g.dw = c.dilation[1];
  g.groups = c.groups;
  g.cin_g = cin / c.groups;
  g.cout_g = cout / c.groups;
  g.hw = h * w;
  g.p = ho * wo;
  g.k = g.cin_g * kh * kw;
  g.pointwise = kh == 1 && kw == 1 && g.sh == 1 && g.sw == 1 && c.pads[0] == 0 && c.pads[1] == 0 &&
                c.pads[2] == 0 && c.pads[3] == 0;
  return g;
}

// ---- packed GEMM ---------------------------------------------------------------
//
// C[M,N] (+)= A[M,K] · B[K,N] in the BLIS style: A blocks (MC × KC) are
// packed into panels of MR rows, B blocks (KC × NC) into a layout the
// micro-kernel reads NR columns at a time, and a register-blocked MR × NR
// micro-kernel runs over them. The operands are never formed as matrices:
// packing reads them through functors, which is where im2col happens (from a
// padded, stride-phase-split copy of the input, PhasedInput, into the B
// block), and tiles leave through a store functor, which is where col2im
// happens. This saves the memory passes over a materialised im2col matrix.
// GEMMs with few columns skip packing A and read it where it lies.

// Register tile MR × NR; A blocks MC × KC and B blocks KC × NC stay in L2
// (NC_WIDE: B blocks in L3 when A blocks stream, so A is repacked less).
constexpr int64_t MR = detail::kMR, NR = detail::kNR, KC = 256, MC = 144, NC = 256, NC_WIDE = 1024;
static_assert(MC % MR == 0 && NC % NR == 0 && NC_WIDE % NR == 0, "blocks hold whole panels");
/// GEMMs with one column panel, or at most kInPlaceColumns columns and an A
/// of at most kInPlaceFloats, read A in place when its packer allows
/// (PackA::in_place, see gemm).
constexpr int64_t kInPlaceColumns = 64, kInPlaceFloats = int64_t{1} << 18;

/// A packed B block: column panel jp (NR columns) starts at
/// ptr + jp·pstride, and step q of a panel is q·ldb further.
struct BBlock {
  const float* ptr;
  int64_t ldb, pstride;
};

/// Panel-major layout: panels of kc × NR, one cache line apart more than
/// their size, so that writing one depth row across many panels does not
/// hit a single cache set (a panel is a multiple of 4 KiB for kc = 256).
inline int64_t b_panel_stride(int64_t kc) { return kc * NR + NR; }

/// Per-thread packing buffers, grown as needed and kept between calls.
struct PackBuffers;  // A blocks, B blocks, phased input, B rows (PanelB), flipped weight
float* pack_buffer(int which, int64_t n) { return detail::thread_scratch<PackBuffers, 5>(which, n); }

/// Where the micro-kernel reads A's rows: one MR-row panel is at ptr, row r
/// at step q at ptr[r·ars + q·aqs].
struct APanel {
  const float* ptr;
  int64_t ars, aqs;
};

/// A block packed into MR-row panels (mc × kc).
struct PackedPanels {
  const float* ap;
  int64_t kc;
  APanel operator()(int64_t ir, int64_t /*mr*/) const { return {ap + ir * kc, 1, MR}; }
};

/// A's rows read in place from row i, depth p (PackA::in_place); a ragged
/// last panel (fewer than MR rows) is packed, zero-filled, so that no row
/// past the end is read.
template <class PackA>
struct InPlacePanels {
  const PackA& pack_a;
  int64_t i, p, kc;
  float* scratch;
  APanel operator()(int64_t ir, int64_t mr) const {
    APanel panel{};
    if (mr == MR && pack_a.in_place(i + ir, p, panel)) return panel;
    pack_a(i + ir, mr, p, kc, scratch);
    return {scratch, 1, MR};
  }
};

/// One A panel (mr rows) times one B panel (nr columns) into C at (i, j).
template <class Store>
void one_tile(const APanel& a, const float* b, int64_t ldb, int64_t i, int64_t mr, int64_t j, int64_t nr, int64_t kc,
              bool first, const Store& store, float* tile) {
  int64_t ldc = 0;
  float* c = mr == MR && nr == NR ? store.direct(i, j, ldc) : nullptr;
  if constexpr (Store::splits) {  // the split stores are AVX-512 only
#if defined(__AVX512F__)
    int64_t gs = 0;
    float* split = !c && mr == MR && nr == NR ? store.split4(i, j, ldc, gs) : nullptr;
    if (split) {
      detail::micro_kernel_split4(kc, a.ptr, a.ars, a.aqs, b, ldb, split, ldc, gs, !(first && store.overwrite));
      return;
    }
#endif
  }
  if (c) {
    micro_kernel(kc, a.ptr, a.ars, a.aqs, b, ldb, c, ldc, !(first && store.overwrite));
  } else {
    // Full panels call micro_kernel itself, which stays inlined here.
    if (mr == MR)
      micro_kernel(kc, a.ptr, a.ars, a.aqs, b, ldb, tile, NR, false);
    else
      detail::micro_kernel_rows(mr, kc, a.ptr, a.ars, a.aqs, b, ldb, tile, NR, false);
    store.add_tile(i, j, mr, nr, tile, first);
  }
}

/// One full A panel times two full B panels (b at column j, b2 at j + NR)
/// through micro_kernel_two_b, when both C tiles are stored alike: both
/// where they lie with one row stride, both split over 2×2 planes (split4),
/// or both through the tile buffer (2 · MR × NR). False, with nothing done,
/// otherwise.
template <class Store>
bool two_tiles(const APanel& a, const float* b, const float* b2, int64_t ldb, int64_t i, int64_t j, int64_t kc,
               bool first, const Store& store, float* tile) {
  int64_t ldc = 0, ldc2 = 0;
  float* c = store.direct(i, j, ldc);
  float* c2 = store.direct(i, j + NR, ldc2);
  if (c && c2 && ldc == ldc2) {
    detail::micro_kernel_two_b(kc, a.ptr, a.ars, a.aqs, b, b2, ldb, c, c2, ldc, !(first && store.overwrite));
    return true;
  }
  if (c || c2) return false;
  if constexpr (Store::splits) {  // the split stores are AVX-512 only
#if defined(__AVX512F__)
    int64_t gs = 0, gs2 = 0;
    c = store.split4(i, j, ldc, gs);
    c2 = store.split4(i, j + NR, ldc2, gs2);
    if (!c || !c2 || ldc != ldc2 || gs != gs2) return false;
    detail::micro_kernel_two_b_split4(kc, a.ptr, a.ars, a.aqs, b, b2, ldb, c, c2, ldc, gs, !(first && store.overwrite));
    return true;
#else
    return false;
#endif
  }
  detail::micro_kernel_two_b(kc, a.ptr, a.ars, a.aqs, b, b2, ldb, tile, tile + MR * NR, NR, false);
  store.add_tile(i, j, MR, NR, tile, first);
  store.add_tile(i, j + NR, MR, NR, tile + MR * NR, first);
  return true;
}

/// Micro-kernels over an A block (mc × kc, panels from `a_panel`) and a
/// packed B block (kc × nc); (i, j) is the block's corner in C. Full B
/// panels go two at a time (two_tiles): the A block streams from L2, and
/// each of its elements then feeds two multiply-adds.
template <class Panels, class Store>
void macro_kernel(const Panels& a_panel, const BBlock& bb, int64_t i, int64_t mc, int64_t j, int64_t nc, int64_t kc,
                  bool first, const Store& store) {
  alignas(64) float tile[2 * MR * NR];
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = std::min(NR, nc - jr);
    const float* b = bb.ptr + jr / NR * bb.pstride;
    const bool two = nr == NR && jr + 2 * NR <= nc;  // this panel and the next are full
    const float* b2 = two ? b + bb.pstride : nullptr;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t mr = std::min(MR, mc - ir);
      const APanel a = a_panel(ir, mr);
      if (two && mr == MR && two_tiles(a, b, b2, bb.ldb, i + ir, j + jr, kc, first, store, tile)) continue;
      one_tile(a, b, bb.ldb, i + ir, mr, j + jr, nr, kc, first, store, tile);
      if (two) one_tile(a, b2, bb.ldb, i + ir, mr, j + jr + NR, NR, kc, first, store, tile);
    }
    if (two) jr += NR;
  }
}

/// Rows [i, i + m) × columns [j, j + nc) of C are final: a store that
/// finishes them (BatchStore: bias, epilogue) does so now, row by row while
/// the block is in cache (per tile, the residual's reads hop between 6 rows
/// 4 KB apart and the prefetchers lose track: no faster than separate passes).
template <class Store>
void finish_block(const Store& store, int64_t i, int64_t m, int64_t j, int64_t nc) {
  if constexpr (Store::finishes) store.finish(i, j, m, nc);
}

/// Whether gemm reads an m × k A in place (when its packer allows) for n columns.
inline bool reads_a_in_place(int64_t m, int64_t n, int64_t k) {
  return n <= NR || (n <= kInPlaceColumns && m * k <= kInPlaceFloats);
}

/// Rows [i0, i1) × columns [j0, j1) of C over the full depth K.
/// PackA(i, mc, p, kc, dst), PackB(p, kc, j, nc, dst) -> BBlock and the
/// store (see RowMajorStore) give the operands and take the result. Each operand is
/// packed once: with few rows (at most MC, the usual forward case) the A
/// block of a depth step is packed first and B streams through L2-sized
/// blocks; with more rows B blocks are packed once and A blocks stream.
template <class PackA, class PackB, class Store>
void gemm(int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t K, const PackA& pack_a, const PackB& pack_b,
          const Store& store) {
  if (i1 <= i0 || j1 <= j0 || K <= 0) return;
  const int64_t m = i1 - i0;
  float* ap = pack_buffer(0, MC * KC + 8);  // + slack for pack_rows6
  APanel probe{};
  const int64_t n = j1 - j0;
  if (reads_a_in_place(m, n, K) && pack_a.in_place(i0, 0, probe)) {
    // Few columns: each A element is used by few multiply-adds, and packing
    // A would cost as much as the product; the micro-kernel reads A's rows
    // where they are. With more than one column panel A is read once per
    // panel, which only pays while A stays in cache (packed, a block of it
    // is reused from L2 for every panel: ResNet-18's 512-channel layer at
    // 8×8 took 25 % longer read in place).
    float* bp = pack_buffer(1, b_panel_stride(KC) * ((j1 - j0 + NR - 1) / NR));
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      macro_kernel(InPlacePanels<PackA>{pack_a, i0, pc, kc, ap}, pack_b(pc, kc, j0, j1 - j0, bp), i0, m, j0, j1 - j0,
                   kc, pc == 0, store);
      if (pc + kc == K) finish_block(store, i0, m, j0, j1 - j0);
    }
    return;
  }
  // Shallow products (K ≤ 128) keep L2-sized column blocks too: A is cheap
  // to repack, and the block a store finishes (bias, residual, ReLU) is then
  // still in L2 (ResNet-50's 64 → 256 layer at 16², batch 40: 8 % faster).
  const int64_t nc_max = m <= MC || 2 * K <= KC ? NC : NC_WIDE;
  const int64_t panels = std::min(nc_max / NR, (j1 - j0 + NR - 1) / NR);
  float* bp = pack_buffer(1, b_panel_stride(KC) * panels);
  if (m <= MC) {
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      pack_a(i0, m, pc, kc, ap);
      for (int64_t jc = j0; jc < j1; jc += nc_max) {
        const int64_t nc = std::min(nc_max, j1 - jc);
        macro_kernel(PackedPanels{ap, kc}, pack_b(pc, kc, jc, nc, bp), i0, m, jc, nc, kc, pc == 0, store);
        if (pc + kc == K) finish_block(store, i0, m, jc, nc);
      }
    }
    return;
  }
  // When all of A fits the A buffer (m × K ≤ MC × KC: 576 rows of depth 64,
  // 288 of depth 128), it is packed once, not once per column block:
  // ResNet-50's 64 → 256 layers over 40 examples at 32² packed their weight
  // 160 times per call. With m > MC that leaves K < KC: one depth block.
  const bool a_once = (m + MR - 1) / MR * MR * K <= MC * KC;
  if (a_once) pack_a(i0, m, 0, K, ap);
  for (int64_t jc = j0; jc < j1; jc += nc_max) {
    const int64_t nc = std::min(nc_max, j1 - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const BBlock bb = pack_b(pc, kc, jc, nc, bp);
      for (int64_t ic = i0; ic < i1; ic += MC) {
        const int64_t mc = std::min(MC, i1 - ic);
        // Panel r of the rows from ic lies at (ic − i0 + r)·kc in the packed A.
        const float* a = a_once ? ap + (ic - i0) * kc : ap;
        if (!a_once) pack_a(ic, mc, pc, kc, ap);
        macro_kernel(PackedPanels{a, kc}, bb, ic, mc, jc, nc, kc, pc == 0, store);
        if (pc + kc == K) finish_block(store, ic, mc, jc, nc);
      }
    }
  }
}

/// dst[q·6 + r] = src[r·rs + q] for r < 6, q < kc: six rows interleaved into
/// an A panel. With AVX2, eight columns at a time through an 8×8 register
/// transpose; each group's store spills 2 floats into the next group, which
/// the next group (or panel, or the buffer's slack) overwrites.
inline void pack_rows6(const float* src, int64_t rs, int64_t kc, float* dst) {
  int64_t q = 0;
#if defined(__AVX2__)
  const __m256 z = _mm256_setzero_ps();
  for (; q + 8 <= kc; q += 8) {
    const __m256 r0 = _mm256_loadu_ps(src + q), r1 = _mm256_loadu_ps(src + rs + q),
                 r2 = _mm256_loadu_ps(src + 2 * rs + q), r3 = _mm256_loadu_ps(src + 3 * rs + q),
                 r4 = _mm256_loadu_ps(src + 4 * rs + q), r5 = _mm256_loadu_ps(src + 5 * rs + q);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, z, 0x44), u5 = _mm256_shuffle_ps(t4, z, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, z, 0x44), u7 = _mm256_shuffle_ps(t5, z, 0xEE);
    float* d = dst + q * MR;
    _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(d + 6, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(d + 12, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(d + 18, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(d + 24, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(d + 30, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(d + 36, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(d + 42, _mm256_permute2f128_ps(u3, u7, 0x31));
  }
#endif
  for (; q < kc; ++q)
    for (int64_t r = 0; r < MR; ++r) dst[q * MR + r] = src[r * rs + q];
}

/// A[i, p] = a[i·rs + p·cs] (a weight, its transpose, an output gradient).
struct StridedA {
  const float* a;
  int64_t rs, cs;
  /// The MR-row panel of A at row i, depth p, where it is (see gemm).
  bool in_place(int64_t i, int64_t p, APanel& panel) const {
    panel = {a + i * rs + p * cs, rs, cs};
    return true;
  }
  void operator()(int64_t i, int64_t mc, int64_t p, int64_t kc, float* dst) const {
    for (int64_t ip = 0; ip < mc; ip += MR, dst += MR * kc) {
      const int64_t rows = std::min(MR, mc - ip);
      const float* src = a + (i + ip) * rs + p * cs;
      if (cs == 1 && rows == MR) {
        pack_rows6(src, rs, kc, dst);
      } else if (rs == 1 && rows == MR) {
        // A transposed weight (an input gradient's Wᵀ): each depth step's
        // MR rows lie side by side (element by element this loop was 2 % of
        // ResNet-50's gradient passes).
        for (int64_t q = 0; q < kc; ++q) std::memcpy(dst + q * MR, src + q * cs, MR * sizeof(float));
      } else if (cs == 1) {
        for (int64_t r = 0; r < MR; ++r) {
          const float* s = src + r * rs;
          if (r < rows)
            for (int64_t q = 0; q < kc; ++q) dst[q * MR + r] = s[q];
          else
            for (int64_t q = 0; q < kc; ++q) dst[q * MR + r] = 0.0f;
        }
      } else {
        for (int64_t q = 0; q < kc; ++q)
          for (int64_t r = 0; r < MR; ++r) dst[q * MR + r] = r < rows ? src[q * cs + r * rs] : 0.0f;
      }
    }
  }
};

// ---- operands and results spanning a batch ----------------------------------------
//
// A batch's GEMMs are one GEMM whose columns (or depth) run over the output
// positions of all examples, n = e·p + position: with small images the
// micro-kernel then still sees wide panels, and the weight is packed once
// per batch instead of once per example.

/// Calls fn(e, position, offset, count) for the pieces of [n0, n0 + count)
/// that lie in one example each (offset counts from n0).
template <class Fn>
inline void for_each_example_piece(int64_t p, int64_t n0, int64_t count, Fn fn) {
  int64_t e = n0 / p, pos = n0 % p;
  for (int64_t off = 0; off < count; ++e, pos = 0) {
    const int64_t len = std::min(count - off, p - pos);
    fn(e, pos, off, len);
    off += len;
  }
}

/// Rows of B[k, n] = b[e·estride + k·p + position]: an output gradient
/// [N, C, p] (one group's channels) as the right operand, batch along the
/// columns (BatchedRowB).
struct BatchedRows {
  const float* b;
  int64_t p, estride;
  void operator()(int64_t k0, int64_t nk, int64_t n0, int64_t nn, float* out, int64_t ld) const {
    for (int64_t r = 0; r < nk; ++r)
      for_each_example_piece(p, n0, nn, [&](int64_t e, int64_t pos, int64_t off, int64_t len) {
        std::memcpy(out + r * ld + off, b + e * estride + (k0 + r) * p + pos, static_cast<size_t>(len) * sizeof(float));
      });
  }
};

/// A[i, n] = a[e·estride + i·p + position]: an output gradient as the left
/// operand of the weight gradient, batch along the depth.
struct BatchedA {
  const float* a;
  int64_t p, estride;
  bool in_place(int64_t, int64_t, APanel&) const { return false; }  // always packed
  void operator()(int64_t i, int64_t mc, int64_t k, int64_t kc, float* dst) const {
    for (int64_t ip = 0; ip < mc; ip += MR, dst += MR * kc) {
      const int64_t rows = std::min(MR, mc - ip);
      for_each_example_piece(p, k, kc, [&](int64_t e, int64_t pos, int64_t off, int64_t len) {
        const float* src = a + e * estride + (i + ip) * p + pos;
        float* d = dst + off * MR;
        if (rows == MR) {
          pack_rows6(src, p, len, d);  // spills into the next piece, written after
          return;
        }
        for (int64_t q = 0; q < len; ++q)
          for (int64_t r = 0; r < MR; ++r) d[q * MR + r] = r < rows ? src[r * p + q] : 0.0f;
      });
    }
  }
};

/// A run of consecutive output positions inside one output row.
struct Run {
  int64_t lane, len, ih0, iw0;  ///< first lane, length, input row / column at kernel offset 0
  int64_t xoff;                 ///< offset of the run's example in the input
};

/// Splits output positions [n, n + count) (n = e·p + position, examples
/// xstride floats apart in the input) into runs along output rows.
int runs_of(const Geom& g, int64_t n, int64_t count, Run* runs, int64_t xstride) {
  int64_t e = n / g.p, oh = n % g.p / g.wo, ow = n % g.wo;
  int nr = 0;
  for (int64_t l = 0; l < count; ++oh, ow = 0) {
    if (oh == g.ho) {
      oh = 0;
      ++e;
    }
    const int64_t len = std::min(count - l, g.wo - ow);
    runs[nr++] = {l, len, oh * g.sh, ow * g.sw, e * xstride};
    l += len;
  }
  return nr;
}

#if defined(__AVX2__) && !defined(__AVX512F__)
/// Masks with the first n of 8 lanes active, n in [0, 8] (copy_run's AVX2 path).
alignas(32) constexpr int32_t lane_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
inline __m256i lane_mask(int64_t n) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lane_mask_table + 8 - n));
}
#endif

/// d[0, n) = s[0, n) for the short runs of small images, without a library
/// call. May write garbage to d[n, n + 16): callers fill a row left to right
/// and keep 16 floats of slack after it (see PanelB). Masked source lanes are
/// not read. With AVX-512 a run of up to 16 is one masked load and one
/// store (AVX2's masked loads showed as a tenth of im2col's time on Zen 4).
inline void copy_run(float* d, const float* s, int64_t n) {
#if defined(__AVX512F__)
  int64_t e = 0;
  for (; e + 16 <= n; e += 16) _mm512_storeu_ps(d + e, _mm512_loadu_ps(s + e));
  if (e < n) _mm512_storeu_ps(d + e, _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << (n - e)) - 1), s + e));
#elif defined(__AVX2__)
  int64_t e = 0;
  for (; e + 8 <= n; e += 8) _mm256_storeu_ps(d + e, _mm256_loadu_ps(s + e));
  if (e < n) _mm256_storeu_ps(d + e, _mm256_maskload_ps(s + e, lane_mask(n - e)));
#else
  for (int64_t e = 0; e < n; ++e) d[e] = s[e];
#endif
}

// ---- B blocks from a phased input ------------------------------------------------
//
// im2col over a batch, with no bounds checks in the packing loop: the input
// is copied once, zero-padded and split into its stride phases, so that
// every im2col element of output position (oh, ow) of example e and row
// k = (c, ki, kj) sits at  base + off[k] + e·es + oh·wq + ow.  A panel of NR
// columns is then a few contiguous pieces (one per output row it touches)
// at the same offsets for every k, read with masked loads. Per element this
// costs a fraction of clipping every run of an output row against the input's
// borders, which took a fifth of the time of ResNet-18's 64-channel 3×3
// convolutions at 16² when B was packed that way.

/// The input of one group over a batch: for example e, channel c and phase
/// (a, b) (a < sh, b < sw) a plane of hq × wq floats holding the padded
/// input's rows a, a + sh, ... and columns b, b + sw, ...
struct PhasedInput {
  const float* base;
  int64_t es;          ///< floats per example
  int64_t wq;          ///< floats per output row
  const int64_t* off;  ///< off[k]: offset of im2col row k's element for output (0, 0)
};

/// d[b·plane + j] = row[j·stride + b] for j < wq, b < stride: a padded row
/// dealt to its stride phases (row holds wq·stride floats, zeros past the
/// padded width).
void deal_phases(const float* row, int64_t stride, int64_t wq, int64_t plane, float* d) {
  if (stride == 2) return detail::deal_pairs(row, 2 * wq, d, d + plane);
  for (int64_t j = 0; j < wq; ++j)
    for (int64_t b = 0; b < stride; ++b) d[b * plane + j] = row[j * stride + b];
}

/// off[k] of the phased layout (planes of hq × wq floats, `plane` apart):
/// where im2col row k reads output position (0, 0).
void phase_offsets(const Geom& g, int64_t plane, int64_t wq, int64_t* off) {
  const int64_t phases = g.sh * g.sw;
  for (int64_t k = 0; k < g.k; ++k) {
    const int64_t c = k / (g.kh * g.kw), rh = k % (g.kh * g.kw) / g.kw * g.dh, rw = k % g.kw * g.dw;
    off[k] = (c * phases + rh % g.sh * g.sw + rw % g.sw) * plane + rh / g.sh * wq + rw / g.sw;
  }
}

/// Copies `count` examples of one group's input (examples xstride floats
/// apart) into a per-thread phased buffer and fills the row offsets.
PhasedInput phase_input(const Geom& g, const float* xg, int64_t xstride, int64_t count) {
  PhasedInput in;
  thread_local std::vector<int64_t> table;
  table.resize(static_cast<size_t>(g.k));
  in.off = table.data();
  if (g.pointwise) {  // the input is its own im2col: nothing to copy
    in.base = xg;
    in.es = xstride;
    in.wq = g.wo;
    for (int64_t k = 0; k < g.k; ++k) table[static_cast<size_t>(k)] = k * g.hw;
    return in;
  }
  const int64_t hp = g.h + g.pt + g.pb, wp = g.w + g.pl + g.pr;
  const int64_t hq = (hp + g.sh - 1) / g.sh, wq = (wp + g.sw - 1) / g.sw;
  const int64_t plane = hq * wq, phases = g.sh * g.sw;
  in.es = g.cin_g * phases * plane;
  in.wq = wq;
  float* buf = pack_buffer(2, count * in.es);
  // Input columns [iw0, iw1) land in the padded row; column iw goes to
  // phase (iw + pl) % sw at (iw + pl) / sw. Planes are copied in parallel
  // (the caller's GEMM waits for all of them).
  const int64_t iw0 = std::max<int64_t>(0, -g.pl), iw1 = std::min(g.w, wp - g.pl);
  const auto copy_planes = [&](int64_t i0, int64_t i1) {
    std::vector<float> row(static_cast<size_t>(g.sw > 1 ? wq * g.sw : 0));
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t e = i / g.cin_g, c = i % g.cin_g;
      const float* src = xg + e * xstride + c * g.hw;
      float* dst = buf + e * in.es + c * phases * plane;
      std::fill(dst, dst + phases * plane, 0.0f);
      for (int64_t r = std::max<int64_t>(0, g.pt); r < std::min(hp, g.h + g.pt); ++r) {
        const float* srow = src + (r - g.pt) * g.w;
        float* drow = dst + (r % g.sh * g.sw) * plane + r / g.sh * wq;
        if (g.sw == 1) {
          std::copy(srow + iw0, srow + iw1, drow + iw0 + g.pl);
          continue;
        }
        // Strided: build the padded row, then deal its columns to the phases.
        std::fill(row.begin(), row.end(), 0.0f);
        std::copy(srow + iw0, srow + iw1, row.data() + iw0 + g.pl);
        deal_phases(row.data(), g.sw, wq, plane, drow);
      }
    }
  };
  detail::over_rows(count * g.cin_g, count * in.es, detail::kSplitFloats, copy_planes);
  phase_offsets(g, plane, wq, table.data());
  in.base = buf;
  return in;
}

/// A run of consecutive columns inside one output row: columns [at, at + len)
/// of a range sit at src + [0, len) in the phased layout (plus off[k]).
struct Piece {
  int64_t at, len, src;
};

/// Splits columns [n0, n0 + count) (n = e·p + position) into pieces; returns
/// their number (at most count).
int64_t column_pieces(const Geom& g, const PhasedInput& in, int64_t n0, int64_t count, Piece* pieces) {
  int64_t np = 0;
  for (int64_t l = 0; l < count;) {
    const int64_t n = n0 + l, e = n / g.p, pos = n % g.p, ow = pos % g.wo;
    const int64_t len = std::min(count - l, g.wo - ow);
    pieces[np++] = {l, len, e * in.es + pos / g.wo * in.wq + ow};
    l += len;
  }
  return np;
}

/// Rows of im2col(x) over a batch from a phased input, for TransposedB (the
/// weight gradient's right operand): the columns' pieces inside output rows
/// are the same for every row k, so they are found once per call.
struct PhasedRows {
  const Geom& g;
  const PhasedInput& in;
  void operator()(int64_t k0, int64_t nk, int64_t n0, int64_t nn, float* out, int64_t ld) const {
    Piece pieces[KC];
    const int64_t np = column_pieces(g, in, n0, nn, pieces);
    for (int64_t r = 0; r < nk; ++r) {
      const float* at = in.base + in.off[k0 + r];
      float* d = out + r * ld;
      for (int64_t i = 0; i < np; ++i) copy_run(d + pieces[i].at, at + pieces[i].src, pieces[i].len);
    }
  }
};

/// B[k, n] = im2col(x)[k, n] over a batch (n = e·p + position) from a
/// phased input, in panel layout.
struct PhasedB {
  const Geom& g;
  const PhasedInput& in;
  BBlock operator()(int64_t p0, int64_t kc, int64_t j, int64_t nc, float* dst) const {
    static_assert(NR == 16, "one 16-lane mask per panel row");
    const int64_t pstride = b_panel_stride(kc);
    float* const start = dst;
    for (int64_t jp = 0; jp < nc; jp += NR, dst += pstride) {
      Piece pieces[NR];
      const int64_t lanes = std::min(NR, nc - jp);
      const int64_t np = column_pieces(g, in, j + jp, lanes, pieces);
#if defined(__AVX512F__)
      __mmask16 masks[NR];
      for (int64_t i = 0; i < np; ++i)
        masks[i] = static_cast<__mmask16>(((1u << pieces[i].len) - 1) << pieces[i].at);
      for (int64_t q = 0; q < kc; ++q) {
        // Piece i's lanes come from src − at + (its lanes): masked-off lanes
        // are not read.
        const float* at = in.base + in.off[p0 + q];
        __m512 v = _mm512_maskz_loadu_ps(masks[0], at + pieces[0].src - pieces[0].at);
        for (int64_t i = 1; i < np; ++i)
          v = _mm512_mask_loadu_ps(v, masks[i], at + pieces[i].src - pieces[i].at);
        _mm512_storeu_ps(dst + q * NR, v);
      }
#else
      if (np == 1 && lanes == NR) {
        // One run fills the panel row: a copy of constant size, which the
        // compiler inlines (a memcpy call per 16 floats was 4 % of ResNet-50's
        // gradients on an AVX2 core).
        for (int64_t q = 0; q < kc; ++q)
          std::memcpy(dst + q * NR, in.base + in.off[p0 + q] + pieces[0].src, NR * sizeof(float));
        continue;
      }
      for (int64_t q = 0; q < kc; ++q) {
        const float* at = in.base + in.off[p0 + q];
        float* d = dst + q * NR;
        for (int64_t i = 0; i < np; ++i)
          std::memcpy(d + pieces[i].at, at + pieces[i].src, static_cast<size_t>(pieces[i].len) * sizeof(float));
        std::fill(d + lanes, d + NR, 0.0f);
      }
#endif
    }
    return {start, NR, pstride};
  }
};

/// dst[i·ldd + r] = src[r·lds + i] for an 8 × 8 block.
inline void transpose8(const float* src, int64_t lds, float* dst, int64_t ldd) {
#if defined(__AVX2__)
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds), r2 = _mm256_loadu_ps(src + 2 * lds),
               r3 = _mm256_loadu_ps(src + 3 * lds), r4 = _mm256_loadu_ps(src + 4 * lds),
               r5 = _mm256_loadu_ps(src + 5 * lds), r6 = _mm256_loadu_ps(src + 6 * lds),
               r7 = _mm256_loadu_ps(src + 7 * lds);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
#else
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t r = 0; r < 8; ++r) dst[i * ldd + r] = src[r * lds + i];
#endif
}

/// B[n, k] = rows[k, n] for an im2col-like row source (the weight
/// gradient's right operand). Each panel's NR rows are built row-major (long
/// runs) and transposed into the panel 8 × 8 at a time.
template <class Rows>
struct TransposedB {
  Rows rows;
  BBlock operator()(int64_t p, int64_t kc, int64_t j, int64_t nc, float* dst) const {
    constexpr int64_t ldt = KC + 3 * 8;  // ≥ padded kc + 16 slack, not a multiple of 64 B·16
    alignas(64) float buf[NR * ldt];
    float* const start = dst;
    for (int64_t jp = 0; jp < nc; jp += NR, dst += b_panel_stride(kc)) {
      const int64_t lanes = std::min(NR, nc - jp);
      rows(j + jp, lanes, p, kc, buf, ldt);
      for (int64_t l = lanes; l < NR; ++l) std::fill(buf + l * ldt, buf + l * ldt + kc, 0.0f);
      int64_t q = 0;
      for (; q + 8 <= kc; q += 8) {
        transpose8(buf + q, ldt, dst + q * NR, NR);
        transpose8(buf + 8 * ldt + q, ldt, dst + q * NR + 8, NR);
      }
      for (; q < kc; ++q)
        for (int64_t l = 0; l < NR; ++l) dst[q * NR + l] = buf[l * ldt + q];
    }
    return {start, NR, b_panel_stride(kc)};
  }
};

/// B blocks in panel layout (kc × NR panels, contiguous) from a row source:
/// rows(k0, nk, n0, nn, out, ld) writes rows [k0, k0 + nk) × columns
/// [n0, n0 + nn) of B row-major, with 16 floats of slack after each row. They
/// are built a few rows at a time in a small scratch that stays in L1 and
/// split into panels. The micro-kernel could read a row-major block directly,
/// but its B stream then jumps 1–4 KB per step: on Zen 4 that ran the same
/// micro-kernel at half to four fifths of its speed on contiguous panels
/// (TLB reach, no prefetch across the jumps).
template <class Rows>
struct PanelB {
  Rows rows;
  BBlock operator()(int64_t p, int64_t kc, int64_t j, int64_t nc, float* dst) const {
    constexpr int64_t chunk = 8;
    const int64_t panels = (nc + NR - 1) / NR, ldt = panels * NR + NR, pstride = b_panel_stride(kc);
    float* tmp = pack_buffer(3, chunk * ldt);
    for (int64_t q0 = 0; q0 < kc; q0 += chunk) {
      const int64_t nq = std::min(chunk, kc - q0);
      rows(p + q0, nq, j, nc, tmp, ldt);
      for (int64_t r = 0; r < nq; ++r) {
        float* t = tmp + r * ldt;
        std::fill(t + nc, t + panels * NR, 0.0f);
        for (int64_t jp = 0; jp < panels; ++jp)
          std::memcpy(dst + jp * pstride + (q0 + r) * NR, t + jp * NR, NR * sizeof(float));
      }
    }
    return {dst, NR, pstride};
  }
};

/// Rows of a row-major matrix b (row stride rs): an output gradient as the
/// right operand, through PanelB.
struct RowMajorRows {
  const float* b;
  int64_t rs;
  void operator()(int64_t k0, int64_t nk, int64_t n0, int64_t nn, float* out, int64_t ld) const {
    for (int64_t r = 0; r < nk; ++r) copy_run(out + r * ld, b + (k0 + r) * rs + n0, nn);
  }
};

/// B = an output gradient (row-major, positions along rows).
using RowMajorB = PanelB<RowMajorRows>;
/// B = an output gradient over a batch (examples along the columns), B[k, n]
/// = b[e·estride + k·p + position]. Planes of at most NR positions (2×2,
/// 4×4) are packed straight into panels: each panel row is one vector put
/// together from the panel's pieces (one per example it spans) by masked
/// loads, as PhasedB does; through PanelB they took a memcpy call per 4 or 16
/// floats, copied twice (a 4×4 layer's input gradient: 8 % slower). Larger
/// planes go through PanelB, whose row-wise copies stream (panel by panel
/// they were 9 % slower on 8×8 planes).
struct BatchedRowB {
  const float* b;
  int64_t p, estride;
  BBlock operator()(int64_t k0, int64_t kc, int64_t j, int64_t nc, float* dst) const {
#if defined(__AVX512F__)
    if (p <= NR) return small_planes(k0, kc, j, nc, dst);
#endif
    if (p % NR == 0 && j % NR == 0 && nc <= NC_WIDE) return whole_panels(k0, kc, j, nc, dst);
    return PanelB<BatchedRows>{{b, p, estride}}(k0, kc, j, nc, dst);
  }
  /// Planes of whole panels (p a multiple of NR, as 8×8 to 32×32 are): each
  /// panel row is NR consecutive floats of one example's row, copied straight
  /// into its panel, row after row so that the reads stream. Through PanelB
  /// they were copied twice (ResNet-50 at 128²: 5 % of the time in memmove).
  BBlock whole_panels(int64_t k0, int64_t kc, int64_t j, int64_t nc, float* dst) const {
    const int64_t pstride = b_panel_stride(kc), panels = (nc + NR - 1) / NR, last = nc - (panels - 1) * NR;
    constexpr int64_t kMaxPanels = NC_WIDE / NR;
    const float* src[kMaxPanels];
    for (int64_t jp = 0; jp < panels; ++jp) {
      const int64_t col = j + jp * NR;
      src[jp] = b + col / p * estride + k0 * p + col % p;
    }
    for (int64_t q = 0; q < kc; ++q) {
      for (int64_t jp = 0; jp + 1 < panels; ++jp)
        std::memcpy(dst + jp * pstride + q * NR, src[jp] + q * p, sizeof(float) * NR);
      float* d = dst + (panels - 1) * pstride + q * NR;
      std::memcpy(d, src[panels - 1] + q * p, sizeof(float) * static_cast<size_t>(last));
      std::fill(d + last, d + NR, 0.0f);
    }
    return {dst, NR, pstride};
  }
#if defined(__AVX512F__)
  BBlock small_planes(int64_t k0, int64_t kc, int64_t j, int64_t nc, float* dst) const {
    const int64_t pstride = b_panel_stride(kc);
    float* const start = dst;
    for (int64_t jp = 0; jp < nc; jp += NR, dst += pstride) {
      const float* src[NR];
      __mmask16 masks[NR];
      int np = 0;
      for_each_example_piece(p, j + jp, std::min(NR, nc - jp), [&](int64_t e, int64_t pos, int64_t off, int64_t len) {
        // Lane off + l of the panel row is element pos + l of the example's row.
        src[np] = b + e * estride + k0 * p + pos - off;
        masks[np++] = static_cast<__mmask16>(((1u << len) - 1) << off);
      });
      for (int64_t q = 0; q < kc; ++q) {
        __m512 v = _mm512_maskz_loadu_ps(masks[0], src[0] + q * p);
        for (int i = 1; i < np; ++i) v = _mm512_mask_loadu_ps(v, masks[i], src[i] + q * p);
        _mm512_storeu_ps(dst + q * NR, v);
      }
    }
    return {start, NR, pstride};
  }
#endif
};

/// Calls fn(pack_b) with the B packer of im2col(x) over a phased input. A
/// pointwise convolution's im2col rows are its input's channel planes, and
/// BatchedRowB copies them row by row, in runs that stream; PhasedB fills
/// one panel at a time and so reads 64 bytes from each of kc planes a plane
/// apart per panel (ResNet-50 and DenseNet-121's 1×1 convolutions with 64–256
/// output channels over 40 examples ran 4–22 % faster row by row on Zen 1).
template <class Fn>
void with_im2col_b(const Geom& g, const PhasedInput& in, const Fn& fn) {
  if (g.pointwise)
    fn(BatchedRowB{in.base, g.hw, in.es});
  else
    fn(PhasedB{g, in});
}

/// C = c[i·ldc + j]; the first depth block overwrites when `overwrite`.
struct RowMajorStore {
  float* c;
  int64_t ldc_;
  bool overwrite;
  static constexpr bool finishes = false, splits = false;
  float* direct(int64_t i, int64_t j, int64_t& ldc) const {
    ldc = ldc_;
    return c + i * ldc_ + j;
  }
  void add_tile(int64_t i, int64_t j, int64_t mr, int64_t nr, const float* tile, bool first) const {
    for (int64_t r = 0; r < mr; ++r) {
      float* row = c + (i + r) * ldc_ + j;
      const float* t = tile + r * NR;
      if (first && overwrite)
        for (int64_t l = 0; l < nr; ++l) row[l] = t[l];
      else
        for (int64_t l = 0; l < nr; ++l) row[l] += t[l];
    }
  }
};

/// d[0, len) = (or += with `add`) t[0, len): a piece of a tile, in 8- and
/// 4-float vectors (masked stores are slow on Zen 4).
inline void store_run(float* d, const float* t, int64_t len, bool add) {
  int64_t l = 0;
#if defined(__AVX2__)
  for (; l + 8 <= len; l += 8) {
    __m256 v = _mm256_loadu_ps(t + l);
    if (add) v = _mm256_add_ps(_mm256_loadu_ps(d + l), v);
    _mm256_storeu_ps(d + l, v);
  }
  for (; l + 4 <= len; l += 4) {
    __m128 v = _mm_loadu_ps(t + l);
    if (add) v = _mm_add_ps(_mm_loadu_ps(d + l), v);
    _mm_storeu_ps(d + l, v);
  }
#endif
  for (; l < len; ++l) d[l] = add ? d[l] + t[l] : t[l];
}

/// C[i, n] = c[e·estride + i·p + position] (an output [N, C, p], one
/// group's channels); the first depth block overwrites when `overwrite`.
/// A forward's store also adds the bias (when set) and applies the
/// epilogue to each finished block (the residual: the group's first channel,
/// laid out as c).
struct BatchStore {
  float* c;
  int64_t p, estride;
  bool overwrite;
  const float* bias = nullptr;
  detail::Finish after{};
  static constexpr bool finishes = true, splits = true;
  void finish(int64_t i, int64_t j, int64_t m, int64_t nc) const {
    if (!bias && !after.any()) return;
    for_each_example_piece(p, j, nc, [&](int64_t e, int64_t pos, int64_t, int64_t len) {
      for (int64_t r = 0; r < m; ++r) {
        const int64_t at = e * estride + (i + r) * p + pos;
        after.run(c, at, len, bias ? bias[i + r] : 0.0f, i + r);
      }
    });
  }
  float* direct(int64_t i, int64_t j, int64_t& ldc) const {
    const int64_t pos = j % p;
    if (pos + NR > p) return nullptr;
    ldc = p;
    return c + j / p * estride + i * p + pos;
  }
  /// Tiles over 2×2 planes (four examples, four positions each, from an
  /// example's start) go where they lie in four runs, gs apart
  /// (micro_kernel_split4).
  float* split4(int64_t i, int64_t j, int64_t& ldc, int64_t& gs) const {
    if (p != 4 || j % 4 != 0) return nullptr;
    ldc = p;
    gs = estride;
    return c + j / p * estride + i * p;
  }
  void add_tile(int64_t i, int64_t j, int64_t mr, int64_t nr, const float* tile, bool first) const {
    // Ragged tiles, and tiles that straddle examples on planes other than
    // 2×2 (split4), take this path on every depth block.
    for_each_example_piece(p, j, nr, [&](int64_t e, int64_t pos, int64_t off, int64_t len) {
      for (int64_t r = 0; r < mr; ++r)
        store_run(c + e * estride + (i + r) * p + pos, tile + r * NR + off, len, !(first && overwrite));
    });
  }
};

/// dx += col2im(C): tiles of the column gradient are scattered straight into
/// the input gradient (no column matrix). Tiles touching the same input
/// element must not be stored concurrently.
struct Col2imStore {
  const Geom& g;
  float* dx;        ///< the group's first input channel (of the first example)
  int64_t xstride;  ///< floats between examples in dx
  static constexpr bool overwrite = false, finishes = false, splits = false;
  float* direct(int64_t, int64_t, int64_t&) const { return nullptr; }
  void add_tile(int64_t i, int64_t j, int64_t mr, int64_t nr, const float* tile, bool) const {
    Run runs[NR];
    const int nruns = runs_of(g, j, nr, runs, xstride);
    RowIter it(g, i);
    for (int64_t r = 0; r < mr; ++r, it.next()) {
      const int64_t coff = it.coff, dih = it.dih, diw = it.diw;
      const float* t = tile + r * NR;
      for (int u = 0; u < nruns; ++u) {
        const int64_t ih = runs[u].ih0 + dih;
        if (ih < 0 || ih >= g.h) continue;
        float* xr = dx + runs[u].xoff + coff + ih * g.w;
        const int64_t iw0 = runs[u].iw0 + diw, len = runs[u].len;
        const float* s = t + runs[u].lane;
        if (g.sw == 1) {
          const int64_t ia = std::min(len, std::max<int64_t>(0, -iw0));
          const int64_t ib = std::max(ia, std::min(len, g.w - iw0));
          for (int64_t e = ia; e < ib; ++e) xr[iw0 + e] += s[e];
        } else {
          for (int64_t e = 0; e < len; ++e) {
            const int64_t iw = iw0 + e * g.sw;
            if (iw >= 0 && iw < g.w) xr[iw] += s[e];
          }
        }
      }
    }
  }
};

/// dx += col2im(C) into a phased copy of the input gradient (padded and split
/// by stride phase, the layout phase_input gives the input), the adjoint of
/// PhasedB: a tile row's lanes land where PhasedB reads them from, in a few
/// contiguous runs added with masked vector loads and stores and no bounds
/// checks (Col2imStore checks every element against the input's borders and,
/// with a stride, adds one element at a time). unphase() then adds the copy
/// into dx. Tiles touching the same element must not be stored concurrently.
struct PhasedCol2imStore {
  const Geom& g;
  const PhasedInput& layout;  ///< the phased gradient's layout
  float* base;                ///< its first float (layout.base, writable)
  static constexpr bool overwrite = false, finishes = false, splits = false;
  float* direct(int64_t, int64_t, int64_t&) const { return nullptr; }
  void add_tile(int64_t i, int64_t j, int64_t mr, int64_t nr, const float* tile, bool) const {
    Piece pieces[NR];
    const int64_t np = column_pieces(g, layout, j, nr, pieces);
    for (int64_t r = 0; r < mr; ++r) {
      float* at = base + layout.off[i + r];
      const float* t = tile + r * NR;
#if defined(__AVX512F__)
      const __m512 tv = _mm512_loadu_ps(t);
      for (int64_t u = 0; u < np; ++u) {
        const __mmask16 m = static_cast<__mmask16>(((1u << pieces[u].len) - 1) << pieces[u].at);
        float* d = at + pieces[u].src - pieces[u].at;  // lane l of the tile goes to d[l]
        _mm512_mask_storeu_ps(d, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, d), tv));
      }
#else
      for (int64_t u = 0; u < np; ++u)
        for (int64_t e = 0; e < pieces[u].len; ++e) at[pieces[u].src + e] += t[pieces[u].at + e];
#endif
    }
  }
};

/// dx[e, c] += the phased gradient (PhasedCol2imStore) of examples [e0, e1)
/// and channels [c0, c1) of one group (dxg: the group's first channel).
void unphase(const Geom& g, const PhasedInput& layout, int64_t plane, int64_t e0, int64_t e1, int64_t c0,
             int64_t c1, float* dxg, int64_t xstride) {
  const int64_t phases = g.sh * g.sw;
  std::vector<float> row(static_cast<size_t>(g.sw == 2 ? 2 * layout.wq : 0));
  for (int64_t e = e0; e < e1; ++e)
    for (int64_t c = c0; c < c1; ++c) {
      const float* src = layout.base + e * layout.es + c * phases * plane;
      float* d = dxg + e * xstride + c * g.hw;
      for (int64_t y = 0; y < g.h; ++y) {
        const int64_t r = y + g.pt;
        float* drow = d + y * g.w;
        if (g.sw == 2) {  // the padded row rebuilt from its two phases, then added
          const float* s0 = src + r % g.sh * 2 * plane + r / g.sh * layout.wq;
          detail::interleave_pairs(s0, s0 + plane, layout.wq, row.data());
          const float* s = row.data() + g.pl;
          for (int64_t x = 0; x < g.w; ++x) drow[x] += s[x];
          continue;
        }
        for (int64_t b = 0; b < g.sw; ++b) {
          const float* srow = src + (r % g.sh * g.sw + b) * plane + r / g.sh * layout.wq;
          // Columns x with (x + pl) % sw == b, at (x + pl) / sw in the phase.
          const int64_t x0 = ((b - g.pl) % g.sw + g.sw) % g.sw;
          for (int64_t x = x0, q = (x0 + g.pl) / g.sw; x < g.w; x += g.sw, ++q) drow[x] += srow[q];
        }
      }
    }
}

// ---- threading -------------------------------------------------------------------

/// Threads to split one GEMM over: only outside parallel regions and when the
/// product is big enough to pay for the split.
int64_t gemm_threads(int64_t m, int64_t n, int64_t k) {
  if (in_parallel()) return 1;
  const int64_t t = num_threads();
  return t > 1 && m * n * k >= (int64_t(1) << 20) ? t : 1;
}

/// [begin, end) of part t of `total` split in `parts`, in multiples of `align`.
void split(int64_t total, int64_t parts, int64_t align, int64_t t, int64_t& begin, int64_t& end) {
  const int64_t units = (total + align - 1) / align;
  begin = std::min(total, units * t / parts * align);
  end = std::min(total, units * (t + 1) / parts * align);
}

/// How gemm_split cuts [0, m) × [0, n): along the larger side (whose writes
/// are disjoint) in `parts` pieces of whole panels.
struct GemmParts {
  bool along_n;
  int64_t parts;

  /// One to four parts per thread, claimed by whichever thread is free: with
  /// one part per thread a thread that the system slows (a neighbour process
  /// on its core) holds the other at the end of every product; with four, the
  /// other takes over its remaining parts. A part keeps at least MC rows or
  /// 128 columns, so that re-packing the operand every part reads whole (B
  /// along m, A along n) costs under 1 % of its multiply-adds.
  GemmParts(int64_t m, int64_t n, int64_t threads) : along_n(n >= m) {
    const int64_t most = along_n ? n / 128 : m / MC;
    parts = threads * std::max<int64_t>(1, std::min<int64_t>(4, most / threads));  // equal shares
  }
  void range(int64_t m, int64_t n, int64_t part, int64_t& begin, int64_t& end) const {
    if (along_n)
      split(n, parts, 2 * NR, part, begin, end);  // whole pairs of panels (macro_kernel)
    else
      split(m, parts, MR, part, begin, end);
  }
};

/// Runs gemm over [0, m) × [0, n), split over `threads` (GemmParts). Every
/// element of C is summed in the same order however it is split, so the
/// result does not depend on the thread count.
template <class PackA, class PackB, class Store>
void gemm_split(int64_t m, int64_t n, int64_t k, int64_t threads, const PackA& pa, const PackB& pb,
                const Store& st) {
  if (threads <= 1) {
    gemm(0, m, 0, n, k, pa, pb, st);
    return;
  }
  const GemmParts cut(m, n, threads);
  parallel_tasks(cut.parts, [&](int64_t part) {
    int64_t b, e;
    cut.range(m, n, part, b, e);
    if (cut.along_n)
      gemm(0, m, b, e, k, pa, pb, st);
    else
      gemm(b, e, 0, n, k, pa, pb, st);
  });
}

/// Whether a GEMM of gemm_split(m, n, k, threads, ...) reads A in place.
bool split_reads_a_in_place(int64_t m, int64_t n, int64_t k, int64_t threads) {
  if (threads <= 1) return reads_a_in_place(m, n, k);
  const GemmParts cut(m, n, threads);
  for (int64_t part = 0; part < cut.parts; ++part) {
    int64_t b, e;
    cut.range(m, n, part, b, e);
    if (e > b && (cut.along_n ? reads_a_in_place(m, e - b, k) : reads_a_in_place(e - b, n, k))) return true;
  }
  return false;
}

/// out (=, or += when `accumulate`) the convolution of one group's input xg
/// [g.cin_g, h, w] with A (g.cout_g × g.k, packed by `a`): out is
/// [g.cout_g, ho·wo]. The GEMM is split over `threads`.
template <class PackA>
void conv_gemm(const Geom& g, const float* xg, const PackA& a, float* out, bool accumulate, int64_t threads) {
  const PhasedInput in = phase_input(g, xg, 0, 1);
  with_im2col_b(g, in, [&](const auto& pack_b) {
    gemm_split(g.cout_g, g.p, g.k, threads, a, pack_b, RowMajorStore{out, g.p, !accumulate});
  });
}

// ---- the three products per example and group ---------------------------------------

/// y_g = W_g · im2col(x_g) (+ b_g), then `after`.
void forward_one(const Geom& g, const float* x, const float* w, const float* b, float* y, int64_t n,
                 int64_t gr, int64_t threads, const detail::Finish& after) {
  const float* xg = x + (n * g.cin + gr * g.cin_g) * g.hw;
  const int64_t at = (n * g.cout + gr * g.cout_g) * g.p;
  conv_gemm(g, xg, StridedA{w + gr * g.cout_g * g.k, g.k, 1}, y + at, false, threads);
  if (b || after.any())
    for (int64_t o = 0; o < g.cout_g; ++o)
      after.run(y, at + o * g.p, g.p, b ? b[gr * g.cout_g + o] : 0.0f, gr * g.cout_g + o);
}

/// A[c, (o, ki, kj)] = W[o, c, kh−1−ki, kw−1−kj]: one group's weight with
/// input and output channels swapped and the kernel flipped, as a row-major
/// matrix in a per-thread buffer. Built once per call (one pass over the
/// weight) rather than gathered panel by panel: GEMMs with few columns then
/// read it in place, and the others pack it with the vector packer.
StridedA flipped_weight(const Geom& g, const float* wg) {
  const int64_t khw = g.kh * g.kw, depth = g.cout_g * khw;
  float* at = pack_buffer(4, g.cin_g * depth);
  // Blocks of 8 output channels: the reads walk 8 weight rows in order and
  // the writes fill 8 kernels' worth of each result row, both cache-friendly
  // (channel by channel, the writes jumped a whole row each).
  constexpr int64_t block = 8;
  const int64_t blocks = (g.cout_g + block - 1) / block;
  const auto flip = [&](int64_t b0, int64_t b1) {
    for (int64_t o0 = b0 * block; o0 < std::min(g.cout_g, b1 * block); o0 += block)
      for (int64_t c = 0; c < g.cin_g; ++c)
        for (int64_t o = o0; o < std::min(g.cout_g, o0 + block); ++o) {
          const float* src = wg + (o * g.cin_g + c) * khw;
          float* dst = at + c * depth + o * khw;
          for (int64_t r = 0; r < khw; ++r) dst[r] = src[khw - 1 - r];
        }
  };
  detail::over_rows(blocks, g.cin_g * depth, detail::kSplitFloats, flip);  // blocks fill disjoint columns
  return StridedA{at, depth, 1};
}

/// The same matrix as flipped_weight packed straight from the weight, for
/// GEMMs that pack A anyway (see reads_a_in_place): one pass over the weight
/// instead of three (flip, write, pack). Panel row c at depth (o, r) is
/// W[o, c, khw−1−r]: for each o the panel's MR·khw floats are contiguous.
struct FlippedA {
  const float* w;  ///< one group's weight [cout_g, cin_g, kh·kw]
  int64_t cin_g, khw;
  bool in_place(int64_t, int64_t, APanel&) const { return false; }  // always packed
  void operator()(int64_t i, int64_t mc, int64_t p, int64_t kc, float* dst) const {
#if defined(__AVX512F__)
    // A full panel's taps of one output channel: MR·khw floats in, the same
    // number out, permuted (out[r·MR + c] = in[c·khw + khw−1−r]); up to 4
    // vectors each way for kernels of at most 10 taps.
    const int64_t span = MR * khw;
    const bool vector = khw <= 10;
    alignas(64) int32_t perm[64] = {};
    if (vector)
      for (int64_t j = 0; j < span; ++j) perm[j] = static_cast<int32_t>(j % MR * khw + khw - 1 - j / MR);
#endif
    for (int64_t ip = 0; ip < mc; ip += MR, dst += MR * kc) {
      const int64_t rows = std::min(MR, mc - ip);
      int64_t o = p / khw, r = p % khw;
      const float* src = w + (o * cin_g + i + ip) * khw + (khw - 1 - r);
      for (int64_t q = 0; q < kc;) {
        float* d = dst + q * MR;
#if defined(__AVX512F__)
        if (vector && rows == MR && r == 0 && q + khw <= kc) {
          flip_taps(src - (khw - 1), d, span, perm);
          q += khw;
          src += cin_g * khw;  // the next output channel's last tap
          continue;
        }
#endif
        for (int64_t rr = 0; rr < MR; ++rr) d[rr] = rr < rows ? src[rr * khw] : 0.0f;
        ++q;
        if (++r < khw) {
          --src;
        } else {
          r = 0;
          src += cin_g * khw + khw - 1;  // next output channel, last tap
        }
      }
    }
  }
#if defined(__AVX512F__)
  /// d[j] = s[perm[j]] for j < n ≤ 64.
  static void flip_taps(const float* s, float* d, int64_t n, const int32_t* perm) {
    __m512 in[4];
    for (int k = 0; k < 4; ++k) {
      const int64_t left = std::max<int64_t>(0, std::min<int64_t>(16, n - 16 * k));
      in[k] = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << left) - 1), s + 16 * k);
    }
    for (int k = 0; k * 16 < n; ++k) {
      const int64_t left = std::min<int64_t>(16, n - 16 * k);
      const __m512i idx = _mm512_load_si512(perm + 16 * k);
      const __m512 lo = _mm512_permutex2var_ps(in[0], idx, in[1]);
      const __m512 hi = _mm512_permutex2var_ps(in[2], idx, in[3]);
      const __m512 v = _mm512_mask_blend_ps(_mm512_cmpge_epi32_mask(idx, _mm512_set1_epi32(32)), lo, hi);
      _mm512_mask_storeu_ps(d + 16 * k, static_cast<__mmask16>((1u << left) - 1), v);
    }
  }
#endif
};

/// The input-gradient of a stride-1 convolution is itself a stride-1
/// convolution of dy with the flipped, transposed weight and padding
/// (k − 1)·d − pad (possibly negative, which crops): this geometry describes
/// it for one group (the input is dy_g, the output dx_g).
Geom transposed_geom(const Geom& g) {
  Geom t = g;
  t.n = 1;
  t.groups = 1;
  t.cin = t.cin_g = g.cout_g;
  t.cout = t.cout_g = g.cin_g;
  t.h = g.ho;
  t.w = g.wo;
  t.hw = g.p;
  t.ho = g.h;
  t.wo = g.w;
  t.p = g.hw;
  t.k = g.cout_g * g.kh * g.kw;
  t.pt = (g.kh - 1) * g.dh - g.pt;
  t.pl = (g.kw - 1) * g.dw - g.pl;
  t.pb = (g.kh - 1) * g.dh - g.pb;
  t.pr = (g.kw - 1) * g.dw - g.pr;
  t.pointwise = false;
  return t;
}

/// Stride-1 "same"-size convolutions whose input gradient runs as a forward
/// convolution of dy (see backward_input_one).
bool transposed_forward(const Geom& g) {
  return g.sh == 1 && g.sw == 1 && g.cin_g >= 8 && g.cout_g <= 4 * g.cin_g && 4 * g.hw <= 5 * g.p;
}

/// transposed_forward, unless the transposed GEMM over `examples` examples
/// has so few columns that it would read a flipped copy of the weight in
/// place while col2im's GEMM reads Wᵀ where it lies: a small batch's input
/// gradient then skips writing and reading a copy of the whole weight (a
/// tenth of DeepLIFT's time on ResNet-18 at batch 2).
/// The choice does not depend on the thread count, so that every count gives
/// the same bits.
bool flip_and_forward(const Geom& g, int64_t examples) {
  if (!transposed_forward(g)) return false;
  const Geom t = transposed_geom(g);
  return !(reads_a_in_place(t.cout_g, examples * t.p, t.k) && reads_a_in_place(g.k, examples * g.p, g.cout_g));
}

/// dx_g += col2im(W_gᵀ · dy_g).
void backward_input_one(const Geom& g, const float* dy, const float* w, float* dx, int64_t n, int64_t gr,
                        int64_t threads) {
  float* dxg = dx + (n * g.cin + gr * g.cin_g) * g.hw;
  const float* dyg = dy + (n * g.cout + gr * g.cout_g) * g.p;
  const float* wg = w + gr * g.cout_g * g.k;
  const StridedA a{wg, 1, g.k};
  const RowMajorB b{{dyg, g.p}};
  if (g.pointwise) {
    gemm_split(g.k, g.p, g.cout_g, threads, a, b, RowMajorStore{dxg, g.p, false});
    return;
  }
  // "Same"-size stride-1 convolutions: a forward convolution, with deep
  // GEMMs and no scatter. (With few input channels the GEMM has too few rows;
  // with much larger outputs than inputs it multiplies mostly padding.)
  if (flip_and_forward(g, 1)) {
    const Geom t = transposed_geom(g);
    conv_gemm(t, dyg, flipped_weight(g, wg), dxg, true, threads);
    return;
  }
  // Column gradients scattered into dx (col2im). Rows of one input channel
  // scatter into that channel only: split the rows by channel.
  threads = std::min(threads, g.cin_g);
  const auto by_channel = [&](const auto& run) {
    if (threads <= 1) {
      run(0, g.k);
      return;
    }
    const int64_t per_channel = g.kh * g.kw;
    parallel_for(threads, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        run(g.cin_g * t / threads * per_channel, g.cin_g * (t + 1) / threads * per_channel);
    });
  };
  const Col2imStore st{g, dxg, 0};
  by_channel([&](int64_t i0, int64_t i1) { gemm(i0, i1, 0, g.p, g.cout_g, a, b, st); });
}

/// dW_g += dy_g · im2col(x_g)ᵀ.
void backward_weight_one(const Geom& g, const float* x, const float* dy, float* dw, int64_t n, int64_t gr,
                         int64_t threads) {
  const float* xg = x + (n * g.cin + gr * g.cin_g) * g.hw;
  const PhasedInput in = phase_input(g, xg, 0, 1);
  gemm_split(g.cout_g, g.k, g.p, threads, StridedA{dy + (n * g.cout + gr * g.cout_g) * g.p, g.p, 1},
             TransposedB<PhasedRows>{{g, in}}, RowMajorStore{dw + gr * g.cout_g * g.k, g.k, false});
}

/// Runs fn(n, group, threads) for every example and group: in parallel over
/// them when there are at least as many as threads, else one after another
/// with each GEMM split over the threads.
template <class Fn>
void for_each_item(const Geom& g, int64_t gemm_m, int64_t gemm_n, int64_t gemm_k, const Fn& fn) {
  const int64_t items = g.n * g.groups;
  const int64_t threads = gemm_threads(gemm_m, gemm_n, gemm_k);
  if (items >= threads) {
    parallel_for(items, [&](int64_t begin, int64_t end) {
      for (int64_t it = begin; it < end; ++it) fn(it / g.groups, it % g.groups, int64_t(1));
    });
  } else {
    for (int64_t it = 0; it < items; ++it) fn(it / g.groups, it % g.groups, threads);
  }
}

// ---- whole batches ----------------------------------------------------------------

/// One GEMM per group over the whole batch (columns or depth over all
/// examples' positions) rather than one per example and group: for batches
/// whose groups have enough channels to fill the micro-kernel's rows.
bool batched(const Geom& g) { return g.n > 1 && (g.groups == 1 || g.cout_g >= 32); }

void forward_batch(const Geom& g, const float* x, const float* w, const float* b, float* y,
                   const detail::Finish& after) {
  const int64_t cols = g.n * g.p;
  const int64_t threads = gemm_threads(g.cout_g, cols, g.k);
  for (int64_t gr = 0; gr < g.groups; ++gr) {
    const PhasedInput in = phase_input(g, x + gr * g.cin_g * g.hw, g.cin * g.hw, g.n);
    const int64_t at = gr * g.cout_g * g.p;
    detail::Finish group_after = after;
    if (after.residual) group_after.residual += at;
    const StridedA a{w + gr * g.cout_g * g.k, g.k, 1};
    const BatchStore store{y + at, g.p, g.cout * g.p, true, b ? b + gr * g.cout_g : nullptr, group_after};
    with_im2col_b(g, in, [&](const auto& pack_b) { gemm_split(g.cout_g, cols, g.k, threads, a, pack_b, store); });
  }
}

/// y = relu?(y + residual) over whole output planes: the epilogue of the
/// paths that do not apply it in their stores.
void finish_planes(const Geom& g, float* y, const detail::Finish& after) {
  detail::finish_planes(y, g.n * g.cout, g.p, g.cout, after);
}

/// Zeroes dx (n · cin · hw floats), over the threads when large.
void zero_input_gradient(const Geom& g, float* dx) {
  const int64_t planes = g.n * g.cin;
  detail::over_rows(planes, planes * g.hw, detail::kSplitFloats,
                    [&](int64_t i0, int64_t i1) { std::fill(dx + i0 * g.hw, dx + i1 * g.hw, 0.0f); });
}

/// With `after` (pointwise only, overwriting) applied in the GEMM's stores.
void backward_input_batch(const Geom& g, const float* dy, const float* w, float* dx, bool overwrite,
                          const detail::Finish& after = {}) {
  const int64_t cols = g.n * g.p;
  const int64_t xstride = g.cin * g.hw, ystride = g.cout * g.p;
  int64_t threads = gemm_threads(g.k, cols, g.cout_g);
  if (overwrite && !g.pointwise && !flip_and_forward(g, g.n)) {  // col2im below adds into dx
    zero_input_gradient(g, dx);
    overwrite = false;
  }
  for (int64_t gr = 0; gr < g.groups; ++gr) {
    float* dxg = dx + gr * g.cin_g * g.hw;
    const float* dyg = dy + gr * g.cout_g * g.p;
    const float* wg = w + gr * g.cout_g * g.k;
    const StridedA a{wg, 1, g.k};
    const BatchedRowB b{dyg, g.p, ystride};
    if (g.pointwise) {
      detail::Finish group_after = after;  // channels from the group's first
      if (after.gate) group_after.gate += gr * g.cin_g * g.hw;
      if (after.scale) group_after.scale += gr * g.cin_g;
      gemm_split(g.k, cols, g.cout_g, threads, a, b, BatchStore{dxg, g.hw, xstride, overwrite, nullptr, group_after});
      continue;
    }
    if (flip_and_forward(g, g.n)) {
      Geom t = transposed_geom(g);
      t.n = g.n;
      const PhasedInput in = phase_input(t, dyg, ystride, g.n);
      const BatchStore st{dxg, t.p, xstride, overwrite};
      if (split_reads_a_in_place(t.cout_g, g.n * t.p, t.k, threads))
        gemm_split(t.cout_g, g.n * t.p, t.k, threads, flipped_weight(g, wg), PhasedB{t, in}, st);
      else
        gemm_split(t.cout_g, g.n * t.p, t.k, threads, FlippedA{wg, g.cin_g, g.kh * g.kw}, PhasedB{t, in}, st);
      continue;
    }
    // col2im: rows of one input channel scatter into that channel only, and
    // the columns of one example into that example only. Split the rows by
    // channel, or the columns by example when the examples share out more
    // evenly (a stem's 3 colour channels put 2 on one of two threads and
    // took 1.4x the time of a split over 16 examples; one grey channel
    // cannot be split at all). The weight is then packed on every thread,
    // which only pays for such small channel counts.
    // The split is fixed by the geometry (two items for products worth
    // splitting), not by the thread count: the items' GEMMs then add into
    // dx in the same order on any number of threads (splitting by the
    // thread count gave other bits at 3 threads than at 1 or 2).
    const Col2imStore st{g, dxg, xstride};
    const int64_t per_channel = g.kh * g.kw;
    const auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
    const int64_t items = g.k * cols * g.cout_g >= (int64_t(1) << 20) ? 2 : 1;
    if (items <= 1) {
      gemm(0, g.k, 0, cols, g.cout_g, a, b, st);
      continue;
    }
    if (ceil_div(g.n, items) * g.cin_g < ceil_div(g.cin_g, items) * g.n) {
      const int64_t chunks = std::min(items, g.n);
      parallel_for(chunks, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t)
          gemm(0, g.k, g.n * t / chunks * g.p, g.n * (t + 1) / chunks * g.p, g.cout_g, a, b, st);
      });
      continue;
    }
    const int64_t parts = std::min(items, g.cin_g);
    parallel_for(parts, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        gemm(g.cin_g * t / parts * per_channel, g.cin_g * (t + 1) / parts * per_channel, 0, cols, g.cout_g, a, b,
             st);
    });
  }
}

/// The input gradient of a strided convolution: col2im into a phased copy of
/// dx (PhasedCol2imStore), then added into dx. The work goes in items of
/// input channels × examples fixed by the geometry alone: items write
/// disjoint parts of dx, and every element's sum runs in the same order
/// whatever the thread count.
void backward_input_phased(const Geom& g, const float* dy, const float* w, float* dx) {
  const int64_t hp = g.h + g.pt + g.pb, wp = g.w + g.pl + g.pr;
  const int64_t hq = (hp + g.sh - 1) / g.sh, wq = (wp + g.sw - 1) / g.sw;
  const int64_t plane = hq * wq, phases = g.sh * g.sw, khw = g.kh * g.kw;
  thread_local std::vector<int64_t> offsets;
  offsets.resize(static_cast<size_t>(g.k));
  phase_offsets(g, plane, wq, offsets.data());
  PhasedInput layout;
  layout.es = g.cin_g * phases * plane;
  layout.wq = wq;
  layout.off = offsets.data();
  float* base = pack_buffer(2, g.n * layout.es);
  layout.base = base;
  // Items: whole examples, about NC_WIDE columns each, and the channels in as
  // few chunks as make 4 items (each item packs its own A block rows for
  // every B block and its own B block for every A block: ResNet-18's
  // 256→512 layer at 8² took 1.3× as long with 16 chunks of 16 channels).
  const auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  const int64_t ec = std::max<int64_t>(1, NC_WIDE / g.p), echunks = ceil_div(g.n, ec);
  const int64_t cc = ceil_div(g.cin_g, std::min(g.cin_g, ceil_div(4, echunks)));
  const int64_t cchunks = ceil_div(g.cin_g, cc), items = echunks * cchunks;
  const int64_t xstride = g.cin * g.hw, ystride = g.cout * g.p;
  const int64_t threads = gemm_threads(g.k, g.n * g.p, g.cout_g);
  for (int64_t gr = 0; gr < g.groups; ++gr) {
    float* dxg = dx + gr * g.cin_g * g.hw;
    const StridedA a{w + gr * g.cout_g * g.k, 1, g.k};
    const BatchedRowB b{dy + gr * g.cout_g * g.p, g.p, ystride};
    const PhasedCol2imStore st{g, layout, base};
    const auto run = [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t c0 = t % cchunks * cc, c1 = std::min(g.cin_g, c0 + cc);
        const int64_t e0 = t / cchunks * ec, e1 = std::min(g.n, e0 + ec);
        for (int64_t e = e0; e < e1; ++e)
          std::fill(base + e * layout.es + c0 * phases * plane, base + e * layout.es + c1 * phases * plane, 0.0f);
        gemm(c0 * khw, c1 * khw, e0 * g.p, e1 * g.p, g.cout_g, a, b, st);
        unphase(g, layout, plane, e0, e1, c0, c1, dxg, xstride);
      }
    };
    if (threads > 1)
      parallel_for(items, run);
    else
      run(0, items);
  }
}

/// Strided input gradients through a phased copy of dx (backward_input_phased)
/// when output rows are at least a panel wide, so that a tile row lands in one
/// or two runs. With narrower rows a tile row is two to four masked adds (a
/// profile puts the time on their loads, probably waiting for the previous
/// runs' masked stores): on Zen 4 ResNet's 3×3 stride-2 layers at 8² and 4²
/// outputs took up to 1.35× as long as scattering into dx element by element
/// (Col2imStore); at 16² and wider (a stem, 32² inputs) the phased copy took
/// 0.75–0.9× as long.
bool phased_col2im(const Geom& g) { return g.wo >= NR; }

/// 1×1 convolutions with a stride and no padding read (forward) or write
/// (input gradient) only every sh-th row and sw-th column of the input: they
/// run as stride-1 1×1 convolutions (plain GEMMs) of the subsampled input,
/// gathered into or scattered from a compact copy.
bool subsampled_pointwise(const Geom& g) {
  return g.kh == 1 && g.kw == 1 && (g.sh > 1 || g.sw > 1) && g.pt == 0 && g.pl == 0 && g.pb == 0 && g.pr == 0;
}

Geom subsampled_geom(const Geom& g) {
  Geom s = g;
  s.h = g.ho;
  s.w = g.wo;
  s.hw = g.p;
  s.sh = s.sw = s.dh = s.dw = 1;
  s.pointwise = true;
  return s;
}

struct Subsampled;  // scratch tag: the compact copy
float* subsampled_buffer(int64_t n) { return detail::thread_scratch<Subsampled, 1>(0, n); }

/// compact[e, c, i, j] = x[e, c, i·sh, j·sw] (gather), or x[...] += compact[...].
void subsample(const Geom& g, const float* x, float* compact) {
  const auto run = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t oh = 0; oh < g.ho; ++oh) {
        const float* s = x + i * g.hw + oh * g.sh * g.w;
        float* d = compact + i * g.p + oh * g.wo;
        for (int64_t ow = 0; ow < g.wo; ++ow) d[ow] = s[ow * g.sw];
      }
  };
  detail::over_rows(g.n * g.cin, g.n * g.cin * g.p, detail::kSplitFloats, run);
}

void upsample_add(const Geom& g, const float* compact, float* x) {
  const auto run = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t oh = 0; oh < g.ho; ++oh) {
        float* d = x + i * g.hw + oh * g.sh * g.w;
        const float* s = compact + i * g.p + oh * g.wo;
        for (int64_t ow = 0; ow < g.wo; ++ow) d[ow * g.sw] += s[ow];
      }
  };
  detail::over_rows(g.n * g.cin, g.n * g.cin * g.p, detail::kSplitFloats, run);
}

void backward_weight_batch(const Geom& g, const float* x, const float* dy, float* dw) {
  const int64_t depth = g.n * g.p;
  const int64_t threads = gemm_threads(g.cout_g, g.k, depth);
  for (int64_t gr = 0; gr < g.groups; ++gr) {
    const PhasedInput in = phase_input(g, x + gr * g.cin_g * g.hw, g.cin * g.hw, g.n);
    gemm_split(g.cout_g, g.k, depth, threads, BatchedA{dy + gr * g.cout_g * g.p, g.p, g.cout * g.p},
               TransposedB<PhasedRows>{{g, in}}, RowMajorStore{dw + gr * g.cout_g * g.k, g.k, false});
  }
}

/// Depthwise convolutions (one input channel per group) run directly.
bool is_depthwise(const Geom& g) { return g.groups > 1 && g.cin_g == 1; }

depthwise::Geometry depthwise_geometry(const Geom& g) {
  return {g.n, g.cin, g.cout_g, g.h, g.w, g.ho, g.wo, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw};
}

/// 3×3, stride-1, undilated, ungrouped: the shapes Winograd's F(4×4, 3×3) and F(2×2, 3×3) cover.
bool winograd_shape(const Geom& g) {
  return g.groups == 1 && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1;
}

winograd::Geometry winograd_forward(const Geom& g) { return {g.n, g.cin, g.cout, g.h, g.w, g.ho, g.wo, g.pt, g.pl}; }

/// The input gradient as the convolution of dy with the flipped, transposed
/// weight and padding 2 − pad (see transposed_geom).
winograd::Geometry winograd_backward_input(const Geom& g) {
  return {g.n, g.cout, g.cin, g.ho, g.wo, g.h, g.w, 2 - g.pt, 2 - g.pl};
}

taps::Geometry taps_forward(const Geom& g) {
  return {g.n, g.cin, g.cout, g.h, g.w, g.ho, g.wo, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw};
}

/// The input gradient of a stride-1 convolution as the convolution of dy with
/// the flipped, transposed weight (see transposed_geom).
taps::Geometry taps_backward_input(const Geom& g) {
  return {g.n, g.cout, g.cin, g.ho, g.wo, g.h, g.w, g.kh, g.kw, 1, 1, (g.kh - 1) * g.dh - g.pt, (g.kw - 1) * g.dw - g.pl,
          g.dh, g.dw};
}

/// Ungrouped convolutions whose outputs are small enough that most of a
/// direct convolution's products would be with padding (conv_taps.hpp).
bool by_taps(const Geom& g) { return g.groups == 1 && taps::worthwhile(taps_forward(g)); }
bool by_taps_backward(const Geom& g) {
  return g.groups == 1 && g.sh == 1 && g.sw == 1 && taps::worthwhile(taps_backward_input(g));
}

void forward_impl(const Geom& g, const float* x, const float* w, const float* b, float* y,
                  const detail::Finish& after) {
  if (subsampled_pointwise(g)) {
    float* compact = subsampled_buffer(g.n * g.cin * g.p);
    subsample(g, x, compact);
    forward_impl(subsampled_geom(g), compact, w, b, y, after);
    return;
  }
  if (by_taps(g)) {
    taps::convolve(taps_forward(g), x, w, false, b, y, false);
    finish_planes(g, y, after);
    return;
  }
  if (winograd_shape(g) && winograd::worthwhile(winograd_forward(g))) {
    winograd::convolve(winograd_forward(g), x, w, false, b, y, false, after);
    return;
  }
  if (is_depthwise(g)) {
    depthwise::forward(depthwise_geometry(g), x, w, b, y);
    finish_planes(g, y, after);
    return;
  }
  if (batched(g)) {
    forward_batch(g, x, w, b, y, after);
    return;
  }
  for_each_item(g, g.cout_g, g.p, g.k, [&](int64_t n, int64_t gr, int64_t threads) {
    forward_one(g, x, w, b, y, n, gr, threads, after);
  });
}

/// dx += (or, with `overwrite`, =) the input gradient. The paths that write
/// every element of dx once per GEMM (Winograd, tap by tap, pointwise and
/// flipped-weight GEMMs) overwrite in their stores; the scattering ones
/// (col2im, depthwise) add into dx zeroed first.
void backward_input_impl(const Geom& g, const float* dy, const float* w, float* dx, bool overwrite,
                         const detail::Finish& after = {}) {
  // `after` (an input gradient's finish, only with `overwrite`) goes into the
  // stores of Winograd's and the pointwise GEMM's paths, the ones that
  // matter; the others apply it in one pass over dx at the end.
  bool finished = false;
  if (by_taps_backward(g)) {
    taps::convolve(taps_backward_input(g), dy, w, true, nullptr, dx, !overwrite);
  } else if (winograd_shape(g) && winograd::worthwhile(winograd_backward_input(g))) {
    winograd::convolve(winograd_backward_input(g), dy, w, true, nullptr, dx, !overwrite, after);
    finished = true;
  } else if (subsampled_pointwise(g)) {
    float* compact = subsampled_buffer(g.n * g.cin * g.p);
    backward_input_impl(subsampled_geom(g), dy, w, compact, true);
    if (overwrite) zero_input_gradient(g, dx);
    upsample_add(g, compact, dx);
  } else if (is_depthwise(g)) {
    depthwise::backward_input(depthwise_geometry(g), dy, w, dx, overwrite);
  } else if ((g.sh > 1 || g.sw > 1) && phased_col2im(g)) {
    if (overwrite) zero_input_gradient(g, dx);
    backward_input_phased(g, dy, w, dx);
  } else if (batched(g)) {
    finished = g.pointwise;
    backward_input_batch(g, dy, w, dx, overwrite, finished ? after : detail::Finish{});
  } else {
    if (overwrite) zero_input_gradient(g, dx);
    for_each_item(g, g.k, g.p, g.cout_g, [&](int64_t n, int64_t gr, int64_t threads) {
      backward_input_one(g, dy, w, dx, n, gr, threads);
    });
  }
  if (!finished) detail::finish_planes(dx, g.n * g.cin, g.hw, g.cin, after);
}

/// db[o] += Σ over examples [n0, n1) and positions of dy[n, o, ·].
void bias_grad(const Geom& g, const float* dy, int64_t n0, int64_t n1, float* db) {
  for (int64_t n = n0; n < n1; ++n)
    for (int64_t o = 0; o < g.cout; ++o) {
      const float* row = dy + (n * g.cout + o) * g.p;
      double s = 0.0;  // large planes: keep the sum accurate
      for (int64_t i = 0; i < g.p; ++i) s += row[i];
      db[o] += static_cast<float>(s);
    }
}

void backward_params_impl(const Geom& g, const float* x, const float* dy, float* dw, float* db) {
  if ((!dw && !db) || g.n == 0) return;
  if (is_depthwise(g) || batched(g)) {
    if (dw && is_depthwise(g)) depthwise::backward_weight(depthwise_geometry(g), x, dy, dw);
    if (dw && !is_depthwise(g)) backward_weight_batch(g, x, dy, dw);
    if (db) bias_grad(g, dy, 0, g.n, db);
    return;
  }
  const int64_t chunks = g.n > 1 && !in_parallel() ? std::min<int64_t>(g.n, num_threads()) : 1;
  if (chunks <= 1) {
    // One example (or no threads): groups write disjoint rows of dW.
    if (dw) for_each_item(g, g.cout_g, g.k, g.p, [&](int64_t n, int64_t gr, int64_t threads) {
      backward_weight_one(g, x, dy, dw, n, gr, threads);
    });
    if (db) bias_grad(g, dy, 0, g.n, db);
    return;
  }
  // Examples in chunks: chunk 0 accumulates in place, the others into private
  // partial sums added in chunk order afterwards (deterministic for a given
  // thread count).
  const int64_t wsize = dw ? g.cout * g.k : 0;
  const int64_t bsize = db ? g.cout : 0;
  thread_local std::vector<Tensor> partials;
  if (static_cast<int64_t>(partials.size()) < chunks) partials.resize(static_cast<size_t>(chunks));
  for (int64_t c = 1; c < chunks; ++c) partials[static_cast<size_t>(c)].resize(Shape{wsize + bsize}, true);
  std::vector<Tensor>& parts = partials;
  parallel_for(chunks, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t n0 = g.n * c / chunks, n1 = g.n * (c + 1) / chunks;
      float* pdw = dw;
      float* pdb = db;
      if (c > 0) {
        float* base = parts[static_cast<size_t>(c)].data();
        pdw = dw ? base : nullptr;
        pdb = db ? base + wsize : nullptr;
      }
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t gr = 0; gr < g.groups && pdw; ++gr) backward_weight_one(g, x, dy, pdw, n, gr, 1);
      if (pdb) bias_grad(g, dy, n0, n1, pdb);
    }
  });
  for (int64_t c = 1; c < chunks; ++c) {
    const float* base = parts[static_cast<size_t>(c)].data();
    for (int64_t i = 0; i < wsize; ++i) dw[i] += base[i];
    for (int64_t i = 0; i < bsize; ++i) db[i] += base[wsize + i];
  }
}

void require_shape(const Tensor& t, const Shape& expected, const std::string& where, const char* what) {
  if (t.shape() != expected)
    throw ShapeError(where + ": " + what + " " + t.shape().str() + ", expected " + expected.str());
}

void check_bias(const Tensor* b, int64_t cout, const std::string& where) {
  if (b && b->shape() != Shape{cout})
    throw ShapeError(where + ": bias " + b->shape().str() + ", expected [" + str(cout) + "]");
}

Geom geom2d(const Shape& x, const Shape& w, const Shape& y, const Conv2dConfig& c) {
  return make_geom(x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3], c);
}

Geom geom1d(const Shape& x, const Shape& w, const Shape& y, const Conv1dConfig& c) {
  return make_geom(x[0], x[1], 1, x[2], w[0], 1, w[2], 1, y[2], c.as_2d());
}

}  // namespace

int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before,
                         int64_t pad_after, int64_t dilation) {
  const int64_t span = in + pad_before + pad_after - dilation * (kernel - 1) - 1;
  if (span < 0 || stride < 1) return 0;
  return span / stride + 1;
}

void validate(const Conv2dConfig& c, const std::string& where) {
  for (int i = 0; i < 2; ++i) {
    if (c.stride[static_cast<size_t>(i)] < 1)
      throw ValueError(where + ": stride " + dims_str(c.stride.data(), 2) + ", expected >= 1");
    if (c.dilation[static_cast<size_t>(i)] < 1)
      throw ValueError(where + ": dilation " + dims_str(c.dilation.data(), 2) + ", expected >= 1");
  }
  for (int64_t p : c.pads)
    if (p < 0)
      throw ValueError(where + ": pads {" + str(c.pads[0]) + "," + str(c.pads[1]) + "," + str(c.pads[2]) +
                       "," + str(c.pads[3]) + "}, expected >= 0");
  if (c.groups < 1) throw ValueError(where + ": groups " + str(c.groups) + ", expected >= 1");
}

void validate(const Conv1dConfig& c, const std::string& where) {
  if (c.stride < 1) throw ValueError(where + ": stride " + str(c.stride) + ", expected >= 1");
  if (c.dilation < 1) throw ValueError(where + ": dilation " + str(c.dilation) + ", expected >= 1");
  if (c.pad_left < 0 || c.pad_right < 0)
    throw ValueError(where + ": pads {" + str(c.pad_left) + "," + str(c.pad_right) + "}, expected >= 0");
  if (c.groups < 1) throw ValueError(where + ": groups " + str(c.groups) + ", expected >= 1");
}

Shape conv2d_output_shape(const Shape& x, const Shape& weight, const Conv2dConfig& c,
                          const std::string& where) {
  validate(c, where);
  const int64_t before[2] = {c.pads[0], c.pads[1]};
  const int64_t after[2] = {c.pads[2], c.pads[3]};
  return output_shape(x, weight, 2, c.stride.data(), before, after, c.dilation.data(), c.groups, where);
}

Shape conv1d_output_shape(const Shape& x, const Shape& weight, const Conv1dConfig& c,
                          const std::string& where) {
  validate(c, where);
  return output_shape(x, weight, 1, &c.stride, &c.pad_left, &c.pad_right, &c.dilation, c.groups, where);
}

// ---- 2-D -------------------------------------------------------------------------

void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dConfig& c,
                    Tensor& y, const ConvEpilogue& after) {
  const std::string where = "conv2d";
  const Shape ys = conv2d_output_shape(x.shape(), weight.shape(), c, where);
  require_shape(y, ys, where, "output");
  check_bias(bias, weight.dim(0), where);
  if (!(after.clip_max >= 0.0f) || (after.relu && after.clip_max > 0.0f))
    throw ValueError(where + ": clip_max " + std::to_string(after.clip_max) +
                     (after.relu ? " with relu" : "") + ", expected 0 (no clip), or > 0 without relu");
  detail::Finish finish{nullptr, after.relu, after.clip_max};
  if (after.residual) {
    require_shape(*after.residual, ys, where, "residual");
    if (after.residual->data() == y.data()) throw ValueError(where + ": the residual may not be the output itself");
    finish.residual = after.residual->data();
  }
  forward_impl(geom2d(x.shape(), weight.shape(), ys, c), x.data(), weight.data(),
               bias ? bias->data() : nullptr, y.data(), finish);
}

void conv2d_backward_input(const Tensor& dy, const Tensor& weight, const Conv2dConfig& c, Tensor& dx, bool overwrite) {
  const std::string where = "conv2d backward";
  const Shape ys = conv2d_output_shape(dx.shape(), weight.shape(), c, where);
  require_shape(dy, ys, where, "output gradient");
  backward_input_impl(geom2d(dx.shape(), weight.shape(), ys, c), dy.data(), weight.data(), dx.data(), overwrite);
}

void conv2d_backward_input(const Tensor& dy, const Tensor& weight, const Conv2dConfig& c, Tensor& dx,
                           const ConvGradientEpilogue& after) {
  const std::string where = "conv2d backward";
  const Shape ys = conv2d_output_shape(dx.shape(), weight.shape(), c, where);
  require_shape(dy, ys, where, "output gradient");
  detail::Finish finish;
  if (after.gate) {
    require_shape(*after.gate, dx.shape(), where, "gate");
    if (after.gate->data() == dx.data()) throw ValueError(where + ": the gate may not be the input gradient itself");
    finish.gate = after.gate->data();
  }
  if (after.scale) {
    require_shape(*after.scale, Shape{dx.dim(1)}, where, "scale");
    finish.scale = after.scale->data();
  }
  backward_input_impl(geom2d(dx.shape(), weight.shape(), ys, c), dy.data(), weight.data(), dx.data(), true, finish);
}

void conv2d_backward_params(const Tensor& x, const Tensor& dy, const Conv2dConfig& c, Tensor* dweight,
                            Tensor* dbias) {
  if (!dweight && !dbias) return;
  const std::string where = "conv2d backward";
  // Without dweight the kernel size is unknown; only the bias sum is needed.
  if (!dweight) {
    if (dy.rank() != 4) throw ShapeError(where + ": output gradient " + dy.shape().str() + ", expected rank 4");
    check_bias(dbias, dy.dim(1), where);
    const Geom g = make_geom(dy.dim(0), dy.dim(1), 1, 1, dy.dim(1), 1, 1, dy.dim(2), dy.dim(3), Conv2dConfig{});
    backward_params_impl(g, nullptr, dy.data(), nullptr, dbias->data());
    return;
  }
  const Shape ys = conv2d_output_shape(x.shape(), dweight->shape(), c, where);
  require_shape(dy, ys, where, "output gradient");
  check_bias(dbias, ys[1], where);
  backward_params_impl(geom2d(x.shape(), dweight->shape(), ys, c), x.data(), dy.data(), dweight->data(),
                       dbias ? dbias->data() : nullptr);
}

// ---- 1-D -------------------------------------------------------------------------

void conv1d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv1dConfig& c,
                    Tensor& y) {
  const std::string where = "conv1d";
  const Shape ys = conv1d_output_shape(x.shape(), weight.shape(), c, where);
  require_shape(y, ys, where, "output");
  check_bias(bias, weight.dim(0), where);
  forward_impl(geom1d(x.shape(), weight.shape(), ys, c), x.data(), weight.data(),
               bias ? bias->data() : nullptr, y.data(), {});
}

void conv1d_backward_input(const Tensor& dy, const Tensor& weight, const Conv1dConfig& c, Tensor& dx, bool overwrite) {
  const std::string where = "conv1d backward";
  const Shape ys = conv1d_output_shape(dx.shape(), weight.shape(), c, where);
  require_shape(dy, ys, where, "output gradient");
  backward_input_impl(geom1d(dx.shape(), weight.shape(), ys, c), dy.data(), weight.data(), dx.data(), overwrite);
}

void conv1d_backward_params(const Tensor& x, const Tensor& dy, const Conv1dConfig& c, Tensor* dweight,
                            Tensor* dbias) {
  if (!dweight && !dbias) return;
  const std::string where = "conv1d backward";
  if (!dweight) {
    if (dy.rank() != 3) throw ShapeError(where + ": output gradient " + dy.shape().str() + ", expected rank 3");
    check_bias(dbias, dy.dim(1), where);
    const Geom g = make_geom(dy.dim(0), dy.dim(1), 1, 1, dy.dim(1), 1, 1, 1, dy.dim(2), Conv2dConfig{});
    backward_params_impl(g, nullptr, dy.data(), nullptr, dbias->data());
    return;
  }
  const Shape ys = conv1d_output_shape(x.shape(), dweight->shape(), c, where);
  require_shape(dy, ys, where, "output gradient");
  check_bias(dbias, ys[1], where);
  backward_params_impl(geom1d(x.shape(), dweight->shape(), ys, c), x.data(), dy.data(), dweight->data(),
                       dbias ? dbias->data() : nullptr);
}

}  // namespace trim::kernels

// ---- scratch the kernels keep, for memory budgets ----------------------------------

namespace trim::kernels {

namespace {

/// Floats of a phased copy (phase_input) of one example's group input.
int64_t phased_floats(const Geom& g) {
  if (g.pointwise) return 0;  // read in place
  const int64_t hp = g.h + g.pt + g.pb, wp = g.w + g.pl + g.pr;
  return g.cin_g * g.sh * g.sw * ((hp + g.sh - 1) / g.sh) * ((wp + g.sw - 1) / g.sw);
}

/// Floats of the buffers (pack_buffer) a convolution of geometry g keeps,
/// over its forward and both backward products: per thread the A block, the
/// B block for the widest GEMM (its columns span the batch's positions up to
/// NC_WIDE) and PanelB's rows, the flipped weight of the input gradient and,
/// on the per-example paths, one example's phased input; once (`shared`)
/// the phased input of the whole batch on the batched paths.
void scratch_floats(const Geom& g, int64_t& per_thread, int64_t& shared) {
  const int64_t cols = std::max({g.n * g.p, g.n * g.hw, g.k});
  const int64_t panels = std::min(NC_WIDE / NR, (cols + NR - 1) / NR);
  per_thread = MC * KC + 8 + b_panel_stride(KC) * panels + 8 * (panels * NR + NR);
  int64_t phased = phased_floats(g);
  if (!g.pointwise && transposed_forward(g)) {  // input gradient as a forward convolution of dy
    per_thread += g.cin_g * g.cout_g * g.kh * g.kw;
    phased = std::max(phased, phased_floats(transposed_geom(g)));
  }
  shared = 0;
  if (batched(g))
    shared = g.n * phased;
  else
    per_thread += phased;
  // A strided input gradient's phased copy of dx (backward_input_phased),
  // or a strided 1×1 convolution's compact copy of the input.
  if (subsampled_pointwise(g))
    shared += g.n * g.cin * g.p;
  else if ((g.sh > 1 || g.sw > 1) && phased_col2im(g))
    shared = std::max(shared, g.n * phased_floats(g));
  // The tap-by-tap path's weight by tap and B panels (conv_taps.hpp).
  int64_t by_tap = 0;
  if (by_taps(g)) by_tap = taps::scratch_floats(taps_forward(g));
  if (by_taps_backward(g)) by_tap = std::max(by_tap, taps::scratch_floats(taps_backward_input(g)));
  shared += by_tap;
  // Winograd's own buffers (tile blocks per thread; the transformed weight
  // and a padded input once), kept by whichever of the forward and the input
  // gradient takes that path (they share them).
  if (winograd_shape(g)) {
    int64_t wt_max = 0, ws_max = 0;
    for (const winograd::Geometry& wg : {winograd_forward(g), winograd_backward_input(g)}) {
      if (!winograd::worthwhile(wg)) continue;
      int64_t wt = 0, ws = 0;
      winograd::scratch_floats(wg, wt, ws);
      wt_max = std::max(wt_max, wt);
      ws_max = std::max(ws_max, ws);
    }
    per_thread += wt_max;
    shared += ws_max;
  }
}

}  // namespace

int64_t conv2d_scratch_floats(const Shape& x, const Shape& weight, const Conv2dConfig& c) {
  Shape xs = x;
  if (xs.rank() == 4 && xs[0] == Shape::free) xs[0] = 1;
  const Shape ys = conv2d_output_shape(xs, weight, c, "conv2d");
  const Geom g = geom2d(xs, weight, ys, c);
  if (is_depthwise(g)) return 0;  // runs directly, without packing
  int64_t per_thread = 0, shared = 0;
  scratch_floats(g, per_thread, shared);
  return per_thread * std::max(1, num_threads()) + shared;
}

int64_t conv1d_scratch_floats(const Shape& x, const Shape& weight, const Conv1dConfig& c) {
  Shape xs = x;
  if (xs.rank() == 3 && xs[0] == Shape::free) xs[0] = 1;
  const Shape ys = conv1d_output_shape(xs, weight, c, "conv1d");
  const Geom g = geom1d(xs, weight, ys, c);
  if (is_depthwise(g)) return 0;
  int64_t per_thread = 0, shared = 0;
  scratch_floats(g, per_thread, shared);
  return per_thread * std::max(1, num_threads()) + shared;
}

}  // namespace trim::kernels
