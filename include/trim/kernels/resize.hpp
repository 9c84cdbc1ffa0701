#pragma once
/// \file
/// Resizing of the spatial axes (ONNX Resize / Upsample, torch
/// F.interpolate / nn.Upsample): nearest, linear (bilinear, trilinear) and
/// cubic interpolation, and the adjoint.
///
/// Each output element is a fixed weighted sum of input elements, so resizing
/// is linear without bias. It is applied one spatial axis at a time (the
/// modes are separable): along each axis a table gives every output index
/// its input indices and weights (1 tap for nearest, 2 for linear, 4 for
/// cubic), computed once from the coordinate transformation the exporter
/// chose. Indices outside the input are clamped to its edge, as PyTorch and
/// the ONNX reference do.

#include <cstdint>
#include <string>
#include <vector>

#include "trim/core/shape.hpp"
#include "trim/core/tensor.hpp"

namespace trim::kernels {

enum class ResizeMode { nearest, linear, cubic };

/// ONNX `coordinate_transformation_mode`: where output index o samples the
/// input (scale = output / input size).
enum class ResizeCoordinates {
  half_pixel,          ///< (o + ½)/scale − ½ (align_corners=False)
  pytorch_half_pixel,  ///< as half_pixel, but 0 when the output has length 1
  align_corners,       ///< o·(in − 1)/(out − 1) (align_corners=True)
  asymmetric,          ///< o/scale (PyTorch's "nearest")
  tf_half_pixel_for_nn ///< (o + ½)/scale
};

/// ONNX `nearest_mode`: how a fractional coordinate picks an index.
enum class ResizeNearest { round_prefer_floor, round_prefer_ceil, floor, ceil };

/// Everything but the sizes.
struct ResizeConfig {
  ResizeMode mode = ResizeMode::nearest;
  ResizeCoordinates coordinates = ResizeCoordinates::half_pixel;
  ResizeNearest nearest = ResizeNearest::round_prefer_floor;
  /// Cubic only: the kernel's a (−0.75 in PyTorch, ONNX's default).
  double cubic_a = -0.75;
  /// Per spatial axis (after batch and channel): the scale used in the
  /// coordinate formula. Empty entries (≤ 0) mean output / input size.
  std::vector<double> scales;
  /// Per spatial axis: the output size, or ≤ 0 for floor(input · scale).
  std::vector<int64_t> sizes;
};

/// Parses the ONNX attribute spellings ("nearest", "linear", "cubic";
/// "half_pixel", ...; "round_prefer_floor", ...). Throws ValueError naming
/// the accepted values.
ResizeMode parse_resize_mode(const std::string& s);
ResizeCoordinates parse_resize_coordinates(const std::string& s);
ResizeNearest parse_resize_nearest(const std::string& s);
const char* resize_mode_name(ResizeMode m);
const char* resize_coordinates_name(ResizeCoordinates c);
const char* resize_nearest_name(ResizeNearest n);

/// Output shape for `x` [N, C, spatial...] (N may be free). Throws
/// ShapeError / ValueError starting with `where`: rank < 3, a scales / sizes
/// list that does not match the spatial axes, an empty output.
Shape resize_output_shape(const Shape& x, const ResizeConfig& c, const std::string& where);

/// y = resize(x); y has the output shape and is overwritten.
void resize_forward(const Tensor& x, const ResizeConfig& c, Tensor& y);
/// dx += Aᵀ dy.
void resize_backward(const ResizeConfig& c, const Tensor& dy, Tensor& dx);

}  // namespace trim::kernels
