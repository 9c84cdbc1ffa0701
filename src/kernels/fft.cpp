// FFTW kernels: plan cache and the DFT / DCT / shift functions of fft.hpp.
#include "trim/kernels/fft.hpp"

#include <fftw3.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "trim/core/parallel.hpp"
#include <tuple>
#include <type_traits>
#include <vector>

#include "trim/core/error.hpp"

namespace trim::kernels {
namespace {

// ---------------------------------------------------------------- plan cache

enum class PlanKind : int { C2CForward, C2CBackward, R2C, R2CFull, C2R, Redft10, Redft01 };

struct PlanKey {
  PlanKind kind;
  std::vector<int> n;  // transform sizes
  int howmany;
  bool inplace;
  bool aligned;  // both arrays 64-byte aligned (else planned FFTW_UNALIGNED)
  unsigned flags;

  bool operator<(const PlanKey& o) const {
    return std::tie(kind, n, howmany, inplace, aligned, flags) <
           std::tie(o.kind, o.n, o.howmany, o.inplace, o.aligned, o.flags);
  }
};

using PlanPtr = std::shared_ptr<std::remove_pointer_t<fftwf_plan>>;

struct PlanCache {
  // Guards the FFTW planner (not thread-safe), wisdom and `plans`. Recursive
  // so that a plan's deleter (which takes it) may run while it is held, e.g.
  // when inserting into `plans` throws.
  std::recursive_mutex mu;
  std::map<PlanKey, PlanPtr> plans;
  std::atomic<int> planner{static_cast<int>(FftPlanner::Estimate)};
};

// Intentionally leaked: a static PlanCache would be destroyed at exit while
// other threads (or other static destructors) may still run transforms, and
// destroying FFTW plans then would be a use-after-free. Plans only hold memory,
// which the OS reclaims; the pointer keeps them reachable for leak checkers.
PlanCache& cache() {
  static PlanCache* const c = new PlanCache;
  return *c;
}

/// FFTW's scratch-array allocation, freed on scope exit.
struct FftwBuffer {
  float* p = nullptr;
  explicit FftwBuffer(int64_t n) {
    p = fftwf_alloc_real(static_cast<size_t>(std::max<int64_t>(n, 1)));
    if (!p) throw ValueError("fft: cannot allocate " + std::to_string(n) + " floats of planning scratch");
  }
  ~FftwBuffer() { fftwf_free(p); }
  FftwBuffer(const FftwBuffer&) = delete;
  FftwBuffer& operator=(const FftwBuffer&) = delete;
};

int64_t product(const std::vector<int>& n) {
  int64_t p = 1;
  for (int v : n) p *= v;
  return p;
}

/// Floats in the input and output arrays of one plan (over the whole batch).
std::pair<int64_t, int64_t> array_sizes(const PlanKey& k) {
  const int64_t N = product(k.n);
  const int64_t half = N / k.n.back() * (k.n.back() / 2 + 1);
  switch (k.kind) {
    case PlanKind::C2CForward:
    case PlanKind::C2CBackward: return {2 * N * k.howmany, 2 * N * k.howmany};
    case PlanKind::R2C: return {N * k.howmany, 2 * half * k.howmany};
    case PlanKind::R2CFull: return {N * k.howmany, 2 * N * k.howmany};
    case PlanKind::C2R: return {2 * half * k.howmany, N * k.howmany};
    default: return {N * k.howmany, N * k.howmany};
  }
}

/// Creates a plan on scratch arrays. Caller holds the cache mutex.
fftwf_plan make_plan(const PlanKey& k) {
  const auto [in_size, out_size] = array_sizes(k);
  FftwBuffer a(k.inplace ? std::max(in_size, out_size) : in_size);
  std::unique_ptr<FftwBuffer> b;
  if (!k.inplace) b = std::make_unique<FftwBuffer>(out_size);
  float* in = a.p;
  float* out = k.inplace ? a.p : b->p;
  const int rank = static_cast<int>(k.n.size());
  const int* n = k.n.data();
  const int N = static_cast<int>(product(k.n));
  const int half = N / k.n.back() * (k.n.back() / 2 + 1);
  const unsigned flags = k.flags | (k.aligned ? 0u : FFTW_UNALIGNED);
  auto* cin = reinterpret_cast<fftwf_complex*>(in);
  auto* cout = reinterpret_cast<fftwf_complex*>(out);
  switch (k.kind) {
    case PlanKind::C2CForward:
    case PlanKind::C2CBackward:
      return fftwf_plan_many_dft(rank, n, k.howmany, cin, nullptr, 1, N, cout, nullptr, 1, N,
                                 k.kind == PlanKind::C2CForward ? FFTW_FORWARD : FFTW_BACKWARD, flags);
    case PlanKind::R2C:
      return fftwf_plan_many_dft_r2c(rank, n, k.howmany, in, nullptr, 1, N, cout, nullptr, 1, half, flags);
    case PlanKind::R2CFull:
      // The half spectrum is written into rows of the full-size output
      // (onembed = n); the rest is filled from Hermitian symmetry afterwards.
      return fftwf_plan_many_dft_r2c(rank, n, k.howmany, in, nullptr, 1, N, cout, n, 1, N, flags);
    case PlanKind::C2R:
      return fftwf_plan_many_dft_c2r(rank, n, k.howmany, cin, nullptr, 1, half, out, nullptr, 1, N, flags);
    case PlanKind::Redft10:
    case PlanKind::Redft01: {
      const std::vector<fftwf_r2r_kind> kinds(k.n.size(), k.kind == PlanKind::Redft10 ? FFTW_REDFT10 : FFTW_REDFT01);
      return fftwf_plan_many_r2r(rank, n, k.howmany, in, nullptr, 1, N, out, nullptr, 1, N, kinds.data(), flags);
    }
  }
  return nullptr;
}

bool aligned64(const void* p) { return reinterpret_cast<uintptr_t>(p) % Tensor::alignment == 0; }

/// The cached plan for `kind` on arrays `in` / `out`, planning it if needed.
PlanPtr get_plan(PlanKind kind, const std::vector<int>& n, int howmany, const void* in, const void* out) {
  const unsigned flags =
      cache().planner.load() == static_cast<int>(FftPlanner::Measure) ? FFTW_MEASURE : FFTW_ESTIMATE;
  PlanKey key{kind, n, howmany, in == out, aligned64(in) && aligned64(out), flags};
  PlanCache& c = cache();
  std::lock_guard<std::recursive_mutex> lock(c.mu);
  auto it = c.plans.find(key);
  if (it != c.plans.end()) return it->second;
  fftwf_plan p = make_plan(key);
  if (!p) throw ValueError("fft: FFTW could not create a plan");
  // Destruction takes the planner lock: the last reference to a plan may be
  // dropped by any thread after fft_clear_plans().
  PlanPtr sp(p, [](fftwf_plan q) {
    std::lock_guard<std::recursive_mutex> l(cache().mu);
    fftwf_destroy_plan(q);
  });
  c.plans.emplace(std::move(key), sp);
  return sp;
}

// ---------------------------------------------------------------- helpers

/// Layout of an input: batch count and transform sizes, validated.
struct Layout {
  int64_t batch = 1;
  std::vector<int> n;
  int64_t N = 1;  // product of n
};

Layout layout(const Tensor& x, int d, bool complex, const char* where) {
  const std::string w(where);
  if (d < 1) throw ValueError(w + ": number of transformed axes must be >= 1, got " + std::to_string(d));
  const int extra = complex ? 1 : 0;
  if (x.rank() < d + extra)
    throw ShapeError(w + ": input " + x.shape().str() + " has rank " + std::to_string(x.rank()) + ", expected at least " +
                     std::to_string(d + extra) + (complex ? " ([..., n1..nd, 2])" : " ([..., n1..nd])"));
  if (complex && x.dim(-1) != 2)
    throw ShapeError(w + ": input " + x.shape().str() + " must end in a (re, im) axis of size 2, got " +
                     std::to_string(x.dim(-1)));
  Layout L;
  const int first = x.rank() - extra - d;
  for (int a = 0; a < first; ++a) L.batch *= x.shape()[a];
  for (int a = first; a < first + d; ++a) {
    const int64_t v = x.shape()[a];
    if (v < 1) throw ValueError(w + ": input " + x.shape().str() + " has a transformed axis of size " + std::to_string(v));
    L.n.push_back(static_cast<int>(std::min<int64_t>(v, INT_MAX)));
    L.N *= v;
  }
  if (L.N * 2 > INT_MAX || L.batch > INT_MAX || L.batch * L.N * 2 > INT_MAX)
    throw ValueError(w + ": input " + x.shape().str() + " is too large for one FFTW plan");
  return L;
}

/// Forward (inverse = false) or inverse DFT scale for a transform of n points.
double dft_scale(Norm norm, bool inverse, double n) {
  switch (norm) {
    case Norm::Ortho: return 1.0 / std::sqrt(n);
    case Norm::Backward: return inverse ? 1.0 / n : 1.0;
    case Norm::Forward: return inverse ? 1.0 : 1.0 / n;
  }
  return 1.0;
}

void scale(Tensor& t, double s) {
  if (s == 1.0) return;
  t.as_vector() *= static_cast<float>(s);
}

void scale(float* p, int64_t n, double s) {
  if (s == 1.0) return;
  const float f = static_cast<float>(s);
  for (int64_t i = 0; i < n; ++i) p[i] *= f;
}

/// Runs fn(first, count) over the batch items, split across threads when
/// there are several items and enough work for threads to pay off (each
/// chunk executes its own howmany plan; at most two chunk sizes are planned).
template <class F>
void over_batch(int64_t batch, int64_t floats_per_item, F&& fn) {
  constexpr int64_t min_parallel_floats = int64_t(1) << 16;
  if (batch < 2 || batch * floats_per_item < min_parallel_floats || in_parallel()) {
    fn(int64_t(0), batch);
    return;
  }
  parallel_for(batch, [&](int64_t b0, int64_t b1) { fn(b0, b1 - b0); });
}

Shape with_trailing(const Shape& s, int64_t last) {
  Shape r = s;
  if (r.rank() >= Shape::max_rank)
    throw ShapeError("fft: output of input " + s.str() + " would exceed rank " + std::to_string(Shape::max_rank));
  r.push_back(last);
  return r;
}

/// Hermitian completion of a full-size spectrum whose last-axis entries
/// [0, n_d/2] are filled: X[k] = conj(X[-k mod n]).
void hermitian_fill(float* out, const Layout& L) {
  const int d = static_cast<int>(L.n.size());
  const int64_t nl = L.n.back();
  const int64_t h = nl / 2 + 1;
  if (h >= nl) return;
  const int64_t rows = L.N / nl;  // rows of the last axis per batch item
  std::vector<int64_t> mirror_row(static_cast<size_t>(rows));
  std::vector<int64_t> idx(static_cast<size_t>(d > 1 ? d - 1 : 1), 0);
  for (int64_t r = 0; r < rows; ++r) {
    // mirror of the multi-index (i1..i(d-1)) of row r
    int64_t m = 0;
    for (int a = 0; a < d - 1; ++a) m = m * L.n[a] + (idx[a] == 0 ? 0 : L.n[a] - idx[a]);
    mirror_row[static_cast<size_t>(r)] = m;
    for (int a = d - 2; a >= 0; --a) {
      if (++idx[a] < L.n[a]) break;
      idx[a] = 0;
    }
  }
  for (int64_t b = 0; b < L.batch; ++b) {
    float* base = out + 2 * b * L.N;
    for (int64_t r = 0; r < rows; ++r) {
      float* row = base + 2 * r * nl;
      const float* src = base + 2 * mirror_row[static_cast<size_t>(r)] * nl;
      for (int64_t k = h; k < nl; ++k) {
        row[2 * k] = src[2 * (nl - k)];
        row[2 * k + 1] = -src[2 * (nl - k) + 1];
      }
    }
  }
}

/// DCT via FFTW r2r on a copy of x. With `ortho`, the SciPy orthonormal
/// scaling for the FFTW kind; otherwise a plain factor `s`.
Tensor r2r(const Tensor& x, int d, PlanKind kind, bool ortho, double s, const char* where) {
  const Layout L = layout(x, d, false, where);
  Tensor y = x;
  if (y.empty()) return y;
  // Per-element weights within one transform: powers of sqrt(2) for entries
  // with index 0 along an axis (ortho only).
  std::vector<float> w;
  if (ortho) {
    const bool pre = kind == PlanKind::Redft01;
    w.assign(static_cast<size_t>(L.N), 1.0f);
    double base = 1.0;
    for (int v : L.n) base /= std::sqrt(2.0 * v);
    std::vector<int> idx(L.n.size(), 0);
    for (int64_t j = 0; j < L.N; ++j) {
      int zeros = 0;
      for (int i : idx) zeros += i == 0;
      const double z = std::pow(std::sqrt(2.0), pre ? zeros : -zeros);
      w[static_cast<size_t>(j)] = static_cast<float>(pre ? z : z * base);
      for (int a = static_cast<int>(L.n.size()) - 1; a >= 0; --a) {
        if (++idx[static_cast<size_t>(a)] < L.n[static_cast<size_t>(a)]) break;
        idx[static_cast<size_t>(a)] = 0;
      }
    }
    if (pre) {
      for (int64_t b = 0; b < L.batch; ++b)
        for (int64_t j = 0; j < L.N; ++j) y[b * L.N + j] *= w[static_cast<size_t>(j)];
      s = base;
    } else {
      s = 1.0;
    }
  }
  PlanPtr p = get_plan(kind, L.n, static_cast<int>(L.batch), y.data(), y.data());
  fftwf_execute_r2r(p.get(), y.data(), y.data());
  if (ortho && kind == PlanKind::Redft10) {
    for (int64_t b = 0; b < L.batch; ++b)
      for (int64_t j = 0; j < L.N; ++j) y[b * L.N + j] *= w[static_cast<size_t>(j)];
  }
  scale(y, s);
  return y;
}

double dct_n(const Layout& L) {
  double n = 1.0;
  for (int v : L.n) n *= 2.0 * v;
  return n;
}

void check_type(int type, const char* where) {
  if (type != 2 && type != 3)
    throw ValueError(std::string(where) + ": DCT type must be 2 or 3, got " + std::to_string(type));
}

/// Rolls each of the `d` axes (before the optional (re, im) axis) by
/// `floor(n/2)` (fftshift) or `-floor(n/2)` (ifftshift).
Tensor shift(const Tensor& x, int d, bool complex, bool inverse, const char* where) {
  const Layout L = layout(x, d, complex, where);
  Tensor y(x.shape());
  if (x.empty()) return y;
  const int64_t inner = complex ? 2 : 1;  // floats per element
  const int64_t nl = L.n.back();
  const int64_t sl = inverse ? nl - nl / 2 : nl / 2;  // destination offset along the last axis
  const int64_t rows = L.N / nl;
  const int dd = static_cast<int>(L.n.size());
  std::vector<int64_t> dest_row(static_cast<size_t>(rows));
  std::vector<int64_t> idx(static_cast<size_t>(std::max(dd - 1, 1)), 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t m = 0;
    for (int a = 0; a < dd - 1; ++a) {
      const int64_t n = L.n[static_cast<size_t>(a)];
      const int64_t s = inverse ? n - n / 2 : n / 2;
      m = m * n + (idx[static_cast<size_t>(a)] + s) % n;
    }
    dest_row[static_cast<size_t>(r)] = m;
    for (int a = dd - 2; a >= 0; --a) {
      if (++idx[static_cast<size_t>(a)] < L.n[static_cast<size_t>(a)]) break;
      idx[static_cast<size_t>(a)] = 0;
    }
  }
  const int64_t row_floats = nl * inner;
  const size_t head = static_cast<size_t>((nl - sl) * inner) * sizeof(float);  // src [0, nl-sl) -> dst [sl, nl)
  const size_t tail = static_cast<size_t>(sl * inner) * sizeof(float);         // src [nl-sl, nl) -> dst [0, sl)
  for (int64_t b = 0; b < L.batch; ++b) {
    const float* src = x.data() + b * L.N * inner;
    float* dst = y.data() + b * L.N * inner;
    for (int64_t r = 0; r < rows; ++r) {
      const float* s = src + r * row_floats;
      float* t = dst + dest_row[static_cast<size_t>(r)] * row_floats;
      std::memcpy(t + sl * inner, s, head);
      if (tail) std::memcpy(t, s + (nl - sl) * inner, tail);
    }
  }
  return y;
}

}  // namespace

// ---------------------------------------------------------------- settings

void fft_set_planner(FftPlanner mode) { cache().planner.store(static_cast<int>(mode)); }

FftPlanner fft_planner() { return static_cast<FftPlanner>(cache().planner.load()); }

void fft_load_wisdom(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(cache().mu);
  if (!fftwf_import_wisdom_from_filename(path.c_str()))
    throw IoError("fft wisdom file '" + path + "': cannot read or parse it");
}

void fft_save_wisdom(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(cache().mu);
  if (!fftwf_export_wisdom_to_filename(path.c_str())) throw IoError("fft wisdom file '" + path + "': cannot write it");
}

std::size_t fft_plan_count() {
  std::lock_guard<std::recursive_mutex> lock(cache().mu);
  return cache().plans.size();
}

void fft_clear_plans() {
  std::map<PlanKey, PlanPtr> old;
  {
    std::lock_guard<std::recursive_mutex> lock(cache().mu);
    old.swap(cache().plans);
  }
  // `old` dies here, outside the lock, so threads executing transforms are
  // not blocked while the plans are destroyed (each deleter locks briefly).
}

// ---------------------------------------------------------------- transforms

namespace {

/// Gives `y` shape `s`, keeping its allocation when it is large enough
/// (repeated calls with the same output reuse warm memory instead of paying
/// for fresh pages every time).
void ensure_shape(Tensor& y, const Shape& s) {
  if (y.shape() != s || y.numel() != s.numel()) y.resize(s);
}

/// Per-thread scratch for c2r, which destroys its input. Kept between calls
/// up to `keep_limit` floats (64 MB) so that round trips do not allocate;
/// larger requests get a temporary.
float* c2r_scratch(int64_t n, Tensor& temporary) {
  constexpr int64_t keep_limit = int64_t(1) << 24;
  thread_local Tensor kept;
  Tensor& t = n <= keep_limit ? kept : temporary;
  if (t.numel() < n) t.resize(Shape{n});
  return t.data();
}

/// Validates an irfftn request and returns the output shape and c2r sizes.
Shape irfft_output(const Shape& in, const Layout& H, int64_t last_size, std::vector<int>& n, const char* where) {
  const std::string w(where);
  if (last_size < 1) throw ValueError(w + ": output size of the last axis must be >= 1, got " + std::to_string(last_size));
  if (H.n.back() != last_size / 2 + 1)
    throw ShapeError(w + ": input " + in.str() + " has " + std::to_string(H.n.back()) +
                     " half-spectrum entries on its last transformed axis, expected last_size/2+1 = " +
                     std::to_string(last_size / 2 + 1) + " for output size " + std::to_string(last_size));
  Shape out;
  for (int a = 0; a < in.rank() - 2; ++a) out.push_back(in[a]);
  out.push_back(last_size);
  n = H.n;
  n.back() = static_cast<int>(last_size);
  if (H.batch * (H.N / H.n.back() * last_size) > INT_MAX)
    throw ValueError(w + ": output " + out.str() + " is too large for one FFTW plan");
  return out;
}

/// c2r of the half spectra in `work` (destroyed) into y, then the scale.
void run_c2r(float* work, const std::vector<int>& n, int64_t batch, Tensor& y, Norm norm) {
  const int64_t in_per_item = 2 * (product(n) / n.back()) * (n.back() / 2 + 1);
  const int64_t out_per_item = product(n);
  over_batch(batch, out_per_item, [&](int64_t first, int64_t count) {
    float* in = work + first * in_per_item;
    float* out = y.data() + first * out_per_item;
    PlanPtr p = get_plan(PlanKind::C2R, n, static_cast<int>(count), in, out);
    fftwf_execute_dft_c2r(p.get(), reinterpret_cast<fftwf_complex*>(in), out);
    scale(out, count * out_per_item, dft_scale(norm, true, double(out_per_item)));
  });
}

}  // namespace

void fft_real_into(const Tensor& x, int d, Tensor& y, Norm norm) {
  const Layout L = layout(x, d, false, "fft_real");
  ensure_shape(y, with_trailing(x.shape(), 2));
  if (y.empty()) return;
  over_batch(L.batch, 2 * L.N, [&](int64_t first, int64_t count) {
    float* in = const_cast<float*>(x.data()) + first * L.N;  // out-of-place r2c preserves its input
    float* out = y.data() + 2 * first * L.N;
    PlanPtr p = get_plan(PlanKind::R2CFull, L.n, static_cast<int>(count), in, out);
    fftwf_execute_dft_r2c(p.get(), in, reinterpret_cast<fftwf_complex*>(out));
    Layout chunk = L;
    chunk.batch = count;
    hermitian_fill(out, chunk);
    scale(out, 2 * count * L.N, dft_scale(norm, false, double(L.N)));
  });
}

Tensor fft_real(const Tensor& x, int d, Norm norm) {
  Tensor y;
  fft_real_into(x, d, y, norm);
  return y;
}

Tensor fft_complex(const Tensor& x, int d, bool inverse, Norm norm) {
  const char* where = inverse ? "ifftn" : "fftn";
  const Layout L = layout(x, d, true, where);
  Tensor y;
  ensure_shape(y, x.shape());
  if (y.empty()) return y;
  PlanPtr p = get_plan(inverse ? PlanKind::C2CBackward : PlanKind::C2CForward, L.n, static_cast<int>(L.batch),
                       x.data(), y.data());
  // Out-of-place c2c preserves its input.
  fftwf_execute_dft(p.get(), reinterpret_cast<fftwf_complex*>(const_cast<float*>(x.data())),
                    reinterpret_cast<fftwf_complex*>(y.data()));
  scale(y, dft_scale(norm, inverse, double(L.N)));
  return y;
}

void rfftn_into(const Tensor& x, int d, Tensor& y, Norm norm) {
  const Layout L = layout(x, d, false, "rfftn");
  Shape s = x.shape();
  s[s.rank() - 1] = L.n.back() / 2 + 1;
  ensure_shape(y, with_trailing(s, 2));
  if (y.empty()) return;
  const int64_t out_per_item = y.numel() / L.batch;
  over_batch(L.batch, L.N, [&](int64_t first, int64_t count) {
    float* in = const_cast<float*>(x.data()) + first * L.N;  // out-of-place r2c preserves its input
    float* out = y.data() + first * out_per_item;
    PlanPtr p = get_plan(PlanKind::R2C, L.n, static_cast<int>(count), in, out);
    fftwf_execute_dft_r2c(p.get(), in, reinterpret_cast<fftwf_complex*>(out));
    scale(out, count * out_per_item, dft_scale(norm, false, double(L.N)));
  });
}

Tensor rfftn(const Tensor& x, int d, Norm norm) {
  Tensor y;
  rfftn_into(x, d, y, norm);
  return y;
}

void irfftn_into(const Tensor& x, int d, int64_t last_size, Tensor& y, Norm norm) {
  const Layout H = layout(x, d, true, "irfftn");
  std::vector<int> n;
  ensure_shape(y, irfft_output(x.shape(), H, last_size, n, "irfftn"));
  if (y.empty()) return;
  Tensor temporary;
  float* work = c2r_scratch(x.numel(), temporary);  // c2r destroys its input: never the caller's
  std::copy(x.begin(), x.end(), work);
  run_c2r(work, n, H.batch, y, norm);
}

Tensor irfftn(const Tensor& x, int d, int64_t last_size, Norm norm) {
  Tensor y;
  irfftn_into(x, d, last_size, y, norm);
  return y;
}

void real_ifftn_into(const Tensor& x, int d, Tensor& y, Norm norm) {
  const Layout L = layout(x, d, true, "real_ifftn");
  Shape out;
  for (int a = 0; a + 1 < x.rank(); ++a) out.push_back(x.shape()[a]);
  ensure_shape(y, out);
  if (y.empty()) return;
  // Re(W s) = W h with h the Hermitian part of s, h[k] = (s[k] + conj(s[-k]))/2.
  // h is Hermitian, so its inverse is a c2r of its half spectrum: half the
  // work of a complex inverse and no complex output to discard.
  const int d1 = static_cast<int>(L.n.size());
  const int64_t nl = L.n.back(), h = nl / 2 + 1, rows = L.N / nl;
  std::vector<int64_t> mirror(static_cast<size_t>(rows));
  std::vector<int64_t> idx(static_cast<size_t>(std::max(d1 - 1, 1)), 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t m = 0;
    for (int a = 0; a < d1 - 1; ++a) m = m * L.n[a] + (idx[a] == 0 ? 0 : L.n[a] - idx[a]);
    mirror[static_cast<size_t>(r)] = m;
    for (int a = d1 - 2; a >= 0; --a) {
      if (++idx[a] < L.n[a]) break;
      idx[a] = 0;
    }
  }
  Tensor temporary;
  float* work = c2r_scratch(L.batch * rows * h * 2, temporary);
  for (int64_t b = 0; b < L.batch; ++b) {
    const float* src = x.data() + 2 * b * L.N;
    float* dst = work + 2 * b * rows * h;
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = src + 2 * r * nl;
      const float* mrow = src + 2 * mirror[static_cast<size_t>(r)] * nl;
      float* o = dst + 2 * r * h;
      for (int64_t k = 0; k < h; ++k) {
        const int64_t mk = k == 0 ? 0 : nl - k;
        o[2 * k] = 0.5f * (row[2 * k] + mrow[2 * mk]);
        o[2 * k + 1] = 0.5f * (row[2 * k + 1] - mrow[2 * mk + 1]);
      }
    }
  }
  run_c2r(work, L.n, L.batch, y, norm);
}

Tensor dct(const Tensor& x, int d, int type, Norm norm) {
  check_type(type, "dct");
  const PlanKind kind = type == 2 ? PlanKind::Redft10 : PlanKind::Redft01;
  const double s = norm == Norm::Forward ? 1.0 / dct_n(layout(x, d, false, "dct")) : 1.0;
  return r2r(x, d, kind, norm == Norm::Ortho, s, "dct");
}

Tensor idct(const Tensor& x, int d, int type, Norm norm) {
  check_type(type, "idct");
  // The inverse of a type-2 DCT is a scaled type 3 and vice versa.
  const PlanKind kind = type == 2 ? PlanKind::Redft01 : PlanKind::Redft10;
  const double s = norm == Norm::Backward ? 1.0 / dct_n(layout(x, d, false, "idct")) : 1.0;
  return r2r(x, d, kind, norm == Norm::Ortho, s, "idct");
}

Tensor fftshift(const Tensor& x, int d, bool complex) { return shift(x, d, complex, false, "fftshift"); }

Tensor ifftshift(const Tensor& x, int d, bool complex) { return shift(x, d, complex, true, "ifftshift"); }

}  // namespace trim::kernels
