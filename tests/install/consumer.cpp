// A tiny program that uses an installed trim through pkg-config or as a Meson
// subproject: builds a two-layer network, runs it and takes an input gradient,
// then fits a small NMF, whose Eigen matrices cross the library boundary (this
// program is compiled without the library's -march=native: the allocation
// alignment of both sides must agree, or freeing them crashes).
#include <trim/trim.hpp>

#include <cmath>
#include <cstdio>

int main() {
  trim::Graph g(7);
  const trim::NodeId x = trim::nn::input(g, "x", {3});
  const trim::NodeId h = trim::nn::linear(g, x, 4, "fc1");
  const trim::NodeId y = trim::nn::linear(g, h, 1, "fc2");
  g.set_outputs({y});
  g.finalize();

  trim::Tensor in({2, 3}, {0.5f, -1.0f, 2.0f, 1.5f, 0.0f, -0.5f});
  trim::Workspace ws;
  trim::forward(g, ws, {in});
  const trim::Gradients grads = trim::backward(g, ws, {trim::Tensor({2, 1}, 1.0f)});
  // The network is affine, so its input gradient is W2·W1 for every row.
  const trim::Tensor& w1 = g.parameter("fc1.weight").value;
  const trim::Tensor& w2 = g.parameter("fc2.weight").value;
  for (int64_t j = 0; j < 3; ++j) {
    float expected = 0.0f;
    for (int64_t k = 0; k < 4; ++k) expected += w2.at({0, k}) * w1.at({k, j});
    for (int64_t n = 0; n < 2; ++n)
      if (std::fabs(grads.inputs[0].at({n, j}) - expected) > 1e-5f) {
        std::printf("consumer: wrong gradient\n");
        return 1;
      }
  }
  trim::MatrixXdRM data(6, 4);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j) data(i, j) = 1.0 + (i * 7 + j * 3) % 5;
  trim::NmfOptions options;
  options.n_components = 2;
  options.max_iter = 50;
  trim::NMF nmf(options);
  trim::MatrixXdRM codes = nmf.fit_transform(data);
  if (codes.rows() != 6 || codes.cols() != 2 || !(codes.minCoeff() >= 0.0)) {
    std::printf("consumer: wrong NMF codes\n");
    return 1;
  }
  codes.resize(100, 100);  // reallocates, in this program, a block the library allocated
  std::printf("consumer: ok, y = [%g, %g]\n", ws.value(y)[0], ws.value(y)[1]);
  return 0;
}
