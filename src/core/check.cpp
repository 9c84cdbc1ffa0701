#include "trim/core/check.hpp"

#include <cmath>

#include "trim/core/error.hpp"

namespace trim {

void check_finite(const Tensor& t, const std::string& where, const std::string& what) {
  const float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(p[i]))
      throw ValueError(where + ": the " + what + " contains NaN or infinity (first at flat index " + std::to_string(i) +
                       ")");
}

}  // namespace trim
