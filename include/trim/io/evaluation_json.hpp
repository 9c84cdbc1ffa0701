#pragma once
/// \file
/// An evaluation report (trim/attribution/evaluate.hpp) as JSON: the
/// "report" object `trim evaluate` writes, which the Python module's
/// `trim.evaluate` returns as a dict, so both give the same numbers.

#include "trim/attribution/evaluate.hpp"
#include "trim/io/json.hpp"

namespace trim::io {

/// {"summary": {metric: {"mean", "better"}}, "per_target_and_example":
/// {metric: [[...] per target]}, "mean_curves": {...}, and with the
/// randomisation check "randomisation": {"layers_from_the_top",
/// "mean_rank_correlation"}}. Means that did not run are null.
Json evaluation_report_json(const EvaluationReport& report);

}  // namespace trim::io
