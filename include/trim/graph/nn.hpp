#pragma once
/// \file
/// Builder helpers: one call adds one layer (node plus its named parameters)
/// to a graph, PyTorch-style. Names follow PyTorch's state-dict convention:
/// `nn::linear(g, x, 10, "fc1")` creates parameters `fc1.weight` ([10,in],
/// as torch.nn.Linear) and `fc1.bias` ([10]). Weights start from PyTorch's
/// default initialisation, drawn from the graph's seeded generator.
///
/// Every helper returns the new node; shapes are checked immediately and a
/// ShapeError names the layer, e.g. `linear 'fc1': input [*,100], expected
/// [*,128]`. Dimension 0 is the batch everywhere (N, C, H, W).

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "trim/graph/graph.hpp"

namespace trim::kernels {
struct ResizeConfig;
struct Conv3dConfig;
struct Pool3dWindow;
}

namespace trim::nn {

/// Graph input with a free batch dimension: `input(g, "x", {1, 28, 28})`
/// declares [*,1,28,28].
NodeId input(Graph& g, const std::string& name, const Shape& per_example);

/// A constant tensor (no batch dimension), stored as a non-trainable
/// parameter `<name>` (used by imported models).
NodeId constant(Graph& g, const Tensor& value, const std::string& name);

// ---- affine layers (Kind::Linear) -------------------------------------------

/// y = x Wᵀ + b over the last axis; W is [out, in] (torch.nn.Linear).
NodeId linear(Graph& g, NodeId x, int64_t out_features, const std::string& name,
              bool bias = true);

struct Conv1dOptions {
  int64_t stride = 1;
  int64_t pad_left = 0;
  int64_t pad_right = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  /// Symmetric zero padding on both sides.
  Conv1dOptions& padding(int64_t p) { pad_left = pad_right = p; return *this; }
};
/// [N, C_in, L] -> [N, C_out, L_out]; weight [C_out, C_in/groups, k].
NodeId conv1d(Graph& g, NodeId x, int64_t out_channels, int64_t kernel, const std::string& name,
              const Conv1dOptions& opt = {});

struct Conv2dOptions {
  std::array<int64_t, 2> stride{1, 1};
  /// Zero padding {top, left, bottom, right} (ONNX order is
  /// {top, left, bottom, right} as well).
  std::array<int64_t, 4> pads{0, 0, 0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
  bool bias = true;
  Conv2dOptions& padding(int64_t p) { pads = {p, p, p, p}; return *this; }
  Conv2dOptions& strides(int64_t s) { stride = {s, s}; return *this; }
};
/// [N, C_in, H, W] -> [N, C_out, H_out, W_out]; weight
/// [C_out, C_in/groups, kh, kw] (torch.nn.Conv2d).
NodeId conv2d(Graph& g, NodeId x, int64_t out_channels, std::array<int64_t, 2> kernel,
              const std::string& name, const Conv2dOptions& opt = {});

/// Transposed convolution (upsampling). Axes {height, width}; a 1-D layer
/// uses the width entries only.
struct ConvTransposeOptions {
  std::array<int64_t, 2> stride{1, 1};
  /// Padding removed from the output, {top, left, bottom, right}.
  std::array<int64_t, 4> pads{0, 0, 0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  /// Extra output rows / columns at the end (each < its stride).
  std::array<int64_t, 2> output_padding{0, 0};
  int64_t groups = 1;
  bool bias = true;
  ConvTransposeOptions& padding(int64_t p) { pads = {p, p, p, p}; return *this; }
  ConvTransposeOptions& strides(int64_t s) { stride = {s, s}; return *this; }
};
/// [N, C_in, L] -> [N, C_out, L_out]; weight [C_in, C_out/groups, k]
/// (torch.nn.ConvTranspose1d). Kind::Linear.
NodeId conv_transpose1d(Graph& g, NodeId x, int64_t out_channels, int64_t kernel, const std::string& name,
                        const ConvTransposeOptions& opt = {});
/// [N, C_in, H, W] -> [N, C_out, H_out, W_out]; weight
/// [C_in, C_out/groups, kh, kw] (torch.nn.ConvTranspose2d). Kind::Linear.
NodeId conv_transpose2d(Graph& g, NodeId x, int64_t out_channels, std::array<int64_t, 2> kernel,
                        const std::string& name, const ConvTransposeOptions& opt = {});

/// Inference-form batch normalisation over axis 1 (any rank ≥ 2):
/// y = (x − running_mean) / √(running_var + eps) · weight + bias, with
/// parameters `<name>.weight`, `.bias` (trainable) and `.running_mean`,
/// `.running_var` (buffers), as torch.nn.BatchNorm*d in eval mode.
NodeId batch_norm(Graph& g, NodeId x, const std::string& name, float eps = 1e-5f);

/// y = x + c with a constant c broadcast NumPy-style against the per-example
/// shape (c's rank ≤ x's rank − 1, trailing-aligned). Parameter `<name>.value`.
NodeId add_constant(Graph& g, NodeId x, const Tensor& c, const std::string& name);
/// y = x ⊙ c, broadcast as in add_constant. Parameter `<name>.value`.
NodeId mul_constant(Graph& g, NodeId x, const Tensor& c, const std::string& name);

// ---- pooling ------------------------------------------------------------------

struct Pool1dOptions {
  int64_t stride = 0;  ///< 0: equal to the kernel size (PyTorch's default)
  int64_t pad_left = 0;
  int64_t pad_right = 0;
  /// Average pooling only: divide by the full window (true, PyTorch's
  /// default) or by the count of non-padding elements.
  bool count_include_pad = true;
  bool ceil_mode = false;
  Pool1dOptions& padding(int64_t p) { pad_left = pad_right = p; return *this; }
};
struct Pool2dOptions {
  std::array<int64_t, 2> stride{0, 0};  ///< 0: equal to the kernel size
  std::array<int64_t, 4> pads{0, 0, 0, 0};  ///< {top, left, bottom, right}
  bool count_include_pad = true;
  bool ceil_mode = false;
  Pool2dOptions& padding(int64_t p) { pads = {p, p, p, p}; return *this; }
  Pool2dOptions& strides(int64_t s) { stride = {s, s}; return *this; }
};
/// Kind::Selection; padding positions never win (they count as −∞).
NodeId max_pool1d(Graph& g, NodeId x, int64_t kernel, const Pool1dOptions& opt = {},
                  const std::string& name = "");
NodeId max_pool2d(Graph& g, NodeId x, std::array<int64_t, 2> kernel, const Pool2dOptions& opt = {},
                  const std::string& name = "");
/// Kind::Linear without bias.
NodeId avg_pool1d(Graph& g, NodeId x, int64_t kernel, const Pool1dOptions& opt = {},
                  const std::string& name = "");
NodeId avg_pool2d(Graph& g, NodeId x, std::array<int64_t, 2> kernel, const Pool2dOptions& opt = {},
                  const std::string& name = "");
/// Mean over all axes after 1, keeping them as size 1: [N,C,H,W] -> [N,C,1,1]
/// (ONNX GlobalAveragePool, torch AdaptiveAvgPool2d(1)). Kind::Linear.
NodeId global_avg_pool(Graph& g, NodeId x, const std::string& name = "");

/// Nearest / linear / cubic resizing of the spatial axes (F.interpolate,
/// ONNX Resize). Kind::Linear without bias. See kernels/resize.hpp.
NodeId resize(Graph& g, NodeId x, const kernels::ResizeConfig& config, const std::string& name = "");

// ---- volumes [N, C, D, H, W] (configurations in kernels/volume.hpp) --------------

/// Weight [C_out, C_in/groups, kd, kh, kw] (torch.nn.Conv3d). Kind::Linear.
NodeId conv3d(Graph& g, NodeId x, int64_t out_channels, std::array<int64_t, 3> kernel, const std::string& name,
              const kernels::Conv3dConfig& config, bool bias = true);
/// Kind::Selection.
NodeId max_pool3d(Graph& g, NodeId x, const kernels::Pool3dWindow& window, const std::string& name = "");
/// Kind::Linear without bias.
NodeId avg_pool3d(Graph& g, NodeId x, const kernels::Pool3dWindow& window, const std::string& name = "");

// ---- elementwise activations (Kind::Elementwise) ---------------------------------

NodeId relu(Graph& g, NodeId x, const std::string& name = "");
NodeId leaky_relu(Graph& g, NodeId x, float negative_slope = 0.01f, const std::string& name = "");
NodeId elu(Graph& g, NodeId x, float alpha = 1.0f, const std::string& name = "");
NodeId tanh(Graph& g, NodeId x, const std::string& name = "");
NodeId sigmoid(Graph& g, NodeId x, const std::string& name = "");
/// (1/β)·log(1 + exp(β x)), linear above `threshold` (torch.nn.Softplus).
NodeId softplus(Graph& g, NodeId x, float beta = 1.0f, float threshold = 20.0f,
                const std::string& name = "");
/// Exact GELU, x·Φ(x) (torch.nn.GELU()).
NodeId gelu(Graph& g, NodeId x, const std::string& name = "");

// ---- normalising maps (Kind::Opaque) ------------------------------------------------

NodeId softmax(Graph& g, NodeId x, int axis = -1, const std::string& name = "");
NodeId log_softmax(Graph& g, NodeId x, int axis = -1, const std::string& name = "");

// ---- structure (Kind::Structural) -------------------------------------------------

/// Reshape keeping the batch: `reshape(g, x, {C, H, W})` gives [*,C,H,W]. One
/// entry may be -1 (inferred).
NodeId reshape(Graph& g, NodeId x, const Shape& per_example, const std::string& name = "");
/// Collapses axes [axis, rank) into one: [N,C,H,W] -> [N, C·H·W] for axis 1.
/// axis ≥ 1 (the batch stays).
NodeId flatten(Graph& g, NodeId x, int axis = 1, const std::string& name = "");
/// Permutes axes; perm[0] must be 0 (the batch stays first).
NodeId transpose(Graph& g, NodeId x, const std::vector<int>& perm, const std::string& name = "");
/// Joins inputs along `axis` (not the batch axis).
NodeId concat(Graph& g, const std::vector<NodeId>& xs, int axis, const std::string& name = "");
/// Elements start, start+step, ... < end along `axis` (step > 0; not the batch axis).
NodeId slice(Graph& g, NodeId x, int axis, int64_t start, int64_t end, int64_t step = 1,
             const std::string& name = "");
/// Constant padding: `pads` holds {before, after} for every axis after the
/// batch, outermost first. With value ≠ 0 the op is Kind::Linear (the
/// padding value is its bias); with 0 it is Structural.
NodeId pad(Graph& g, NodeId x, const std::vector<std::array<int64_t, 2>>& pads, float value = 0.0f,
           const std::string& name = "");

// ---- combination ------------------------------------------------------------------

/// Elementwise a + b (+ ...) of equal shapes (Kind::Sum): residual connections.
NodeId add(Graph& g, const std::vector<NodeId>& xs, const std::string& name = "");
inline NodeId add(Graph& g, NodeId a, NodeId b, const std::string& name = "") {
  return add(g, std::vector<NodeId>{a, b}, name);
}

}  // namespace trim::nn
