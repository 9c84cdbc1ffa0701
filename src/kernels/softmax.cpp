#include "trim/kernels/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "trim/core/parallel.hpp"

namespace trim::kernels {

namespace {

using Arr = Eigen::Map<Eigen::ArrayXf>;
using CArr = Eigen::Map<const Eigen::ArrayXf>;

/// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelWork = int64_t{1} << 15;

// Sums along the axis (Σ exp, Σ dy·y, Σ dy) are accumulated in double: a
// float sum over a line of length n errs by up to ~n ulp, which shows in
// log-probabilities near 0 (log Σ with Σ ≈ 1) and in VJPs that cancel.
// The helpers keep eight independent partial sums so the compiler
// vectorises them (Eigen's cast<double>().sum() runs scalar).

double sum_d(const float* p, int64_t n) {
  double acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += static_cast<double>(p[i + j]);
  double s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; i < n; ++i) s += static_cast<double>(p[i]);
  return s;
}

double dot_d(const float* a, const float* b, int64_t n) {
  double acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += static_cast<double>(a[i + j]) * static_cast<double>(b[i + j]);
  double s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; i < n; ++i) s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return s;
}

/// s[j] += a[j] (· b[j] when b is given), in double.
void accumulate_d(double* s, const float* a, const float* b, int64_t n) {
  if (b)
    for (int64_t j = 0; j < n; ++j) s[j] += static_cast<double>(a[j]) * static_cast<double>(b[j]);
  else
    for (int64_t j = 0; j < n; ++j) s[j] += static_cast<double>(a[j]);
}

/// The tensor seen as [outer, len, inner] around the normalised axis.
struct Lines {
  int64_t outer, len, inner;
  int64_t block() const { return len * inner; }
};

Lines lines_of(const Shape& s, int axis) {
  const int a = s.axis(axis);
  return {s.numel(0, a), s[a], s.numel(a + 1, s.rank())};
}

/// Runs fn(begin, end) over outer blocks, in parallel when there is enough work.
template <class F>
void over_blocks(const Lines& l, F&& fn) {
  if (l.outer > 1 && l.outer * l.block() >= kParallelWork)
    parallel_for(l.outer, fn);
  else
    fn(0, l.outer);
}

/// Scratch for lines with inner > 1: one float and one double per lane.
struct Scratch {
  std::vector<float> f;
  std::vector<double> d;
  explicit Scratch(int64_t in) : f(static_cast<size_t>(in)), d(static_cast<size_t>(in)) {}
};

/// y = exp(x − max) per lane of an [n, in] block; returns nothing but
/// leaves Σ exp in s (double). m is scratch for the maxima.
void exp_shifted(const float* xb, float* yb, int64_t n, int64_t in, float* m, double* s) {
  Arr M(m, in);
  M = CArr(xb, in);
  for (int64_t k = 1; k < n; ++k) M = M.max(CArr(xb + k * in, in));
  std::fill(s, s + in, 0.0);
  for (int64_t k = 0; k < n; ++k) {
    Arr Yk(yb + k * in, in);
    Yk = (CArr(xb + k * in, in) - M).exp();
    accumulate_d(s, yb + k * in, nullptr, in);
  }
}

}  // namespace

void softmax_forward(const Tensor& x, int axis, Tensor& y) {
  const Lines l = lines_of(x.shape(), axis);
  if (x.numel() == 0) return;
  const int64_t n = l.len, in = l.inner, block = l.block();
  over_blocks(l, [&](int64_t ob, int64_t oe) {
    if (in == 1) {
      for (int64_t o = ob; o < oe; ++o) {
        const CArr X(x.data() + o * block, n);
        Arr Y(y.data() + o * block, n);
        Y = (X - X.maxCoeff()).exp();
        Y *= static_cast<float>(1.0 / sum_d(Y.data(), n));
      }
      return;
    }
    Scratch sc(in);
    Arr F(sc.f.data(), in);
    for (int64_t o = ob; o < oe; ++o) {
      float* yb = y.data() + o * block;
      exp_shifted(x.data() + o * block, yb, n, in, sc.f.data(), sc.d.data());
      for (int64_t j = 0; j < in; ++j) sc.f[static_cast<size_t>(j)] = static_cast<float>(1.0 / sc.d[static_cast<size_t>(j)]);
      for (int64_t k = 0; k < n; ++k) Arr(yb + k * in, in) *= F;
    }
  });
}

void log_softmax_forward(const Tensor& x, int axis, Tensor& y) {
  const Lines l = lines_of(x.shape(), axis);
  if (x.numel() == 0) return;
  const int64_t n = l.len, in = l.inner, block = l.block();
  over_blocks(l, [&](int64_t ob, int64_t oe) {
    if (in == 1) {
      for (int64_t o = ob; o < oe; ++o) {
        const CArr X(x.data() + o * block, n);
        Arr Y(y.data() + o * block, n);
        const float m = X.maxCoeff();
        Y = (X - m).exp();
        const float log_sum = static_cast<float>(std::log(sum_d(Y.data(), n)));
        Y = (X - m) - log_sum;
      }
      return;
    }
    Scratch sc(in);
    Arr F(sc.f.data(), in);
    for (int64_t o = ob; o < oe; ++o) {
      const float* xb = x.data() + o * block;
      float* yb = y.data() + o * block;
      exp_shifted(xb, yb, n, in, sc.f.data(), sc.d.data());  // leaves the maxima in sc.f
      // x − (max + log Σ) would round the sum; subtract the parts in turn.
      for (int64_t k = 0; k < n; ++k) Arr(yb + k * in, in) = CArr(xb + k * in, in) - F;
      for (int64_t j = 0; j < in; ++j) sc.f[static_cast<size_t>(j)] = static_cast<float>(std::log(sc.d[static_cast<size_t>(j)]));
      for (int64_t k = 0; k < n; ++k) Arr(yb + k * in, in) -= F;
    }
  });
}

void softmax_backward(const Tensor& y, const Tensor& dy, int axis, Tensor& dx) {
  const Lines l = lines_of(y.shape(), axis);
  if (y.numel() == 0) return;
  const int64_t n = l.len, in = l.inner, block = l.block();
  over_blocks(l, [&](int64_t ob, int64_t oe) {
    if (in == 1) {
      for (int64_t o = ob; o < oe; ++o) {
        const float* yb = y.data() + o * block;
        const float* gb = dy.data() + o * block;
        const float dot = static_cast<float>(dot_d(yb, gb, n));
        Arr(dx.data() + o * block, n) += CArr(yb, n) * (CArr(gb, n) - dot);
      }
      return;
    }
    Scratch sc(in);
    Arr F(sc.f.data(), in);
    for (int64_t o = ob; o < oe; ++o) {
      const float* yb = y.data() + o * block;
      const float* gb = dy.data() + o * block;
      float* db = dx.data() + o * block;
      std::fill(sc.d.begin(), sc.d.end(), 0.0);
      for (int64_t k = 0; k < n; ++k) accumulate_d(sc.d.data(), yb + k * in, gb + k * in, in);
      for (int64_t j = 0; j < in; ++j) sc.f[static_cast<size_t>(j)] = static_cast<float>(sc.d[static_cast<size_t>(j)]);
      for (int64_t k = 0; k < n; ++k)
        Arr(db + k * in, in) += CArr(yb + k * in, in) * (CArr(gb + k * in, in) - F);
    }
  });
}

void log_softmax_backward(const Tensor& y, const Tensor& dy, int axis, Tensor& dx) {
  const Lines l = lines_of(y.shape(), axis);
  if (y.numel() == 0) return;
  const int64_t n = l.len, in = l.inner, block = l.block();
  over_blocks(l, [&](int64_t ob, int64_t oe) {
    if (in == 1) {
      for (int64_t o = ob; o < oe; ++o) {
        const float* yb = y.data() + o * block;
        const float* gb = dy.data() + o * block;
        const float s = static_cast<float>(sum_d(gb, n));
        Arr(dx.data() + o * block, n) += CArr(gb, n) - CArr(yb, n).exp() * s;
      }
      return;
    }
    Scratch sc(in);
    Arr F(sc.f.data(), in);
    for (int64_t o = ob; o < oe; ++o) {
      const float* yb = y.data() + o * block;
      const float* gb = dy.data() + o * block;
      float* db = dx.data() + o * block;
      std::fill(sc.d.begin(), sc.d.end(), 0.0);
      for (int64_t k = 0; k < n; ++k) accumulate_d(sc.d.data(), gb + k * in, nullptr, in);
      for (int64_t j = 0; j < in; ++j) sc.f[static_cast<size_t>(j)] = static_cast<float>(sc.d[static_cast<size_t>(j)]);
      for (int64_t k = 0; k < n; ++k)
        Arr(db + k * in, in) += CArr(gb + k * in, in) - CArr(yb + k * in, in).exp() * F;
    }
  });
}

}  // namespace trim::kernels
