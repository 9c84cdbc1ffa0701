#pragma once
/// \file
/// 3-D convolution and pooling over volumes [N, C, D, H, W] (torch
/// nn.Conv3d / MaxPool3d / AvgPool3d, ONNX Conv / MaxPool / AveragePool on
/// rank-5 inputs): 3-D density fields, tomography, video.
///
/// conv3d runs on the 2-D convolution kernels of conv.hpp, unchanged: for
/// every output depth the kd input slices its window reads are stacked along
/// the channel axis (channel c·kd + a holds slice a of channel c), which
/// turns the weight [C_out, C_in/groups, kd, kh, kw] into a 2-D weight
/// [C_out, C_in/groups·kd, kh, kw] with the same memory, and the whole volume
/// into one batched 2-D convolution of N·D_out slabs. The slab tensor costs
/// kd/stride_d times the input's memory.
///
/// Pooling follows PyTorch's output sizes and padding rules (kernels/pool.hpp)
/// per axis.

#include <array>
#include <cstdint>
#include <string>

#include "trim/core/shape.hpp"
#include "trim/core/tensor.hpp"

namespace trim::kernels {

/// Axes {depth, height, width}; pads {d0, h0, w0, d1, h1, w1} (ONNX order).
struct Conv3dConfig {
  std::array<int64_t, 3> stride{1, 1, 1};
  std::array<int64_t, 6> pads{0, 0, 0, 0, 0, 0};
  std::array<int64_t, 3> dilation{1, 1, 1};
  int64_t groups = 1;
};

/// Throws ValueError (message starting with `where`) on strides or
/// dilations < 1, negative pads, groups < 1.
void validate(const Conv3dConfig& c, const std::string& where);
/// Output shape for x [N, C_in, D, H, W] (N may be free) and weight
/// [C_out, C_in/groups, kd, kh, kw]; ShapeError naming both on a mismatch.
Shape conv3d_output_shape(const Shape& x, const Shape& weight, const Conv3dConfig& c, const std::string& where);
/// y = conv3d(x, weight) (+ bias), overwritten; bias may be null.
void conv3d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv3dConfig& c, Tensor& y);
/// dx += Jₓᵀ dy.
void conv3d_backward_input(const Tensor& dy, const Tensor& weight, const Conv3dConfig& c, Tensor& dx);
/// dweight += Σ_batch ∂⟨dy, y⟩/∂weight, dbias += Σ dy; either may be null.
void conv3d_backward_params(const Tensor& x, const Tensor& dy, const Conv3dConfig& c, Tensor* dweight,
                            Tensor* dbias);

/// 3-D pooling window; pads {d0, h0, w0, d1, h1, w1}.
struct Pool3dWindow {
  std::array<int64_t, 3> kernel{1, 1, 1};
  std::array<int64_t, 3> stride{1, 1, 1};
  std::array<int64_t, 6> pads{0, 0, 0, 0, 0, 0};
  bool ceil_mode = false;
  /// Average pooling only: divide by the whole (padded) window.
  bool count_include_pad = true;
};

/// Validates the window against x [N, C, D, H, W] and returns the output
/// shape (ValueError / ShapeError starting with `where`).
Shape pool3d_output_shape(const Shape& x, const Pool3dWindow& w, const std::string& where);
/// y = max over each window; padding never wins. `indices` (optional)
/// receives the flat index into x of every output's first maximum.
void max_pool3d_forward(const Tensor& x, const Pool3dWindow& w, Tensor& y, int64_t* indices = nullptr);
/// dx += dy routed to each window's argmax (recomputed from x).
void max_pool3d_backward(const Tensor& x, const Pool3dWindow& w, const Tensor& dy, Tensor& dx);
/// y = mean over each window (PyTorch's divisor rules).
void avg_pool3d_forward(const Tensor& x, const Pool3dWindow& w, Tensor& y);
/// dx += Aᵀ dy.
void avg_pool3d_backward(const Pool3dWindow& w, const Tensor& dy, Tensor& dx);

}  // namespace trim::kernels
