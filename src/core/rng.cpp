#include "trim/core/rng.hpp"

#include <cmath>

#include "trim/core/error.hpp"

namespace trim {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// The ziggurat of exp(−z²/2) on z ≥ 0: 256 layers of equal area v. Layer 0
/// is the rectangle [0, r] × [0, f(r)] with the tail beyond r (its "width"
/// x[0] = v / f(r)); layer i ≥ 1 is [0, x[i]] × [f(x[i]), f(x[i+1])], x[256] = 0.
struct Ziggurat {
  static constexpr int layers = 256;
  static constexpr double r = 3.6541528853610088;  // x[1]: the layers' areas all equal v
  double x[layers + 1];
  double f[layers + 1];  // exp(−x²/2)
  uint64_t inside[layers];  // 53-bit uniforms below inside[i] give z = u·x[i] < x[i+1]
  double width[layers];     // x[i] · 2^-53: z from the 53-bit integer

  Ziggurat() {
    const double fr = std::exp(-0.5 * r * r);
    const double v = r * fr + std::sqrt(M_PI / 2) * std::erfc(r / std::sqrt(2.0));
    x[0] = v / fr;
    x[1] = r;
    for (int i = 1; i + 1 < layers; ++i) x[i + 1] = std::sqrt(-2.0 * std::log(v / x[i] + std::exp(-0.5 * x[i] * x[i])));
    x[layers] = 0.0;
    for (int i = 0; i <= layers; ++i) f[i] = std::exp(-0.5 * x[i] * x[i]);
    f[0] = fr;  // layer 0's top and bottom: its rectangle under f(r)
    for (int i = 0; i < layers; ++i) {
      width[i] = x[i] * 0x1.0p-53;
      // The largest u with u·width[i] < x[i+1], plus one: the fast test is u < inside[i].
      uint64_t k = static_cast<uint64_t>(x[i + 1] / x[i] * 0x1.0p53);
      while (k > 0 && static_cast<double>(k) * width[i] >= x[i + 1]) --k;
      while (static_cast<double>(k + 1) * width[i] < x[i + 1]) ++k;
      inside[i] = k + 1;
    }
  }
};

const Ziggurat& ziggurat() {
  static const Ziggurat z;
  return z;
}
}  // namespace

Rng::Rng(uint64_t seed) {
  for (uint64_t& s : s_) s = splitmix64(seed);
}

Rng Rng::stream(uint64_t seed, int64_t e, int64_t s) {
  uint64_t z = seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(e) + 1));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z ^= 0xd6e8feb86659fd93ULL * (static_cast<uint64_t>(s) + 1);
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return Rng(z ^ (z >> 31));
}


double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

float Rng::uniform(float lo, float hi) {
  return lo + static_cast<float>(uniform()) * (hi - lo);
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * M_PI * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

float Rng::normal(float mean, float stdev) {
  return mean + stdev * static_cast<float>(normal());
}

uint64_t Rng::below(uint64_t n) {
  if (n == 0) throw ValueError("Rng::below: n must be positive");
  // Rejection sampling removes the modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x = next_u64();
  while (x >= limit) x = next_u64();
  return x % n;
}

void Rng::fill_uniform(Tensor& t, float lo, float hi) {
  for (float& v : t) v = uniform(lo, hi);
}

void Rng::fill_normal(Tensor& t, float mean, float stdev) {
  for (float& v : t) v = normal(mean, stdev);
}

void Rng::normals(float* dst, int64_t n, float mean, float stdev) {
  const Ziggurat& zig = ziggurat();
  // The generator's state in locals (next_u64 written out), so it stays in
  // registers through the loop; stored back at the end.
  uint64_t s0 = s_[0], s1 = s_[1], s2 = s_[2], s3 = s_[3];
  auto next = [&] {
    const uint64_t result = rotl(s1 * 5, 7) * 9;
    const uint64_t t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 45);
    return result;
  };
  auto uniform53 = [&] { return static_cast<double>(static_cast<int64_t>(next() >> 11)) * 0x1.0p-53; };
  for (int64_t k = 0; k < n; ++k) {
    double z;
    for (;;) {
      // Bits 0–7: the layer, bit 8: the sign, bits 11–63: a uniform in [0, 1).
      const uint64_t bits = next();
      const int i = static_cast<int>(bits & 0xff);
      const bool negative = (bits >> 8) & 1;
      const uint64_t u = bits >> 11;
      z = static_cast<double>(static_cast<int64_t>(u)) * zig.width[i];  // u < 2^53: a signed conversion is exact
      if (u < zig.inside[i]) {  // z < x[i+1]: inside the curve whatever the height, the common case
        if (negative) z = -z;
        break;
      }
      if (i == 0) {  // the tail beyond r (Marsaglia's method for a normal tail), logs of uniforms in (0, 1]
        double a, b;
        do {
          a = -std::log(1.0 - uniform53()) / Ziggurat::r;
          b = -std::log(1.0 - uniform53());
        } while (b + b < a * a);
        z = negative ? -(Ziggurat::r + a) : Ziggurat::r + a;
        break;
      }
      // The wedge between the layer's rectangle and the curve: accept under f.
      if (zig.f[i] + uniform53() * (zig.f[i + 1] - zig.f[i]) < std::exp(-0.5 * z * z)) {
        if (negative) z = -z;
        break;
      }
    }
    dst[k] = mean + stdev * static_cast<float>(z);
  }
  s_[0] = s0;
  s_[1] = s1;
  s_[2] = s2;
  s_[3] = s3;
}

}  // namespace trim
