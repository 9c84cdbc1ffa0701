#include "trim/graph/op.hpp"

#include <algorithm>

#include "trim/core/error.hpp"

namespace trim {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Linear: return "Linear";
    case Kind::Elementwise: return "Elementwise";
    case Kind::Selection: return "Selection";
    case Kind::Structural: return "Structural";
    case Kind::Sum: return "Sum";
    case Kind::Product: return "Product";
    case Kind::Cell: return "Cell";
    case Kind::Opaque: return "Opaque";
  }
  return "?";
}

int64_t Op::scratch_floats(const std::vector<Shape>& inputs, const std::vector<Shape>&, const Shape& output) const {
  int64_t largest = output.numel();
  for (const Shape& s : inputs) largest = std::max(largest, s.numel());
  return largest;
}

void Op::not_provided(const char* what) const {
  throw Error(type() + " (kind " + kind_name(kind()) + ") does not provide " + what);
}

void Op::forward_unbiased(const OpArgs& args, Tensor& y) const {
  if (kind() == Kind::Structural) return forward(args, y);
  not_provided("forward_unbiased");
}

bool Op::has_bias(const OpArgs&) const {
  if (kind() == Kind::Linear) not_provided("has_bias");
  return false;
}

void Op::add_bias(const OpArgs&, Tensor&, float) const {
  if (kind() == Kind::Structural) return;
  not_provided("add_bias");
}

void Op::phi(const float*, float*, int64_t) const { not_provided("phi"); }
void Op::dphi(const float*, float*, int64_t) const { not_provided("dphi"); }
void Op::select_indices(const OpArgs&, std::vector<int64_t>&) const {
  not_provided("select_indices");
}
void Op::deeplift_backward(const OpArgs&, const OpArgs&, const Tensor&, const OpGrads&, float) const {
  not_provided("deeplift_backward");
}
void Op::cd_forward(const OpArgs&, const OpArgs&, Tensor&) const { not_provided("cd_forward"); }

Shape ElementwiseOp::infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>&,
                                 const std::string&) const {
  return inputs.at(0);
}

void ElementwiseOp::forward(const OpArgs& args, Tensor& y) const {
  phi(args.input().data(), y.data(), y.numel());
}

void ElementwiseOp::backward(const OpArgs& args, const Tensor&, const Tensor& dy,
                             const OpGrads& grads) const {
  Tensor* dx = grads.input(0);
  if (!dx) return;
  // φ' in stack-sized chunks: no allocation per call.
  constexpr int64_t chunk = 256;
  float d[chunk];
  const float* x = args.input().data();
  const float* g = dy.data();
  float* out = dx->data();
  const bool assign = grads.assigns(0);
  for (int64_t begin = 0; begin < dy.numel(); begin += chunk) {
    const int64_t n = std::min(chunk, dy.numel() - begin);
    dphi(x + begin, d, n);
    if (assign)
      for (int64_t i = 0; i < n; ++i) out[begin + i] = 0.0f + g[begin + i] * d[i];
    else
      for (int64_t i = 0; i < n; ++i) out[begin + i] += g[begin + i] * d[i];
  }
}

}  // namespace trim
