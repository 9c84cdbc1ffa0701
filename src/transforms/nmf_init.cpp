// NMF's starting factors with scikit-learn 1.2 semantics (decomposition/_nmf.py
// `_initialize_nmf`): random starts from NumPy's legacy stream and the
// nndsvd family on a randomised SVD (utils/extmath.py `randomized_svd`).

#include "nmf_support.hpp"
#include "thin_svd.hpp"

#include <new>

namespace trim {

namespace {

using namespace nmf_detail;

// ---- randomised SVD for the nndsvd family ---------------------------------------------

struct TopSvd {
  MatCM U;            // [n, k]
  Eigen::VectorXd S;  // [k]
  MatCM V;            // [m, k]
};

/// Orthonormal basis of the columns of A (thin Householder QR).
MatCM orthonormal(const MatCM& A) {
  Eigen::HouseholderQR<MatCM> qr(A);
  return qr.householderQ() * MatCM::Identity(A.rows(), std::min(A.rows(), A.cols()));
}

/// scikit-learn's randomized_svd(X, k, random_state=seed): k + 10 Gaussian
/// probes from RandomState(seed), 7 power iterations when k < min(n, m)/10
/// else 4, on Xᵀ when n < m. The power iterations are normalised by QR
/// instead of LU: the same subspaces, so the same result to rounding.
TopSvd top_svd(const Mat& X, int k, uint64_t seed, const std::string& where, bool pooled) {
  const int64_t n = X.rows(), m = X.cols();
  const bool transpose = n < m;
  const Mat At = transpose ? Mat(X.transpose()) : Mat();
  const Mat& A = transpose ? At : X;  // [r, c], r >= c
  const int64_t r = A.rows(), c = A.cols();
  const int64_t l = k + 10;
  const int iters = k < 0.1 * double(std::min(n, m)) ? 7 : 4;
  NumpyRandomState rng(numpy_seed(seed, where));
  Mat Q(c, l);
  for (int64_t i = 0; i < Q.size(); ++i) Q.data()[i] = rng.normal();  // C order, as numpy fills (c, l)
  // A·Q by blocks of rows, Aᵀ·Y by blocks of columns of A.
  auto a_times = [&](const Mat& B) {
    Mat Y(r, B.cols());
    for_blocks(r, kCdBlock, pooled, [&](int64_t b) {
      const int64_t i0 = b * kCdBlock, i1 = std::min(r, i0 + kCdBlock);
      gemm_serial<Eigen::RowMajor>(i1 - i0, B.cols(), c, A.data() + i0 * c, c, B.data(), B.cols(), Y.data() + i0 * B.cols(),
                                   B.cols());
    });
    return Y;
  };
  auto at_times = [&](const Mat& B) {
    Mat Z(c, B.cols());
    for_blocks(c, kCdBlock, pooled, [&](int64_t b) {
      const int64_t f0 = b * kCdBlock, f1 = std::min(c, f0 + kCdBlock);
      gemm_serial<Eigen::ColMajor>(f1 - f0, B.cols(), r, A.data() + f0, c, B.data(), B.cols(), Z.data() + f0 * B.cols(),
                                   B.cols());
    });
    return Z;
  };
  for (int it = 0; it < iters; ++it) {
    Q = orthonormal(a_times(Q));
    Q = orthonormal(at_times(Q));
  }
  const MatCM Qf = orthonormal(a_times(Q));
  const MatCM B = MatCM(at_times(Mat(Qf))).transpose();  // Qᵀ·A
  const ThinSvd svd = thin_svd(B, true);
  const MatCM U = Qf * svd.U.leftCols(k);
  const MatCM V = svd.V.leftCols(k);
  TopSvd out;
  out.S = svd.singular_values.head(k);
  out.U = transpose ? V : U;
  out.V = transpose ? U : V;
  return out;
}

}  // namespace

NmfInit nmf_init(const std::string& name) {
  for (NmfInit i : {NmfInit::Auto, NmfInit::Random, NmfInit::Nndsvd, NmfInit::Nndsvda, NmfInit::Nndsvdar,
                    NmfInit::Custom})
    if (name == init_name(i)) return i;
  throw ValueError("nmf: unknown init '" + name + "' (expected auto, random, nndsvd, nndsvda, nndsvdar or custom)");
}

NmfFactors nmf_initialize(const MatrixXdRM& X, int k, NmfInit init, uint64_t seed) {
  const std::string where = std::string("nmf init '") + init_name(init) + "'";
  check_data(X, where, "X", true);
  const int64_t n = X.rows(), m = X.cols();
  if (k < 1) throw ValueError(where + ": n_components must be >= 1, got " + std::to_string(k));
  if (init == NmfInit::Custom) throw ValueError(where + ": custom starts are given to NMF::fit_transform");
  if (init != NmfInit::Auto && init != NmfInit::Random && k > std::min(n, m))
    throw ValueError(where + ": n_components = " + std::to_string(k) + " is larger than min(n_samples, n_features) = " +
                     std::to_string(std::min(n, m)) + " for X " + dims(n, m) + "; use init 'random'");
  if (init == NmfInit::Auto) init = k <= std::min(n, m) ? NmfInit::Nndsvda : NmfInit::Random;

  NmfFactors f;
  const double mean = X.mean();
  if (init == NmfInit::Random) {
    const double avg = std::sqrt(mean / k);
    NumpyRandomState rng(numpy_seed(seed, where));
    try {  // random starts take any k (as scikit-learn), so an absurd one must fail here, by name
      f.H.resize(k, m);
      f.W.resize(n, k);
    } catch (const std::bad_alloc&) {
      throw ValueError(where + ": n_components = " + std::to_string(k) + " needs W " + dims(n, k) + " and H " +
                       dims(k, m) + ", " + num(8.0 * double(k) * double(n + m) / double(1 << 30)) +
                       " GiB of doubles: out of memory");
    }
    for (int64_t i = 0; i < f.H.size(); ++i) f.H.data()[i] = std::fabs(avg * rng.normal());
    for (int64_t i = 0; i < f.W.size(); ++i) f.W.data()[i] = std::fabs(avg * rng.normal());
    return f;
  }

  // The big products go to the pool; Eigen's own (QR, the small SVD) stay
  // on this thread.
  TopSvd svd;
  const bool pooled = double(n) * double(m) * double(k + 10) > kSerialWork && !in_parallel();
  svd = top_svd(X, k, seed, where, pooled);
  f.W = Mat::Zero(n, k);
  f.H = Mat::Zero(k, m);
  const double s0 = std::sqrt(svd.S(0));
  f.W.col(0) = s0 * svd.U.col(0).cwiseAbs();
  f.H.row(0) = s0 * svd.V.col(0).cwiseAbs().transpose();
  for (int j = 1; j < k; ++j) {
    const Eigen::VectorXd x = svd.U.col(j), y = svd.V.col(j);
    const Eigen::VectorXd xp = x.cwiseMax(0.0), yp = y.cwiseMax(0.0);
    const Eigen::VectorXd xn = x.cwiseMin(0.0).cwiseAbs(), yn = y.cwiseMin(0.0).cwiseAbs();
    const double xpn = xp.norm(), ypn = yp.norm(), xnn = xn.norm(), ynn = yn.norm();
    const double mp = xpn * ypn, mneg = xnn * ynn;
    Eigen::VectorXd u, v;
    double sigma;
    if (mp > mneg) {
      u = xp / xpn;
      v = yp / ypn;
      sigma = mp;
    } else {
      if (mneg == 0.0) continue;  // both products zero: leave the column at 0
      u = xn / xnn;
      v = yn / ynn;
      sigma = mneg;
    }
    const double lbd = std::sqrt(svd.S(j) * sigma);
    f.W.col(j) = lbd * u;
    f.H.row(j) = lbd * v.transpose();
  }
  apply(f.W, [](double v) { return v < 1e-6 ? 0.0 : v; });
  apply(f.H, [](double v) { return v < 1e-6 ? 0.0 : v; });
  if (init == NmfInit::Nndsvda) {
    apply(f.W, [&](double v) { return v == 0.0 ? mean : v; });
    apply(f.H, [&](double v) { return v == 0.0 ? mean : v; });
  } else if (init == NmfInit::Nndsvdar) {
    // a fresh RandomState(seed), W's zeros then H's in C order
    NumpyRandomState rng(numpy_seed(seed, where));
    apply(f.W, [&](double v) { return v == 0.0 ? std::fabs(mean * rng.normal() / 100) : v; });
    apply(f.H, [&](double v) { return v == 0.0 ? std::fabs(mean * rng.normal() / 100) : v; });
  }
  return f;
}

}  // namespace trim
