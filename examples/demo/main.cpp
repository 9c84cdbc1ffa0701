// Placeholder demo; replaced by the frequency-attribution demo below once the
// training layer lands.
#include <trim/trim.hpp>

#include <cstdio>

int main() {
  trim::Graph g(1);
  const trim::NodeId x = trim::nn::input(g, "x", {4});
  g.set_outputs({trim::nn::linear(g, x, 2, "fc")});
  g.finalize();
  const trim::Tensor y = g.evaluate(trim::Tensor({1, 4}, 1.0f));
  std::printf("trim demo: y = [%g, %g]\n", y[0], y[1]);
  return 0;
}
