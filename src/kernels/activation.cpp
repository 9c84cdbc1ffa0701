#include "trim/kernels/activation.hpp"

#include <Eigen/Core>
#include <algorithm>

namespace trim::kernels {

namespace {

// The smooth activations are written once against Eigen's packet layer
// (SSE / AVX / AVX-512 / NEON, whatever the build targets): its exp, expm1,
// log1p and tanh are vectorised, and its compare + select turn the branches
// of each φ into blends. Plain loops would not do: GCC keeps a select whose
// arms hold float operations as a branch under its default -ftrapping-math,
// so those loops stay scalar and mispredict on every sign change.
namespace ei = Eigen::internal;
using Packet = ei::packet_traits<float>::type;
constexpr int64_t kWidth = sizeof(Packet) / sizeof(float);

constexpr float kInvSqrt2 = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

inline Packet cst(float v) { return ei::pset1<Packet>(v); }

/// y[i] = f(x[i]) packet by packet; the tail goes through a zero-padded
/// stack packet (f(0) is finite for every f here). y may alias x.
template <class F>
void map_packets(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) ei::pstoreu(y + i, f(ei::ploadu<Packet>(x + i)));
  if (i < n) {
    alignas(64) float buf[kWidth] = {};
    std::copy(x + i, x + n, buf);
    ei::pstore(buf, f(ei::pload<Packet>(buf)));
    std::copy(buf, buf + (n - i), y + i);
  }
}

/// exp(v) for v ≤ 0, as accurate as Eigen's pexp (the same Cephes
/// polynomial on the same reduced argument) in half its instructions: with
/// v clamped to [−86, 0], 2^n times the polynomial stays a normal float, so
/// the scaling is one integer add into the exponent bits instead of a
/// general ldexp. Below −86 it returns e^−86 ≈ 4e-38 (the exact value is
/// smaller still; nothing this file computes can tell the two apart).
inline Packet exp_nonpositive(const Packet& x) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"  // Packet is a vector type with attributes
  using PacketI = ei::unpacket_traits<Packet>::integer_packet;
#pragma GCC diagnostic pop
  const Packet v = ei::pmax(x, cst(-86.0f));
  // Adding 1.5·2^23 rounds v·log2(e) to the nearest integer n and leaves
  // n (mod 2^9) in the low mantissa bits of t.
  const Packet magic = cst(12582912.0f);
  const Packet t = ei::pmadd(v, cst(1.44269504088896341f), magic);
  const Packet n = ei::psub(t, magic);
  // r = v − n·ln 2 in two parts (Cephes' C1 + C2), |r| ≤ ln 2 / 2.
  Packet r = ei::pmadd(n, cst(-0.693359375f), v);
  r = ei::pmadd(n, cst(2.12194440e-4f), r);
  Packet p = cst(1.9875691500e-4f);
  p = ei::pmadd(p, r, cst(1.3981999507e-3f));
  p = ei::pmadd(p, r, cst(8.3334519073e-3f));
  p = ei::pmadd(p, r, cst(4.1665795894e-2f));
  p = ei::pmadd(p, r, cst(1.6666665459e-1f));
  p = ei::pmadd(p, r, cst(5.0000001201e-1f));
  const Packet er = ei::padd(ei::pmadd(ei::pmul(r, r), p, r), cst(1.0f));  // e^r ∈ [0.7, 1.42]
  // n << 23 (mod 2^32) added to e^r's bits adds n to its exponent.
  const PacketI scale = ei::plogical_shift_left<23>(ei::preinterpret<PacketI>(t));
  return ei::preinterpret<Packet>(ei::padd(ei::preinterpret<PacketI>(er), scale));
}

/// 1 / (1 + exp(−z)): full relative accuracy on both sides, as 1 / (1 + e)
/// for z ≥ 0 and e / (1 + e) below, e = exp(−|z|) ≤ 1 (never overflows).
inline Packet logistic(const Packet& z) {
  const Packet e = exp_nonpositive(ei::pnegate(ei::pabs(z)));
  return ei::pdiv(ei::pselect(ei::pcmp_lt(z, ei::pzero(z)), e, cst(1.0f)), ei::padd(cst(1.0f), e));
}

/// e / (1 + e)² for e = exp(−c·|x|) ∈ (0, 1]: σ' (c = 1) or tanh' / 4
/// (c = 2) with no cancellation near saturation.
inline Packet bell(const Packet& x, float c) {
  const Packet e = exp_nonpositive(ei::pmul(ei::pabs(x), cst(-c)));
  const Packet q = ei::padd(cst(1.0f), e);
  return ei::pdiv(e, ei::pmul(q, q));
}

/// expm1(v) for v ≤ 0, cheaper than Eigen's generic expm1 (exp, log and a
/// division): exp(v) − 1 below −1/2, where it loses at most ~2 ulp, and the
/// Taylor polynomial to degree 8 above (remainder < 1e-8 relative).
inline Packet expm1_nonpositive(const Packet& v) {
  Packet q = cst(1.0f / 40320.0f);
  q = ei::pmadd(q, v, cst(1.0f / 5040.0f));
  q = ei::pmadd(q, v, cst(1.0f / 720.0f));
  q = ei::pmadd(q, v, cst(1.0f / 120.0f));
  q = ei::pmadd(q, v, cst(1.0f / 24.0f));
  q = ei::pmadd(q, v, cst(1.0f / 6.0f));
  q = ei::pmadd(q, v, cst(0.5f));
  const Packet taylor = ei::pmadd(ei::pmul(q, v), v, v);  // v + v²·q
  const Packet direct = ei::psub(ei::pexp(v), cst(1.0f));
  return ei::pselect(ei::pcmp_lt(v, cst(-0.5f)), direct, taylor);
}

/// Φ(x) (standard normal CDF) and g = exp(−x²/2), with small relative
/// error in both tails.
///
/// Φ(−|x|) = ½·erfc(|x|/√2) = ½·t·exp(−x²/2)·exp(P(t)), t = 1/(1 + |x|/(2√2)),
/// with the Chebyshev fit P of Numerical Recipes' erfcc (fractional error
/// < 1.2e-7); Φ(|x|) = 1 − Φ(−|x|). exp(−x²/2) comes from the exact split
/// x² = hi + lo as exp(−hi/2)·(1 − lo/2): rounding x² (or x/√2) first would
/// cost ~x² ulp far in the tail, and 1 + erf would lose the left tail to
/// cancellation altogether. g is set to 0 for |x| ≥ 16, where it underflows.
inline void normal_cdf(const Packet& x, Packet& phi, Packet& g) {
  const Packet ax = ei::pabs(x);
  const Packet xc = ei::pmin(ax, cst(16.0f));
  const Packet hi = ei::pmul(xc, xc);
#ifdef __FMA__
  const Packet lo = ei::pmadd(xc, xc, ei::pnegate(hi));  // fused: exact
#else
  // Dekker's exact product without FMA.
  const Packet c = ei::pmul(cst(4097.0f), xc);
  const Packet xh = ei::psub(c, ei::psub(c, xc)), xl = ei::psub(xc, xh);
  const Packet lo = ei::padd(ei::padd(ei::psub(ei::pmul(xh, xh), hi), ei::pmul(cst(2.0f), ei::pmul(xh, xl))),
                             ei::pmul(xl, xl));
#endif
  g = ei::pmul(ei::pexp(ei::pmul(hi, cst(-0.5f))), ei::psub(cst(1.0f), ei::pmul(lo, cst(0.5f))));
  g = ei::pselect(ei::pcmp_lt(ax, cst(16.0f)), g, ei::pzero(g));
  const Packet t = ei::pdiv(cst(1.0f), ei::pmadd(ax, cst(0.5f * kInvSqrt2), cst(1.0f)));
  Packet q = cst(0.17087277f);
  q = ei::pmadd(q, t, cst(-0.82215223f));
  q = ei::pmadd(q, t, cst(1.48851587f));
  q = ei::pmadd(q, t, cst(-1.13520398f));
  q = ei::pmadd(q, t, cst(0.27886807f));
  q = ei::pmadd(q, t, cst(-0.18628806f));
  q = ei::pmadd(q, t, cst(0.09678418f));
  q = ei::pmadd(q, t, cst(0.37409196f));
  q = ei::pmadd(q, t, cst(1.00002368f));
  q = ei::pmadd(q, t, cst(-1.26551223f));
  const Packet left = ei::pmul(ei::pmul(cst(0.5f), t), ei::pmul(g, ei::pexp(q)));  // Φ(−|x|)
  phi = ei::pselect(ei::pcmp_lt(x, ei::pzero(x)), left, ei::psub(cst(1.0f), left));
}

}  // namespace

// ---- relu / leaky relu (plain loops; the compiler vectorises them) --------------

void relu_forward(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_derivative(const float* x, float* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = x[i] > 0.0f ? 1.0f : 0.0f;
}

void leaky_relu_forward(const float* x, float* y, int64_t n, float slope) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

void leaky_relu_derivative(const float* x, float* d, int64_t n, float slope) {
  for (int64_t i = 0; i < n; ++i) d[i] = x[i] > 0.0f ? 1.0f : slope;
}

// ---- elu --------------------------------------------------------------------------

void elu_forward(const float* x, float* y, int64_t n, float alpha) {
  // max(x, 0) + α·expm1(min(x, 0)) is exactly x or α·expm1(x).
  map_packets(x, y, n, [alpha](const Packet& v) {
    return ei::padd(ei::pmax(v, ei::pzero(v)), ei::pmul(cst(alpha), expm1_nonpositive(ei::pmin(v, ei::pzero(v)))));
  });
}

void elu_derivative(const float* x, float* d, int64_t n, float alpha) {
  map_packets(x, d, n, [alpha](const Packet& v) {
    const Packet neg = ei::pmul(cst(alpha), ei::pexp(ei::pmin(v, ei::pzero(v))));
    return ei::pselect(ei::pcmp_lt(ei::pzero(v), v), cst(1.0f), neg);
  });
}

// ---- tanh -------------------------------------------------------------------------

void tanh_forward(const float* x, float* y, int64_t n) {
  // Eigen's rational approximation: a few ulp, exactly ±1 when saturated.
  map_packets(x, y, n, [](const Packet& v) { return ei::ptanh(v); });
}

void tanh_derivative(const float* x, float* d, int64_t n) {
  // 1 − tanh² = 4e / (1 + e)², e = exp(−2|x|).
  map_packets(x, d, n, [](const Packet& v) { return ei::pmul(cst(4.0f), bell(v, 2.0f)); });
}

// ---- sigmoid ----------------------------------------------------------------------

void sigmoid_forward(const float* x, float* y, int64_t n) {
  map_packets(x, y, n, [](const Packet& v) { return logistic(v); });
}

void sigmoid_derivative(const float* x, float* d, int64_t n) {
  // σ(1 − σ) = e / (1 + e)², e = exp(−|x|).
  map_packets(x, d, n, [](const Packet& v) { return bell(v, 1.0f); });
}

void silu_forward(const float* x, float* s, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) {
    const Packet v = ei::ploadu<Packet>(x + i), e = logistic(v);
    ei::pstoreu(s + i, e);
    ei::pstoreu(y + i, ei::pmul(v, e));
  }
  if (i < n) {
    sigmoid_forward(x + i, s + i, n - i);
    for (; i < n; ++i) y[i] = x[i] * s[i];
  }
}

void silu_backward(const float* x, const float* s, const float* dy, float* dx, int64_t n, bool assign) {
  // Plain loops (no selects): GCC vectorises them.
  if (assign)
    for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (s[i] + x[i] * s[i] * (1.0f - s[i]));
  else
    for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * (s[i] + x[i] * s[i] * (1.0f - s[i]));
}

// ---- softplus ---------------------------------------------------------------------

void softplus_forward(const float* x, float* y, int64_t n, float beta, float threshold) {
  // log(1 + exp(z)) = max(z, 0) + log1p(exp(−|z|)), z = βx: never overflows.
  map_packets(x, y, n, [beta, threshold](const Packet& v) {
    const Packet z = ei::pmul(v, cst(beta));
    const Packet l = ei::plog1p(ei::pexp(ei::pnegate(ei::pabs(z))));
    const Packet soft = ei::pdiv(ei::padd(ei::pmax(z, ei::pzero(z)), l), cst(beta));
    return ei::pselect(ei::pcmp_lt(cst(threshold), z), v, soft);
  });
}

void softplus_derivative(const float* x, float* d, int64_t n, float beta, float threshold) {
  map_packets(x, d, n, [beta, threshold](const Packet& v) {
    const Packet z = ei::pmul(v, cst(beta));
    return ei::pselect(ei::pcmp_lt(cst(threshold), z), cst(1.0f), logistic(z));
  });
}

// ---- gelu -------------------------------------------------------------------------

void gelu_forward(const float* x, float* y, int64_t n) {
  map_packets(x, y, n, [](const Packet& v) {
    Packet phi, g;
    normal_cdf(v, phi, g);
    return ei::pmul(v, phi);
  });
}

void gelu_derivative(const float* x, float* d, int64_t n) {
  // Φ(x) + x·φ(x), φ = g / √(2π).
  map_packets(x, d, n, [](const Packet& v) {
    Packet phi, g;
    normal_cdf(v, phi, g);
    return ei::pmadd(ei::pmul(v, g), cst(kInvSqrt2Pi), phi);
  });
}

}  // namespace trim::kernels
