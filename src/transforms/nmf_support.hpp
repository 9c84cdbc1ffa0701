#pragma once
// What the NMF solvers (nmf.cpp) and their initialisation (nmf_init.cpp)
// share: matrix types, scikit-learn's constants, input checks, NumPy's
// legacy random stream, and serial GEMM blocks on trim's pool. Private to
// src/transforms.

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <sstream>
#include <string>

#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/transforms/dictionary.hpp"

namespace trim::nmf_detail {

using Mat = MatrixXdRM;
using MatCM = Eigen::MatrixXd;

/// scikit-learn's EPSILON (float32 machine epsilon, also for float64 data).
constexpr double kEps32 = 1.1920928955078125e-07;
constexpr double kEps64 = std::numeric_limits<double>::epsilon();

inline std::string num(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

inline std::string dims(int64_t r, int64_t c) { return "[" + std::to_string(r) + "," + std::to_string(c) + "]"; }

/// Throws ValueError naming the first NaN / infinite / negative entry.
inline void check_data(const Mat& X, const std::string& where, const char* what, bool nonneg) {
  if (X.rows() == 0 || X.cols() == 0)
    throw ValueError(where + ": " + what + " is empty " + dims(X.rows(), X.cols()));
  for (int64_t i = 0; i < X.rows(); ++i)
    for (int64_t j = 0; j < X.cols(); ++j) {
      const double v = X(i, j);
      if (!std::isfinite(v))
        throw ValueError(where + ": " + what + " has " + (std::isnan(v) ? "NaN" : "an infinite value") + " at row " +
                         std::to_string(i) + ", column " + std::to_string(j));
      if (nonneg && v < 0)
        throw ValueError(where + ": " + what + " has a negative value " + num(v) + " at row " + std::to_string(i) +
                         ", column " + std::to_string(j) + " (NMF needs non-negative data)");
    }
}

// ---- NumPy's legacy RandomState ---------------------------------------------------

/// numpy.random.RandomState(seed): MT19937 seeded by init_genrand, doubles
/// from two 32-bit draws, normals by the polar method with a cached second
/// value (legacy_gauss). scikit-learn draws its random starts and its
/// randomised-SVD test matrix from this stream, so the same seed gives the
/// same numbers as random_state=seed.
class NumpyRandomState {
 public:
  explicit NumpyRandomState(uint32_t seed) {
    mt_[0] = seed;
    for (int i = 1; i < 624; ++i) mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + uint32_t(i);
    pos_ = 624;
  }
  double normal() {
    if (has_gauss_) {
      has_gauss_ = false;
      return gauss_;
    }
    double x1, x2, r2;
    do {
      x1 = 2.0 * next_double() - 1.0;
      x2 = 2.0 * next_double() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double f = std::sqrt(-2.0 * std::log(r2) / r2);
    gauss_ = f * x1;
    has_gauss_ = true;
    return f * x2;
  }

 private:
  uint32_t next32() {
    if (pos_ == 624) reload();
    uint32_t y = mt_[pos_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  }
  void reload() {
    for (int i = 0; i < 624; ++i) {
      const uint32_t y = (mt_[i] & 0x80000000u) | (mt_[(i + 1) % 624] & 0x7fffffffu);
      mt_[i] = mt_[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
    pos_ = 0;
  }
  double next_double() {
    const uint32_t a = next32() >> 5, b = next32() >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  uint32_t mt_[624];
  int pos_ = 624;
  bool has_gauss_ = false;
  double gauss_ = 0.0;
};

inline uint32_t numpy_seed(uint64_t seed, const std::string& where) {
  if (seed > 0xffffffffULL)
    throw ValueError(where + ": seed " + std::to_string(seed) + " must be below 2^32 (numpy.random.RandomState)");
  return static_cast<uint32_t>(seed);
}

// ---- serial GEMM and blocks on trim's pool ---------------------------------------------

/// res [rows, cols] (row-major, stride res_stride) = lhs · rhs, always on the
/// calling thread. lhs is [rows, depth] stored row-major (LhsOrder RowMajor)
/// or the transpose of a row-major [depth, rows] array (ColMajor); rhs is
/// [depth, cols] row-major. Uses Eigen's GEMM kernel directly: the public
/// product API would open an OpenMP team from inside a pool thread.
template <int LhsOrder>
void gemm_serial(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth, const double* lhs, Eigen::Index lhs_stride,
                 const double* rhs, Eigen::Index rhs_stride, double* res, Eigen::Index res_stride) {
  for (Eigen::Index i = 0; i < rows; ++i) std::fill(res + i * res_stride, res + i * res_stride + cols, 0.0);
  if (rows == 0 || cols == 0 || depth == 0) return;
  Eigen::internal::gemm_blocking_space<Eigen::RowMajor, double, double, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic>
      blocking(rows, cols, depth, 1, true);
  Eigen::internal::general_matrix_matrix_product<Eigen::Index, double, LhsOrder, false, double, Eigen::RowMajor, false,
                                                 Eigen::RowMajor, 1>::run(rows, cols, depth, lhs, lhs_stride, rhs,
                                                                          rhs_stride, res, 1, res_stride, 1.0, blocking,
                                                                          nullptr);
}

/// Runs task(b) for blocks b of `count` items (block size `block`) serially
/// or on the pool.
inline void for_blocks(int64_t count, int64_t block, bool pooled, const std::function<void(int64_t)>& task) {
  const int64_t blocks = (count + block - 1) / block;
  if (pooled) parallel_tasks(blocks, task);  // trim's pool: never waits for an idle helper
  else
    for (int64_t b = 0; b < blocks; ++b) task(b);
}

/// Rows per cd block: a multiple of the SIMD lane count, fixed so that the
/// violation's summation order does not depend on threads.
constexpr int64_t kCdBlock = 256;

/// Elementwise helpers on dense matrices.
template <class F>
void apply(Mat& A, F f) {
  double* p = A.data();
  const int64_t s = A.size();
  for (int64_t i = 0; i < s; ++i) p[i] = f(p[i]);
}

/// Products of n·m·k below this run on one thread (Eigen itself always does:
/// core/parallel.cpp); above it the solvers split their work over the pool.
constexpr double kSerialWork = 2e7;

/// scikit-learn's name of an initialisation.
inline const char* init_name(NmfInit init) {
  switch (init) {
    case NmfInit::Auto: return "auto";
    case NmfInit::Random: return "random";
    case NmfInit::Nndsvd: return "nndsvd";
    case NmfInit::Nndsvda: return "nndsvda";
    case NmfInit::Nndsvdar: return "nndsvdar";
    case NmfInit::Custom: return "custom";
  }
  return "?";
}

}  // namespace trim::nmf_detail
