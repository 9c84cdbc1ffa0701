#pragma once
// The TRIM composition check every transform family runs: a model on
// T⁻¹(T(x)) equals the model on x, with finite-difference gradients.

#include <string>

#include "testing.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/nn.hpp"
#include "trim/transforms/transform.hpp"

namespace trim::test {

/// For the transform `spec` on examples of shape `example`: a plain model g
/// (a linear layer over the last axis, then a second, so every element
/// matters) on x, and the same model with the same weights on the inverse
/// node of T's coefficients, agree on a batch of 4; the TRIM graph's
/// gradients match finite differences.
inline void check_trim_composition(const std::string& spec, const Shape& example) {
  INFO(spec);
  const auto t = make_transform(spec, example);
  Graph plain(3);
  {
    const NodeId x = nn::input(plain, "x", example);
    const NodeId h = nn::linear(plain, x, 4, "fc1");
    plain.set_outputs({nn::linear(plain, h, 3, "fc2")});
    plain.finalize();
  }
  Graph trim(3);
  {
    const NodeId s = nn::input(trim, "s", t->coefficient_shape());
    const NodeId h = nn::linear(trim, add_inverse(trim, s, *t), 4, "fc1");
    trim.set_outputs({nn::linear(trim, h, 3, "fc2")});
    trim.finalize();
  }
  for (const char* p : {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"})
    trim.set_parameter(p, plain.parameter(p).value);
  Shape batch{4};
  for (int64_t d : example) batch.push_back(d);
  const Tensor x = randn(batch, 11);
  require_close(trim.evaluate(t->forward(x)), plain.evaluate(x), 1e-4, 1e-2, spec);
  require_ok(check_gradients(trim, {t->forward(x)}));
}

}  // namespace trim::test
