#pragma once
// The JSON summary of `trim attribute --json`: what was explained, the
// model's prediction, the strongest groups (or coefficients) per target and
// example, the convergence delta and the time each stage took.
#include <string>
#include <vector>

#include "trim/attribution/common.hpp"
#include "trim/io/json.hpp"

namespace trim::cli {

struct SummaryInput {
  std::string model, input, transform, method, groups;  ///< as given (transform: canonical spec)
  bool residual = false;
  Tensor prediction;               ///< [N, outputs...]
  const Attribution* result = nullptr;
  const Grouping* grouping = nullptr;
  Shape coefficient_shape;
  Shape output_shape;              ///< of the -o array
  std::vector<std::pair<std::string, double>> seconds;  ///< stage name, wall time
};

/// How many groups or coefficients "top" lists per target and example.
constexpr int kTopCount = 5;

io::Json attribution_summary(const SummaryInput& in);

}  // namespace trim::cli
