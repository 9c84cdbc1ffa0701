#pragma once
/// \file
/// Principal component analysis with scikit-learn's conventions (see
/// `trim/transforms/dictionary.hpp` for its use as a TRIM transform, which
/// includes this header).

#include <string>

#include "trim/transforms/matrix.hpp"

namespace trim {

class LinearDictionary;

// ---- PCA ---------------------------------------------------------------------

struct PcaOptions {
  int n_components = 0;  ///< k; 0 means min(n_samples, n_features)
  /// Scale codes to unit variance (scikit-learn's whiten): transform divides
  /// by √explained_variance, inverse multiplies back. A component of zero
  /// variance gets code 0 (scikit-learn would divide by zero).
  bool whiten = false;
};

/// Principal component analysis by an exact SVD of the centred data
/// (scikit-learn's svd_solver='full', including its `svd_flip` sign rule:
/// the largest-magnitude entry of each left singular vector is positive).
class PCA {
 public:
  explicit PCA(PcaOptions options = {});
  /// Needs n_samples ≥ 2 and finite values.
  PCA& fit(const MatrixXdRM& X);
  MatrixXdRM fit_transform(const MatrixXdRM& X);
  /// (X − mean)·componentsᵀ, divided by √explained_variance when whitening.
  MatrixXdRM transform(const MatrixXdRM& X) const;
  /// S·D + mean with D = `synthesis()`; exact inverse of `transform` on the
  /// span of the components.
  MatrixXdRM inverse_transform(const MatrixXdRM& S) const;

  bool fitted() const { return components_.size() != 0; }
  /// Principal axes [k, n_features], orthonormal rows, by decreasing variance.
  const MatrixXdRM& components() const { return components_; }
  const Eigen::RowVectorXd& mean() const { return mean_; }
  /// S²/(n_samples − 1) of the kept components.
  const Eigen::VectorXd& explained_variance() const { return explained_variance_; }
  const Eigen::VectorXd& explained_variance_ratio() const { return explained_variance_ratio_; }
  const Eigen::VectorXd& singular_values() const { return singular_values_; }
  /// Mean variance of the dropped components (0 when all are kept).
  double noise_variance() const { return noise_variance_; }
  int n_components() const { return static_cast<int>(components_.rows()); }
  int n_features() const { return static_cast<int>(components_.cols()); }
  bool whiten() const { return options_.whiten; }

  /// The synthesis matrix: components, rows scaled by √explained_variance
  /// when whitening.
  MatrixXdRM synthesis() const;
  /// D = `synthesis()`, the mean, analysis = `transform`; exact when all
  /// min(n, m) ≥ n_features components are kept.
  LinearDictionary dictionary() const;
  /// Writes the .npy dictionary file (row 0 mean, rows 1..k = synthesis()).
  void save(const std::string& path) const;

 private:
  PcaOptions options_;
  MatrixXdRM components_;
  Eigen::RowVectorXd mean_;
  Eigen::VectorXd explained_variance_, explained_variance_ratio_, singular_values_;
  double noise_variance_ = 0.0;
};

}  // namespace trim
