// TRIM in Fourier space: the CNN composed with the inverse fft2, explained by
// CD over narrow radial bands, integrated gradients and Shapley values.
#include <cmath>
#include <cstdio>

#include "demo.hpp"
#include "example.hpp"

namespace demo {

namespace {

/// Fills `curve.mean` and `curve.hit_rate_b` from per-band scores [2, N, bands].
void summarise(const trim::Tensor& scores, const Sky& sky, BandCurve& curve) {
  const int64_t outputs = scores.dim(0), maps = scores.dim(1), bands = scores.dim(2);
  curve.mean.assign(static_cast<size_t>(outputs), std::vector<double>(static_cast<size_t>(bands), 0.0));
  for (int64_t t = 0; t < outputs; ++t)
    for (int64_t i = 0; i < maps; ++i)
      for (int64_t j = 0; j < bands; ++j)
        curve.mean[t][j] += scores.at({t, i, j}) / static_cast<double>(maps);
  // Ground truth: B changes the power only near k0, so the band holding k0
  // should carry the largest share of the B prediction.
  int64_t hits = 0;
  for (int64_t i = 0; i < maps; ++i) {
    int64_t top = 0;
    for (int64_t j = 1; j < bands; ++j)
      if (scores.at({1, i, j}) > scores.at({1, i, top})) top = j;
    if (curve.holds(static_cast<size_t>(top), sky.k0)) ++hits;
  }
  curve.hit_rate_b = static_cast<double>(hits) / static_cast<double>(maps);
}

}  // namespace

std::vector<BandCurve> explain(const trim::Graph& cnn, const trim::Tensor& maps, const Sky& sky, int sweep_bands,
                               int n_bands) {
  auto transform = trim::make_transform("fft2", {1, sky.size, sky.size});
  // s ↦ cnn(Re(ifft2(s))): the inverse FFT is a Linear node in front of the CNN.
  const trim::TrimModel tm(cnn, transform);
  const trim::Tensor s = tm.coefficients(maps);  // [N, 1, size, size, 2]
  const int64_t n = maps.dim(0);
  std::printf("  TRIM model: %s coefficients [%ld, 1, %ld, %ld, 2]; F(T(x)) = f(x) to %.1e\n",
              transform->spec().c_str(), static_cast<long>(n), static_cast<long>(sky.size),
              static_cast<long>(sky.size), trim::max_abs_diff(tm.forward(s), cnn.evaluate(maps)));
  std::vector<BandCurve> curves;

  // 1. CD over many narrow, overlapping bands: the reference sweeps 100
  //    bands of width 0.1 over radii 0.1-0.9; these cover the whole
  //    spectrum, out to the corners (radius √2).
  {
    const example::Stopwatch clock;
    BandCurve cd{"CD (sweep)", {}, 0.1, {}, 0};
    const double first = 0.05, last = 1.40;
    for (int j = 0; j < sweep_bands; ++j)
      cd.centres.push_back(sweep_bands > 1 ? first + (last - first) * j / (sweep_bands - 1) : sky.k0);
    const trim::CdResult r = trim::cd_band_sweep(tm.graph(), s, *transform, cd.centres, cd.width);
    summarise(r.rel, sky, cd);
    std::printf("  CD sweep: %zu bands of width %.2f x %ld maps x both outputs  (%.1f s)\n", cd.centres.size(),
                cd.width, static_cast<long>(n), clock.seconds());
    curves.push_back(cd);
  }

  const trim::Grouping bands = trim::radial_bands(*transform, n_bands);
  trim::AttributionOptions options;  // targets: every output, in one call
  options.grouping = &bands;
  const double band_width = bands.centers.size() > 1 ? bands.centers[1] - bands.centers[0] : 0.0;

  // 2. Integrated gradients, from the all-zero spectrum (an empty map).
  {
    const example::Stopwatch clock;
    trim::IntegratedGradientsOptions ig;
    ig.n_steps = 128;
    const trim::Attribution a = trim::integrated_gradients(tm.graph(), s, ig, options);
    BandCurve curve{"integrated gradients", bands.centers, band_width, {}, 0};
    summarise(a.group_scores, sky, curve);
    const example::Completeness complete = example::completeness(a);
    curve.delta_relative = complete.relative();
    std::printf("  integrated gradients: %d bands, %d steps x %ld maps; max |completeness delta| %.3f = %.1f %% of "
                "the rms output change  (%.1f s)\n",
                n_bands, ig.n_steps, static_cast<long>(n), complete.max_delta, 100.0 * complete.relative(),
                clock.seconds());
    curves.push_back(curve);
  }

  // 3. Shapley values of the bands (permutation sampling: 2^12 coalitions
  //    per map would be exact but slow).
  {
    const example::Stopwatch clock;
    trim::ShapleyOptions sh;
    sh.exact_max_groups = 0;
    sh.n_permutations = 12;
    sh.seed = 5;
    const trim::Attribution a = trim::shapley(tm.graph(), s, sh, options);
    BandCurve curve{"Shapley values", bands.centers, band_width, {}, 0};
    summarise(a.group_scores, sky, curve);
    std::printf("  Shapley values: %d bands, %d permutations x %ld maps  (%.1f s)\n", n_bands, sh.n_permutations,
                static_cast<long>(n), clock.seconds());
    curves.push_back(curve);
  }
  return curves;
}

}  // namespace demo
