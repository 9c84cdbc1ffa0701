#pragma once
// The fixture format of fixture.hpp read as double, for the NMF / PCA
// fixtures (they carry 17 significant digits, beyond a float Tensor).

#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "trim/core/error.hpp"
#include "trim/transforms/dictionary.hpp"

namespace trim::test {

/// Matrices by name: rank-2 tensors keep their shape, others become one row.
class DoubleFixture {
 public:
  explicit DoubleFixture(const std::string& file) : path_(std::string(TRIM_FIXTURE_DIR) + "/" + file) {
    for_each_fixture_tensor(path_, [&](const std::string& name, const std::vector<int64_t>& dims, std::istream& in) {
      int64_t n = 1;
      for (int64_t d : dims) n *= d;
      MatrixXdRM m(dims.size() == 2 ? dims[0] : 1, dims.size() == 2 ? dims[1] : n);
      for (int64_t i = 0; i < n; ++i) in >> m.data()[i];
      t_[name] = std::move(m);
    });
  }
  const MatrixXdRM& operator[](const std::string& name) const {
    auto it = t_.find(name);
    if (it == t_.end()) throw IoError("fixture " + path_ + ": no tensor '" + name + "'");
    return it->second;
  }

 private:
  std::string path_;
  std::map<std::string, MatrixXdRM> t_;
};

/// max |a − b| / max |b|: relative to the matrix's scale, so entries at
/// (or near) zero do not dominate.
inline double rel_err(const MatrixXdRM& a, const MatrixXdRM& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return (a - b).cwiseAbs().maxCoeff() / std::max(b.cwiseAbs().maxCoeff(), 1e-300);
}

}  // namespace trim::test
