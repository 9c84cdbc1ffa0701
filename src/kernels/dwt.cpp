// Wavelet filter banks (PyWavelets 1.1.1 conventions).
//
// Every transform is a chain of 1-D passes along one axis of a batch of
// lines (a line = one signal, or one row or one column of a row-major
// array), in float32 with 16 floats (two AVX registers) per unit of work:
// - rows and 1-D signals ("horizontal"): each line is extended into a small
//   buffer (built directly as its even and odd samples for the decimating
//   analysis) and the filter computes 16 consecutive outputs at a time;
// - columns ("vertical"): whole output rows are combinations of input rows,
//   so memory is streamed row by row; the extension is a table of row
//   pointers (mirrored and periodic rows alias input rows, zero padding is a
//   zero row, only weighted rows such as smooth's are materialised).
// Boundary rules (the nine modes, periodization's padding of odd lengths,
// the zero / circular padding the adjoints need) are "extension plans": the
// interior is copied, every other position is a recipe of at most three
// weighted samples. The filters themselves have no branches:
//   analysis:  o[j] = Σ_k g[k] e[step·j + dil·k]      (dwt with step 2; swt
//              with step 1 and dil 2^(level−1); and both adjoints)
//   synthesis: y[2p+r] = Σ_t A_r[t] ã[p+t] + B_r[t] d̃[p+t]   (idwt)
//   iswt:      y[i] = Σ_k G1[k] ã[i+s·k] + G2[k] d̃[i+s·k]
// Multilevel drivers read and write "band references" (pointer and strides),
// so the flattened layout and separate per-band tensors share one code path.

#include "trim/kernels/dwt.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <tuple>
#include <unordered_map>

#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"

namespace trim::kernels {

namespace {

constexpr int kLanes = 16;  // floats per unit of work: two AVX registers

const char* const kModeNames[] = {"zero",   "constant",      "symmetric",   "reflect",      "periodic",
                                  "smooth", "antisymmetric", "antireflect", "periodization"};

int64_t floor_mod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}
int64_t floor_div(int64_t a, int64_t m) { return (a - floor_mod(a, m)) / m; }

// ---- wavelet registry ----------------------------------------------------------

struct Registry {
  std::vector<Wavelet> wavelets;
  std::vector<std::string> names;
  std::unordered_map<std::string, size_t> index;
};

const Registry& registry() {
  static const Registry r = [] {
    Registry reg;
    std::size_t count = 0;
    const detail::WaveletTableEntry* table = detail::wavelet_table(count);
    reg.wavelets.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      const auto& e = table[i];
      Wavelet w;
      w.name = e.name;
      w.family = e.family;
      w.orthogonal = e.orthogonal;
      w.biorthogonal = e.biorthogonal;
      const size_t n = static_cast<size_t>(e.length);
      w.dec_lo.assign(e.dec_lo, e.dec_lo + n);
      if (e.rec_lo)
        w.rec_lo.assign(e.rec_lo, e.rec_lo + n);
      else
        w.rec_lo.assign(w.dec_lo.rbegin(), w.dec_lo.rend());
      // PyWavelets' quadrature-mirror relations (exact sign flips).
      w.dec_hi.resize(n);
      w.rec_hi.resize(n);
      for (size_t k = 0; k < n; ++k) {
        w.dec_hi[k] = (k % 2 == 0) ? -w.rec_lo[k] : w.rec_lo[k];
        w.rec_hi[k] = (k % 2 == 0) ? w.dec_lo[k] : -w.dec_lo[k];
      }
      reg.index[w.name] = reg.wavelets.size();
      reg.names.push_back(w.name);
      reg.wavelets.push_back(std::move(w));
    }
    return reg;
  }();
  return r;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

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

struct Recipe {
  int64_t m = 0;
  int count = 0;
  int64_t idx[3] = {0, 0, 0};
  float w[3] = {0, 0, 0};
};

struct ExtPlan {
  int64_t len = 0, n = 0, shift = 0;
  int64_t copy_begin = 0, copy_end = 0;
  std::vector<Recipe> recipes;
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

// ---- lines -------------------------------------------------------------------------------

/// A batch of equally long lines inside a buffer: line l starts at
/// (l / group) * group_stride + (l % group) * lane and its samples are
/// `step` apart. Rows and 1-D signals have step 1 and are processed one line
/// at a time (vectorised along the line); columns have lane 1 and are
/// processed 16 side by side.
struct Lines {
  float* base = nullptr;
  int64_t count = 0, group = 1, lane = 0, group_stride = 0, step = 1;
  int64_t offset(int64_t l) const { return (l / group) * group_stride + (l % group) * lane; }
  bool rows() const { return step == 1; }
};

/// Rows of B row-major arrays of h rows (`rs` floats apart), `stride`
/// floats between arrays.
Lines rows_of(const float* p, int64_t b, int64_t h, int64_t rs, int64_t stride) {
  return {const_cast<float*>(p), b * h, h, rs, stride, 1};
}
/// Columns of B row-major arrays of w columns, rows `rs` floats apart.
Lines cols_of(const float* p, int64_t b, int64_t w, int64_t rs, int64_t stride) {
  return {const_cast<float*>(p), b * w, w, 1, stride, rs};
}
/// B signals `stride` floats apart.
Lines signals_of(const float* p, int64_t b, int64_t stride) { return {const_cast<float*>(p), b, b, stride, 0, 1}; }

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

/// Polyphase synthesis taps: y[2p + r] = Σ_t A_r[t] ã[p + t] + B_r[t] d̃[p + t]
/// where ã[i] = a[i + omin] (circular for periodization). Derived from
/// y[2o + k − shift] += rec[k] c[o] with shift F − 2 (PyWavelets keeps
/// indices F−2 … of the full convolution) or F/2 − 1 (periodization).
struct PolyTaps {
  int64_t omin = 0;
  int T = 0;
  std::vector<float> A0, A1, B0, B1;
};

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

// ---- filters in float, once per call -------------------------------------------------------

struct Bank {
  int F = 0;
  std::vector<float> ana_lo, ana_hi;  ///< dec reversed: c[o] = Σ_k ana[k] ext[2o + k]
  std::vector<float> rec_lo, rec_hi;  ///< rec as is: the adjoint of synthesis
  std::vector<float> half_rec_lo, half_rec_hi;      ///< rec / 2: iswt adjoint
  std::vector<float> half_rrec_lo, half_rrec_hi;    ///< reversed rec / 2: iswt
};

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

int band_index(const WaveletLayout& L, int level, char orientation) {
  for (size_t i = 0; i < L.bands.size(); ++i)
    if (L.bands[i].level == level && L.bands[i].orientation == orientation) return static_cast<int>(i);
  throw Error("wavelet layout: no band " + std::string(1, orientation) + std::to_string(level));
}

int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t v : s) n *= v;
  return n;
}

/// Scratch that is not zeroed: every element is written before it is read.
struct Buffer {
  std::unique_ptr<float[]> p;
  int64_t n = 0;
  float* get(int64_t m) {
    if (m > n) {
      p.reset(new float[static_cast<size_t>(std::max<int64_t>(m, 1))]);
      n = m;
    }
    return p.get();
  }
};

/// Alternating scratch for the approximation between levels.
struct PingPong {
  Buffer buf[2];
  int next = 0;
  float* get(int64_t n) {
    Buffer& b = buf[next];
    next ^= 1;
    return b.get(n);
  }
};

void check_wavelet_layout(const WaveletLayout& L, const Wavelet& w) {
  if (L.sizes.size() != static_cast<size_t>(L.level) + 1 || (L.dims != 1 && L.dims != 2) || w.length() < 2 ||
      L.bands.empty())
    throw ValueError("wavelet layout: inconsistent layout");
}

/// Where one band of every signal lives: element (r, c) of signal s is at
/// p + s·signal_stride + r·row_stride + c (1-D bands: r = 0). The flattened
/// layout and separate per-band tensors are both BandRefs, so the drivers
/// below write the PyWavelets-shaped outputs without an intermediate copy.
struct BandRef {
  float* p = nullptr;
  int64_t signal_stride = 0;
  int64_t row_stride = 0;
};

std::vector<BandRef> flat_refs(const float* c, const WaveletLayout& L) {
  std::vector<BandRef> r;
  for (const WaveletBand& b : L.bands) r.push_back({const_cast<float*>(c) + b.offset, L.size, b.shape.back()});
  return r;
}

/// Copies level-0 "coefficients" (the signal itself) between a band and a
/// contiguous signal buffer, in either direction.
void copy_level0(const WaveletLayout& L, int64_t B, const BandRef& band, float* x, bool to_band) {
  const int64_t rows = L.dims == 2 ? L.input()[0] : 1, cols = L.input().back();
  for (int64_t s = 0; s < B; ++s)
    for (int64_t r = 0; r < rows; ++r) {
      float* bp = band.p + s * band.signal_stride + r * band.row_stride;
      float* xp = x + (s * rows + r) * cols;
      if (to_band)
        std::copy(xp, xp + cols, bp);
      else
        std::copy(bp, bp + cols, xp);
    }
}

Lines band_rows(const BandRef& b, int64_t B, int64_t h) { return rows_of(b.p, B, h, b.row_stride, b.signal_stride); }

/// The same bands `b0` signals further on.
std::vector<BandRef> offset_refs(const std::vector<BandRef>& refs, int64_t b0) {
  std::vector<BandRef> r = refs;
  for (BandRef& b : r) b.p += b0 * b.signal_stride;
  return r;
}

/// Runs fn(b0, b1) over the batch on all threads (one parallel region per
/// transform instead of one per pass) when there are several signals and
/// enough work; the passes inside then run serially. False: not split.
template <class Fn>
bool split_batch(int64_t B, const WaveletLayout& L, const Wavelet& w, const Fn& fn) {
  const double work = double(B) * double(L.input_size()) * w.length() * 4.0;
  if (B < 2 || work < 1e6 || num_threads() < 2 || in_parallel()) return false;
  parallel_for(B, [&](int64_t b0, int64_t b1) { fn(b0, b1); });
  return true;
}

/// Multilevel analysis of B contiguous signals into bands.
void analysis(const float* x, int64_t B, const WaveletLayout& L, const Wavelet& w, const std::vector<BandRef>& out) {
  check_wavelet_layout(L, w);
  if (B <= 0) return;
  if (split_batch(B, L, w, [&](int64_t b0, int64_t b1) {
        analysis(x + b0 * L.input_size(), b1 - b0, L, w, offset_refs(out, b0));
      }))
    return;
  if (L.level == 0) return copy_level0(L, B, out[0], const_cast<float*>(x), true);
  const Bank k = bank_of(w);
  const int F = k.F;
  PingPong pp;
  const BandRef& top = out[0];
  const float* cur = x;
  int64_t cur_stride = L.input_size(), cur_rs = L.input().back();

  if (L.dims == 1) {
    for (int lev = 1; lev <= L.level; ++lev) {
      const int64_t n = L.sizes[lev - 1][0], m = L.sizes[lev][0];
      const bool last = lev == L.level;
      float* a = last ? top.p : pp.get(B * m);
      const int64_t a_stride = last ? top.signal_stride : m;
      const BandRef& D = out[static_cast<size_t>(band_index(L, lev, 'd'))];
      const Lines in = signals_of(cur, B, cur_stride);
      const Lines la = signals_of(a, B, a_stride), ld = signals_of(D.p, B, D.signal_stride);
      if (L.stationary) {
        const int64_t s = int64_t(1) << (lev - 1);
        pass_split(in, circular_plan(n, F, s, s * (F / 2 - 1)), k.ana_lo.data(), k.ana_hi.data(), F, 1, s, n, la, ld);
      } else {
        pass_split(in, analysis_plan(n, F, L.mode, m), k.ana_lo.data(), k.ana_hi.data(), F, 2, 1, m, la, ld);
      }
      cur = a;
      cur_stride = a_stride;
    }
    return;
  }

  Buffer col_a, col_d;
  for (int lev = 1; lev <= L.level; ++lev) {
    const int64_t H = L.sizes[lev - 1][0], W = L.sizes[lev - 1][1];
    const int64_t h = L.sizes[lev][0], w2 = L.sizes[lev][1];
    float* ca = col_a.get(B * h * W);
    float* cd = col_d.get(B * h * W);
    // Axis 0 (columns), then axis 1 (rows), as PyWavelets.
    const Lines in = cols_of(cur, B, W, cur_rs, cur_stride);
    const Lines lca = cols_of(ca, B, W, W, h * W), lcd = cols_of(cd, B, W, W, h * W);
    const int64_t s = int64_t(1) << (lev - 1);
    if (L.stationary)
      pass_split(in, circular_plan(H, F, s, s * (F / 2 - 1)), k.ana_lo.data(), k.ana_hi.data(), F, 1, s, h, lca, lcd);
    else
      pass_split(in, analysis_plan(H, F, L.mode, h), k.ana_lo.data(), k.ana_hi.data(), F, 2, 1, h, lca, lcd);

    const bool last = lev == L.level;
    float* a = last ? top.p : pp.get(B * h * w2);
    const int64_t a_stride = last ? top.signal_stride : h * w2, a_rs = last ? top.row_stride : w2;
    const Lines la = rows_of(a, B, h, a_rs, a_stride);
    const Lines lv = band_rows(out[static_cast<size_t>(band_index(L, lev, 'v'))], B, h);
    const Lines lh = band_rows(out[static_cast<size_t>(band_index(L, lev, 'h'))], B, h);
    const Lines ld = band_rows(out[static_cast<size_t>(band_index(L, lev, 'd'))], B, h);
    const Lines ra = rows_of(ca, B, h, W, h * W), rd = rows_of(cd, B, h, W, h * W);
    if (L.stationary) {
      const ExtPlan E = circular_plan(W, F, s, s * (F / 2 - 1));
      pass_split(ra, E, k.ana_lo.data(), k.ana_hi.data(), F, 1, s, w2, la, lv);
      pass_split(rd, E, k.ana_lo.data(), k.ana_hi.data(), F, 1, s, w2, lh, ld);
    } else {
      const ExtPlan E = analysis_plan(W, F, L.mode, w2);
      pass_split(ra, E, k.ana_lo.data(), k.ana_hi.data(), F, 2, 1, w2, la, lv);
      pass_split(rd, E, k.ana_lo.data(), k.ana_hi.data(), F, 2, 1, w2, lh, ld);
    }
    cur = a;
    cur_stride = a_stride;
    cur_rs = a_rs;
  }
}

/// Multilevel synthesis of bands into B contiguous signals (trimmed to the
/// layout's sizes at every level).
void synthesis(const std::vector<BandRef>& in, int64_t B, const WaveletLayout& L, const Wavelet& w, float* x) {
  check_wavelet_layout(L, w);
  if (B <= 0) return;
  if (split_batch(B, L, w, [&](int64_t b0, int64_t b1) {
        synthesis(offset_refs(in, b0), b1 - b0, L, w, x + b0 * L.input_size());
      }))
    return;
  if (L.level == 0) return copy_level0(L, B, in[0], x, false);
  const Bank k = bank_of(w);
  const int F = k.F;
  const bool per = L.mode == DwtMode::Periodization;
  const PolyTaps taps = L.stationary ? PolyTaps{} : poly_taps(w, per);
  PingPong pp;
  const float* cur = in[0].p;
  int64_t cur_stride = in[0].signal_stride, cur_rs = in[0].row_stride;
  const int64_t in_size = L.input_size();

  if (L.dims == 1) {
    for (int lev = L.level; lev >= 1; --lev) {
      const int64_t n = L.sizes[lev][0], t = L.sizes[lev - 1][0];
      float* y = lev == 1 ? x : pp.get(B * t);
      const int64_t y_stride = lev == 1 ? in_size : t;
      const BandRef& D = in[static_cast<size_t>(band_index(L, lev, 'd'))];
      const Lines la = signals_of(cur, B, cur_stride), ld = signals_of(D.p, B, D.signal_stride);
      const Lines ly = signals_of(y, B, y_stride);
      if (L.stationary) {
        const int64_t s = int64_t(1) << (lev - 1);
        pass_dil(la, ld, n, circular_plan(n, F, s, s * (F / 2)), k.half_rrec_lo.data(), k.half_rrec_hi.data(), F, s,
                 ly);
      } else {
        pass_poly(la, ld, n, taps, per, F, t, ly);
      }
      cur = y;
      cur_stride = y_stride;
    }
    return;
  }

  Buffer row_a, row_d;
  for (int lev = L.level; lev >= 1; --lev) {
    const int64_t h = L.sizes[lev][0], w2 = L.sizes[lev][1];
    const int64_t Ht = L.sizes[lev - 1][0], Wt = L.sizes[lev - 1][1];
    float* ra = row_a.get(B * h * Wt);
    float* rd = row_d.get(B * h * Wt);
    const Lines lra = rows_of(ra, B, h, Wt, h * Wt), lrd = rows_of(rd, B, h, Wt, h * Wt);
    const Lines la = rows_of(cur, B, h, cur_rs, cur_stride);
    const Lines lv = band_rows(in[static_cast<size_t>(band_index(L, lev, 'v'))], B, h);
    const Lines lh = band_rows(in[static_cast<size_t>(band_index(L, lev, 'h'))], B, h);
    const Lines ld = band_rows(in[static_cast<size_t>(band_index(L, lev, 'd'))], B, h);
    float* y = lev == 1 ? x : pp.get(B * Ht * Wt);
    const int64_t y_stride = lev == 1 ? in_size : Ht * Wt;
    const Lines ca = cols_of(ra, B, Wt, Wt, h * Wt), cd = cols_of(rd, B, Wt, Wt, h * Wt);
    const Lines cy = cols_of(y, B, Wt, Wt, y_stride);
    if (L.stationary) {
      const int64_t s = int64_t(1) << (lev - 1);
      const ExtPlan Er = circular_plan(w2, F, s, s * (F / 2));
      pass_dil(la, lv, w2, Er, k.half_rrec_lo.data(), k.half_rrec_hi.data(), F, s, lra);
      pass_dil(lh, ld, w2, Er, k.half_rrec_lo.data(), k.half_rrec_hi.data(), F, s, lrd);
      const ExtPlan Ec = circular_plan(h, F, s, s * (F / 2));
      pass_dil(ca, cd, h, Ec, k.half_rrec_lo.data(), k.half_rrec_hi.data(), F, s, cy);
    } else {
      pass_poly(la, lv, w2, taps, per, F, Wt, lra);
      pass_poly(lh, ld, w2, taps, per, F, Wt, lrd);
      pass_poly(ca, cd, h, taps, per, F, Ht, cy);
    }
    cur = y;
    cur_stride = y_stride;
    cur_rs = Wt;
  }
}

/// The transpose of `synthesis`: B contiguous cotangents into bands.
void synthesis_adjoint(const float* gx, int64_t B, const WaveletLayout& L, const Wavelet& w,
                       const std::vector<BandRef>& out) {
  check_wavelet_layout(L, w);
  if (B <= 0) return;
  if (split_batch(B, L, w, [&](int64_t b0, int64_t b1) {
        synthesis_adjoint(gx + b0 * L.input_size(), b1 - b0, L, w, offset_refs(out, b0));
      }))
    return;
  if (L.level == 0) return copy_level0(L, B, out[0], const_cast<float*>(gx), true);
  const Bank k = bank_of(w);
  const int F = k.F;
  const bool per = L.mode == DwtMode::Periodization;
  PingPong pp;
  const BandRef& top = out[0];
  const float* g = gx;
  int64_t g_stride = L.input_size();

  if (L.dims == 1) {
    for (int lev = 1; lev <= L.level; ++lev) {
      const int64_t t = L.sizes[lev - 1][0], n = L.sizes[lev][0];
      const bool last = lev == L.level;
      float* a = last ? top.p : pp.get(B * n);
      const int64_t a_stride = last ? top.signal_stride : n;
      const BandRef& D = out[static_cast<size_t>(band_index(L, lev, 'd'))];
      const Lines in = signals_of(g, B, g_stride);
      const Lines la = signals_of(a, B, a_stride), ld = signals_of(D.p, B, D.signal_stride);
      if (L.stationary) {
        const int64_t s = int64_t(1) << (lev - 1);
        pass_split(in, circular_plan(n, F, s, s * (F / 2 - 1)), k.half_rec_lo.data(), k.half_rec_hi.data(), F, 1, s,
                   n, la, ld);
      } else {
        pass_split(in, adjoint_plan(t, n, F, per), k.rec_lo.data(), k.rec_hi.data(), F, 2, 1, n, la, ld);
      }
      g = a;
      g_stride = a_stride;
    }
    return;
  }

  Buffer col_a, col_d;
  int64_t g_rs = L.input()[1];
  for (int lev = 1; lev <= L.level; ++lev) {
    const int64_t Ht = L.sizes[lev - 1][0], Wt = L.sizes[lev - 1][1];
    const int64_t h = L.sizes[lev][0], w2 = L.sizes[lev][1];
    float* ca = col_a.get(B * h * Wt);
    float* cd = col_d.get(B * h * Wt);
    const Lines in = cols_of(g, B, Wt, g_rs, g_stride);
    const Lines lca = cols_of(ca, B, Wt, Wt, h * Wt), lcd = cols_of(cd, B, Wt, Wt, h * Wt);
    const int64_t s = int64_t(1) << (lev - 1);
    if (L.stationary)
      pass_split(in, circular_plan(h, F, s, s * (F / 2 - 1)), k.half_rec_lo.data(), k.half_rec_hi.data(), F, 1, s, h,
                 lca, lcd);
    else
      pass_split(in, adjoint_plan(Ht, h, F, per), k.rec_lo.data(), k.rec_hi.data(), F, 2, 1, h, lca, lcd);

    const bool last = lev == L.level;
    float* a = last ? top.p : pp.get(B * h * w2);
    const int64_t a_stride = last ? top.signal_stride : h * w2, a_rs = last ? top.row_stride : w2;
    const Lines la = rows_of(a, B, h, a_rs, a_stride);
    const Lines lv = band_rows(out[static_cast<size_t>(band_index(L, lev, 'v'))], B, h);
    const Lines lh = band_rows(out[static_cast<size_t>(band_index(L, lev, 'h'))], B, h);
    const Lines ld = band_rows(out[static_cast<size_t>(band_index(L, lev, 'd'))], B, h);
    const Lines ra = rows_of(ca, B, h, Wt, h * Wt), rd = rows_of(cd, B, h, Wt, h * Wt);
    if (L.stationary) {
      const ExtPlan E = circular_plan(w2, F, s, s * (F / 2 - 1));
      pass_split(ra, E, k.half_rec_lo.data(), k.half_rec_hi.data(), F, 1, s, w2, la, lv);
      pass_split(rd, E, k.half_rec_lo.data(), k.half_rec_hi.data(), F, 1, s, w2, lh, ld);
    } else {
      const ExtPlan E = adjoint_plan(Wt, w2, F, per);
      pass_split(ra, E, k.rec_lo.data(), k.rec_hi.data(), F, 2, 1, w2, la, lv);
      pass_split(rd, E, k.rec_lo.data(), k.rec_hi.data(), F, 2, 1, w2, lh, ld);
    }
    g = a;
    g_stride = a_stride;
    g_rs = a_rs;
  }
}

}  // namespace

// ---- names and lengths ------------------------------------------------------------------

DwtMode dwt_mode(const std::string& name) {
  for (int i = 0; i < 9; ++i)
    if (name == kModeNames[i]) return static_cast<DwtMode>(i);
  std::string all;
  for (int i = 0; i < 9; ++i) all += (i ? ", " : "") + std::string(kModeNames[i]);
  throw ValueError("unknown wavelet mode '" + name + "' (expected one of " + all + ")");
}

const char* dwt_mode_name(DwtMode mode) { return kModeNames[static_cast<int>(mode)]; }

const Wavelet& wavelet(const std::string& name) {
  const Registry& r = registry();
  auto it = r.index.find(name);
  if (it != r.index.end()) return r.wavelets[it->second];
  // Closest by edit distance (case-insensitive), then by length, then by
  // the order number ("db39" -> "db38", not "db3").
  auto number = [](const std::string& s) {
    size_t i = s.size();
    while (i > 0 && (std::isdigit(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '.')) --i;
    return i < s.size() ? std::atof(s.c_str() + i) : 0.0;
  };
  std::string best;
  std::tuple<size_t, size_t, double> best_score{SIZE_MAX, 0, 0.0};
  for (const std::string& n : r.names) {
    const std::tuple<size_t, size_t, double> score{
        edit_distance(name, n), n.size() > name.size() ? n.size() - name.size() : name.size() - n.size(),
        std::fabs(number(n) - number(name))};
    if (score < best_score) best_score = score, best = n;
  }
  throw ValueError("unknown wavelet '" + name + "' (did you mean '" + best +
                   "'? names as in PyWavelets: haar, db1-db38, sym2-sym20, coif1-coif17, bior*.*, rbio*.*, dmey)");
}

const std::vector<std::string>& wavelet_names() { return registry().names; }

int64_t dwt_coeff_len(int64_t n, int filter_len, DwtMode mode) {
  if (n < 1) throw ValueError("dwt_coeff_len: length " + std::to_string(n) + ", expected >= 1");
  if (filter_len < 1) throw ValueError("dwt_coeff_len: filter length " + std::to_string(filter_len) + ", expected >= 1");
  if (mode == DwtMode::Periodization) return (n + 1) / 2;
  return (n + filter_len - 1) / 2;
}

int dwt_max_level(int64_t n, int filter_len) {
  if (filter_len < 2) throw ValueError("dwt_max_level: filter length " + std::to_string(filter_len) + ", expected >= 2");
  int64_t q = n / (filter_len - 1);
  int level = 0;
  while (q >= 2) q /= 2, ++level;  // floor(log2(q)) for q >= 1
  return level;
}

int swt_max_level(int64_t n) {
  int level = 0;
  while (n > 0 && n % 2 == 0) n /= 2, ++level;
  return level;
}

int64_t WaveletLayout::input_size() const { return numel(sizes.front()); }

WaveletLayout wavelet_layout(const std::vector<int64_t>& input, const Wavelet& w, DwtMode mode, int level,
                             bool stationary, const std::string& where) {
  WaveletLayout L;
  L.dims = static_cast<int>(input.size());
  if (L.dims != 1 && L.dims != 2) throw ValueError(where + ": expected 1 or 2 transformed axes, got " + std::to_string(L.dims));
  for (int64_t v : input)
    if (v < 1) throw ShapeError(where + ": transformed axes must have positive sizes, got " + std::to_string(v));
  const int F = w.length();
  L.stationary = stationary;
  L.mode = stationary ? DwtMode::Periodization : mode;
  if (level < -1) throw ValueError(where + ": level " + std::to_string(level) + " is negative (minimum 0)");

  if (stationary) {
    int maxl = INT32_MAX;
    for (int64_t v : input) maxl = std::min(maxl, swt_max_level(v));
    for (int64_t v : input)
      if (v % 2 != 0)
        throw ValueError(where + ": signal length " + std::to_string(v) +
                         " must be even (a multiple of 2^level) for the stationary transform");
    if (level == -1) level = maxl;
    if (level < 1) throw ValueError(where + ": level " + std::to_string(level) + " must be at least 1");
    if (level > maxl)
      throw ValueError(where + ": level " + std::to_string(level) + " too high: the maximum for size " +
                       std::to_string(input.front()) + (L.dims == 2 ? "x" + std::to_string(input.back()) : "") +
                       " is " + std::to_string(maxl) + " (sizes must be multiples of 2^level)");
    L.level = level;
    L.sizes.assign(static_cast<size_t>(level) + 1, input);
  } else {
    int maxl = INT32_MAX;
    for (int64_t v : input) maxl = std::min(maxl, dwt_max_level(v, F));
    if (level == -1) level = maxl;
    // Above dwt_max_level PyWavelets only warns, and each extra level just
    // repeats boundary coefficients; no size halves more than 64 times, so a
    // larger level is a mistake (and would build a layout without end).
    constexpr int kMaxLevel = 64;
    if (level > kMaxLevel)
      throw ValueError(where + ": level " + std::to_string(level) + " too high: at most " + std::to_string(kMaxLevel) +
                       " (dwt_max_level for size " + std::to_string(input.front()) +
                       (L.dims == 2 ? "x" + std::to_string(input.back()) : "") + " is " + std::to_string(maxl) + ")");
    L.level = level;
    L.sizes.push_back(input);
    for (int k = 1; k <= level; ++k) {
      std::vector<int64_t> s;
      for (int64_t v : L.sizes.back()) {
        if (v < 2 && (mode == DwtMode::Reflect || mode == DwtMode::Antireflect))
          throw ValueError(where + ": mode '" + dwt_mode_name(mode) + "' needs at least 2 samples, but level " +
                           std::to_string(k) + " would transform " + std::to_string(v) +
                           " (use a lower level or another mode)");
        s.push_back(dwt_coeff_len(v, F, mode));
      }
      L.sizes.push_back(s);
    }
  }

  const int n = L.level;
  auto add = [&L](const std::string& prefix, int lev, char o) {
    WaveletBand b;
    b.name = prefix + "_" + std::to_string(lev);
    b.level = lev;
    b.orientation = o;
    b.shape = L.sizes[static_cast<size_t>(lev)];
    b.size = numel(b.shape);
    b.offset = L.size;
    L.size += b.size;
    L.bands.push_back(b);
  };
  add("cA", n, 'a');
  for (int k = n; k >= 1; --k) {
    if (L.dims == 2) {
      add("cH", k, 'h');
      add("cV", k, 'v');
    }
    add("cD", k, 'd');
  }
  return L;
}

// ---- flattened multilevel transforms -------------------------------------------------------

void wavedec_flat(const float* x, int64_t B, const WaveletLayout& L, const Wavelet& w, float* c) {
  analysis(x, B, L, w, flat_refs(c, L));
}

void waverec_flat(const float* c, int64_t B, const WaveletLayout& L, const Wavelet& w, float* x) {
  synthesis(flat_refs(c, L), B, L, w, x);
}

void waverec_flat_adjoint(const float* gx, int64_t B, const WaveletLayout& L, const Wavelet& w, float* gc) {
  synthesis_adjoint(gx, B, L, w, flat_refs(gc, L));
}

// ---- PyWavelets-shaped interface -----------------------------------------------------------

namespace {

/// Leading (batch) shape of x when the last `d` axes are transformed.
Shape leading(const Tensor& x, int d, const std::string& where) {
  if (x.rank() < d)
    throw ShapeError(where + ": input " + x.shape().str() + " has " + std::to_string(x.rank()) +
                     " axes, expected at least " + std::to_string(d));
  Shape s;
  for (int i = 0; i < x.rank() - d; ++i) s.push_back(x.dim(i));
  return s;
}

std::vector<int64_t> trailing(const Tensor& x, int d) {
  std::vector<int64_t> s;
  for (int i = x.rank() - d; i < x.rank(); ++i) s.push_back(x.dim(i));
  return s;
}

Shape join(const Shape& lead, const std::vector<int64_t>& tail) {
  Shape s = lead;
  for (int64_t v : tail) s.push_back(v);
  return s;
}

/// Uninitialised tensors, one per band, and their BandRefs.
std::vector<Tensor> band_tensors(const Shape& lead, const WaveletLayout& L, std::vector<BandRef>& refs) {
  std::vector<Tensor> out(L.bands.size());
  for (size_t i = 0; i < L.bands.size(); ++i) {
    out[i].resize(join(lead, L.bands[i].shape));
    refs.push_back({out[i].data(), L.bands[i].size, L.bands[i].shape.back()});
  }
  return out;
}

/// BandRefs reading per-band tensors (in layout order). An approximation one
/// larger along an axis is read trimmed (PyWavelets drops the extra sample);
/// an empty tensor (None) reads as zeros from `zeros`.
std::vector<BandRef> read_refs(const std::vector<const Tensor*>& bands, const Shape& lead, const WaveletLayout& L,
                               const std::string& where, std::vector<Tensor>& zeros) {
  std::vector<BandRef> refs;
  zeros.reserve(bands.size());
  for (size_t i = 0; i < bands.size(); ++i) {
    const WaveletBand& b = L.bands[i];
    const Tensor& t = *bands[i];
    if (t.numel() == 0) {
      zeros.emplace_back(join(lead, b.shape));
      refs.push_back({zeros.back().data(), b.size, b.shape.back()});
      continue;
    }
    const int d = L.dims;
    bool ok = t.rank() == lead.rank() + d;
    for (int j = 0; ok && j < lead.rank(); ++j) ok = t.dim(j) == lead[j];
    const bool approx = b.orientation == 'a' && !L.stationary;
    for (int j = 0; ok && j < d; ++j) {
      const int64_t have = t.dim(lead.rank() + j), want = b.shape[static_cast<size_t>(j)];
      ok = have == want || (approx && have == want + 1);
    }
    if (!ok)
      throw ShapeError(where + ": coefficient " + b.name + " has shape " + t.shape().str() + ", expected " +
                       join(lead, b.shape).str());
    const int64_t per = t.numel() / std::max<int64_t>(1, lead.numel());
    refs.push_back({const_cast<float*>(t.data()), per, t.dim(-1)});
  }
  return refs;
}

Tensor reconstruct(const std::vector<const Tensor*>& bands, const Shape& lead, const WaveletLayout& L,
                   const Wavelet& w, const std::string& where) {
  std::vector<Tensor> zeros;
  const std::vector<BandRef> refs = read_refs(bands, lead, L, where, zeros);
  Tensor x;
  x.resize(join(lead, L.input()));
  synthesis(refs, lead.numel(), L, w, x.data());
  return x;
}

std::vector<Tensor> decompose(const Tensor& x, const Wavelet& w, DwtMode mode, int level, bool stationary, int d,
                              const std::string& where) {
  const Shape lead = leading(x, d, where);
  const WaveletLayout L = wavelet_layout(trailing(x, d), w, mode, level, stationary, where);
  std::vector<BandRef> refs;
  std::vector<Tensor> out = band_tensors(lead, L, refs);
  analysis(x.data(), lead.numel(), L, w, refs);
  return out;
}

/// The signal length whose level-1 coefficients have length n and whose
/// reconstruction is PyWavelets' untrimmed idwt output.
int64_t untrimmed_length(int64_t n, const Wavelet& w, DwtMode mode, const std::string& where) {
  const int F = w.length();
  const int64_t N = mode == DwtMode::Periodization ? 2 * n : 2 * n - F + 2;
  if (n < 1 || N < 1)
    throw ValueError(where + ": " + std::to_string(n) + " coefficients are too few for wavelet '" + w.name +
                     "' (filter length " + std::to_string(F) + "); wavelet and mode must match the decomposition");
  return N;
}

Wavedec2Coeffs to2(std::vector<Tensor> t) {
  Wavedec2Coeffs c;
  c.a = std::move(t[0]);
  for (size_t i = 1; i + 2 < t.size(); i += 3)
    c.details.push_back({std::move(t[i]), std::move(t[i + 1]), std::move(t[i + 2])});
  return c;
}

}  // namespace

DwtCoeffs dwt(const Tensor& x, const Wavelet& w, DwtMode mode) {
  auto t = decompose(x, w, mode, 1, false, 1, "dwt");
  return {std::move(t[0]), std::move(t[1])};
}

Tensor idwt(const Tensor& a, const Tensor& d, const Wavelet& w, DwtMode mode) {
  const std::string where = "idwt";
  if (a.numel() == 0 && d.numel() == 0) throw ValueError(where + ": both coefficient arrays are empty");
  const Tensor& ref = a.numel() ? a : d;
  if (a.numel() && d.numel() && a.shape() != d.shape())
    throw ShapeError(where + ": a " + a.shape().str() + " and d " + d.shape().str() + " must have the same shape");
  const Shape lead = leading(ref, 1, where);
  const int64_t N = untrimmed_length(ref.dim(-1), w, mode, where);
  const WaveletLayout L = wavelet_layout({N}, w, mode, 1, false, where);
  return reconstruct({&a, &d}, lead, L, w, where);
}

std::vector<Tensor> wavedec(const Tensor& x, const Wavelet& w, DwtMode mode, int level) {
  return decompose(x, w, mode, level, false, 1, "wavedec");
}

Tensor waverec(const std::vector<Tensor>& coeffs, const Wavelet& w, DwtMode mode) {
  const std::string where = "waverec";
  if (coeffs.empty()) throw ValueError(where + ": empty coefficient list (need at least cA_n)");
  if (coeffs.size() == 1) return coeffs[0];
  const Tensor& d1 = coeffs.back();
  const Shape lead = leading(d1, 1, where);
  const int64_t N = untrimmed_length(d1.dim(-1), w, mode, where);
  const WaveletLayout L = wavelet_layout({N}, w, mode, static_cast<int>(coeffs.size()) - 1, false, where);
  std::vector<const Tensor*> ptrs;
  for (const Tensor& t : coeffs) ptrs.push_back(&t);
  return reconstruct(ptrs, lead, L, w, where);
}

Dwt2Coeffs dwt2(const Tensor& x, const Wavelet& w, DwtMode mode) {
  auto t = decompose(x, w, mode, 1, false, 2, "dwt2");
  return {std::move(t[0]), std::move(t[1]), std::move(t[2]), std::move(t[3])};
}

Tensor idwt2(const Dwt2Coeffs& c, const Wavelet& w, DwtMode mode) {
  const std::string where = "idwt2";
  for (const Tensor* t : {&c.h, &c.v, &c.d})
    if (t->shape() != c.a.shape())
      throw ShapeError(where + ": sub-bands " + c.a.shape().str() + ", " + c.h.shape().str() + ", " +
                       c.v.shape().str() + ", " + c.d.shape().str() + " must have one shape");
  const Shape lead = leading(c.a, 2, where);
  const WaveletLayout L = wavelet_layout(
      {untrimmed_length(c.a.dim(-2), w, mode, where), untrimmed_length(c.a.dim(-1), w, mode, where)}, w, mode, 1,
      false, where);
  return reconstruct({&c.a, &c.h, &c.v, &c.d}, lead, L, w, where);
}

Wavedec2Coeffs wavedec2(const Tensor& x, const Wavelet& w, DwtMode mode, int level) {
  return to2(decompose(x, w, mode, level, false, 2, "wavedec2"));
}

Tensor waverec2(const Wavedec2Coeffs& c, const Wavelet& w, DwtMode mode) {
  const std::string where = "waverec2";
  if (c.details.empty()) return c.a;
  const Tensor& h1 = c.details.back()[0];
  const Shape lead = leading(h1, 2, where);
  const WaveletLayout L = wavelet_layout(
      {untrimmed_length(h1.dim(-2), w, mode, where), untrimmed_length(h1.dim(-1), w, mode, where)}, w, mode,
      static_cast<int>(c.details.size()), false, where);
  std::vector<const Tensor*> ptrs{&c.a};
  for (const auto& d : c.details)
    for (const Tensor& t : d) ptrs.push_back(&t);
  return reconstruct(ptrs, lead, L, w, where);
}

std::vector<Tensor> swt(const Tensor& x, const Wavelet& w, int level) {
  return decompose(x, w, DwtMode::Periodization, level, true, 1, "swt");
}

Tensor iswt(const std::vector<Tensor>& coeffs, const Wavelet& w) {
  const std::string where = "iswt";
  if (coeffs.empty()) throw ValueError(where + ": empty coefficient list (need at least cA_n)");
  if (coeffs.size() == 1) return coeffs[0];
  const Shape lead = leading(coeffs[0], 1, where);
  const WaveletLayout L =
      wavelet_layout(trailing(coeffs[0], 1), w, DwtMode::Periodization, static_cast<int>(coeffs.size()) - 1, true, where);
  std::vector<const Tensor*> ptrs;
  for (const Tensor& t : coeffs) {
    if (t.numel() == 0) throw ValueError(where + ": empty coefficient array");
    ptrs.push_back(&t);
  }
  return reconstruct(ptrs, lead, L, w, where);
}

Wavedec2Coeffs swt2(const Tensor& x, const Wavelet& w, int level) {
  return to2(decompose(x, w, DwtMode::Periodization, level, true, 2, "swt2"));
}

Tensor iswt2(const Wavedec2Coeffs& c, const Wavelet& w) {
  const std::string where = "iswt2";
  if (c.details.empty()) return c.a;
  const Shape lead = leading(c.a, 2, where);
  const WaveletLayout L = wavelet_layout(trailing(c.a, 2), w, DwtMode::Periodization,
                                         static_cast<int>(c.details.size()), true, where);
  std::vector<const Tensor*> ptrs{&c.a};
  for (const auto& d : c.details)
    for (const Tensor& t : d) {
      if (t.numel() == 0) throw ValueError(where + ": empty coefficient array");
      ptrs.push_back(&t);
    }
  return reconstruct(ptrs, lead, L, w, where);
}

}  // namespace trim::kernels
