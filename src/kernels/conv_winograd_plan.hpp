#pragma once
// Internal to the Winograd path (conv_winograd.hpp): how a call is cut into
// blocks of tiles, shared by the AVX-512 kernels (conv_winograd.cpp) and the
// portable ones (conv_winograd_lanes.cpp). Functions of the shape and the
// thread count only.

#include <algorithm>
#include <cstdint>

#include "conv_winograd.hpp"
#include "micro_kernel.hpp"

namespace trim::kernels::winograd {

using detail::kMR;
using detail::kNR;

/// How one call is cut into blocks of tile rows.
struct Plan {
  int m;                ///< output tile side: F(m×m, 3×3)
  int alpha;            ///< input tile side m + 2; α² GEMMs
  int64_t th, tw;       ///< tiles down and across an output plane
  int64_t units;        ///< tile rows over the batch (n·th)
  int64_t block_units;  ///< tile rows per block
  int64_t blocks;
  int64_t lanes;  ///< a block's tiles rounded up to whole panels: the row length of M
  int64_t chunks;      ///< output-channel ranges a block's GEMMs and output are split in
  int64_t chunk_rows;  ///< output channels per range, whole A panels
};

inline int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }
inline int64_t ceil_div(int64_t v, int64_t m) { return (v + m - 1) / m; }

/// F(4×4) when its GEMMs (36 per 4×4 tile, tiles over the output rounded up
/// to multiples of 4) take clearly fewer multiply-adds than F(2×2)'s (16 per
/// 2×2 tile): outputs whose sides are multiples of 4 or near them (7×7,
/// 8×8, 14×14, 16×16), not 5×5 or 6×6, whose last tiles would be mostly
/// past the output. A function of the shape only, so the result does not
/// depend on the thread count.
inline int tile_size(const Geometry& g) {
  const int64_t f4 = 36 * ceil_div(g.ho, 4) * ceil_div(g.wo, 4), f2 = 16 * ceil_div(g.ho, 2) * ceil_div(g.wo, 2);
  return 5 * f4 <= 4 * f2 ? 4 : 2;
}

/// Whether the transformed weight is kept between calls (weight_layouts.hpp):
/// when the tiles are few, transforming it costs about what its GEMMs do
/// (ResNet-50's 4×4 planes at batch 40: 40 tiles for 36·256² floats).
inline bool keep_transformed_weight(const Geometry& g, const Plan& p) { return g.n * p.th * p.tw < 1024; }

/// The blocks of g (they depend on the thread count, the results do not).
Plan make_plan(const Geometry& g);

namespace lanes {

/// convolve() with kernels written for 16-lane vectors of any instruction
/// set (GCC / Clang vector extensions): for builds without AVX-512, whose
/// micro-kernel (AVX2) runs the GEMMs.
void convolve(const Geometry& g, const Plan& p, const float* x, const float* w, bool transposed, const float* bias,
              float* y, bool accumulate, const detail::Finish& after);

/// Floats of the transformed weight convolve() keeps (in micro-kernel panels).
int64_t weight_floats(const Geometry& g, const Plan& p);

}  // namespace lanes

}  // namespace trim::kernels::winograd
