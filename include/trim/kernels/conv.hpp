#pragma once
/// \file
/// Convolution (cross-correlation, as torch.nn.functional.conv1d / conv2d and
/// ONNX Conv) with stride, asymmetric zero padding, dilation and groups, and
/// its vector-Jacobian products.
///
/// Layouts follow PyTorch: x [N, C_in, H, W], weight [C_out, C_in/groups, kh,
/// kw], bias [C_out], y [N, C_out, H_out, W_out] with
/// H_out = (H + pad_top + pad_bottom − dilation·(kh − 1) − 1) / stride + 1.
/// The 1-D functions are the 2-D ones with H = kh = 1.
///
/// Implementation: GEMMs on a packed, register-blocked micro-kernel
/// (AVX2/FMA when compiled for it, portable C++ otherwise), with im2col fused
/// into the packing of the GEMM's right operand and col2im into its stores,
/// so no column matrix is materialised. For a batch, each group is one GEMM
/// whose columns (forward, input gradient) or depth (weight gradient) run
/// over the output positions of all examples, so small images still give the
/// micro-kernel wide panels and the weight is packed once per batch; the
/// GEMM is split over the threads. 1×1 stride-1 unpadded convolutions are
/// plain GEMMs; input gradients of "same"-size stride-1 convolutions run as
/// forward convolutions of dy with the flipped weight; small stride-1 images
/// with few output channels use an output grid as wide as the padded input
/// (one contiguous copy per im2col row), per example in parallel.
/// Depthwise convolutions (one input channel per group) run as a direct
/// kernel over channel planes. Scratch buffers are thread-local and reused
/// across calls. Results are deterministic for a given thread count.

#include <array>
#include <cstdint>
#include <string>

#include "trim/core/tensor.hpp"

namespace trim::kernels {

/// Hyper-parameters of a 2-D convolution (the kernel size comes from the
/// weight's shape).
struct Conv2dConfig {
  std::array<int64_t, 2> stride{1, 1};
  /// Zero padding {top, left, bottom, right} (ONNX `pads` order for 2-D).
  std::array<int64_t, 4> pads{0, 0, 0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
};

/// Hyper-parameters of a 1-D convolution.
struct Conv1dConfig {
  int64_t stride = 1;
  int64_t pad_left = 0;
  int64_t pad_right = 0;
  int64_t dilation = 1;
  int64_t groups = 1;

  /// The same convolution as a 2-D one on [N, C, 1, L].
  Conv2dConfig as_2d() const {
    return {{1, stride}, {0, pad_left, 0, pad_right}, {1, dilation}, groups};
  }
};

/// Output length along one axis, or a value < 1 when the dilated kernel does
/// not fit into the padded input.
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before,
                         int64_t pad_after, int64_t dilation);

/// Throws ValueError (message starting with `where`) unless strides and
/// dilations are ≥ 1, pads ≥ 0 and groups ≥ 1.
void validate(const Conv2dConfig& c, const std::string& where);
void validate(const Conv1dConfig& c, const std::string& where);

/// Output shape of conv2d for input `x` [N, C_in, H, W] (N may be
/// `Shape::free`, and stays free) and weight [C_out, C_in/groups, kh, kw].
/// Throws ShapeError / ValueError whose message starts with `where` and names
/// the actual and expected shapes: wrong ranks, channel count ≠
/// groups · weight[1], C_out not divisible by groups, dilated kernel larger
/// than the padded input.
Shape conv2d_output_shape(const Shape& x, const Shape& weight, const Conv2dConfig& c,
                          const std::string& where);
/// Output shape of conv1d for x [N, C_in, L] and weight [C_out, C_in/groups, k].
Shape conv1d_output_shape(const Shape& x, const Shape& weight, const Conv1dConfig& c,
                          const std::string& where);

/// What a forward convolution does to its output after the bias, element by
/// element: y = max(0, conv + bias + residual) for a residual block's last
/// convolution, its add and its ReLU. The GEMM path applies it to each block
/// of the output once the block is final, Winograd to each output row as it
/// writes it, the others in one pass after the convolution.
struct ConvEpilogue {
  const Tensor* residual = nullptr;  ///< added when set; the output's shape
  bool relu = false;                 ///< then max(0, ·)
  /// When > 0 (and relu false): then min(max(·, 0), clip_max) as
  /// ops::Clip(0, clip_max) computes it (ReLU6: 6; a NaN stays NaN).
  float clip_max = 0.0f;
};

/// y = conv(x, weight) (+ bias), then `after`; `y` must already have the
/// output shape and is overwritten. `bias` may be null. A residual of
/// another shape than y's throws ShapeError; it may not be y itself.
void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dConfig& c,
                    Tensor& y, const ConvEpilogue& after = {});
/// dx += Jₓᵀ dy (the transposed convolution of dy with weight); with
/// `overwrite`, dx = Jₓᵀ dy whatever dx held (the executor's first
/// contribution to a gradient buffer: no zeroing pass before it).
void conv2d_backward_input(const Tensor& dy, const Tensor& weight, const Conv2dConfig& c, Tensor& dx,
                           bool overwrite = false);

/// What an overwriting input gradient does to dx element by element, for
/// the backward of a ReLU (gate: its output) and a batch norm (scale: its
/// γ / √(σ² + ε)) in front of the convolution, so that their cotangents
/// are never formed: dx = 0 + dx·[gate > 0], then dx·scale[c] + 0, the bits
/// of those backward passes run one after the other. Winograd and the
/// pointwise GEMM apply it to each block as they store it, the other paths
/// in one pass after the convolution.
struct ConvGradientEpilogue {
  const Tensor* gate = nullptr;   ///< dx's shape; not dx itself
  const Tensor* scale = nullptr;  ///< one per input channel
};

/// dx = Jₓᵀ dy, then `after` (ShapeError for a gate or scale of another
/// shape; ValueError for a gate that is dx).
void conv2d_backward_input(const Tensor& dy, const Tensor& weight, const Conv2dConfig& c, Tensor& dx,
                           const ConvGradientEpilogue& after);
/// dweight += Σ_batch ∂⟨dy, y⟩/∂weight and dbias += Σ_{batch, space} dy;
/// either may be null (its work is skipped).
void conv2d_backward_params(const Tensor& x, const Tensor& dy, const Conv2dConfig& c, Tensor* dweight,
                            Tensor* dbias);

/// 1-D versions: x [N, C_in, L], weight [C_out, C_in/groups, k], y [N, C_out, L_out].
void conv1d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv1dConfig& c,
                    Tensor& y);
void conv1d_backward_input(const Tensor& dy, const Tensor& weight, const Conv1dConfig& c, Tensor& dx,
                           bool overwrite = false);
void conv1d_backward_params(const Tensor& x, const Tensor& dy, const Conv1dConfig& c, Tensor* dweight,
                            Tensor* dbias);

/// Floats of scratch the convolution kernels hold for a convolution of input
/// x (a free batch counts as 1) and `weight`: per thread (times the
/// threads; kept between calls at their largest size) the GEMMs' packing
/// blocks (bounded, about 1.2 MB), the input gradient's flipped weight and,
/// for examples convolved one at a time, one example's padded,
/// stride-phase-split input; once, for a batch convolved as one GEMM, that
/// copy of the whole batch's input (so it grows with the batch); for 3×3
/// convolutions on the Winograd path its blocks of tiles per thread and, once,
/// the transformed weight (16/9 of the weight) and a padded input; for small
/// outputs computed tap by tap, the weight sorted by tap and the taps' inputs
/// (once). Depthwise
/// convolutions count none. Counted by memory budgets
/// (`Op::scratch_floats`); not the parameter gradients' per-thread partial
/// sums.
int64_t conv2d_scratch_floats(const Shape& x, const Shape& weight, const Conv2dConfig& c);
int64_t conv1d_scratch_floats(const Shape& x, const Shape& weight, const Conv1dConfig& c);

}  // namespace trim::kernels
