#pragma once
// The thin SVD that PCA (pca.cpp) and the NMF initialisation (nmf_init.cpp)
// share. Eigen's BDCSVD is the slowest template in the library to compile
// (about 40 CPU-seconds per translation unit at -O3); instantiating it in one
// file instead of two keeps the build shorter. Private to src/transforms.

#include <Eigen/Core>

namespace trim {

struct ThinSvd {
  Eigen::VectorXd singular_values;  // all min(rows, cols), descending
  Eigen::MatrixXd U;                // [rows, min(rows, cols)]; empty unless asked for
  Eigen::MatrixXd V;                // [cols, min(rows, cols)]
};

/// Eigen::BDCSVD of A with thin V, and thin U when with_u.
ThinSvd thin_svd(const Eigen::MatrixXd& A, bool with_u);

}  // namespace trim
