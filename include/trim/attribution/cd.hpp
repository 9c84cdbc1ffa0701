#pragma once
/// \file
/// Contextual decomposition (CD) for any graph of known node kinds.
///
/// For each group of input elements, the input splits into a relevant part
/// rel = mask ⊙ x and an irrelevant part irrel = x − rel (plus, for a
/// TrimModel, the whole residual: extra graph inputs are irrelevant). The
/// pair is propagated with one rule per node kind:
///   Linear       rel' = A(rel) + b ⊙ |A rel| / (|A rel| + |A irrel|)
///                (elementwise, 1e-20 added to both magnitudes, as acd)
///   Elementwise  ReLU-like φ: rel' = φ(rel) (acd); other φ: the two-term
///                Shapley rule rel' = ½[(φ(rel) − φ(0)) + (φ(x) − φ(x − rel))]
///   Selection    both parts follow the argmax of rel + irrel
///   Structural, Sum   applied to rel
///   Opaque       an error naming the node (softmax: explain the logits)
/// At every node rel + irrel equals the plain forward activation, so only rel
/// is propagated (irrel = total − rel): one forward of x is shared by all
/// groups, and the groups go through the graph as one batch (`max_batch`
/// rows at a time). In a TrimModel the groups are sets of transform
/// coefficients: rel = T⁻¹(mask ⊙ s) after the (bias-free, Linear) inverse.

#include <cstdint>
#include <functional>
#include <vector>

#include "trim/attribution/common.hpp"
#include "trim/transforms/transform.hpp"

namespace trim {

/// RunOptions for CD: `max_batch` counts rows (group × example pairs), the
/// extra inputs are irrelevant, progress counts groups × examples.
struct CdOptions : RunOptions {};

struct CdResult {
  std::vector<int64_t> targets;
  Tensor rel;    ///< [targets, N, groups]
  Tensor irrel;  ///< [targets, N, groups]; rel + irrel = the model's output
};

/// CD of each mask (one example's input shape; usually 0/1, any real weights
/// allowed) for every example of x [N, input_shape...].
CdResult contextual_decomposition(const Graph& model, const Tensor& x, const std::vector<Tensor>& masks,
                                  const CdOptions& options = {});

/// CD of each group of a grouping (elements with label g).
CdResult contextual_decomposition(const Graph& model, const Tensor& x, const Grouping& grouping,
                                  const CdOptions& options = {});

/// The reference's band sweep: CD of radial bands [c − width/2, c + width/2)
/// of the normalised frequency radius (see radial_band) for each centre c,
/// for a model whose first input is the coefficients of `t` (a TrimModel).
/// `width` is the full band width. Returns rel (the curve) per target,
/// example and centre, [targets, N, centres].
CdResult cd_band_sweep(const Graph& model, const Tensor& coefficients, const Transform& t,
                       const std::vector<double>& centers, double width, const CdOptions& options = {});

}  // namespace trim
