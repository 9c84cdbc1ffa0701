#pragma once
/// \file
/// The double-precision matrices dictionaries are fitted in, and the
/// conversions between them and float tensors.

#include <Eigen/Core>

#include "trim/core/tensor.hpp"

namespace trim {

/// Row-major double matrix: dictionaries are fitted in double (as
/// scikit-learn does); the graph op runs in float.
using MatrixXdRM = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A tensor [n, d1, d2, ...] as an n × (d1·d2·...) double matrix (a rank-1
/// tensor is one row).
MatrixXdRM to_matrix(const Tensor& t);
/// A double matrix as a float tensor of `shape` (default [rows, cols]); the
/// element count must match.
Tensor to_tensor(const MatrixXdRM& m, const Shape& shape = Shape());

}  // namespace trim
