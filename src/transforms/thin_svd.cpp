#include "thin_svd.hpp"

#include <Eigen/SVD>

namespace trim {

ThinSvd thin_svd(const Eigen::MatrixXd& A, bool with_u) {
  const unsigned options = Eigen::ComputeThinV | (with_u ? unsigned{Eigen::ComputeThinU} : 0u);
  Eigen::BDCSVD<Eigen::MatrixXd> svd(A, options);
  ThinSvd out;
  out.singular_values = svd.singularValues();
  if (with_u) out.U = svd.matrixU();
  out.V = svd.matrixV();
  return out;
}

}  // namespace trim
