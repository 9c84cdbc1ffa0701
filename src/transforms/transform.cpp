#include "trim/transforms/transform.hpp"

#include <algorithm>

#include "fourier.hpp"
#include "registry.hpp"
#include "trim/core/error.hpp"

namespace trim {

namespace {

/// y = x: the inverse of `identity` (Kind::Linear, no bias).
class IdentityOp final : public Op {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // dy and parameters suffice
  bool backward_reads_output() const override { return false; }
  explicit IdentityOp(Shape shape) : shape_(std::move(shape)) {}
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "inverse_identity"; }
  Shape infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                    const std::string& where) const override {
    detail::check_batched(in.at(0), shape_, where);
    return in[0];
  }
  void forward(const OpArgs& a, Tensor& y) const override {
    std::copy(a.input().begin(), a.input().end(), y.begin());
  }
  void backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const override {
    if (Tensor* dx = g.input(0)) dx->as_vector() += dy.as_vector();
  }
  void forward_unbiased(const OpArgs& a, Tensor& y) const override { forward(a, y); }
  bool has_bias(const OpArgs&) const override { return false; }
  void add_bias(const OpArgs&, Tensor&, float) const override {}

 private:
  Shape shape_;
};

/// Coefficients = input.
class Identity final : public Transform {
 public:
  explicit Identity(const Shape& s) : Transform(s, s) {}
  std::string spec() const override { return "identity"; }
  int axes() const override { return 0; }
  Tensor forward(const Tensor& x) const override {
    detail::check_batched(x.shape(), input_shape(), "transform 'identity' forward");
    return x;
  }
  Tensor inverse(const Tensor& s) const override {
    detail::check_batched(s.shape(), coefficient_shape(), "transform 'identity' inverse");
    return s;
  }
  std::shared_ptr<const Op> inverse_op() const override { return std::make_shared<IdentityOp>(input_shape()); }
};

}  // namespace

std::shared_ptr<const Transform> make_transform(const std::string& spec, const Shape& input_shape) {
  const size_t colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  const bool has_norm = colon != std::string::npos;
  const std::string norm_name = has_norm ? spec.substr(colon + 1) : "backward";

  if (input_shape.has_free_dim())
    throw ShapeError("transform '" + spec + "': input shape " + input_shape.str() +
                     " must be one example's concrete shape (no batch axis)");
  if (name == "identity") {
    if (has_norm)
      throw ValueError("transform 'identity' takes no normalisation, got '" + norm_name + "' in '" + spec + "'");
    return std::make_shared<Identity>(input_shape);
  }

  if (name == "dwt1" || name == "dwt2" || name == "swt1" || name == "swt2")
    return detail::make_wavelet_transform(spec, input_shape);
  if (name == "nmf" || name == "pca" || name == "dict") return detail::make_dictionary_transform(spec, input_shape);

  detail::FourierFamily family;
  int d;
  if (name == "fft1") family = detail::FourierFamily::Fft, d = 1;
  else if (name == "fft2") family = detail::FourierFamily::Fft, d = 2;
  else if (name == "rfft1") family = detail::FourierFamily::Rfft, d = 1;
  else if (name == "rfft2") family = detail::FourierFamily::Rfft, d = 2;
  else if (name == "dct1") family = detail::FourierFamily::Dct, d = 1;
  else if (name == "dct2") family = detail::FourierFamily::Dct, d = 2;
  else
    throw ValueError("unknown transform '" + name + "' in '" + spec +
                     "' (expected identity, fft1, fft2, rfft1, rfft2, dct1, dct2, dwt1, dwt2, swt1, swt2, nmf, pca or dict)");
  kernels::Norm norm;
  if (norm_name == "backward") norm = kernels::Norm::Backward;
  else if (norm_name == "ortho") norm = kernels::Norm::Ortho;
  else if (norm_name == "forward") norm = kernels::Norm::Forward;
  else
    throw ValueError("unknown normalisation '" + norm_name + "' in '" + spec +
                     "' (expected backward, ortho or forward)");

  return detail::make_fourier(family, d, norm, input_shape);
}

NodeId add_inverse(Graph& g, NodeId coefficients, const Transform& t, const std::string& name) {
  return g.add(t.inverse_op(), {coefficients}, {}, name);
}

}  // namespace trim
