#pragma once
/// \file
/// Scalar functions (Kind::Elementwise) that composite layers decompose
/// into: exp / log / √ / reciprocal / power (softmax, LayerNorm, quotients),
/// erf (exact GELU as ONNX writes it), hard sigmoid and hard swish
/// (MobileNetV3). Like the activations they supply only φ and φ'.

#include "trim/graph/ops/activation.hpp"

namespace trim::ops {

class Math final : public Activation {
 public:
  enum Fn {
    Exp,          ///< eˣ
    Log,          ///< ln x (NaN below 0, as torch)
    Sqrt,         ///< √x
    Reciprocal,   ///< 1 / x
    Pow,          ///< xᵖ for a constant p = a (torch.pow; NaN for x < 0 and non-integer p)
    Erf,          ///< erf(x)
    HardSigmoid,  ///< max(0, min(1, a·x + b)) (ONNX HardSigmoid; torch uses a = 1/6, b = ½)
    HardSwish,    ///< x · max(0, min(1, x/6 + ½)) (torch.nn.Hardswish)
  };
  explicit Math(Fn fn, float a = 0.0f, float b = 0.0f) : fn_(fn), a_(a), b_(b) {}
  std::string type() const override;
  /// Also rejects non-finite constants (ValueError).
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void phi(const float* x, float* y, int64_t n) const override;
  void dphi(const float* x, float* d, int64_t n) const override;
  Fn fn() const { return fn_; }
  float a() const { return a_; }
  float b() const { return b_; }

 private:
  Fn fn_;
  float a_, b_;
};

}  // namespace trim::ops
