#pragma once
/// \file
/// Max and average pooling over 1 or 2 spatial axes, global average pooling,
/// and their vector-Jacobian products.
///
/// Layout is (N, C, L) for 1d and (N, C, H, W) for 2d. Every (n, c) plane is
/// pooled independently, so the work is split over the N·C planes. A 1d
/// input is treated as a 2d one with H = 1: its window has height 1, stride 1
/// and no top/bottom padding, and only the width entries of `PoolWindow`
/// are used (`PoolWindow::one_d` builds such a window).
///
/// Output sizes follow PyTorch exactly, including `ceil_mode` and its rule
/// that the last window must start inside the input or the left padding
/// (so no window lies entirely in the right padding). Max pooling treats
/// padding as −∞ (padding never wins); average pooling treats it as zeros
/// and divides by the window size clipped to the padded input
/// (`count_include_pad`) or by the number of real elements.

#include <array>
#include <cstdint>
#include <string>

#include "trim/core/shape.hpp"
#include "trim/core/tensor.hpp"

namespace trim::kernels {

/// Pooling window; axes are {height, width}, pads {top, left, bottom, right}.
struct PoolWindow {
  std::array<int64_t, 2> kernel{1, 1};
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 4> pads{0, 0, 0, 0};
  bool ceil_mode = false;
  /// Average pooling only: divide by the whole (padded) window.
  bool count_include_pad = true;

  /// A window for (N, C, L) inputs.
  static PoolWindow one_d(int64_t kernel, int64_t stride, int64_t pad_left, int64_t pad_right,
                          bool ceil_mode = false, bool count_include_pad = true) {
    PoolWindow w;
    w.kernel = {1, kernel};
    w.stride = {1, stride};
    w.pads = {0, pad_left, 0, pad_right};
    w.ceil_mode = ceil_mode;
    w.count_include_pad = count_include_pad;
    return w;
  }
};

/// Number of windows along one axis of size `in` (PyTorch's formula, with
/// asymmetric padding). Assumes a validated window (see pool_output_shape).
int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before,
                         int64_t pad_after, bool ceil_mode);

/// Validates the window against the input shape `x` (rank spatial_dims + 2;
/// dimension 0 may be free and stays free) and returns the output shape.
/// Throws ValueError (non-positive kernel or stride, negative padding,
/// padding larger than half the kernel) or ShapeError (wrong rank, empty
/// spatial axis, kernel larger than the padded input); messages start with
/// `where`.
Shape pool_output_shape(const Shape& x, int spatial_dims, const PoolWindow& w,
                        const std::string& where);

/// y = max over each window (`y` shaped by pool_output_shape; overwritten).
/// When `indices` is non-null it receives, for every output element in
/// row-major order, the flat index into the whole of `x` of the chosen
/// element (the first maximum in scan order; a NaN wins, as in PyTorch).
void max_pool_forward(const Tensor& x, const PoolWindow& w, Tensor& y, int64_t* indices = nullptr);
/// dx += dy routed to each window's argmax (recomputed from x); with
/// `overwrite`, dx = that (as if dx were zero; each plane is zeroed just
/// before its scatter, saving the caller a pass over dx).
void max_pool_backward(const Tensor& x, const PoolWindow& w, const Tensor& dy, Tensor& dx, bool overwrite = false);

/// y = mean over each window (`y` shaped by pool_output_shape; overwritten).
void avg_pool_forward(const Tensor& x, const PoolWindow& w, Tensor& y);
/// dx += Aᵀ dy: each dy spread evenly (with the forward's divisor) over its
/// window's real elements.
void avg_pool_backward(const PoolWindow& w, const Tensor& dy, Tensor& dx);

/// y[n,c] = mean of x[n,c,...] over all axes after 1; y holds N·C elements
/// (shape [N,C,1,...,1]).
void global_avg_pool_forward(const Tensor& x, Tensor& y);
/// dx[n,c,...] += dy[n,c] / (number of elements per plane).
void global_avg_pool_backward(const Tensor& dy, Tensor& dx);

}  // namespace trim::kernels
