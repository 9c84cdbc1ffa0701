// Weak-lensing-like maps: Gaussian random fields coloured in Fourier space.
#include <cmath>

#include <trim/kernels/fft.hpp>

#include "demo.hpp"

namespace demo {

namespace {

constexpr double kPi = 3.14159265358979323846;

/// Normalised frequency of FFT bin `k` along an axis of `n` samples (fftfreq
/// divided by its largest magnitude, 1/2): −1 ≤ f < 1.
double normalised_frequency(int64_t k, int64_t n) {
  const int64_t signed_k = k <= (n - 1) / 2 ? k : k - n;
  return static_cast<double>(signed_k) / (static_cast<double>(n) / 2.0);
}

/// The power spectrum without its amplitude A; zero at k = 0 (zero-mean maps).
double spectrum_shape(const Sky& sky, double k, double b) {
  if (k <= 0.0) return 0.0;
  const double bump = std::exp(-(k - sky.k0) * (k - sky.k0) / (2.0 * sky.sigma * sky.sigma));
  return std::pow(k, -sky.n) * (1.0 + b * bump);
}

}  // namespace

double Sky::multipole(double radius) const {
  const double pixel_rad = pixel_arcmin / 60.0 * kPi / 180.0;
  const double nyquist_cycles_per_rad = 0.5 / pixel_rad;
  return 2.0 * kPi * radius * nyquist_cycles_per_rad;
}

MapSet simulate_maps(const Sky& sky, int64_t count, uint64_t seed) {
  const int64_t n = sky.size, half = n / 2 + 1;
  trim::Rng rng(seed);
  MapSet set;
  for (int64_t i = 0; i < count; ++i) {
    set.a.push_back(std::exp(rng.uniform(static_cast<float>(std::log(sky.a_min)),
                                         static_cast<float>(std::log(sky.a_max)))));
    set.b.push_back(rng.uniform(static_cast<float>(sky.b_min), static_cast<float>(sky.b_max)));
  }

  // Unit white noise has a flat spectrum: E|W_k|² = n² with NumPy's
  // unnormalised forward FFT. Colouring by √P and inverting (which divides by
  // n²) gives a pixel variance of mean_k P(k). `unit` makes that 1 for A = 1,
  // B = 0.
  double mean_shape = 0.0;
  for (int64_t u = 0; u < n; ++u)
    for (int64_t v = 0; v < n; ++v)
      mean_shape += spectrum_shape(sky, std::hypot(normalised_frequency(u, n), normalised_frequency(v, n)), 0.0);
  const double unit = static_cast<double>(n * n) / mean_shape;

  trim::Tensor noise({count, n, n});
  rng.fill_normal(noise, 0.0f, 1.0f);
  trim::Tensor spectrum = trim::kernels::rfftn(noise, 2);  // [count, n, half, 2]
  trim::parallel_for(count, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float* row = spectrum.data() + i * n * half * 2;
      for (int64_t u = 0; u < n; ++u)
        for (int64_t v = 0; v < half; ++v) {
          // rfft's last axis holds the non-negative frequencies v = 0..n/2.
          const double k = std::hypot(normalised_frequency(u, n), static_cast<double>(v) / (n / 2.0));
          const float amp = static_cast<float>(std::sqrt(unit * set.a[i] * spectrum_shape(sky, k, set.b[i])));
          row[(u * half + v) * 2] *= amp;
          row[(u * half + v) * 2 + 1] *= amp;
        }
    }
  });
  set.maps = trim::kernels::irfftn(spectrum, 2, n).reshape({count, 1, n, n});
  return set;
}

}  // namespace demo
