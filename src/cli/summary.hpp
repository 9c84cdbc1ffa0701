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
  const Transform* t = nullptr;    ///< for the physical coordinates of single coefficients
  bool residual = false;
  Tensor prediction;               ///< [N, outputs...]
  const Attribution* result = nullptr;
  /// The option that turned the method's delta off (e.g. --no-convergence-delta),
  /// empty when it was not: the JSON then says why "delta" is null.
  std::string delta_off;
  const Grouping* grouping = nullptr;
  Shape coefficient_shape;
  Shape output_shape;              ///< of the -o array
  std::vector<std::pair<std::string, double>> seconds;  ///< stage name, wall time
  io::Json provenance;             ///< how to reproduce the result (provenance.hpp)
};

/// How many groups or coefficients "top" lists per target and example.
constexpr int kTopCount = 5;

io::Json attribution_summary(const SummaryInput& in);

/// Where a coefficient (its index in the coefficient shape) lies in the
/// transform's own terms: the normalised frequency radius and re/im part
/// (Fourier), the sub-band (wavelets), the component (dictionaries).
io::Json coefficient_coordinates(const Transform& t, const std::vector<int64_t>& index);

/// What `attribute` prints on success (unless --quiet): the file written,
/// its shape and the time, then for grouped runs the strongest groups of
/// each target (mean over the examples), in the grouping's units.
std::string attribution_report(const SummaryInput& in, const std::string& written, double seconds);

}  // namespace trim::cli
