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

#include "dwt3.hpp"
#include "dwt_passes.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"

namespace trim::kernels {

namespace {

using namespace detail;  // the passes (dwt_passes.hpp)

const char* const kModeNames[] = {"zero",   "constant",      "symmetric",   "reflect",      "periodic",
                                  "smooth", "antisymmetric", "antireflect", "periodization"};

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

/// One level's split of lines of `n` samples into `m` low and `m` high
/// ones: the analysis filters on the input's extension (forward), or the
/// transpose of synthesis (its adjoint). Stationary levels keep the length
/// and dilate the filters by `dil`.
struct LevelSplit {
  const Bank& k;
  const WaveletLayout& L;
  bool adjoint;

  void operator()(const Lines& in, int64_t n, int64_t m, int64_t dil, const Lines& lo, const Lines& hi) const {
    const int F = k.F;
    if (L.stationary) {
      const std::vector<float>& g0 = adjoint ? k.half_rec_lo : k.ana_lo;
      const std::vector<float>& g1 = adjoint ? k.half_rec_hi : k.ana_hi;
      pass_split(in, circular_plan(m, F, dil, dil * (F / 2 - 1)), g0.data(), g1.data(), F, 1, dil, m, lo, hi);
    } else if (adjoint) {
      pass_split(in, adjoint_plan(n, m, F, L.mode == DwtMode::Periodization), k.rec_lo.data(), k.rec_hi.data(), F, 2,
                 1, m, lo, hi);
    } else {
      pass_split(in, analysis_plan(n, F, L.mode, m), k.ana_lo.data(), k.ana_hi.data(), F, 2, 1, m, lo, hi);
    }
  }
};

/// The level loop analysis and synthesis_adjoint share (they differ only in
/// `split`): each level splits the approximation of the level before, for
/// 2-D along the columns and then the rows as PyWavelets, writes the details
/// to their bands and the last approximation to out[0].
void split_levels(const float* x, int64_t B, const WaveletLayout& L, const LevelSplit& split,
                  const std::vector<BandRef>& out) {
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
      split(signals_of(cur, B, cur_stride), n, m, int64_t(1) << (lev - 1), signals_of(a, B, a_stride),
            signals_of(D.p, B, D.signal_stride));
      cur = a;
      cur_stride = a_stride;
    }
    return;
  }

  Buffer col_a, col_d;
  for (int lev = 1; lev <= L.level; ++lev) {
    const int64_t H = L.sizes[lev - 1][0], W = L.sizes[lev - 1][1];
    const int64_t h = L.sizes[lev][0], w2 = L.sizes[lev][1];
    const int64_t s = int64_t(1) << (lev - 1);
    float* ca = col_a.get(B * h * W);
    float* cd = col_d.get(B * h * W);
    split(cols_of(cur, B, W, cur_rs, cur_stride), H, h, s, cols_of(ca, B, W, W, h * W), cols_of(cd, B, W, W, h * W));

    const bool last = lev == L.level;
    float* a = last ? top.p : pp.get(B * h * w2);
    const int64_t a_stride = last ? top.signal_stride : h * w2, a_rs = last ? top.row_stride : w2;
    const Lines la = rows_of(a, B, h, a_rs, a_stride);
    const Lines lv = band_rows(out[static_cast<size_t>(band_index(L, lev, 'v'))], B, h);
    const Lines lh = band_rows(out[static_cast<size_t>(band_index(L, lev, 'h'))], B, h);
    const Lines ld = band_rows(out[static_cast<size_t>(band_index(L, lev, 'd'))], B, h);
    split(rows_of(ca, B, h, W, h * W), W, w2, s, la, lv);
    split(rows_of(cd, B, h, W, h * W), W, w2, s, lh, ld);
    cur = a;
    cur_stride = a_stride;
    cur_rs = a_rs;
  }
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
  split_levels(x, B, L, LevelSplit{k, L, false}, out);
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
  split_levels(gx, B, L, LevelSplit{k, L, true}, out);
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
  if (L.dims < 1 || L.dims > (stationary ? 2 : 3))
    throw ValueError(where + ": expected 1" + (stationary ? " or 2" : ", 2 or 3") + " transformed axes, got " +
                     std::to_string(L.dims));
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
    if (L.dims == 3) {
      // wavedecn's keys 'aad' ... 'ddd' (itertools.product order); the
      // orientation is the key's index '1'..'7'.
      for (int q = 1; q < 8; ++q) {
        const std::string key{q & 4 ? 'd' : 'a', q & 2 ? 'd' : 'a', q & 1 ? 'd' : 'a'};
        add(key, k, static_cast<char>('0' + q));
      }
      continue;
    }
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
  if (L.dims == 3) return wavedec3_flat(x, B, L, w, c);
  analysis(x, B, L, w, flat_refs(c, L));
}

void waverec_flat(const float* c, int64_t B, const WaveletLayout& L, const Wavelet& w, float* x) {
  if (L.dims == 3) return waverec3_flat(c, B, L, w, x);
  synthesis(flat_refs(c, L), B, L, w, x);
}

void waverec_flat_adjoint(const float* gx, int64_t B, const WaveletLayout& L, const Wavelet& w, float* gc) {
  if (L.dims == 3) return waverec3_flat_adjoint(gx, B, L, w, gc);
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
