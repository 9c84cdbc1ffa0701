// The 1-D passes of the wavelet filter banks: extension plans, 16-float
// vector kernels along rows, streamed row combinations along columns (the
// design is described at the top of dwt.cpp, which chains these passes into
// the multilevel transforms).
#include "dwt_passes.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <tuple>

#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"

namespace trim::kernels::detail {

namespace {

constexpr int kLanes = 16;  // floats per unit of work: two AVX registers

int64_t floor_mod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}
int64_t floor_div(int64_t a, int64_t m) { return (a - floor_mod(a, m)) / m; }

// ---- extension plans -------------------------------------------------------------

/// How a line of n stored samples becomes the extended buffer a kernel reads:
/// ext[m] = x̃[m − shift] for m in [0, len). Positions whose index falls in
/// [0, n) are copies; every other position has a recipe: a weighted sum of
/// at most three stored samples (zero terms for zero padding).
enum class Rule {
  Mode,              ///< a PyWavelets mode (not periodization)
  PeriodizationPad,  ///< period n rounded up to even, the pad sample = x[n−1]
  Circular,          ///< period `period` >= n; samples in [n, period) are zero
};

Recipe recipe_for(int64_t i, int64_t n, Rule rule, DwtMode mode, int64_t period) {
  Recipe r;
  auto term = [&r](int64_t idx, float w) {
    r.idx[r.count] = idx;
    r.w[r.count] = w;
    ++r.count;
  };
  if (rule == Rule::PeriodizationPad) {
    const int64_t np = n + (n & 1);
    term(std::min(floor_mod(i, np), n - 1), 1.0f);
    return r;
  }
  if (rule == Rule::Circular) {
    const int64_t q = floor_mod(i, period);
    if (q < n) term(q, 1.0f);
    return r;
  }
  switch (mode) {
    case DwtMode::Zero:
    case DwtMode::Periodization:
      break;
    case DwtMode::Constant:
      term(i < 0 ? 0 : n - 1, 1.0f);
      break;
    case DwtMode::Symmetric: {
      const int64_t q = floor_mod(i, 2 * n);
      term(q < n ? q : 2 * n - 1 - q, 1.0f);
      break;
    }
    case DwtMode::Reflect: {
      const int64_t p = 2 * n - 2, q = floor_mod(i, p);
      term(q < n ? q : p - q, 1.0f);
      break;
    }
    case DwtMode::Periodic:
      term(floor_mod(i, n), 1.0f);
      break;
    case DwtMode::Smooth:
      if (n < 2) {
        term(0, 1.0f);
      } else if (i < 0) {  // x0 + i (x1 − x0)
        term(0, static_cast<float>(1 - i));
        term(1, static_cast<float>(i));
      } else {  // x[n−1] + j (x[n−1] − x[n−2]), j = i − n + 1
        const int64_t j = i - n + 1;
        term(n - 1, static_cast<float>(1 + j));
        term(n - 2, static_cast<float>(-j));
      }
      break;
    case DwtMode::Antisymmetric: {
      const int64_t q = floor_mod(i, 2 * n);
      if (q < n)
        term(q, 1.0f);
      else
        term(2 * n - 1 - q, -1.0f);
      break;
    }
    case DwtMode::Antireflect: {
      // Point reflections about both ends, iterated: a period of 2n − 2 plus
      // a drift of 2 (x[n−1] − x[0]) per period (a ramp stays a ramp).
      const int64_t p = 2 * n - 2, q = floor_div(i, p), s = i - q * p;
      const float drift = static_cast<float>(2 * q);
      if (s < n) {
        term(s, 1.0f);
        term(n - 1, drift);
      } else {
        term(p - s, -1.0f);
        term(n - 1, drift + 2.0f);
      }
      term(0, -drift);
      break;
    }
  }
  return r;
}

ExtPlan make_plan(int64_t n, int64_t len, int64_t shift, Rule rule, DwtMode mode = DwtMode::Zero,
                  int64_t period = 0) {
  ExtPlan e;
  e.len = len;
  e.n = n;
  e.shift = shift;
  e.copy_begin = std::clamp<int64_t>(shift, 0, len);
  e.copy_end = std::clamp<int64_t>(n + shift, e.copy_begin, len);
  for (int64_t m = 0; m < len; ++m) {
    if (m >= e.copy_begin && m < e.copy_end) continue;
    Recipe r = recipe_for(m - shift, n, rule, mode, period);
    r.m = m;
    e.recipes.push_back(r);
  }
  return e;
}

// ---- 16-float vectors ---------------------------------------------------------------------

#if defined(__GNUC__)
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
inline v8 load8(const float* p) { return *reinterpret_cast<const v8u*>(p); }
inline void store8(float* p, v8 v) { *reinterpret_cast<v8u*>(p) = v; }
inline v8 splat8(float c) { return v8{c, c, c, c, c, c, c, c}; }
#else
struct v8 {
  float v[8];
  v8& operator+=(const v8& o) {
    for (int i = 0; i < 8; ++i) v[i] += o.v[i];
    return *this;
  }
  friend v8 operator*(const v8& a, const v8& b) {
    v8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] * b.v[i];
    return r;
  }
};
inline v8 load8(const float* p) {
  v8 r;
  std::memcpy(r.v, p, sizeof r.v);
  return r;
}
inline void store8(float* p, v8 v) { std::memcpy(p, v.v, sizeof v.v); }
inline v8 splat8(float c) { return v8{{c, c, c, c, c, c, c, c}}; }
#endif

/// Two 8-float registers: the unit every kernel computes.
struct V16 {
  v8 a, b;
  static V16 zero() { return {splat8(0.0f), splat8(0.0f)}; }
  static V16 load(const float* p) { return {load8(p), load8(p + 8)}; }
  void store(float* p) const {
    store8(p, a);
    store8(p + 8, b);
  }
  void fma(float c, const V16& x) {
    const v8 cc = splat8(c);
    a += cc * x.a;
    b += cc * x.b;
  }
};

/// Runs fn over [0, n) in parallel when the pass is big enough to pay for
/// the threads.
template <class Fn>
void run_chunks(int64_t n, double work, const Fn& fn) {
  if (n > 1 && work > 1e6)
    parallel_for(n, [&](int64_t b0, int64_t b1) { fn(b0, b1); });
  else
    fn(0, n);
}

/// One line extended: dst[m] for m < E.len (contiguous).
void extend_line(const float* src, int64_t step, const ExtPlan& E, float* dst) {
  if (step == 1)
    std::memcpy(dst + E.copy_begin, src + (E.copy_begin - E.shift),
                sizeof(float) * static_cast<size_t>(E.copy_end - E.copy_begin));
  else
    for (int64_t m = E.copy_begin; m < E.copy_end; ++m) dst[m] = src[(m - E.shift) * step];
  for (const Recipe& r : E.recipes) {
    float v = 0.0f;
    for (int j = 0; j < r.count; ++j) v += r.w[j] * src[r.idx[j] * step];
    dst[r.m] = v;
  }
}

/// Scratch of n floats plus one unit of slack for the last partial unit.
std::vector<float> scratch(int64_t n) { return std::vector<float>(static_cast<size_t>(n + 2 * kLanes), 0.0f); }

/// Half the untrimmed idwt output length for n coefficients.
int64_t synthesis_half(int64_t n, int F, bool per) { return per ? n : n - F / 2 + 1; }

// ---- vertical passes (columns of row-major arrays) -------------------------------------------
//
// A column pass computes whole output rows as combinations of input rows, so
// memory is read and written row by row (contiguous, prefetch-friendly) and
// the 16-float units run along the rows. The extension of the columns is a
// table of row pointers: interior rows and mirrored / periodic rows point
// into the input, zero padding points to a zero row, and only rows that are
// weighted sums (smooth, antisymmetric, antireflect) are materialised.

/// Per image: the extended rows of a column pass.
struct RowTable {
  std::vector<const float*> ptr;  // E.len row pointers
  std::vector<float> store;       // materialised rows
};

bool is_alias(const Recipe& r) { return r.count == 1 && r.w[0] == 1.0f; }

void build_rows(const float* src, int64_t step, int64_t width, const ExtPlan& E, const float* zero, RowTable& t) {
  t.ptr.resize(static_cast<size_t>(E.len));
  for (int64_t m = E.copy_begin; m < E.copy_end; ++m) t.ptr[static_cast<size_t>(m)] = src + (m - E.shift) * step;
  size_t mat = 0;
  for (const Recipe& r : E.recipes)
    if (r.count > 0 && !is_alias(r)) ++mat;
  t.store.resize(mat * static_cast<size_t>(width));
  size_t next = 0;
  for (const Recipe& r : E.recipes) {
    if (r.count == 0) {
      t.ptr[static_cast<size_t>(r.m)] = zero;
    } else if (is_alias(r)) {
      t.ptr[static_cast<size_t>(r.m)] = src + r.idx[0] * step;
    } else {
      float* row = t.store.data() + next++ * static_cast<size_t>(width);
      for (int64_t c = 0; c < width; ++c) row[c] = 0.0f;
      for (int j = 0; j < r.count; ++j) {
        const float* s = src + r.idx[j] * step;
        const float w = r.w[j];
        for (int64_t c = 0; c < width; ++c) row[c] += w * s[c];
      }
      t.ptr[static_cast<size_t>(r.m)] = row;
    }
  }
}

/// Row tables for every image of a column line set (built serially; cheap).
std::vector<RowTable> row_tables(const Lines& L, const ExtPlan& E, const std::vector<float>& zero) {
  if (L.lane != 1 || L.step < L.group) throw Error("dwt: column pass on a non row-major line set");
  std::vector<RowTable> t(static_cast<size_t>(L.count / L.group));
  for (size_t g = 0; g < t.size(); ++g)
    build_rows(L.base + static_cast<int64_t>(g) * L.group_stride, L.step, L.group, E, zero.data(), t[g]);
  return t;
}

float* row_of(const Lines& L, int64_t image, int64_t r) { return L.base + image * L.group_stride + r * L.step; }

/// Output rows per parallel work item.
constexpr int64_t kRowsPerItem = 8;

template <class Fn>
void for_image_rows(int64_t images, int64_t rows, double work, const Fn& fn) {
  const int64_t per = (rows + kRowsPerItem - 1) / kRowsPerItem;
  run_chunks(images * per, work, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t img = i / per, r0 = (i % per) * kRowsPerItem;
      fn(img, r0, std::min(rows, r0 + kRowsPerItem));
    }
  });
}

void vertical_split(const Lines& in, const ExtPlan& E, const float* g0, const float* g1, int F, int64_t step,
                    int64_t dil, int64_t M, const Lines& out0, const Lines& out1) {
  const int64_t W = in.group, images = in.count / in.group;
  const std::vector<float> zero(static_cast<size_t>(W), 0.0f);
  const std::vector<RowTable> tables = row_tables(in, E, zero);
  for_image_rows(images, M, double(in.count) * double(M) * F, [&](int64_t img, int64_t o0, int64_t o1) {
    const float* const* ptr = tables[static_cast<size_t>(img)].ptr.data();
    for (int64_t o = o0; o < o1; ++o) {
      const float* const* p = ptr + step * o;
      float* d0 = row_of(out0, img, o);
      float* d1 = row_of(out1, img, o);
      int64_t c = 0;
      for (; c + kLanes <= W; c += kLanes) {
        V16 lo = V16::zero(), hi = V16::zero();
        for (int k = 0; k < F; ++k) {
          const V16 x = V16::load(p[dil * k] + c);
          lo.fma(g0[k], x);
          hi.fma(g1[k], x);
        }
        lo.store(d0 + c);
        hi.store(d1 + c);
      }
      for (; c < W; ++c) {
        float lo = 0.0f, hi = 0.0f;
        for (int k = 0; k < F; ++k) {
          const float x = p[dil * k][c];
          lo += g0[k] * x;
          hi += g1[k] * x;
        }
        d0[c] = lo;
        d1[c] = hi;
      }
    }
  });
}

void vertical_poly(const Lines& a, const Lines& d, const ExtPlan& E, const PolyTaps& t, int64_t P, int64_t out_len,
                   const Lines& y) {
  const int64_t W = a.group, images = a.count / a.group;
  const std::vector<float> zero(static_cast<size_t>(W), 0.0f);
  const std::vector<RowTable> ta = row_tables(a, E, zero), td = row_tables(d, E, zero);
  const int T = t.T;
  const float *A0 = t.A0.data(), *A1 = t.A1.data(), *B0 = t.B0.data(), *B1 = t.B1.data();
  const int64_t pairs = (out_len + 1) / 2;
  for_image_rows(images, pairs, double(a.count) * double(P) * T * 2, [&](int64_t img, int64_t p0, int64_t p1) {
    const float* const* pa = ta[static_cast<size_t>(img)].ptr.data();
    const float* const* pd = td[static_cast<size_t>(img)].ptr.data();
    for (int64_t p = p0; p < p1; ++p) {
      float* ye = row_of(y, img, 2 * p);
      const bool odd = 2 * p + 1 < out_len;
      float* yo = odd ? row_of(y, img, 2 * p + 1) : nullptr;
      int64_t c = 0;
      for (; c + kLanes <= W; c += kLanes) {
        V16 e = V16::zero(), o = V16::zero();
        for (int k = 0; k < T; ++k) {
          const V16 xa = V16::load(pa[p + k] + c), xd = V16::load(pd[p + k] + c);
          e.fma(A0[k], xa);
          e.fma(B0[k], xd);
          o.fma(A1[k], xa);
          o.fma(B1[k], xd);
        }
        e.store(ye + c);
        if (odd) o.store(yo + c);
      }
      for (; c < W; ++c) {
        float e = 0.0f, o = 0.0f;
        for (int k = 0; k < T; ++k) {
          const float xa = pa[p + k][c], xd = pd[p + k][c];
          e += A0[k] * xa + B0[k] * xd;
          o += A1[k] * xa + B1[k] * xd;
        }
        ye[c] = e;
        if (odd) yo[c] = o;
      }
    }
  });
}

void vertical_dil(const Lines& a, const Lines& d, int64_t N, const ExtPlan& E, const float* G1, const float* G2,
                  int F, int64_t dil, const Lines& y) {
  const int64_t W = a.group, images = a.count / a.group;
  const std::vector<float> zero(static_cast<size_t>(W), 0.0f);
  const std::vector<RowTable> ta = row_tables(a, E, zero), td = row_tables(d, E, zero);
  for_image_rows(images, N, double(a.count) * double(N) * F * 2, [&](int64_t img, int64_t i0, int64_t i1) {
    const float* const* pa = ta[static_cast<size_t>(img)].ptr.data();
    const float* const* pd = td[static_cast<size_t>(img)].ptr.data();
    for (int64_t i = i0; i < i1; ++i) {
      float* yr = row_of(y, img, i);
      int64_t c = 0;
      for (; c + kLanes <= W; c += kLanes) {
        V16 acc = V16::zero();
        for (int k = 0; k < F; ++k) {
          acc.fma(G1[k], V16::load(pa[i + dil * k] + c));
          acc.fma(G2[k], V16::load(pd[i + dil * k] + c));
        }
        acc.store(yr + c);
      }
      for (; c < W; ++c) {
        float acc = 0.0f;
        for (int k = 0; k < F; ++k) acc += G1[k] * pa[i + dil * k][c] + G2[k] * pd[i + dil * k][c];
        yr[c] = acc;
      }
    }
  });
}

}  // namespace

PolyTaps poly_taps(const Wavelet& w, bool per) {
  const int F = w.length();
  const int sh = per ? F / 2 - 1 : F - 2;
  int64_t omin = INT64_MAX, omax = INT64_MIN;
  for (int r = 0; r < 2; ++r)
    for (int k = 0; k < F; ++k)
      if ((r + sh - k) % 2 == 0) {
        omin = std::min<int64_t>(omin, (r + sh - k) / 2);
        omax = std::max<int64_t>(omax, (r + sh - k) / 2);
      }
  PolyTaps t;
  t.omin = omin;
  t.T = static_cast<int>(omax - omin + 1);
  for (auto* v : {&t.A0, &t.A1, &t.B0, &t.B1}) v->assign(static_cast<size_t>(t.T), 0.0f);
  for (int r = 0; r < 2; ++r)
    for (int k = 0; k < F; ++k)
      if ((r + sh - k) % 2 == 0) {
        const size_t i = static_cast<size_t>((r + sh - k) / 2 - omin);
        (r == 0 ? t.A0 : t.A1)[i] = static_cast<float>(w.rec_lo[static_cast<size_t>(k)]);
        (r == 0 ? t.B0 : t.B1)[i] = static_cast<float>(w.rec_hi[static_cast<size_t>(k)]);
      }
  return t;
}

// ---- passes ----------------------------------------------------------------------------

/// One input line set -> two output line sets of M samples:
/// o[j] = Σ_k g[k] ext[step·j + dil·k].
void pass_split(const Lines& in, const ExtPlan& E, const float* g0, const float* g1, int F, int64_t step,
                int64_t dil, int64_t M, const Lines& out0, const Lines& out1) {
  const double work = double(in.count) * double(M) * F;
  if (in.rows()) {
    // Horizontal: one line at a time, 16 outputs per unit. For step 2 the
    // extended line is built directly as its even and odd samples, so tap k
    // reads phase k % 2 at offset k / 2 (dil is 1 then).
    run_chunks(in.count, work, [&](int64_t l0, int64_t l1) {
      const int64_t half = E.len / 2 + 1;
      std::vector<float> ext = scratch(step == 2 ? 2 * half : E.len);
      float* ph[2] = {ext.data(), ext.data() + half};
      std::vector<const float*> bk(static_cast<size_t>(F));
      for (int k = 0; k < F; ++k)
        bk[static_cast<size_t>(k)] = step == 2 ? ph[k % 2] + k / 2 : ext.data() + k * dil;
      const int64_t full = M / kLanes;
      for (int64_t l = l0; l < l1; ++l) {
        const float* src = in.base + in.offset(l);
        if (step == 2) {
          for (int r = 0; r < 2; ++r) {
            float* dst = ph[r];
            const int64_t off = r - E.shift;
            for (int64_t i = (E.copy_begin - r + 1) / 2; 2 * i + r < E.copy_end; ++i) dst[i] = src[2 * i + off];
          }
          for (const Recipe& rc : E.recipes) {
            float v = 0.0f;
            for (int j = 0; j < rc.count; ++j) v += rc.w[j] * src[rc.idx[j]];
            ph[rc.m % 2][rc.m / 2] = v;
          }
        } else {
          extend_line(src, 1, E, ext.data());
        }
        float* d0 = out0.base + out0.offset(l);
        float* d1 = out1.base + out1.offset(l);
        for (int64_t j = 0; j < full; ++j) {
          V16 lo = V16::zero(), hi = V16::zero();
          for (int k = 0; k < F; ++k) {
            const V16 x = V16::load(bk[static_cast<size_t>(k)] + j * kLanes);
            lo.fma(g0[k], x);
            hi.fma(g1[k], x);
          }
          lo.store(d0 + j * kLanes);
          hi.store(d1 + j * kLanes);
        }
        for (int64_t o = full * kLanes; o < M; ++o) {
          float lo = 0.0f, hi = 0.0f;
          for (int k = 0; k < F; ++k) {
            const float x = bk[static_cast<size_t>(k)][o];
            lo += g0[k] * x;
            hi += g1[k] * x;
          }
          d0[o] = lo;
          d1[o] = hi;
        }
      }
    });
    return;
  }
  vertical_split(in, E, g0, g1, F, step, dil, M, out0, out1);
}

/// (a, d) lines of n coefficients -> y lines of out_len (<= 2P) samples.
void pass_poly(const Lines& a, const Lines& d, int64_t n, const PolyTaps& t, bool per, int F, int64_t out_len,
               const Lines& y) {
  const int64_t P = synthesis_half(n, F, per);
  const ExtPlan E = make_plan(n, P + t.T - 1, -t.omin, per ? Rule::Circular : Rule::Mode, DwtMode::Zero, n);
  const double work = double(a.count) * double(P) * t.T * 2;
  const int T = t.T;
  if (a.rows()) {
    // Without an extension (all but periodization) the taps read the
    // coefficient lines themselves.
    const bool direct = E.recipes.empty() && E.shift == 0 && E.copy_end == E.len;
    run_chunks(a.count, work, [&](int64_t l0, int64_t l1) {
      std::vector<float> ea = scratch(E.len), ed = scratch(E.len);
      const int64_t pairs = (out_len + 1) / 2, full = pairs / kLanes;
      for (int64_t l = l0; l < l1; ++l) {
        const float* pa = a.base + a.offset(l);  // direct: shift is 0
        const float* pd = d.base + d.offset(l);
        if (!direct) {
          extend_line(a.base + a.offset(l), 1, E, ea.data());
          extend_line(d.base + d.offset(l), 1, E, ed.data());
          pa = ea.data();
          pd = ed.data();
        }
        float* dst = y.base + y.offset(l);
        alignas(32) float ev[kLanes], od[kLanes];
        for (int64_t j = 0; j < full; ++j) {
          V16 e = V16::zero(), o = V16::zero();
          for (int k = 0; k < T; ++k) {
            const V16 xa = V16::load(pa + j * kLanes + k), xd = V16::load(pd + j * kLanes + k);
            e.fma(t.A0[static_cast<size_t>(k)], xa);
            e.fma(t.B0[static_cast<size_t>(k)], xd);
            o.fma(t.A1[static_cast<size_t>(k)], xa);
            o.fma(t.B1[static_cast<size_t>(k)], xd);
          }
          e.store(ev);
          o.store(od);
          float* q = dst + 2 * j * kLanes;
          const int64_t n_out = std::min<int64_t>(2 * kLanes, out_len - 2 * j * kLanes);
          if (n_out == 2 * kLanes) {
            for (int i = 0; i < kLanes; ++i) {
              q[2 * i] = ev[i];
              q[2 * i + 1] = od[i];
            }
          } else {
            for (int i = 0; 2 * i < n_out; ++i) {
              q[2 * i] = ev[i];
              if (2 * i + 1 < n_out) q[2 * i + 1] = od[i];
            }
          }
        }
        for (int64_t p = full * kLanes; p < pairs; ++p) {
          float e = 0.0f, o = 0.0f;
          for (int k = 0; k < T; ++k) {
            const float xa = pa[p + k], xd = pd[p + k];
            e += t.A0[static_cast<size_t>(k)] * xa + t.B0[static_cast<size_t>(k)] * xd;
            o += t.A1[static_cast<size_t>(k)] * xa + t.B1[static_cast<size_t>(k)] * xd;
          }
          dst[2 * p] = e;
          if (2 * p + 1 < out_len) dst[2 * p + 1] = o;
        }
      }
    });
    return;
  }
  vertical_poly(a, d, E, t, P, out_len, y);
}

/// (a, d) lines of N samples -> y lines of N samples, dilated circular:
/// y[i] = Σ_k G1[k] ã[i + dil·k] + G2[k] d̃[i + dil·k].
void pass_dil(const Lines& a, const Lines& d, int64_t N, const ExtPlan& E, const float* G1, const float* G2, int F,
              int64_t dil, const Lines& y) {
  const double work = double(a.count) * double(N) * F * 2;
  if (a.rows()) {
    run_chunks(a.count, work, [&](int64_t l0, int64_t l1) {
      std::vector<float> ea = scratch(E.len), ed = scratch(E.len);
      const int64_t full = N / kLanes;
      for (int64_t l = l0; l < l1; ++l) {
        extend_line(a.base + a.offset(l), 1, E, ea.data());
        extend_line(d.base + d.offset(l), 1, E, ed.data());
        float* dst = y.base + y.offset(l);
        for (int64_t j = 0; j < full; ++j) {
          V16 acc = V16::zero();
          for (int k = 0; k < F; ++k) {
            acc.fma(G1[k], V16::load(ea.data() + j * kLanes + k * dil));
            acc.fma(G2[k], V16::load(ed.data() + j * kLanes + k * dil));
          }
          acc.store(dst + j * kLanes);
        }
        for (int64_t i = full * kLanes; i < N; ++i) {
          float acc = 0.0f;
          for (int k = 0; k < F; ++k) acc += G1[k] * ea[static_cast<size_t>(i + k * dil)] + G2[k] * ed[static_cast<size_t>(i + k * dil)];
          dst[i] = acc;
        }
      }
    });
    return;
  }
  vertical_dil(a, d, N, E, G1, G2, F, dil, y);
}

Bank bank_of(const Wavelet& w) {
  Bank b;
  b.F = w.length();
  const size_t F = static_cast<size_t>(b.F);
  for (auto* v : {&b.ana_lo, &b.ana_hi, &b.rec_lo, &b.rec_hi, &b.half_rec_lo, &b.half_rec_hi, &b.half_rrec_lo,
                  &b.half_rrec_hi})
    v->resize(F);
  for (size_t k = 0; k < F; ++k) {
    b.ana_lo[k] = static_cast<float>(w.dec_lo[F - 1 - k]);
    b.ana_hi[k] = static_cast<float>(w.dec_hi[F - 1 - k]);
    b.rec_lo[k] = static_cast<float>(w.rec_lo[k]);
    b.rec_hi[k] = static_cast<float>(w.rec_hi[k]);
    b.half_rec_lo[k] = static_cast<float>(0.5 * w.rec_lo[k]);
    b.half_rec_hi[k] = static_cast<float>(0.5 * w.rec_hi[k]);
    b.half_rrec_lo[k] = static_cast<float>(0.5 * w.rec_lo[F - 1 - k]);
    b.half_rrec_hi[k] = static_cast<float>(0.5 * w.rec_hi[F - 1 - k]);
  }
  return b;
}

/// Forward analysis extension of n samples giving M coefficients.
ExtPlan analysis_plan(int64_t n, int F, DwtMode mode, int64_t M) {
  const int64_t len = 2 * (M - 1) + F;
  if (mode == DwtMode::Periodization) return make_plan(n, len, F / 2 - 1, Rule::PeriodizationPad);
  return make_plan(n, len, F - 2, Rule::Mode, mode);
}

/// Extension for the adjoint of synthesis: `stored` (<= the synthesis
/// output) samples of the cotangent, zero beyond, giving n coefficients.
ExtPlan adjoint_plan(int64_t stored, int64_t n, int F, bool per) {
  const int64_t len = 2 * (n - 1) + F;
  if (per) return make_plan(stored, len, F / 2 - 1, Rule::Circular, DwtMode::Zero, 2 * n);
  return make_plan(stored, len, F - 2, Rule::Mode, DwtMode::Zero);
}

ExtPlan circular_plan(int64_t n, int F, int64_t dil, int64_t shift) {
  return make_plan(n, n + dil * (F - 1), shift, Rule::Circular, DwtMode::Zero, n);
}

}  // namespace trim::kernels::detail
