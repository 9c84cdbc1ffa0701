#pragma once
/// \file
/// Seeded random numbers. Every random method in trim takes a seed; the
/// generator and the distributions here are written out (not std::
/// distributions, whose output differs between standard libraries) so the
/// same seed gives the same numbers everywhere.

#include <cstdint>

#include "trim/core/tensor.hpp"

namespace trim {

/// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  /// The generator of sample `s` of example `e` under `seed` (the three keys
  /// mixed splitmix-style into one seed): the random methods draw each
  /// sample's numbers from its own, so they are the same whatever the
  /// batching, the order or the number of threads that draws them.
  static Rng stream(uint64_t seed, int64_t e, int64_t s);

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, 1).
  double uniform();
  /// Uniform in [lo, hi).
  float uniform(float lo, float hi);
  /// Standard normal (Box–Muller, caching the second value).
  double normal();
  float normal(float mean, float stdev);
  /// Uniform integer in [0, n); n > 0.
  uint64_t below(uint64_t n);

  void fill_uniform(Tensor& t, float lo, float hi);
  void fill_normal(Tensor& t, float mean, float stdev);
  /// n normal values mean + stdev·z into dst, z standard normal by the
  /// ziggurat method (Marsaglia & Tsang, 256 layers, exact tail): one
  /// next_u64 per value almost always, no log or sin, several times faster
  /// than normal(). For the noise of SmoothGrad and gradient SHAP (millions
  /// of values per call). A stream of its own: not the values normal() gives.
  void normals(float* dst, int64_t n, float mean, float stdev);

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace trim
