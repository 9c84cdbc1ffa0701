// PCA as scikit-learn 1.2's svd_solver='full': centre, exact SVD, svd_flip
// signs, explained variance S²/(n − 1).

#include <Eigen/Core>
#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <string>

#include "trim/core/error.hpp"
#include "thin_svd.hpp"
#include "trim/transforms/dictionary.hpp"

namespace trim {

namespace {

using Mat = MatrixXdRM;
using MatCM = Eigen::MatrixXd;

std::string dims(int64_t r, int64_t c) { return "[" + std::to_string(r) + "," + std::to_string(c) + "]"; }

void check_finite(const Mat& X, const std::string& where) {
  for (int64_t i = 0; i < X.rows(); ++i)
    for (int64_t j = 0; j < X.cols(); ++j)
      if (!std::isfinite(X(i, j)))
        throw ValueError(where + ": X has " + std::string(std::isnan(X(i, j)) ? "NaN" : "an infinite value") +
                         " at row " + std::to_string(i) + ", column " + std::to_string(j));
}

/// Sign of the largest-magnitude entry of column j of U (the first such
/// entry on ties, as numpy.argmax); +1 for a zero column.
double flip_sign(const Eigen::Ref<const Eigen::VectorXd>& u) {
  Eigen::Index at = 0;
  double best = -1.0;
  for (Eigen::Index i = 0; i < u.size(); ++i)
    if (std::fabs(u(i)) > best) {
      best = std::fabs(u(i));
      at = i;
    }
  return u.size() && u(at) < 0 ? -1.0 : 1.0;
}

}  // namespace

PCA::PCA(PcaOptions options) : options_(options) {}

PCA& PCA::fit(const MatrixXdRM& X) {
  const std::string where = "pca fit";
  const int64_t n = X.rows(), m = X.cols(), mn = std::min(n, m);
  if (n < 2 || m < 1)
    throw ValueError(where + ": X is " + dims(n, m) + "; PCA needs at least 2 samples and 1 feature");
  check_finite(X, where);
  const int64_t k = options_.n_components == 0 ? mn : options_.n_components;
  if (k < 1 || k > mn)
    throw ValueError(where + ": n_components = " + std::to_string(options_.n_components) +
                     " must be between 1 and min(n_samples, n_features) = " + std::to_string(mn) + " for X " +
                     dims(n, m));

  mean_ = X.colwise().mean();
  const MatCM Xc = X.rowwise() - mean_;

  // All min(n, m) singular values (for the variance ratios and the noise
  // variance) and the leading k right singular vectors, signs by U.
  Eigen::VectorXd S;
  MatCM V;  // [m, k]
  if (n > 2 * m) {
    // Tall data: Householder QR first (Xc = Q·R, half the work of a direct
    // bidiagonalisation), then the SVD of the small R. u_j ∝ Xc·v_j decides
    // the signs.
    Eigen::HouseholderQR<MatCM> qr(Xc);
    const MatCM R = qr.matrixQR().topRows(m).triangularView<Eigen::Upper>();
    const ThinSvd svd = thin_svd(R, false);
    S = svd.singular_values;
    V = svd.V.leftCols(k);
    const MatCM U = Xc * V;
    for (int64_t j = 0; j < k; ++j) V.col(j) *= flip_sign(U.col(j));
  } else {
    const ThinSvd svd = thin_svd(Xc, true);
    S = svd.singular_values;
    V = svd.V.leftCols(k);
    for (int64_t j = 0; j < k; ++j) V.col(j) *= flip_sign(svd.U.col(j));
  }
  components_ = V.transpose();
  const Eigen::VectorXd ev = S.array().square() / double(n - 1);
  const double total = ev.sum();
  explained_variance_ = ev.head(k);
  explained_variance_ratio_ = total > 0 ? Eigen::VectorXd(ev.head(k) / total) : Eigen::VectorXd::Zero(k);
  singular_values_ = S.head(k);
  noise_variance_ = k < mn ? ev.tail(mn - k).mean() : 0.0;
  return *this;
}

MatrixXdRM PCA::fit_transform(const MatrixXdRM& X) { return fit(X).transform(X); }

MatrixXdRM PCA::transform(const MatrixXdRM& X) const {
  if (!fitted()) throw ValueError("pca transform: the model is not fitted");
  if (X.cols() != components_.cols())
    throw ShapeError("pca transform: X is " + dims(X.rows(), X.cols()) + ", expected [*," +
                     std::to_string(components_.cols()) + "] (n_features)");
  check_finite(X, "pca transform");
  Mat S = (X.rowwise() - mean_) * components_.transpose();
  if (options_.whiten)
    for (int64_t j = 0; j < S.cols(); ++j) {
      const double sd = std::sqrt(explained_variance_(j));
      S.col(j) = sd > 0 ? Eigen::VectorXd(S.col(j) / sd) : Eigen::VectorXd::Zero(S.rows());
    }
  return S;
}

MatrixXdRM PCA::synthesis() const {
  Mat D = components_;
  if (options_.whiten)
    for (int64_t j = 0; j < D.rows(); ++j) D.row(j) *= std::sqrt(explained_variance_(j));
  return D;
}

MatrixXdRM PCA::inverse_transform(const MatrixXdRM& S) const {
  if (!fitted()) throw ValueError("pca inverse_transform: the model is not fitted");
  if (S.cols() != components_.rows())
    throw ShapeError("pca inverse_transform: codes are " + dims(S.rows(), S.cols()) + ", expected [*," +
                     std::to_string(components_.rows()) + "] (n_components)");
  Mat X = S * synthesis();
  X.rowwise() += mean_;
  return X;
}

LinearDictionary PCA::dictionary() const {
  if (!fitted()) throw ValueError("pca dictionary: the model is not fitted");
  auto model = std::make_shared<const PCA>(*this);
  // Every x is recovered when the components span all features and no kept
  // component has zero variance under whitening (its code is then 0).
  const bool exact = components_.rows() == components_.cols() &&
                     (!options_.whiten || explained_variance_.minCoeff() > 0);
  return LinearDictionary(synthesis(), mean_, [model](const MatrixXdRM& X) { return model->transform(X); }, exact,
                          "pca");
}

void PCA::save(const std::string& path) const {
  if (!fitted()) throw ValueError("pca save '" + path + "': the model is not fitted");
  save_dictionary(path, synthesis(), mean_);
}

}  // namespace trim
