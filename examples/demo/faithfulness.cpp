// Which method is most faithful to the demo's CNN? Deletion / insertion of
// radial frequency bands through the inverse FFT, against random orders.
#include "faithfulness.hpp"

#include <cstdio>

#include "demo.hpp"
#include "example.hpp"

namespace demo {

std::string faithfulness(const trim::Graph& cnn, const trim::Tensor& maps, const Sky& sky, int n_bands) {
  const example::Stopwatch clock;
  auto transform = trim::make_transform("fft2", {1, sky.size, sky.size});
  const trim::TrimModel tm(cnn, transform);
  const trim::Tensor s = tm.coefficients(maps);
  const trim::Grouping bands = trim::radial_bands(*transform, n_bands);
  trim::AttributionOptions options;
  options.targets = trim::Targets(1);  // the B output: the bump at k0 decides it
  options.grouping = &bands;
  trim::FaithfulnessOptions fo;  // every band removed one at a time, to the zero spectrum
  fo.n_random = 5;
  fo.road = false;
  fo.mu_subsets = 20;

  trim::IntegratedGradientsOptions ig;
  ig.n_steps = 64;
  trim::ShapleyOptions sh;
  sh.exact_max_groups = 0;
  sh.n_permutations = 12;
  sh.seed = 5;
  trim::CdOptions cd;
  cd.targets = options.targets;
  const std::vector<std::pair<std::string, trim::Tensor>> scores = {
      {"gradient", trim::gradient(tm.graph(), s, options).group_scores},
      {"input x gradient", trim::input_x_gradient(tm.graph(), s, options).group_scores},
      {"integrated gradients", trim::integrated_gradients(tm.graph(), s, ig, options).group_scores},
      {"Shapley values", trim::shapley(tm.graph(), s, sh, options).group_scores},
      {"CD", trim::contextual_decomposition(tm.graph(), s, bands, cd).rel},
  };
  std::vector<example::FaithfulnessRow> rows;
  for (const auto& [name, sc] : scores) {
    rows.push_back(example::score_method(name, tm.graph(), s, sc, fo, options));
    fo.n_random = 0;  // the random reference does not depend on the method: once is enough
  }
  const size_t best = example::print_faithfulness(
      rows, "B output, " + std::to_string(n_bands) + " radial bands, " + std::to_string(maps.dim(0)) + " maps");
  std::printf("  (%.1f s)\n", clock.seconds());
  return rows[best].method;
}

}  // namespace demo
