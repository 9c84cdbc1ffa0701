#include "trim/core/check.hpp"

#include <cmath>
#include <vector>

#include "trim/core/error.hpp"

namespace trim {

std::string index_text(const Shape& shape, int64_t flat) {
  std::vector<int64_t> index(static_cast<size_t>(shape.rank()));
  for (int a = shape.rank() - 1; a >= 0; --a) {
    index[static_cast<size_t>(a)] = flat % shape[a];
    flat /= shape[a];
  }
  std::string s = "[";
  for (size_t i = 0; i < index.size(); ++i) s += (i ? "," : "") + std::to_string(index[i]);
  return s + "]";
}

void check_finite(const Tensor& t, const std::string& where, const std::string& what) {
  const float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(p[i]))
      throw ValueError(where + ": the " + what + " contains NaN or infinity (first at flat index " + std::to_string(i) +
                       ")");
}

}  // namespace trim
