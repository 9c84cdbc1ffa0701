#pragma once
// Internal to the kernels: the lookup behind trim/kernels/weight_layouts.hpp.

#include <cstdint>
#include <functional>
#include <memory>

#include "trim/core/tensor.hpp"

namespace trim::kernels::detail {

/// The kernel paths that keep layouts (LayoutKind::path).
enum LayoutPath : int { kLayoutWinograd = 1, kLayoutWinogradLanes = 2, kLayoutTaps = 3 };

/// What a layout is, besides the weight it comes from: the kernel path that
/// builds it (a number of the path's own) and the numbers it depends on.
struct LayoutKind {
  int path;
  int64_t a, b, c, d;
  bool operator==(const LayoutKind& o) const {
    return path == o.path && a == o.a && b == o.b && c == o.c && d == o.d;
  }
};

/// Layout `kind` of the weight w[0, count), `floats` floats: the one kept
/// from an earlier call when w holds the same values as then, else one built
/// now by build(data) and kept. Null when the limit has no room for it (or
/// a NoKeptWeightLayouts lives): the caller builds it into its own scratch.
/// The tensor stays valid while the returned pointer lives, whatever the
/// cache drops meanwhile.
std::shared_ptr<const Tensor> weight_layout(const float* w, int64_t count, const LayoutKind& kind, int64_t floats,
                                            const std::function<void(float*)>& build);

/// The data of layout `kind` of w[0, count): kept between calls when `keep`
/// (held by `hold` while the caller uses it) and the limit has room, else
/// built by `build` into scratch(floats), the caller's own buffer.
template <class Scratch>
const float* kept_or_built(bool keep, const float* w, int64_t count, const LayoutKind& kind, int64_t floats,
                           const std::function<void(float*)>& build, Scratch scratch,
                           std::shared_ptr<const Tensor>& hold) {
  if (keep) hold = weight_layout(w, count, kind, floats, build);
  if (hold) return hold->data();
  float* data = scratch(floats);
  build(data);
  return data;
}

}  // namespace trim::kernels::detail
