#pragma once
/// \file
/// Weight layouts kept between calls.
///
/// Some convolution paths first rewrite the weight into a layout of their
/// own: Winograd's transformed weight (4× the weight's floats with 4×4 tiles),
/// the tap-by-tap path's weight sorted by tap. At small batches that rewrite
/// is as costly as the multiply-adds it feeds, and an attribution method
/// evaluates the same weights call after call. Such a layout is therefore
/// kept, process-wide, and found again by the weight's values: every use
/// first hashes the weight (a 64-bit hash that any change of one value
/// alters), so weights written in place (a training step,
/// `Graph::parameters()`) are never met with a stale layout, and a copy of
/// the weights (a model composed with a transform) finds the layout of the
/// original. (Two different weights of the same size whose hashes agree
/// would share a layout: about one chance in 2⁶⁴ per pair.)
///
/// Only layouts that cost about as much as the work they feed are kept
/// (Winograd and tap-by-tap convolutions over few tiles or columns: small
/// batches, small planes); at larger batches the rewrite is a small part of
/// the call and nothing is kept. What is kept is bounded by a byte limit
/// (`set_weight_layout_limit`): a layout is kept only when the limit has
/// room for it once the layouts unused over the last 1024 uses are dropped,
/// so that a cycle of layouts larger than the limit keeps the ones it has
/// instead of replacing them all in turn, and the layouts of a model no
/// longer evaluated give way to those of the next. `release_weight_layouts`
/// drops them at once. Runs with a memory budget
/// (`AttributionOptions::max_memory`) hold a `NoKeptWeightLayouts`, so the
/// budget covers everything they use.

#include <cstdint>

namespace trim::kernels {

/// Bytes of weight layouts kept now.
int64_t kept_weight_layout_bytes();

/// The most bytes of weight layouts kept at once (256 MiB unless set).
int64_t weight_layout_limit();

/// Sets that limit; 0 keeps none. Layouts over a lowered limit are dropped.
void set_weight_layout_limit(int64_t bytes);

/// Drops every kept layout (those in use stay alive until their call ends).
void release_weight_layouts();

/// While one of these lives, no layout is kept (those kept are dropped when
/// the first one begins).
class NoKeptWeightLayouts {
 public:
  NoKeptWeightLayouts();
  ~NoKeptWeightLayouts();
  NoKeptWeightLayouts(const NoKeptWeightLayouts&) = delete;
  NoKeptWeightLayouts& operator=(const NoKeptWeightLayouts&) = delete;
};

}  // namespace trim::kernels
