#pragma once
/// \file
/// Numerical checks every op's test uses.
///
/// `check_gradients` compares reverse mode with central finite differences
/// along random directions (of the inputs and of the trainable parameters);
/// `check_kind` verifies that a node behaves as its declared `Kind` promises
/// (linearity and bias for Linear, per-element φ for Elementwise, routing for
/// Selection, ...). Both return a report instead of throwing so tests can
/// print it.

#include <cstdint>
#include <string>
#include <vector>

#include "trim/graph/graph.hpp"

namespace trim {

struct CheckResult {
  bool ok = true;
  /// Largest error seen, relative to the check's scale.
  double max_error = 0.0;
  /// Human-readable lines describing each failure (empty when ok).
  std::string report;
};

struct GradcheckOptions {
  int directions = 4;      ///< random directions per input / parameter set
  double step = 1e-2;      ///< finite-difference step along a unit-RMS direction
  double tolerance = 2e-2; ///< allowed |fd − ad| / (|fd| + |ad| + scale_floor)
  double scale_floor = 1e-2;
  bool parameters = true;  ///< also check trainable parameter gradients
  uint64_t seed = 1;
};

/// VJP against central differences: for a random output cotangent u and a
/// random direction v, compares uᵀJv from backward() with
/// (L(x + hv) − L(x − hv)) / 2h, L = Σ u·f computed in double. Perturbs the
/// graph's parameters temporarily (restored before returning).
CheckResult check_gradients(Graph& graph, const std::vector<Tensor>& inputs,
                            const GradcheckOptions& options = {});

struct KindcheckOptions {
  double tolerance = 1e-4;  ///< relative to the magnitude of the values compared
  uint64_t seed = 2;
};

/// Checks node `id` of `graph` against its declared kind, at the node inputs
/// obtained by running the graph on `inputs` (and on random inputs of the
/// same shapes for linearity).
CheckResult check_kind(const Graph& graph, NodeId id, const std::vector<Tensor>& inputs,
                       const KindcheckOptions& options = {});

}  // namespace trim
