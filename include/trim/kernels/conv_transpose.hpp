#pragma once
/// \file
/// Transposed convolution (torch.nn.ConvTranspose1d / ConvTranspose2d, ONNX
/// ConvTranspose) with stride, padding, output padding, dilation and groups,
/// and its vector-Jacobian products.
///
/// A transposed convolution is the adjoint of the convolution that maps its
/// output shape back to its input shape, so it runs on the convolution
/// kernels of conv.hpp without code of its own: the forward is that
/// convolution's input gradient, the input gradient is that convolution's
/// forward, and the weight gradient is that convolution's weight gradient
/// with the roles of input and output gradient exchanged. (The existing conv
/// kernels are used unchanged.)
///
/// Layouts follow PyTorch: x [N, C_in, H, W], weight [C_in, C_out/groups, kh,
/// kw], bias [C_out], y [N, C_out, H_out, W_out] with
/// H_out = (H − 1)·stride − pad_top − pad_bottom + dilation·(kh − 1)
///         + output_padding + 1.
/// 1-D: x [N, C_in, L], weight [C_in, C_out/groups, k], only the width
/// entries of the configuration are used.

#include <array>
#include <cstdint>
#include <string>

#include "trim/core/shape.hpp"
#include "trim/core/tensor.hpp"
#include "trim/kernels/conv.hpp"

namespace trim::kernels {

/// Hyper-parameters of a transposed convolution over 1 or 2 spatial axes
/// (axes {height, width}; a 1-D one has height stride / dilation 1, no
/// height padding).
struct ConvTransposeConfig {
  std::array<int64_t, 2> stride{1, 1};
  /// Zero padding removed from the output, {top, left, bottom, right}
  /// (ONNX `pads` order).
  std::array<int64_t, 4> pads{0, 0, 0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  /// Extra rows / columns added at the bottom / right of the output; each
  /// must be smaller than its stride.
  std::array<int64_t, 2> output_padding{0, 0};
  int64_t groups = 1;

  /// The 1-D configuration with the given width entries.
  static ConvTransposeConfig one_d(int64_t stride, int64_t pad_left, int64_t pad_right, int64_t dilation,
                                   int64_t output_padding, int64_t groups) {
    return {{1, stride}, {0, pad_left, 0, pad_right}, {1, dilation}, {0, output_padding}, groups};
  }
  /// The convolution this one is the adjoint of.
  Conv2dConfig as_conv() const { return {stride, pads, dilation, groups}; }
  Conv1dConfig as_conv1d() const { return {stride[1], pads[1], pads[3], dilation[1], groups}; }
};

/// Throws ValueError (message starting with `where`) unless strides and
/// dilations are ≥ 1, pads and output padding ≥ 0, output padding < stride
/// and groups ≥ 1.
void validate(const ConvTransposeConfig& c, const std::string& where);

/// Output shape for x [N, C_in, (H,) W] (N may be free) and weight
/// [C_in, C_out/groups, (kh,) kw]; `spatial` is 1 or 2 (the ranks must be
/// spatial + 2). Throws ShapeError / ValueError naming the shapes: wrong
/// ranks, C_in ≠ weight[0], C_in not divisible by groups, an output with no
/// element (padding larger than the full output).
Shape conv_transpose_output_shape(const Shape& x, const Shape& weight, int spatial, const ConvTransposeConfig& c,
                                  const std::string& where);

/// y = conv_transpose(x, weight) (+ bias); y has the output shape and is
/// overwritten. `bias` may be null. Rank 3 or 4 inputs.
void conv_transpose_forward(const Tensor& x, const Tensor& weight, const Tensor* bias,
                            const ConvTransposeConfig& c, Tensor& y);
/// dx += Jₓᵀ dy (a plain convolution of dy with the weight).
void conv_transpose_backward_input(const Tensor& dy, const Tensor& weight, const ConvTransposeConfig& c,
                                   Tensor& dx);
/// dweight += Σ_batch ∂⟨dy, y⟩/∂weight and dbias += Σ_{batch, space} dy;
/// either may be null.
void conv_transpose_backward_params(const Tensor& x, const Tensor& dy, const ConvTransposeConfig& c,
                                    Tensor* dweight, Tensor* dbias);

}  // namespace trim::kernels
