// Non-negative matrix factorisation with scikit-learn 1.2 semantics
// (decomposition/_nmf.py, _cdnmf_fast.pyx), in double precision on Eigen.
//
// Layout follows scikit-learn's: X [n, m], W [n, k] and Ht = Hᵀ [m, k], all
// row-major, so the H half-step of coordinate descent is the W half-step on
// Xᵀ with the roles of W and Ht swapped. The expensive products (X·Ht, Xᵀ·W,
// W·H) are Eigen GEMMs; the coordinate sweep is written to vectorise across
// rows while keeping scikit-learn's summation order within each row.

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <functional>
#include <new>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

#include "nmf_support.hpp"

#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/io/npy.hpp"
#include "trim/transforms/dictionary.hpp"

namespace trim {

namespace {

using namespace nmf_detail;

void check_options(const NmfOptions& o, const std::string& where) {
  if (o.n_components < 0) throw ValueError(where + ": n_components must be >= 0, got " + std::to_string(o.n_components));
  if (!(o.tol >= 0)) throw ValueError(where + ": tol must be >= 0, got " + num(o.tol));
  if (o.max_iter < 1) throw ValueError(where + ": max_iter must be >= 1, got " + std::to_string(o.max_iter));
  if (!(o.alpha_W >= 0)) throw ValueError(where + ": alpha_W must be >= 0, got " + num(o.alpha_W));
  if (o.alpha_H && !(*o.alpha_H >= 0)) throw ValueError(where + ": alpha_H must be >= 0, got " + num(*o.alpha_H));
  if (!(o.l1_ratio >= 0 && o.l1_ratio <= 1))
    throw ValueError(where + ": l1_ratio must be in [0, 1], got " + num(o.l1_ratio));
  if (!std::isfinite(o.beta_loss)) throw ValueError(where + ": beta_loss must be finite");
  if (o.solver == NmfSolver::Cd && o.beta_loss != 2.0)
    throw ValueError(where + ": solver 'cd' handles only beta_loss = 2 (frobenius), got " + num(o.beta_loss) +
                     "; use solver 'mu'");
}

struct Reg {
  double l1_W, l1_H, l2_W, l2_H;
};

/// scikit-learn's `_compute_regularization`: W's terms scale with n_features,
/// H's with n_samples.
Reg regularization(const NmfOptions& o, int64_t n, int64_t m) {
  const double aW = o.alpha_W, aH = o.alpha_H ? *o.alpha_H : o.alpha_W;
  const double dn = double(n), dm = double(m);
  return {dm * aW * o.l1_ratio, dn * aH * o.l1_ratio, dm * aW * (1.0 - o.l1_ratio), dn * aH * (1.0 - o.l1_ratio)};
}

/// NumPy's `power` with its fast paths (reciprocal, sqrt, square), so that
/// values agree with scikit-learn's to the last bit where they can.
inline double np_pow(double a, double e) {
  if (e == 1.0) return a;
  if (e == 2.0) return a * a;
  if (e == -1.0) return 1.0 / a;
  if (e == 0.5) return std::sqrt(a);
  if (e == 0.0) return 1.0;
  return std::pow(a, e);
}

// ---- coordinate descent -----------------------------------------------------------

constexpr int kLanes = 16;

/// The coordinate sweep for one block of kLanes rows held transposed
/// (wb[r*kLanes + l] = W(row l, r)); per-lane |projected gradient| sums are
/// added to vl. Padding lanes hold W = XHt = 0: their gradient is 0 and
/// they neither change nor add to the violation.
inline void cd_block(double* wb, const double* xb, const double* hh, int k, double* vl) {
  using Lanes = Eigen::Array<double, kLanes, 1>;
  using LanesMap = Eigen::Map<Lanes>;
  using ConstLanesMap = Eigen::Map<const Lanes>;
  LanesMap viol(vl);
  for (int t = 0; t < k; ++t) {
    const double* h = hh + size_t(t) * k;
    // Explicit SIMD across lanes; the sum over r stays sequential per lane.
    Lanes g = -ConstLanesMap(xb + size_t(t) * kLanes);
    for (int r = 0; r < k; ++r) g += h[r] * ConstLanesMap(wb + size_t(r) * kLanes);
    LanesMap wt(wb + size_t(t) * kLanes);
    viol += (wt == 0.0).select(g.min(0.0), g).abs();
    const double hess = h[t];
    if (hess != 0.0) wt = (wt - g / hess).max(0.0);
  }
}

/// Sweeps rows [i0, i1) of W (row-major [*, k]) given HHt and the matching
/// rows of XHt; returns the summed |projected gradient| (lanes summed in a
/// fixed order, so the value does not depend on how rows are scheduled).
double cd_sweep_rows(double* W, const double* XHt, const double* HHt, int64_t i0, int64_t i1, int k) {
  constexpr int L = kLanes;
  std::vector<double> wb(static_cast<size_t>(k) * L), xb(static_cast<size_t>(k) * L);
  double vl[L] = {};
  for (int64_t b0 = i0; b0 < i1; b0 += L) {
    const int rows = static_cast<int>(std::min<int64_t>(L, i1 - b0));
    if (rows < L) {
      std::fill(wb.begin(), wb.end(), 0.0);
      std::fill(xb.begin(), xb.end(), 0.0);
    }
    for (int l = 0; l < rows; ++l) {
      const double* w = W + (b0 + l) * k;
      const double* x = XHt + (b0 + l) * k;
      for (int r = 0; r < k; ++r) {
        wb[size_t(r) * L + l] = w[r];
        xb[size_t(r) * L + l] = x[r];
      }
    }
    cd_block(wb.data(), xb.data(), HHt, k, vl);
    for (int l = 0; l < rows; ++l) {
      double* w = W + (b0 + l) * k;
      for (int r = 0; r < k; ++r) w[r] = wb[size_t(r) * L + l];
    }
  }
  double v = 0.0;
  for (int l = 0; l < L; ++l) v += vl[l];
  return v;
}

struct SolveResult {
  int n_iter = 0;
};

/// scikit-learn's `_fit_coordinate_descent`. Each half-step is one pass over
/// blocks of rows: the block's rows of X·Ht (or Xᵀ·W) by GEMM, the
/// regularisation, then the coordinate sweep of those rows.
SolveResult fit_cd(const Mat& X, Mat& W, Mat& H, const NmfOptions& o, const Reg& reg, bool update_H, bool pooled) {
  const int64_t n = X.rows(), m = X.cols(), k = W.cols();
  const int kk = static_cast<int>(k);
  Mat Ht = H.transpose();
  Mat XHt(n, k), XtW(m, k), HHt(k, k), WtW(k, k);
  const bool target = update_H && o.target_error > 0;
  const double xx = target ? X.squaredNorm() : 0.0;
  std::vector<double> viol_w(size_t((n + kCdBlock - 1) / kCdBlock)), viol_h(size_t((m + kCdBlock - 1) / kCdBlock));
  std::vector<double> cross(viol_h.size());
  double violation_init = 0.0;
  int it = 1;
  for (; it <= o.max_iter; ++it) {
    // W: HHt = HtᵀHt (+ l2 on the diagonal), XHt = X·Ht (− l1), sweep.
    gemm_serial<Eigen::ColMajor>(k, k, m, Ht.data(), k, Ht.data(), k, HHt.data(), k);
    if (reg.l2_W != 0.0) HHt.diagonal().array() += reg.l2_W;
    for_blocks(n, kCdBlock, pooled, [&](int64_t b) {
      const int64_t i0 = b * kCdBlock, i1 = std::min(n, i0 + kCdBlock);
      gemm_serial<Eigen::RowMajor>(i1 - i0, k, m, X.data() + i0 * m, m, Ht.data(), k, XHt.data() + i0 * k, k);
      if (reg.l1_W != 0.0) XHt.middleRows(i0, i1 - i0).array() -= reg.l1_W;
      viol_w[size_t(b)] = cd_sweep_rows(W.data(), XHt.data(), HHt.data(), i0, i1, kk);
    });
    double violation = 0.0;
    for (double v : viol_w) violation += v;

    if (update_H) {
      // H (as Ht, the W of Xᵀ): WtW = WᵀW, XtW = Xᵀ·W by blocks of features.
      gemm_serial<Eigen::ColMajor>(k, k, n, W.data(), k, W.data(), k, WtW.data(), k);
      Mat WtW_raw;
      if (target) WtW_raw = WtW;
      if (reg.l2_H != 0.0) WtW.diagonal().array() += reg.l2_H;
      for_blocks(m, kCdBlock, pooled, [&](int64_t b) {
        const int64_t f0 = b * kCdBlock, f1 = std::min(m, f0 + kCdBlock);
        gemm_serial<Eigen::ColMajor>(f1 - f0, k, n, X.data() + f0, m, W.data(), k, XtW.data() + f0 * k, k);
        if (target) {
          // ⟨Ht, XᵀW⟩ with the new Ht, for the error below: this block's
          // rows of Ht are final after its sweep.
          auto block = XtW.middleRows(f0, f1 - f0);
          Mat raw = block;
          if (reg.l1_H != 0.0) block.array() -= reg.l1_H;
          viol_h[size_t(b)] = cd_sweep_rows(Ht.data(), XtW.data(), WtW.data(), f0, f1, kk);
          cross[size_t(b)] = (Ht.middleRows(f0, f1 - f0).array() * raw.array()).sum();
          return;
        }
        if (reg.l1_H != 0.0) XtW.middleRows(f0, f1 - f0).array() -= reg.l1_H;
        viol_h[size_t(b)] = cd_sweep_rows(Ht.data(), XtW.data(), WtW.data(), f0, f1, kk);
      });
      for (double v : viol_h) violation += v;
      if (target) {
        // ‖X − WH‖² = ‖X‖² − 2⟨Ht, XᵀW⟩ + ⟨WᵀW, HHᵀ⟩
        double c = 0.0;
        for (double v : cross) c += v;
        Mat hht(k, k);
        gemm_serial<Eigen::ColMajor>(k, k, m, Ht.data(), k, Ht.data(), k, hht.data(), k);
        const double err2 = xx - 2.0 * c + (WtW_raw.array() * hht.array()).sum();
        if (std::sqrt(std::max(err2, 0.0)) <= o.target_error) break;
      }
    }
    if (it == 1) violation_init = violation;
    if (violation_init == 0.0) break;
    if (violation / violation_init <= o.tol) break;
  }
  if (it > o.max_iter) it = o.max_iter;
  if (update_H) H = Ht.transpose();
  return {it};
}

// ---- multiplicative updates -----------------------------------------------------

/// WH_safe_X after scikit-learn's in-place steps: X/WH (β=1), X·WH^(β−2).
Mat mu_weighted(const Mat& X, const Mat& WH, double beta) {
  Mat R = WH;
  if (beta < 2.0) apply(R, [](double v) { return v == 0.0 ? kEps32 : v; });
  const int64_t s = R.size();
  double* r = R.data();
  const double* x = X.data();
  if (beta == 1.0) {
    for (int64_t i = 0; i < s; ++i) r[i] = x[i] / r[i];
  } else if (beta == 0.0) {
    for (int64_t i = 0; i < s; ++i) {
      const double inv = 1.0 / r[i];
      r[i] = inv * inv * x[i];
    }
  } else {
    const double e = beta - 2.0;
    for (int64_t i = 0; i < s; ++i) r[i] = np_pow(r[i], e) * x[i];
  }
  return R;
}

/// WH^(β−1), zeros first replaced by eps when β < 1.
Mat mu_powered(Mat WH, double beta) {
  const double e = beta - 1.0;
  apply(WH, [&](double v) {
    if (beta < 1.0 && v == 0.0) v = kEps32;
    return np_pow(v, e);
  });
  return WH;
}

/// numerator / denominator (zeros → eps), raised to γ, multiplied into A.
void mu_apply(Mat& A, const Mat& numer, Mat& denom, double gamma) {
  const int64_t s = A.size();
  double* a = A.data();
  const double* nu = numer.data();
  double* de = denom.data();
  for (int64_t i = 0; i < s; ++i) {
    const double d = de[i] == 0.0 ? kEps32 : de[i];
    double delta = nu[i] / d;
    if (gamma != 1.0) delta = np_pow(delta, gamma);
    a[i] *= delta;
  }
}

/// numpy.linalg.multi_dot([A, B, C]) with its cost-based order.
Mat multi_dot3(const Mat& A, const Mat& B, const Mat& C) {
  const double a0 = A.rows(), a1b0 = A.cols(), b1c0 = B.cols(), c1 = C.cols();
  const double cost1 = a0 * a1b0 * b1c0 + a0 * b1c0 * c1;
  const double cost2 = a1b0 * b1c0 * c1 + a0 * a1b0 * c1;
  if (cost1 < cost2) {
    Mat AB = A * B;
    return AB * C;
  }
  Mat BC = B * C;
  return A * BC;
}

SolveResult fit_mu(const Mat& X, Mat& W, Mat& H, const NmfOptions& o, const Reg& reg, bool update_H) {
  const double beta = o.beta_loss;
  const double gamma = beta < 1.0 ? 1.0 / (2.0 - beta) : beta > 2.0 ? 1.0 / (beta - 1.0) : 1.0;
  const int64_t n = X.rows(), k = W.cols();
  const double error_at_init = beta_divergence(X, W, H, beta, true);
  double previous_error = error_at_init;

  // Cached when H is fixed (transform).
  Mat XHt, HHt;
  Eigen::RowVectorXd H_sum;
  bool cached = false;
  int it = 1;
  for (; it <= o.max_iter; ++it) {
    // ---- W ----
    Mat numer, denom;
    if (beta == 2.0) {
      if (!cached) {
        XHt = X * H.transpose();
        HHt = H * H.transpose();
      }
      numer = XHt;
      denom = W * HHt;
    } else {
      const Mat WH = W * H;
      const Mat R = mu_weighted(X, WH, beta);
      numer = R * H.transpose();
      if (beta == 1.0) {
        if (!cached) H_sum = H.rowwise().sum().transpose();
      } else {
        denom = mu_powered(WH, beta) * H.transpose();
      }
    }
    cached = !update_H;
    if (beta == 1.0) {
      // scikit-learn's denominator here is a view of H_sum: the L1 term and
      // the zero → eps fix land in H_sum itself. In a fit H_sum is recomputed
      // every iteration; in transform (H fixed) it is kept, so the L1 term
      // accumulates over iterations. Reproduced to match.
      if (reg.l1_W > 0) H_sum.array() += reg.l1_W;
      if (reg.l2_W > 0) {
        denom = H_sum.replicate(n, 1) + reg.l2_W * W;
      } else {
        for (int64_t j = 0; j < k; ++j)
          if (H_sum(j) == 0.0) H_sum(j) = kEps32;
        denom = H_sum.replicate(n, 1);
      }
    } else {
      if (reg.l1_W > 0) denom.array() += reg.l1_W;
      if (reg.l2_W > 0) denom += reg.l2_W * W;
    }
    mu_apply(W, numer, denom, gamma);
    if (beta < 1.0) apply(W, [](double v) { return v < kEps64 ? 0.0 : v; });

    // ---- H ----
    if (update_H) {
      Mat hn, hd;
      if (beta == 2.0) {
        hn = W.transpose() * X;
        hd = multi_dot3(Mat(W.transpose()), W, H);
      } else {
        const Mat WH = W * H;
        const Mat R = mu_weighted(X, WH, beta);
        hn = W.transpose() * R;
        if (beta == 1.0) {
          Eigen::VectorXd W_sum = W.colwise().sum().transpose();
          for (int64_t j = 0; j < k; ++j)
            if (W_sum(j) == 0.0) W_sum(j) = 1.0;
          hd = W_sum.replicate(1, H.cols());
        } else {
          hd = W.transpose() * mu_powered(WH, beta);
        }
      }
      if (reg.l1_H > 0) hd.array() += reg.l1_H;
      if (reg.l2_H > 0) hd += reg.l2_H * H;
      mu_apply(H, hn, hd, gamma);
      if (beta <= 1.0) apply(H, [](double v) { return v < kEps64 ? 0.0 : v; });
    }

    const bool target = update_H && o.target_error > 0;
    if (it % 10 == 0 && (o.tol > 0 || target)) {
      const double error = beta_divergence(X, W, H, beta, true);
      if (target && error <= o.target_error) break;
      if (o.tol > 0) {
        if ((previous_error - error) / error_at_init < o.tol) break;
        previous_error = error;
      }
    }
  }
  if (it > o.max_iter) it = o.max_iter;
  return {it};
}

void check_factor(const Mat& A, int64_t rows, int64_t cols, const std::string& where, const char* what) {
  if (A.rows() != rows || A.cols() != cols)
    throw ShapeError(where + ": " + what + " is " + dims(A.rows(), A.cols()) + ", expected " + dims(rows, cols));
  check_data(A, where, what, true);
  if (A.maxCoeff() == 0.0) throw ValueError(where + ": " + what + " is full of zeros");
}

}  // namespace

// ---- public helpers --------------------------------------------------------------------

double nmf_beta_loss(const std::string& name) {
  if (name == "frobenius") return 2.0;
  if (name == "kullback-leibler") return 1.0;
  if (name == "itakura-saito") return 0.0;
  char* end = nullptr;
  const double v = std::strtod(name.c_str(), &end);
  if (name.empty() || *end != '\0' || !std::isfinite(v))
    throw ValueError("nmf: unknown beta_loss '" + name +
                     "' (expected frobenius, kullback-leibler, itakura-saito or a number)");
  return v;
}

NmfSolver nmf_solver(const std::string& name) {
  if (name == "cd") return NmfSolver::Cd;
  if (name == "mu") return NmfSolver::Mu;
  throw ValueError("nmf: unknown solver '" + name + "' (expected cd or mu)");
}

double beta_divergence(const MatrixXdRM& X, const MatrixXdRM& W, const MatrixXdRM& H, double beta, bool square_root) {
  if (W.rows() != X.rows() || H.cols() != X.cols() || W.cols() != H.rows())
    throw ShapeError("beta_divergence: X " + dims(X.rows(), X.cols()) + ", W " + dims(W.rows(), W.cols()) + ", H " +
                     dims(H.rows(), H.cols()) + " do not fit X ≈ W·H");
  const Mat WH = W * H;
  double res;
  if (beta == 2.0) {
    res = (X - WH).squaredNorm() / 2.0;
    return square_root ? std::sqrt(res * 2) : res;
  }
  const int64_t s = X.size();
  const double* x = X.data();
  const double* wh = WH.data();
  if (beta == 1.0) {
    const double sum_WH = W.colwise().sum().dot(H.rowwise().sum().transpose());
    double dot = 0.0, sx = 0.0;
    for (int64_t i = 0; i < s; ++i)
      if (x[i] > kEps32) {
        const double w = wh[i] == 0.0 ? kEps32 : wh[i];
        dot += x[i] * std::log(x[i] / w);
        sx += x[i];
      }
    res = dot + sum_WH - sx;
  } else if (beta == 0.0) {
    double sdiv = 0.0, slog = 0.0;
    for (int64_t i = 0; i < s; ++i)
      if (x[i] > kEps32) {
        const double w = wh[i] == 0.0 ? kEps32 : wh[i];
        const double d = x[i] / w;
        sdiv += d;
        slog += std::log(d);
      }
    res = sdiv - double(X.rows()) * double(X.cols()) - slog;
  } else {
    double sum_WH_beta = 0.0, sum_X_WH = 0.0, sum_X_beta = 0.0;
    for (int64_t i = 0; i < s; ++i) sum_WH_beta += np_pow(wh[i], beta);
    for (int64_t i = 0; i < s; ++i)
      if (x[i] > kEps32) {
        const double w = wh[i] == 0.0 ? kEps32 : wh[i];
        sum_X_WH += x[i] * np_pow(w, beta - 1);
        sum_X_beta += np_pow(x[i], beta);
      }
    res = sum_X_beta - beta * sum_X_WH;
    res += sum_WH_beta * (beta - 1);
    res /= beta * (beta - 1);
  }
  if (square_root) return std::sqrt(2 * std::max(res, 0.0));
  return res;
}

// ---- NMF ----------------------------------------------------------------------------

NMF::NMF(NmfOptions options) : options_(std::move(options)) {}

NMF NMF::from_components(MatrixXdRM components, NmfOptions options) {
  check_options(options, "nmf");
  check_data(components, "nmf", "components", true);
  if (components.maxCoeff() == 0.0) throw ValueError("nmf: components are full of zeros");
  NMF r(std::move(options));
  r.components_ = std::move(components);
  r.options_.n_components = static_cast<int>(r.components_.rows());
  return r;
}

MatrixXdRM NMF::fit_impl(const MatrixXdRM& X, MatrixXdRM W, MatrixXdRM H) {
  const Reg reg = regularization(options_, X.rows(), X.cols());
  const bool big = double(X.rows()) * double(X.cols()) * double(W.cols()) > kSerialWork;
  SolveResult r;
  if (options_.solver == NmfSolver::Cd) {
    r = fit_cd(X, W, H, options_, reg, true, big && !in_parallel());
  } else {
    r = fit_mu(X, W, H, options_, reg, true);
  }
  reconstruction_err_ = beta_divergence(X, W, H, options_.beta_loss, true);
  components_ = std::move(H);
  n_iter_ = r.n_iter;
  return W;
}

namespace {
void check_fit_input(const MatrixXdRM& X, const NmfOptions& o, const std::string& where) {
  check_options(o, where);
  check_data(X, where, "X", true);
  if (o.beta_loss <= 0 && X.minCoeff() == 0.0)
    throw ValueError(where + ": X contains zeros and beta_loss = " + num(o.beta_loss) +
                     " <= 0 may diverge; add a small value to X or use a positive beta_loss");
}
}  // namespace

MatrixXdRM NMF::fit_transform(const MatrixXdRM& X) {
  const std::string where = "nmf fit";
  check_fit_input(X, options_, where);
  if (options_.init == NmfInit::Custom)
    throw ValueError(where + ": init 'custom' needs W0 and H0 (use fit_transform(X, W0, H0))");
  const int k = options_.n_components > 0 ? options_.n_components : static_cast<int>(X.cols());
  NmfFactors f = nmf_initialize(X, k, options_.init, options_.seed);
  return fit_impl(X, std::move(f.W), std::move(f.H));
}

MatrixXdRM NMF::fit_transform(const MatrixXdRM& X, const MatrixXdRM& W0, const MatrixXdRM& H0) {
  const std::string where = "nmf fit (custom start)";
  check_fit_input(X, options_, where);
  const int64_t k = H0.rows();
  if (options_.n_components > 0 && options_.n_components != k)
    throw ShapeError(where + ": H0 has " + std::to_string(k) + " rows, n_components is " +
                     std::to_string(options_.n_components));
  if (k < 1) throw ShapeError(where + ": H0 is empty");
  check_factor(H0, k, X.cols(), where, "H0");
  check_factor(W0, X.rows(), k, where, "W0");
  return fit_impl(X, W0, H0);
}

NMF& NMF::fit(const MatrixXdRM& X) {
  fit_transform(X);
  return *this;
}

MatrixXdRM NMF::transform(const MatrixXdRM& X) const {
  const std::string where = "nmf transform";
  if (!fitted()) throw ValueError(where + ": the model is not fitted");
  if (X.cols() != components_.cols())
    throw ShapeError(where + ": X is " + dims(X.rows(), X.cols()) + ", expected [*," +
                     std::to_string(components_.cols()) + "] (n_features of the components)");
  check_fit_input(X, options_, where);
  const int64_t k = components_.rows();
  Mat H = components_;
  Mat W;
  if (options_.solver == NmfSolver::Mu) W = Mat::Constant(X.rows(), k, std::sqrt(X.mean() / double(k)));
  else W = Mat::Zero(X.rows(), k);
  const Reg reg = regularization(options_, X.rows(), X.cols());
  const bool big = double(X.rows()) * double(X.cols()) * double(k) > kSerialWork;
  if (options_.solver == NmfSolver::Cd) fit_cd(X, W, H, options_, reg, false, big && !in_parallel());
  else fit_mu(X, W, H, options_, reg, false);
  return W;
}

MatrixXdRM NMF::inverse_transform(const MatrixXdRM& W) const {
  if (!fitted()) throw ValueError("nmf inverse_transform: the model is not fitted");
  if (W.cols() != components_.rows())
    throw ShapeError("nmf inverse_transform: W is " + dims(W.rows(), W.cols()) + ", expected [*," +
                     std::to_string(components_.rows()) + "] (n_components)");
  return W * components_;
}

LinearDictionary NMF::dictionary() const {
  if (!fitted()) throw ValueError("nmf dictionary: the model is not fitted");
  auto model = std::make_shared<const NMF>(*this);
  return LinearDictionary(components_, Eigen::RowVectorXd::Zero(components_.cols()),
                          [model](const MatrixXdRM& X) { return model->transform(X); }, false, "nmf");
}

void NMF::save(const std::string& path) const {
  if (!fitted()) throw ValueError("nmf save '" + path + "': the model is not fitted");
  save_dictionary(path, components_);
}

NMF NMF::load(const std::string& path, NmfOptions options) { return load(read_dictionary(path), path, std::move(options)); }

NMF NMF::load(const DictionaryFile& d, const std::string& path, NmfOptions options) {
  if (d.mean.size() && d.mean.cwiseAbs().maxCoeff() != 0.0)
    throw ValueError("nmf dictionary '" + path + "': row 0 (the mean) must be zero for NMF");
  for (int64_t i = 0; i < d.components.rows(); ++i)
    for (int64_t j = 0; j < d.components.cols(); ++j)
      if (d.components(i, j) < 0)
        throw ValueError("nmf dictionary '" + path + "': component " + std::to_string(i) + " has a negative entry " +
                         num(d.components(i, j)) + " at feature " + std::to_string(j));
  return from_components(d.components, std::move(options));
}

}  // namespace trim
