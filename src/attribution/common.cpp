#include "trim/attribution/common.hpp"

#include <algorithm>
#include <cmath>

#include "trim/core/check.hpp"
#include "trim/core/error.hpp"

namespace trim {

std::vector<int64_t> Targets::resolve(int64_t n_outputs) const {
  if (all) {
    std::vector<int64_t> every(static_cast<size_t>(n_outputs));
    for (int64_t i = 0; i < n_outputs; ++i) every[static_cast<size_t>(i)] = i;
    return every;
  }
  if (indices.empty()) throw ValueError("targets: the list of output indices is empty");
  for (int64_t t : indices)
    if (t < 0 || t >= n_outputs)
      throw ValueError("targets: output index " + std::to_string(t) + " is out of range for a model with " +
                       std::to_string(n_outputs) + " outputs per example");
  return indices;
}

Tensor Baseline::expand(const trim::Tensor& x, const std::string& method) const {
  trim::Tensor b(x.shape());
  switch (kind) {
    case Kind::Zero: return b;
    case Kind::Constant:
      if (!std::isfinite(value))
        throw ValueError(method + ": the baseline contains NaN or infinity (constant " + std::to_string(value) + ")");
      b.fill(value);
      return b;
    case Kind::Tensor: break;
  }
  check_finite(tensor, method, "baseline");
  const int64_t per = x.rank() > 0 && x.dim(0) > 0 ? x.numel() / x.dim(0) : 0;
  if (tensor.shape() == x.shape()) return tensor;
  Shape example;
  for (int a = 1; a < x.rank(); ++a) example.push_back(x.shape()[a]);
  if (tensor.shape() == example || (tensor.rank() == x.rank() && tensor.dim(0) == 1 && tensor.numel() == per)) {
    for (int64_t n = 0; n < x.dim(0); ++n) std::copy(tensor.begin(), tensor.end(), b.begin() + n * per);
    return b;
  }
  throw ShapeError(method + ": baseline shape " + tensor.shape().str() + " fits neither one example " + example.str() +
                   " nor the batch " + x.shape().str());
}

Tensor group_sums(const Tensor& a, const Grouping& grouping) {
  const int64_t per = grouping.coefficient_shape.numel();
  if (a.rank() < 2 || a.numel() != a.dim(0) * a.dim(1) * per)
    throw ShapeError("grouping: attributions " + a.shape().str() + " do not end in the grouping's shape " +
                     grouping.coefficient_shape.str());
  if (static_cast<int64_t>(grouping.labels.size()) != per)
    throw ShapeError("grouping: " + std::to_string(grouping.labels.size()) + " labels for shape " +
                     grouping.coefficient_shape.str());
  const int64_t rows = a.dim(0) * a.dim(1), G = grouping.size();
  Tensor s({a.dim(0), a.dim(1), G});
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = a.data() + r * per;
    std::vector<double> acc(static_cast<size_t>(G), 0.0);
    for (int64_t i = 0; i < per; ++i) {
      const int32_t l = grouping.labels[static_cast<size_t>(i)];
      if (l >= 0 && l < G) acc[static_cast<size_t>(l)] += src[i];
    }
    for (int64_t g = 0; g < G; ++g) s[r * G + g] = static_cast<float>(acc[static_cast<size_t>(g)]);
  }
  return s;
}

}  // namespace trim
